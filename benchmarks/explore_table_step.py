"""Where the default map's epoch goes on a 14,000 x 16 table.

Times the default ``AAETransformer`` epochs on a standardised
``make_classification`` table of issue 12's shape (26 classes), and, apart,
the encoder's forward and backward pass on 400 rows: the map term encodes
each batch row with three graph neighbours, so every step runs the encoder
on four times the batch. Run it under different environments to compare
process-level settings, e.g.::

    python benchmarks/explore_table_step.py --threads 2
    OMP_WAIT_POLICY=ACTIVE python benchmarks/explore_table_step.py --threads 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings

import numpy as np
import torch
from _data import make_table14k
from _machine import (
    limit_threads,
    machine_info,
    print_load_average_end,
    print_machine_header,
)
from sklearn.exceptions import ConvergenceWarning

from skaae import AAETransformer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="at least 2")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    limit_threads(args.threads)
    machine = machine_info("cpu")
    print_machine_header("Where a table's epoch goes", machine, args.threads)
    print(f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}")
    X, _ = make_table14k(n_classes=26)
    warnings.simplefilter("ignore", ConvergenceWarning)
    # A first small fit pays torch's one-off start-up costs.
    AAETransformer(max_iter=1, random_state=0).fit(X[:2000])
    epochs = []
    for repeat in range(args.repeats):
        stamps = []
        model = AAETransformer(
            max_iter=args.epochs,
            random_state=repeat,
            on_epoch_end=lambda info, stamps=stamps: stamps.append(time.perf_counter()),
        ).fit(X)
        times = np.diff(stamps)
        epochs.extend(times)
        print(
            f"  repeat {repeat}: epochs " + ", ".join(f"{t:.2f}" for t in times) + " s"
        )
    n_steps = int(np.ceil(len(X) / model.batch_size))
    epoch = statistics.median(epochs)
    print(
        f"default map: median epoch {epoch:.3f} s, {n_steps} steps, "
        f"{1e3 * epoch / n_steps:.1f} ms a step"
    )

    encoder = model.module_.encoder
    encoder.train()
    rows = torch.from_numpy(X[:400]).clone()

    def forward_backward() -> None:
        codes = encoder(rows)
        codes = codes[0] if isinstance(codes, tuple) else codes
        codes.square().sum().backward()

    for _ in range(20):
        forward_backward()
    seconds = []
    for _ in range(200):
        start = time.perf_counter()
        forward_backward()
        seconds.append(time.perf_counter() - start)
    widths = [16] + [
        layer.out_features
        for layer in encoder.modules()
        if isinstance(layer, torch.nn.Linear)
    ]
    weights = sum(a * b for a, b in zip(widths[:-1], widths[1:], strict=True))
    # Forward 2W a row; backward 2W for the weight gradients and 2W for the
    # input gradients, less the first layer's input gradient.
    flops = 400 * (6 * weights - 2 * widths[0] * widths[1])
    median = statistics.median(seconds)
    print(
        f"encoder {'-'.join(map(str, widths))} forward and backward on 400 rows: "
        f"{1e3 * median:.2f} ms ({flops / median / 1e9:.0f} GFLOP/s)"
    )
    print_load_average_end(machine)


if __name__ == "__main__":
    main()
