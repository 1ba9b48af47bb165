"""Which neighbour-graph edges AAEClusterer's sub-cluster merge should count.

An exploration for issue 9, not a benchmark with peers. ``AAEClusterer``
contracts the 15-nearest-neighbour graph of the training rows to its head's
units (sub-clusters), counting every edge, and merges the units greedily by
modularity at resolution 0.75 (or by the normalised cut when that keeps
clearly more of the rows' probability). This script compares, on the same
head outputs, that rule with every edge against mutual edges only (``x'``
among the neighbours of ``x`` and ``x`` among those of ``x'``, which drops
the edges a hub row between two classes receives), at resolutions 0.5, 0.75
and 1, and the merge by the labels (each unit to its majority class, the
best any merge can do). Scores: Hungarian accuracy / NMI of the merged
clusters on the training rows.

Data: the digits sets of ``explore_overcluster_merge.py`` (all of digits,
the benchmark split, unbalanced digits and blobs; ``AAEClusterer`` defaults)
and, with ``--fashion PATH``, 10,000 Fashion-MNIST training images with the
cpu30 settings of ``bench_clustering.py`` (10 clusters, ``n_components=5``,
``hidden_layer_sizes=(1000, 1000)``, 25 epochs; about 6 minutes a fit on one
thread). ``--cache DIR`` keeps each fit's head outputs in DIR and reuses
them, so that merges can be compared again without refitting.

    python benchmarks/explore_merge_graph.py --seeds 0 1 2 3 4 --cache heads
    python benchmarks/explore_merge_graph.py --seeds 0 1 --cache heads \\
        --datasets fashion-mnist --fashion /usr/share/datasets/fashion-mnist
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import limit_threads, machine_info, print_machine_header  # noqa: E402
from bench_clustering import load_split  # noqa: E402
from explore_overcluster_merge import (  # noqa: E402
    data_sets,
    merge_by_labels,
    score_merges,
)

import skaae._merge as merging  # noqa: E402
from skaae import AAEClusterer  # noqa: E402
from skaae._neighbors import nearest_neighbors  # noqa: E402

RESOLUTIONS = (0.5, 0.75, 1.0)
FASHION_PARAMS = {
    "n_components": 5,
    "hidden_layer_sizes": (1000, 1000),
    "max_iter": 25,
}


def statistics(proba: np.ndarray, graph: np.ndarray, mutual: bool):
    """``SubclusterStatistics`` counting every edge, or mutual edges only."""
    stats = merging.SubclusterStatistics.from_proba(proba, graph)
    if not mutual:
        return stats
    n_rows, k = graph.shape
    heads = np.repeat(np.arange(n_rows), k)
    tails = graph.ravel()
    keep = np.isin(tails * n_rows + heads, heads * n_rows + tails)
    labels = proba.argmax(1)
    edges = np.zeros_like(stats.edges)
    np.add.at(edges, (labels[heads[keep]], labels[tails[keep]]), 1)
    return merging.SubclusterStatistics(edges, stats.sizes, stats.mass)


def estimator_rule(stats, k: int, resolution: float) -> np.ndarray:
    """``merge_subclusters`` with another modularity resolution."""
    default = merging._modularity_gain.__defaults__
    merging._modularity_gain.__defaults__ = (resolution,)
    try:
        return merging.merge_subclusters(stats, k)
    finally:
        merging._modularity_gain.__defaults__ = default


def head_outputs(name, X, k, seed, params, cache):
    """The fitted head's probabilities on X (cached in ``cache`` if given)."""
    path = None if cache is None else cache / f"{name}_{seed}.npz"
    if path is not None and path.exists():
        return np.load(path)["proba"], None
    start = time.perf_counter()
    clu = AAEClusterer(n_clusters=k, random_state=seed, **params).fit(X)
    proba = clu._category_proba(X)
    if path is not None:
        np.savez(path, proba=proba)
    return proba, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--datasets", nargs="+", default=None)
    parser.add_argument("--fashion", default=None, help="Fashion-MNIST folder")
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    limit_threads(args.threads)
    warnings.simplefilter("ignore")
    if args.cache is not None:
        args.cache.mkdir(parents=True, exist_ok=True)
    print_machine_header(
        "skaae: which graph edges the sub-cluster merge counts "
        "(explore_merge_graph.py)",
        machine_info("cpu"),
        None,
    )
    print(f"seeds: {args.seeds}; torch threads: {args.threads}\n")
    sets = [
        (name.split()[0] + ("-split" if "split" in name else ""), X, y, k, {})
        for name, X, y, k in data_sets()
    ]
    if args.fashion is not None:
        (X, y, _, _), _ = load_split("fashion-mnist", args.fashion, 10000)
        sets.append(("fashion-mnist", X, y, 10, FASHION_PARAMS))
    for name, X, y, k, params in sets:
        if args.datasets and name not in args.datasets:
            continue
        graph = nearest_neighbors(X, 15)
        scores: dict[str, list] = {}
        for seed in args.seeds:
            proba, seconds = head_outputs(name, X, k, seed, params, args.cache)
            merges = {}
            for mutual in (False, True):
                stats = statistics(proba, graph, mutual)
                edges = "mutual edges" if mutual else "every edge"
                for r in RESOLUTIONS:
                    merges[f"{edges}, resolution {r:g}"] = estimator_rule(stats, k, r)
            merges["by the labels"] = merge_by_labels(proba, y, k)
            row = score_merges(merges, proba, y, k, scores)
            fit = "cached" if seconds is None else f"fit {seconds:.0f} s"
            print(f"{name}, seed {seed} ({fit}): " + "; ".join(row), flush=True)
        print(f"{name}: mean Hungarian accuracy / NMI (per seed)")
        for method, pairs in scores.items():
            pairs = np.array(pairs)
            seeds = " ".join(f"{a:.3f}" for a in pairs[:, 0])
            print(
                f"  {method:30s} {pairs[:, 0].mean():.3f} / "
                f"{pairs[:, 1].mean():.3f}  ({seeds})"
            )
        print(flush=True)


if __name__ == "__main__":
    main()
