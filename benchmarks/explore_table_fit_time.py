"""Fit and transform time of 2-D maps of a table, with and without the critic.

An exploration for issues 12 and 15, not a benchmark of quality (that is
``bench_embedding.py``): on a tabular data set's training rows (the split of
``explore_map_settings.py``), short ``AAETransformer`` fits (``--epochs``,
default 5) with the defaults and with ``regularization_learning_rate=0,
neighbor_weight=10`` (no discriminator, see the user guide), alternated
``--repeats`` times, then the time to transform the test rows; and UMAP's fit
and transform on the same rows, warm (a first fit compiles UMAP's numba
code and is timed apart). Prints medians.

    python benchmarks/explore_table_fit_time.py letter --threads 2
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import TABULAR_DATASETS  # noqa: E402
from _machine import (  # noqa: E402
    limit_threads,
    machine_info,
    print_load_average_end,
    print_machine_header,
)
from explore_map_settings import split  # noqa: E402

from skaae import AAETransformer  # noqa: E402

SETTINGS = {
    "default": {},
    "no discriminator": {"regularization_learning_rate": 0, "neighbor_weight": 10.0},
}


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=TABULAR_DATASETS)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    limit_threads(args.threads)
    import umap

    machine = machine_info("cpu", {"umap-learn": umap.__version__})
    print_machine_header(
        "Fit and transform time of 2-D table maps (issues 12 and 15 exploration)",
        machine,
        args.threads,
        ["umap-learn"],
    )
    X_train, _, X_test, _ = split(args.dataset)
    print(f"{args.dataset}: {X_train.shape[0]} x {X_train.shape[1]} training rows, ")
    print(f"{X_test.shape[0]} test rows; AAE fits of {args.epochs} epochs")
    print()
    times = {name: [] for name in SETTINGS}
    for repeat in range(args.repeats):
        for name, params in SETTINGS.items():
            model = AAETransformer(max_iter=args.epochs, random_state=repeat, **params)
            with warnings.catch_warnings():
                # Short fits: the prior-match verdict is not the point here.
                warnings.simplefilter("ignore")
                _, fit = timed(lambda model=model: model.fit(X_train))
            _, transform = timed(lambda model=model: model.transform(X_test))
            times[name].append((fit, transform))
            print(
                f"{name}, repeat {repeat}: fit {fit:.1f} s, transform "
                f"{1000 * transform:.0f} ms",
                flush=True,
            )
    print()
    for name, values in times.items():
        fit, transform = np.median(np.asarray(values), axis=0)
        print(
            f"{name}: median fit {fit:.1f} s ({fit / args.epochs:.2f} s an epoch, "
            f"fixed cost included), transform {1000 * transform:.0f} ms"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, first = timed(lambda: umap.UMAP().fit(X_train))
        reducer, fit = timed(lambda: umap.UMAP().fit(X_train))
        reducer.transform(X_test[:10])
        _, transform = timed(lambda: reducer.transform(X_test))
    print(
        f"UMAP (no seed: parallel): first fit {first:.1f} s (compiles), warm fit "
        f"{fit:.1f} s, transform {1000 * transform:.0f} ms"
    )
    print_load_average_end(machine)


if __name__ == "__main__":
    main()
