"""AAEClusterer with and without its virtual adversarial consistency term.

An exploration for issue 9, not a benchmark with peers (``bench_clustering.py``
has those). For each seed it fits ``AAEClusterer`` twice on the same
training rows, alternating ``consistency_weight=0`` and the given weights
(default 1, the estimator's default), and prints for each fit the Hungarian
accuracy and NMI of the training rows' clusters, the Hungarian accuracy of
the test rows (``predict``), the purity of the head's units (the share of
the rows whose unit's majority class is their own; the best any merge of
the units can reach) and the fit time; then the means over seeds.

Data: the training/test splits of ``bench_clustering.py`` (``digits``,
``digits-unbalanced``, ``blobs-unbalanced``), or with ``--fashion PATH``
10,000 Fashion-MNIST training images with the cpu30 settings
(``n_components=5``, ``hidden_layer_sizes=(1000, 1000)``, 25 epochs;
about 5 minutes a fit on two threads).

    python benchmarks/explore_consistency.py --dataset digits --seeds 0 1 2 3 4
    python benchmarks/explore_consistency.py --dataset fashion-mnist \\
        --fashion /usr/share/datasets/fashion-mnist --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.metrics import normalized_mutual_info_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import (  # noqa: E402
    limit_threads,
    machine_info,
    print_load_average_end,
    print_machine_header,
)
from bench_clustering import load_split  # noqa: E402
from explore_merge_graph import FASHION_PARAMS  # noqa: E402 (cpu30 settings)

from skaae import AAEClusterer  # noqa: E402
from skaae.metrics import clustering_accuracy  # noqa: E402


def unit_purity(units: np.ndarray, y: np.ndarray) -> float:
    """Share of rows in their unit's majority class."""
    kept = sum(np.bincount(y[units == u]).max() for u in np.unique(units))
    return kept / len(y)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--dataset",
        default="digits",
        choices=("digits", "digits-unbalanced", "blobs-unbalanced", "fashion-mnist"),
    )
    parser.add_argument("--fashion", default=None, help="Fashion-MNIST folder")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--weights", type=float, nargs="+", default=[1.0])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    limit_threads(args.threads)
    warnings.simplefilter("ignore")
    machine = machine_info("cpu")
    print_machine_header(
        "skaae: AAEClusterer with and without the consistency term "
        "(explore_consistency.py)",
        machine,
        args.threads,
    )
    params = {}
    if args.dataset == "fashion-mnist":
        if args.fashion is None:
            parser.error("fashion-mnist needs --fashion PATH")
        (X, y, X_test, y_test), _ = load_split(args.dataset, args.fashion, 10000)
        params = FASHION_PARAMS
    else:
        (X, y, X_test, y_test), _ = load_split(args.dataset)
    k = len(np.unique(y))
    weights = [0.0, *args.weights]
    print(
        f"data: {args.dataset}, {X.shape[0]} training x {X.shape[1]} features, "
        f"{len(X_test)} test rows, {k} clusters; AAEClusterer(n_clusters={k}, "
        f"{params or 'defaults'}); consistency_weight {weights}; "
        f"seeds {args.seeds}\n",
        flush=True,
    )
    results: dict[float, list] = {w: [] for w in weights}
    for seed in args.seeds:
        for weight in weights:
            start = time.perf_counter()
            clu = AAEClusterer(
                n_clusters=k, consistency_weight=weight, random_state=seed, **params
            ).fit(X)
            seconds = time.perf_counter() - start
            row = (
                clustering_accuracy(y, clu.labels_),
                normalized_mutual_info_score(y, clu.labels_),
                clustering_accuracy(y_test, clu.predict(X_test)),
                unit_purity(clu._category_proba(X).argmax(1), y),
                seconds,
            )
            results[weight].append(row)
            print(
                f"seed {seed}, consistency_weight {weight:g}: accuracy {row[0]:.3f}, "
                f"NMI {row[1]:.3f}, test accuracy {row[2]:.3f}, unit purity "
                f"{row[3]:.3f}, fit {row[4]:.1f} s",
                flush=True,
            )
    print("\nmeans over seeds (fit: median)")
    for weight, rows in results.items():
        rows = np.array(rows)
        per_seed = ", ".join(f"{a:.3f}" for a in rows[:, 0])
        print(
            f"  consistency_weight {weight:g}: accuracy {rows[:, 0].mean():.3f} "
            f"({per_seed}), NMI {rows[:, 1].mean():.3f}, test accuracy "
            f"{rows[:, 2].mean():.3f}, unit purity {rows[:, 3].mean():.3f}, "
            f"fit {np.median(rows[:, 4]):.1f} s"
        )
    print_load_average_end(machine)


if __name__ == "__main__":
    main()
