"""Merging the sub-clusters of an over-clustered category head.

``AAEClusterer`` trains a category head with more units (sub-clusters) than
the clusters asked for, then merges them along the neighbour graph of the
training rows: two sub-clusters whose rows are often each other's nearest
neighbours belong together. The graph is contracted to the sub-clusters
(edge counts between them) and merged greedily down to the clusters asked
for, in two ways: the join that raises the modularity most first, and the
join that raises the normalised association (minus the normalised cut) most
first. Modularity's null model favours groups of equal size, which is right
for most data but cuts a large class into pieces; the normalised cut has no
size preference. The modularity merge is kept unless the other keeps
clearly more of the rows' probability in their clusters. In both, a group
of very few rows joins first, to the partner it gains most with: its joins
gain too little to come first, and it would otherwise be left over as a
cluster of its own. The inputs are
sums over rows, so the shards of a data-parallel fit add theirs up first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

# Modularity resolution of the merge (1 is Newman's modularity; lower
# values let large groups join). Measured on the same head outputs of five
# fits per data set (benchmarks/explore_overcluster_merge.py, mean Hungarian
# accuracy / NMI): 0.75 scored digits 0.901 / 0.871 (1.5: 0.930 / 0.886),
# unbalanced digits 0.843 / 0.826 (1.5: 0.828 / 0.823) and unbalanced blobs
# 0.512 / 0.435 (1.5: 0.412 / 0.295), where higher values leave the large
# class in pieces.
_RESOLUTION = 0.75
# The normalised-cut merge replaces the modularity merge when it keeps at
# least this much more of the rows' head probability inside their merged
# clusters (the clusterer's mean confidence). Measured on the same head
# outputs (five fits per data set, benchmarks/explore_overcluster_merge.py,
# its "kept probability" column): the normalised cut kept 0.002-0.007 more
# on balanced and unbalanced digits, where modularity's merge is the better
# one (digits 0.909 against 0.839 accuracy), and 0.05-0.06 more on the
# unbalanced blobs (weights 0.8 / 0.1 / 0.05 / 0.05), where modularity cut
# the large class into pieces (0.448 against 0.991 accuracy).
_NORMALIZED_CUT_MARGIN = 0.02
# A group of fewer rows than this share of the mean cluster size joins
# first (see _greedy_join). Without it, on Fashion-MNIST (cpu30, 30
# clusters, seed 2) units of 1 and 2 rows, whose rows' largest probability
# was 0.15-0.18, were left as clusters of their own and got no row after
# the merge (2 of 30 clusters empty); at 0.05 (17 rows there) none was
# empty. On the cached head outputs of explore_overcluster_merge.py (five
# fits each of digits, unbalanced digits and unbalanced blobs) 0.05 changed
# no merge on digits or the blobs and moved unbalanced digits by at most
# 0.006; 0.2 and more broke real small classes (blobs: 0.99 to 0.48-0.94).
_MIN_CLUSTER_SHARE = 0.05


@dataclass
class SubclusterStatistics:
    """Sums over the training rows that decide a merge.

    Attributes
    ----------
    edges : ndarray of shape (n_subclusters, n_subclusters)
        Neighbour-graph edges from rows of sub-cluster ``i`` to rows of
        sub-cluster ``j``.
    sizes : ndarray of shape (n_subclusters,)
        Rows whose most probable unit is each sub-cluster.
    mass : ndarray of shape (n_subclusters, n_subclusters)
        ``mass[i, j]``: probability of unit ``j`` summed over the rows of
        sub-cluster ``i`` (it places the units no row chose).
    """

    edges: np.ndarray
    sizes: np.ndarray
    mass: np.ndarray

    @classmethod
    def from_proba(cls, proba: np.ndarray, neighbors: np.ndarray):
        """Statistics of the rows that have neighbour lists: the first
        ``len(neighbors)`` rows of ``proba`` (the others, rows a
        ``partial_fit`` stream kept from earlier chunks, are neighbours
        only)."""
        n_units = proba.shape[1]
        labels_all = proba.argmax(1)
        n_rows = neighbors.shape[0]
        labels = labels_all[:n_rows]
        edges = np.zeros((n_units, n_units))
        np.add.at(
            edges,
            (np.repeat(labels, neighbors.shape[1]), labels_all[neighbors].ravel()),
            1,
        )
        sizes = np.bincount(labels, minlength=n_units).astype(float)
        mass = np.zeros((n_units, n_units))
        np.add.at(mass, labels, proba[:n_rows])
        return cls(edges, sizes, mass)

    def to_vector(self) -> np.ndarray:
        return np.concatenate([self.edges.ravel(), self.sizes, self.mass.ravel()])

    @classmethod
    def from_vector(cls, vector: np.ndarray, n_units: int):
        square = n_units * n_units
        return cls(
            vector[:square].reshape(n_units, n_units),
            vector[square : square + n_units],
            vector[square + n_units :].reshape(n_units, n_units),
        )


def merge_subclusters(
    stats: SubclusterStatistics, n_clusters: int, previous: np.ndarray | None = None
) -> np.ndarray:
    """Cluster of each sub-cluster.

    Parameters
    ----------
    stats : SubclusterStatistics
        Sums over the training rows.
    n_clusters : int
        Clusters wanted.
    previous : ndarray of shape (n_subclusters,) or None
        The merge of an earlier call (``warm_start``, ``partial_fit``): the
        new clusters are numbered to agree with it as far as possible.

    Returns
    -------
    merge : ndarray of shape (n_subclusters,), dtype int64
        Values in ``[0, n_clusters)``. Every cluster gets at least one
        sub-cluster; a cluster gets no training row only when fewer than
        ``n_clusters`` sub-clusters were used.
    """
    n_units = stats.sizes.shape[0]
    used = np.flatnonzero(stats.sizes > 0)
    merge = np.full(n_units, -1, dtype=np.int64)
    if n_clusters == 1:
        merge[:] = 0
    elif len(used) <= n_clusters:
        merge[used] = np.arange(len(used))
    else:
        edges = stats.edges[np.ix_(used, used)]
        sizes = stats.sizes[used]
        min_size = _MIN_CLUSTER_SHARE * sizes.sum() / n_clusters
        by_modularity = _greedy_join(
            edges, n_clusters, _modularity_gain, sizes, min_size
        )
        by_normalized_cut = _greedy_join(
            edges, n_clusters, _association_gain, sizes, min_size
        )
        mass = stats.mass[np.ix_(used, used)]
        if (
            _kept_probability(mass, by_normalized_cut)
            > _kept_probability(mass, by_modularity) + _NORMALIZED_CUT_MARGIN
        ):
            merge[used] = by_normalized_cut
        else:
            merge[used] = by_modularity
    unused = np.flatnonzero(merge < 0)
    if len(unused):
        # Clusters left without a unit (fewer units used than clusters) take
        # the unused units with the most probability first, so that every
        # cluster can be predicted and decoded. The other unused units go,
        # one at a time, to the cluster with the fewest units (ties: the one
        # whose rows give the unit the most probability): a cluster's
        # probability is the sum over its units, and while the head is still
        # soft (early epochs) a cluster holding many idle units would take
        # every row (measured: after 3 epochs on digits, 7 of 20 units in
        # one cluster and all 1,797 rows in it).
        empty = np.setdiff1d(np.arange(n_clusters), merge[merge >= 0])
        total_mass = stats.mass.sum(0)[unused]
        order = unused[np.argsort(-total_mass, kind="stable")]
        merge[order[: len(empty)]] = empty
        cluster_mass = np.zeros((n_clusters, n_units))
        np.add.at(cluster_mass, merge[used], stats.mass[used])
        for unit in order[len(empty) :]:
            counts = np.bincount(merge[merge >= 0], minlength=n_clusters)
            fewest = np.flatnonzero(counts == counts.min())
            merge[unit] = fewest[np.argmax(cluster_mass[fewest, unit])]
    if previous is not None:
        merge = _align(merge, previous, stats.sizes + 1e-9, n_clusters)
    return merge


def _greedy_join(
    edges: np.ndarray,
    n_clusters: int,
    gain_of,
    sizes: np.ndarray | None = None,
    min_size: float = 0.0,
) -> np.ndarray:
    """Join the two groups whose join gains most, until ``n_clusters`` remain.

    Agglomeration on the graph contracted to sub-clusters: ``gain_of`` maps
    the symmetric edge shares between the live groups (diagonal: inside a
    group) to the gain of each join; joins continue, the best first, until
    ``n_clusters`` groups remain (joins that lose included). A group of
    fewer than ``min_size`` rows (``sizes``: rows per sub-cluster) joins
    first, the smallest first, to the partner it gains most with: a tiny
    group's joins gain little in absolute terms, so it would otherwise be
    left over as a cluster of its own.
    """
    weights = edges + edges.T
    total = weights.sum()
    if total == 0:
        weights, total = np.ones_like(weights), weights.size
    weights = weights / total
    rows = np.zeros(weights.shape[0]) if sizes is None else sizes.astype(float)
    groups = np.arange(weights.shape[0])
    alive = list(range(weights.shape[0]))
    while len(alive) > n_clusters:
        gain = gain_of(weights[np.ix_(alive, alive)])
        np.fill_diagonal(gain, -np.inf)
        alive_rows = rows[alive]
        smallest = int(np.argmin(alive_rows))
        if alive_rows[smallest] < min_size:
            i, j = smallest, int(np.argmax(gain[smallest]))
        else:
            i, j = np.unravel_index(np.argmax(gain), gain.shape)
        keep, drop = alive[i], alive[j]
        weights[keep] += weights[drop]
        weights[:, keep] += weights[:, drop]
        rows[keep] += rows[drop]
        groups[groups == drop] = keep
        alive.remove(drop)
    return np.searchsorted(alive, groups)


def _modularity_gain(shares: np.ndarray, resolution: float = _RESOLUTION) -> np.ndarray:
    """Newman's modularity gain of each join:
    ``e_ij - resolution * a_i * a_j``, ``e_ij`` the share of edge ends
    between ``i`` and ``j``, ``a_i`` the share touching ``i``."""
    ends = shares.sum(1)
    return shares - resolution * np.outer(ends, ends)


def _association_gain(shares: np.ndarray) -> np.ndarray:
    """Gain of each join in the normalised association ``sum_c w_cc / d_c``
    (the number of groups minus the normalised cut of Shi and Malik)."""
    degree = np.maximum(shares.sum(1), 1e-300)
    inside = np.diag(shares)
    joined = (inside[:, None] + inside[None, :] + 2 * shares) / (
        degree[:, None] + degree[None, :]
    )
    ratio = inside / degree
    return joined - ratio[:, None] - ratio[None, :]


def _kept_probability(mass: np.ndarray, merge: np.ndarray) -> float:
    """Share of the rows' head probability that falls in their own merged
    cluster (``mass[i, j]``: probability of unit ``j`` over unit ``i``'s
    rows)."""
    same = merge[:, None] == merge[None, :]
    total = mass.sum()
    return float(mass[same].sum() / total) if total else 0.0


def _align(
    merge: np.ndarray, previous: np.ndarray, weight: np.ndarray, n_clusters: int
) -> np.ndarray:
    """Renumber ``merge`` to share the most row weight with ``previous``."""
    overlap = np.zeros((n_clusters, n_clusters))
    np.add.at(overlap, (merge, previous), weight)
    new, old = linear_sum_assignment(-overlap)
    renumber = np.empty(n_clusters, dtype=np.int64)
    renumber[new] = old
    return renumber[merge]


def kept_edge_share(stats: SubclusterStatistics, merge: np.ndarray) -> float:
    """Share of neighbour-graph edges whose two ends share a merged cluster."""
    same = merge[:, None] == merge[None, :]
    total = stats.edges.sum()
    return float(stats.edges[same].sum() / total) if total else 0.0


def principal_subclusters(
    stats: SubclusterStatistics, merge: np.ndarray, n_clusters: int
) -> np.ndarray:
    """Each cluster's largest sub-cluster: the unit it is decoded with."""
    score = stats.sizes + 1e-9 * stats.mass.sum(0)
    principal = np.empty(n_clusters, dtype=np.int64)
    for cluster in range(n_clusters):
        members = np.flatnonzero(merge == cluster)
        principal[cluster] = members[np.argmax(score[members])]
    return principal
