"""Prediction speed: the float32 path of ``transform`` against the float64 one.

Since 2026-12-02 (session 21) the estimators predict in float32, on blocks
of a fixed 256 rows (the last one padded), so that a row's output does not depend on the
rows it comes with. Before, they converted the networks to float64 after
training and predicted on blocks of 8,192 rows. This script fits one
``AAETransformer`` per shape (2 epochs: speed does not depend on how well it
trained), then times on the same rows, alternated, medians of the repeats:

- ``float32``: ``transform`` as it is;
- ``float64``: a copy of the fitted estimator predicting the old way (its
  networks in float64, blocks of 8,192 rows), the reference.

It also prints the largest difference between the two outputs and checks
that a row's float32 code is the same alone as in the full run. The default
shapes: UCI letter's 16 features with the map's four 256-wide layers (the
default for tables), digits' 64 with the same, and the paper's MNIST
architecture (784 features, 1000-1000).

Run::

    python benchmarks/bench_prediction_precision.py --threads 1
"""

from __future__ import annotations

import argparse
import copy
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from _machine import (
    limit_threads,
    machine_info,
    print_load_average_end,
    print_machine_header,
)
from _report import write_json

from skaae import AAETransformer

# (n_features, hidden_layer_sizes)
SHAPES = ((16, (256,) * 4), (64, (256,) * 4), (784, (1000, 1000)))
FLOAT64_BLOCK = 8192


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--n-rows", type=int, default=6000)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", type=Path, default=None)
    return parser.parse_args()


def float64_transform(aae: AAETransformer):
    """``transform`` of a copy of ``aae`` that predicts the pre-session-21
    way: float64 networks, blocks of 8,192 rows."""
    old = copy.deepcopy(aae)
    module = old.module_.double().eval()

    def transform(X):
        X = old._check_X(X)
        A = torch.tensor(X, dtype=torch.float64)
        parts = [
            module.embed(A[i : i + FLOAT64_BLOCK])
            for i in range(0, A.shape[0], FLOAT64_BLOCK)
        ]
        return torch.cat(parts).numpy()

    return transform


def main() -> None:
    args = parse_args()
    limit_threads(args.threads)
    machine = machine_info("cpu")
    print_machine_header(
        "skaae prediction benchmark (float32 fixed blocks vs the float64 path)",
        machine,
        args.threads,
    )
    print(
        f"data: {args.n_rows} standard normal rows per shape; "
        f"{args.repeats} repeats, the two paths alternated, medians"
    )
    print()
    print(
        "| features | hidden layers | float64 (ms) | float32 (ms) | speed-up "
        "| largest difference | one row alone = in the run |"
    )
    print("|---:|---|---:|---:|---:|---:|---|")
    rows = []
    for n_features, hidden in SHAPES:
        rng = np.random.RandomState(0)
        X = rng.standard_normal((args.n_rows, n_features))
        with warnings.catch_warnings():
            # Two epochs leave the codes off the prior; speed does not care.
            warnings.simplefilter("ignore")
            aae = AAETransformer(
                hidden_layer_sizes=hidden, max_iter=2, random_state=0, device="cpu"
            ).fit(X[:2000])
        paths = {"float64": float64_transform(aae), "float32": aae.transform}
        for fn in paths.values():
            fn(X)  # warm-up
        timings = {name: [] for name in paths}
        for _ in range(args.repeats):
            for name, fn in paths.items():
                start = time.perf_counter()
                fn(X)
                timings[name].append(time.perf_counter() - start)
        medians = {name: float(np.median(v)) for name, v in timings.items()}
        Z32, Z64 = paths["float32"](X), paths["float64"](X)
        difference = float(np.abs(Z32 - Z64).max())
        alone = all(
            np.array_equal(aae.transform(X[i : i + 1]), Z32[i : i + 1])
            for i in (0, 300, args.n_rows - 1)
        )
        print(
            f"| {n_features} | {hidden} | {1000 * medians['float64']:.1f} "
            f"| {1000 * medians['float32']:.1f} "
            f"| {medians['float64'] / medians['float32']:.2f}x "
            f"| {difference:.1e} | {'yes' if alone else 'NO'} |"
        )
        rows.append(
            {
                "n_features": n_features,
                "hidden_layer_sizes": list(hidden),
                "median_seconds": medians,
                "max_abs_difference": difference,
                "one_row_equal": alone,
            }
        )
    print_load_average_end(machine)
    write_json(args.json, machine=machine, args=vars(args), rows=rows)


if __name__ == "__main__":
    main()
