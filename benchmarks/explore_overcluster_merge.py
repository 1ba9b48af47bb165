"""How to merge the sub-clusters of AAEClusterer's over-clustered head.

The estimator trains ``n_subclusters`` head units (five per cluster by
default) and merges them into ``n_clusters`` along the 15-nearest-neighbour
graph of the training rows. This script fits the defaults once per seed and
data set (``--units-per-cluster``, ``--n-neighbors`` change those two, and
``--datasets`` picks data sets), then merges the same head outputs in
several ways, so that the merges are compared on identical sub-clusters:

- ``oracle``: each unit to the majority class of its rows (needs the
  labels; the best any merge of these units can do);
- ``spectral``: spectral clustering of the contracted graph, edge counts
  between two units over the square root of their sizes' product;
- ``modularity r``: greedy joins, the largest modularity gain first, at
  resolution ``r`` (``skaae._merge``; the estimator uses 0.75);
- ``normalized cut``: greedy joins, the largest gain in normalised
  association (minus the normalised cut) first;
- ``estimator``: what ``AAEClusterer`` does (``merge_subclusters``): the
  modularity merge at 0.75, or the normalised-cut merge when that keeps
  clearly more of the rows' probability in their clusters;
- ``conductance``: repeatedly join the group with the smallest share of its
  edges inside itself to the group it has most edges with.

Scores: Hungarian accuracy / NMI of ``argmax`` of the merged probabilities
on the training rows. Data: all 1,797 digits; the 1,257-image training split
of ``bench_clustering.py --dataset digits``; its ``digits-unbalanced`` and
``blobs-unbalanced`` training sets.

Run (2 cores, default threads; about 10 minutes)::

    python benchmarks/explore_overcluster_merge.py --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.cluster import SpectralClustering
from sklearn.datasets import load_digits
from sklearn.metrics import normalized_mutual_info_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_info, print_machine_header  # noqa: E402
from bench_clustering import load_split  # noqa: E402

import skaae._merge as merging  # noqa: E402
from skaae import AAEClusterer  # noqa: E402
from skaae._neighbors import nearest_neighbors  # noqa: E402
from skaae.metrics import clustering_accuracy  # noqa: E402

RESOLUTIONS = (0.5, 0.75, 1.0, 1.5, 2.0)


def data_sets():
    X, y = load_digits(return_X_y=True)
    yield "digits (all 1,797)", X / 16.0, y, 10
    (X, y, _, _), _ = load_split("digits")
    yield "digits (benchmark split, 1,257)", X, y, 10
    for name, k in (("digits-unbalanced", 10), ("blobs-unbalanced", 4)):
        (X, y, _, _), _ = load_split(name)
        yield name, X, y, k


def merge_by_labels(proba: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    """Each unit to the majority class of its rows (0 for an empty unit)."""
    units = proba.argmax(1)
    return np.array(
        [
            np.bincount(y[units == j], minlength=k).argmax()
            if (units == j).any()
            else 0
            for j in range(proba.shape[1])
        ]
    )


def score_merges(merges: dict, proba, y, k: int, scores: dict) -> list[str]:
    """Hungarian accuracy / NMI of each merge (appended to ``scores``)."""
    row = []
    for method, merge in merges.items():
        labels = (proba @ np.eye(k)[merge]).argmax(1)
        pair = (
            clustering_accuracy(y, labels),
            normalized_mutual_info_score(y, labels),
        )
        scores.setdefault(method, []).append(pair)
        row.append(f"{method} {pair[0]:.3f}/{pair[1]:.3f}")
    return row


def spectral(stats, k: int) -> np.ndarray:
    edges = stats.edges + stats.edges.T
    affinity = edges / np.sqrt(np.outer(stats.sizes, stats.sizes))
    return SpectralClustering(k, affinity="precomputed", random_state=0).fit_predict(
        affinity
    )


def conductance(stats, k: int) -> np.ndarray:
    weights = stats.edges + stats.edges.T
    groups = np.arange(len(weights))
    alive = list(range(len(weights)))
    while len(alive) > k:
        sub = weights[np.ix_(alive, alive)]
        inside = np.diag(sub) / np.maximum(sub.sum(1), 1e-12)
        g = int(np.argmin(inside))
        link = sub[g].copy()
        link[g] = -np.inf
        keep, drop = alive[g], alive[int(np.argmax(link))]
        weights[keep] += weights[drop]
        weights[:, keep] += weights[:, drop]
        groups[groups == drop] = keep
        alive.remove(drop)
    return np.searchsorted(alive, groups)


def _on_used_units(stats, join) -> np.ndarray:
    used = np.flatnonzero(stats.sizes > 0)
    merge = np.zeros(len(stats.sizes), dtype=np.int64)
    merge[used] = join(stats.edges[np.ix_(used, used)])
    return merge


def modularity(stats, k: int, resolution: float) -> np.ndarray:
    gain = functools.partial(merging._modularity_gain, resolution=resolution)
    return _on_used_units(stats, lambda e: merging._greedy_join(e, k, gain))


def normalized_cut(stats, k: int) -> np.ndarray:
    return _on_used_units(
        stats, lambda e: merging._greedy_join(e, k, merging._association_gain)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--units-per-cluster",
        type=int,
        default=None,
        help="n_subclusters = this times k (default: the estimator's)",
    )
    parser.add_argument(
        "--n-neighbors", type=int, default=15, help="the estimator's n_neighbors"
    )
    parser.add_argument(
        "--datasets",
        nargs="+",
        default=None,
        help="names (as printed, first word) to run, e.g. digits-unbalanced",
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print_machine_header(
        "skaae: merging an over-clustered head (explore_overcluster_merge.py)",
        machine_info("cpu"),
        None,
    )
    units = (
        "the default n_subclusters"
        if args.units_per_cluster is None
        else f"n_subclusters={args.units_per_cluster} k"
    )
    print(
        f"seeds: {args.seeds}; AAEClusterer defaults, {units}, "
        f"n_neighbors={args.n_neighbors}\n"
    )
    for name, X, y, k in data_sets():
        if args.datasets and not any(name.startswith(d) for d in args.datasets):
            continue
        graph = nearest_neighbors(X, args.n_neighbors)
        params = {"n_neighbors": args.n_neighbors}
        if args.units_per_cluster is not None:
            params["n_subclusters"] = args.units_per_cluster * k
        scores: dict[str, list] = {}
        for seed in args.seeds:
            start = time.time()
            clu = AAEClusterer(n_clusters=k, random_state=seed, **params).fit(X)
            seconds = time.time() - start
            proba = clu._category_proba(X)
            stats = merging.SubclusterStatistics.from_proba(proba, graph)
            merges = {
                "oracle": merge_by_labels(proba, y, k),
                "conductance": conductance(stats, k),
            }
            if (stats.sizes > 0).all():  # spectral needs every unit used
                merges["spectral"] = spectral(stats, k)
            for r in RESOLUTIONS:
                merges[f"modularity {r:g}"] = modularity(stats, k, r)
            merges["normalized cut"] = normalized_cut(stats, k)
            merges["estimator"] = merging.merge_subclusters(stats, k)
            # What the estimator's choice reads: the share of the rows' head
            # probability kept inside their merged cluster.
            kept = {
                name: merging._kept_probability(stats.mass, merges[name])
                for name in (f"modularity {merging._RESOLUTION:g}", "normalized cut")
            }
            row = [
                "kept probability "
                + ", ".join(f"{name} {v:.4f}" for name, v in kept.items())
            ]
            row += score_merges(merges, proba, y, k, scores)
            print(f"{name}, seed {seed} (fit {seconds:.0f} s): " + "; ".join(row))
        print(f"{name}: mean Hungarian accuracy / NMI (lowest accuracy)")
        for method, pairs in scores.items():
            pairs = np.array(pairs)
            print(
                f"  {method:15s} {pairs[:, 0].mean():.3f} / {pairs[:, 1].mean():.3f}"
                f" ({pairs[:, 0].min():.3f})"
            )
        print(flush=True)


if __name__ == "__main__":
    main()
