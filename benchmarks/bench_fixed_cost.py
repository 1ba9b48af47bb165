"""The fixed cost of a fit: what ``fit`` spends outside its training epochs.

``AAETransformer.fit`` at the paper's MNIST architecture (784-1000-1000-8,
binary cross-entropy, batch 100) on Fashion-MNIST training images, with the
default neighbour map term and without it (``neighbor_weight=0``, the
paper's model). The epochs are timed by the ``on_epoch_end`` callback; the
fixed cost is the fit's wall time minus its epochs, shown with the part the
neighbour graph takes (timed on its own, on the same device) and as a
fraction of one epoch. That difference carries the epochs' noise (a second
on a busy machine), so the time outside the training loop is also timed
directly (the loop's entry and exit, by wrapping ``TrainingSession.run``):
validation, copies, the graph, building the model and the diagnostic. What
remains is the first epoch's extra (warming up the allocator and kernels).
Variants alternate inside each repeat.

Run ``python benchmarks/bench_fixed_cost.py --help`` for the options.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
from _data import load_dataset
from _machine import (
    limit_threads,
    machine_info,
    print_load_average_end,
    print_machine_header,
)
from _report import timed, write_json

import skaae._training
from skaae import AAETransformer
from skaae._base import resolve_device
from skaae._neighbors import nearest_neighbors

PAPER_MNIST = dict(
    n_components=8, hidden_layer_sizes=(1000, 1000), loss="bce", batch_size=100
)
VARIANTS = {
    "map term (default)": {},
    "paper (neighbor_weight=0)": {"neighbor_weight": 0},
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--epochs", type=int, default=3, help="at least 2")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", default=None, help="Fashion-MNIST folder or .npz")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", type=Path, default=None)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    limit_threads(args.threads)
    machine = machine_info(args.device)
    print_machine_header("skaae fixed cost of a fit", machine, args.threads)
    data = load_dataset("fashion-mnist", args.data)
    X = data.X_train[: args.rows]
    print(
        f"AAETransformer({PAPER_MNIST}) on {len(X)} Fashion-MNIST images "
        f"({data.source}), max_iter={args.epochs}, {args.repeats} repeats",
        flush=True,
    )
    # A first small fit pays torch's one-off start-up costs.
    AAETransformer(**PAPER_MNIST, max_iter=1, device=args.device).fit(X[:200])
    device = resolve_device(args.device)
    loop_spans = []
    run = skaae._training.TrainingSession.run

    def timed_run(self, *run_args, **run_kwargs):
        start = time.perf_counter()
        try:
            return run(self, *run_args, **run_kwargs)
        finally:
            loop_spans.append((start, time.perf_counter()))

    skaae._training.TrainingSession.run = timed_run
    runs = {name: [] for name in VARIANTS}
    graph_seconds = []
    for repeat in range(args.repeats):
        start = time.perf_counter()
        nearest_neighbors(X, 15, device=device)
        graph_seconds.append(time.perf_counter() - start)
        for name, extra in VARIANTS.items():
            stamps = []
            model = AAETransformer(
                **PAPER_MNIST,
                **extra,
                max_iter=args.epochs,
                device=args.device,
                random_state=repeat,
                on_epoch_end=lambda info, stamps=stamps: stamps.append(
                    time.perf_counter()
                ),
            )
            loop_spans.clear()
            _, seconds, _ = timed(model.fit, X)
            # The time to stamps[0] holds the set-up and the first epoch: an
            # epoch is timed between later stamps, and the fixed cost is what
            # the fit takes beyond that many such epochs.
            epoch = float(np.median(np.diff(stamps)))
            fixed = seconds - len(stamps) * epoch
            ((loop_start, loop_end),) = loop_spans
            outside_loop = seconds - (loop_end - loop_start)
            first_epoch_extra = stamps[0] - loop_start - epoch
            runs[name].append(
                {
                    "fit_seconds": seconds,
                    "epoch_seconds": epoch,
                    "fixed_seconds": fixed,
                    "outside_loop_seconds": outside_loop,
                    "first_epoch_extra_seconds": first_epoch_extra,
                }
            )
            print(
                f"  repeat {repeat} {name}: fit {seconds:.2f} s, epoch {epoch:.2f} "
                f"s, outside the epochs {fixed:.2f} s (outside the loop "
                f"{outside_loop:.2f} s, first epoch's extra {first_epoch_extra:.2f} s)",
                flush=True,
            )
        print(f"  repeat {repeat} neighbour graph alone: {graph_seconds[-1]:.2f} s")

    print()
    print("summary (medians of the repeats)")
    graph = statistics.median(graph_seconds)
    print(f"  neighbour graph (15 neighbours, as a fit builds it): {graph:.2f} s")
    for name, name_runs in runs.items():
        epoch = statistics.median(r["epoch_seconds"] for r in name_runs)
        fixed = statistics.median(r["fixed_seconds"] for r in name_runs)
        outside = statistics.median(r["outside_loop_seconds"] for r in name_runs)
        extra = statistics.median(r["first_epoch_extra_seconds"] for r in name_runs)
        print(
            f"  {name}: epoch {epoch:.2f} s, outside the epochs {fixed:.2f} s "
            f"({fixed / epoch:.3f} epochs); outside the loop {outside:.2f} s "
            f"({outside / epoch:.3f} epochs), first epoch's extra {extra:.2f} s"
        )
    print_load_average_end(machine)
    write_json(
        args.json,
        machine=machine,
        args=vars(args),
        graph_seconds=graph_seconds,
        runs=runs,
    )


if __name__ == "__main__":
    main()
