"""The k-nearest-neighbour graph of the training rows, built once per fit.

The graph feeds the neighbourhood terms of the training loop (see
``_training``): a map term that keeps a row's code close to its neighbours'
codes and away from other rows' (as parametric UMAP and parametric t-SNE do),
and, with a categorical head, a term that asks a row and its neighbours to
share a category.

Exact neighbours up to ``_EXACT_MAX_ROWS`` rows (more on a GPU): there by
blocks of distance matrix products on the model's device, elsewhere (and for
sparse input) by scikit-learn. Wide dense rows (images) on the CPU take a
partitioned search instead from ``_PARTITION_MIN_ROWS`` rows: candidates
among the rows of nearby cells of a k-means partition, in the space of the
leading principal components, re-ranked by their exact distances. Beyond
``_EXACT_MAX_ROWS`` ``pynndescent`` (approximate nearest-neighbour descent,
what UMAP uses) when it is installed, since the exact search grows with the
square of the rows.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.neighbors import NearestNeighbors

# Measured on 20,000 Fashion-MNIST rows (784 features): the block search
# 0.04 s on an H100 and 7-8 s on 2 CPU cores, where scikit-learn takes 10 s
# but is kept: it breaks ties between equal distances (common in integer
# data such as digits) in another order, and that alone moved fitted
# results as much as a change of seed. pynndescent took 48 s (mostly
# compiling), so it starts where the exact CPU search passes a minute (about
# 50,000 such rows; tables of a few dozen features take seconds), and on a
# GPU at four times that.
_EXACT_MAX_ROWS = 50_000
_GPU_ROWS_FACTOR = 4
# Distances computed at a time: 2**25 float32 values, 128 MiB.
_BLOCK_VALUES = 2**25
# The partitioned search (2-core AMD EPYC, 2 threads, 20,000 Fashion-MNIST
# rows, k=15): 0.81 s against scikit-learn's exact 7.6-10 s, with 97 % of
# the exact neighbours found (a missed one is replaced by the next nearest
# candidate). It is for wide rows: on tables of 16-30 features the exact
# tree search is as fast, and partitions of 30 independent features lose a
# fifth of the neighbours.
_PARTITION_MIN_ROWS = 4_096
_PARTITION_MIN_FEATURES = 65
# Candidates are ranked in this many principal components (32: 93 % found),
_PARTITION_COMPONENTS = 64
# this many candidates per neighbour re-ranked exactly (3: 96 %),
_CANDIDATES_PER_NEIGHBOR = 4
# among the rows of the cells with the nearest centres (12: 96 %; a
# partition has about sqrt(n_samples) cells).
_PROBED_CELLS = 16
# Rows that fit the principal components and the k-means centres.
_PARTITION_FIT_ROWS = 4_096
_KMEANS_ITERATIONS = 8


def nearest_neighbors(
    X: np.ndarray,
    n_neighbors: int,
    *,
    random_state: int = 0,
    device="cpu",
    n_queries: int | None = None,
) -> np.ndarray:
    """Indices of each row's ``n_neighbors`` nearest other rows (Euclidean).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Training rows.
    n_neighbors : int
        Neighbours per row, clipped to ``n_samples - 1``.
    random_state : int, default=0
        Seeds the approximate search.
    device : str or torch.device, default="cpu"
        The model's device: on a GPU the exact search of dense rows runs
        there.
    n_queries : int or None, default=None
        Only the first ``n_queries`` rows get neighbour lists (among all the
        rows); None: every row.

    Returns
    -------
    indices : ndarray of shape (n_queries or n_samples, n_neighbors), dtype int64
        Neighbour indices; a row is never its own neighbour.
    """
    n_samples = X.shape[0]
    k = min(n_neighbors, n_samples - 1)
    if k < 1:
        raise ValueError(
            f"The neighbour graph needs at least 2 samples; got n_samples={n_samples}."
        )
    queries = n_samples if n_queries is None else n_queries
    device = torch.device(device)
    on_gpu = device.type == "cuda" and not sp.issparse(X)
    if n_samples > _EXACT_MAX_ROWS * (_GPU_ROWS_FACTOR if on_gpu else 1):
        approximate = _approximate_neighbors(X, k + 1, random_state)
        if approximate is not None:
            return _drop_self(approximate[:queries], k)
    if (
        not on_gpu
        and not sp.issparse(X)
        and n_samples >= _PARTITION_MIN_ROWS
        and X.shape[1] >= _PARTITION_MIN_FEATURES
    ):
        return _partitioned_neighbors(X, k, random_state, device)[:queries]
    if not on_gpu:
        index = NearestNeighbors(n_neighbors=k).fit(X)
        if n_queries is None:
            # kneighbors() without X excludes each row itself.
            return index.kneighbors(return_distance=False).astype(np.int64)
        found = index.kneighbors(X[:queries], k + 1, return_distance=False)
        return _drop_self(found, k)
    return _exact_neighbors(X, k, device)[:queries]


def _exact_neighbors(X: np.ndarray, k: int, device: torch.device) -> np.ndarray:
    """Each row's ``k`` nearest other rows, by blocks of matrix products."""
    rows = torch.as_tensor(X, dtype=torch.float32, device=device)
    norms = (rows * rows).sum(1)
    n_samples = rows.shape[0]
    block = max(1, _BLOCK_VALUES // n_samples)
    found = []
    for start in range(0, n_samples, block):
        stop = min(start + block, n_samples)
        # Squared distances up to each block row's own norm, which does not
        # change the order within the row.
        dist = torch.addmm(norms[None], rows[start:stop], rows.T, alpha=-2.0)
        own = torch.arange(start, stop, device=device)
        dist[own - start, own] = torch.inf
        nearest = dist.topk(k, dim=1, largest=False).indices
        found.append(nearest.cpu())
    return torch.cat(found).numpy().astype(np.int64)


def _partitioned_neighbors(
    X: np.ndarray, k: int, random_state: int, device: torch.device
) -> np.ndarray:
    """Each row's ``k`` nearest other rows among candidates of nearby cells.

    The rows are projected on their leading principal components and split
    into about ``sqrt(n_samples)`` cells by k-means; a cell's rows take
    their ``_CANDIDATES_PER_NEIGHBOR * k`` nearest rows (in the projection)
    among the rows of the ``_PROBED_CELLS`` cells with the nearest centres,
    and keep the ``k`` of them nearest in the full space.
    """
    rows = torch.as_tensor(np.asarray(X), dtype=torch.float32, device=device)
    n_samples, n_features = rows.shape
    generator = torch.Generator(device=device).manual_seed(random_state)

    def sample(tensor: torch.Tensor) -> torch.Tensor:
        if n_samples <= _PARTITION_FIT_ROWS:
            return tensor
        picked = torch.randperm(n_samples, generator=generator, device=device)
        return tensor[picked[:_PARTITION_FIT_ROWS]]

    mean = rows.mean(0)
    fit_rows = sample(rows) - mean
    covariance = fit_rows.T @ fit_rows
    # The leading eigenvectors by a few power iterations on a random basis
    # (a full eigendecomposition of a 784 x 784 matrix costs more than the
    # search).
    n_components = min(_PARTITION_COMPONENTS, n_features)
    basis = torch.randn(
        n_features, n_components + 10, generator=generator, device=device
    )
    for _ in range(3):
        basis = torch.linalg.qr(covariance @ basis).Q
    _, vectors = torch.linalg.eigh((basis.T @ covariance @ basis).double())
    weights = basis @ vectors[:, -n_components:].float()
    # (rows - mean) @ weights without the centred copy of the rows.
    projected = torch.addmm((mean @ weights)[None], rows, weights, beta=-1.0)

    n_cells = max(1, round(math.sqrt(n_samples)))
    fit_rows = sample(projected)
    centres = fit_rows[
        torch.randperm(fit_rows.shape[0], generator=generator, device=device)[:n_cells]
    ].clone()
    n_cells = centres.shape[0]

    def nearest_centre(points: torch.Tensor) -> torch.Tensor:
        scores = torch.addmm(
            _squared_norms(centres)[None], points, centres.T, alpha=-2.0
        )
        return scores.argmin(1)

    for _ in range(_KMEANS_ITERATIONS):
        cell = nearest_centre(fit_rows)
        sums = torch.zeros_like(centres).index_add_(0, cell, fit_rows)
        counts = torch.bincount(cell, minlength=n_cells)
        filled = counts > 0
        centres[filled] = sums[filled] / counts[filled, None]
    cell = nearest_centre(projected)
    counts = torch.bincount(cell, minlength=n_cells)
    # The rows in cell order, so that a cell's rows are one slice (no gather
    # of the queries) and the candidates' rows lie in a few runs.
    order = torch.argsort(cell, stable=True)
    projected, rows = projected[order], rows[order]
    bounds = [0, *torch.cumsum(counts, 0).tolist()]
    centre_distances = torch.cdist(centres, centres)
    # A cell probes itself first, so its own rows lead the candidate pool.
    centre_distances.fill_diagonal_(-1.0)
    probed = centre_distances.topk(
        min(_PROBED_CELLS, n_cells), dim=1, largest=False
    ).indices.tolist()

    n_candidates = min(n_samples - 1, _CANDIDATES_PER_NEIGHBOR * k)
    projected_norms = _squared_norms(projected)
    norms = _squared_norms(rows)
    every_row = torch.arange(n_samples, device=device)
    found = torch.empty(n_samples, k, dtype=torch.long, device=device)
    for cell_index, probe in enumerate(probed):
        start, stop = bounds[cell_index], bounds[cell_index + 1]
        if stop == start:
            continue
        pool = torch.cat([every_row[bounds[c] : bounds[c + 1]] for c in probe])
        own = torch.arange(stop - start, device=device)
        if pool.numel() <= n_candidates:
            pool = every_row
            own_columns = own + start
        else:
            own_columns = own
        dist = torch.addmm(
            projected_norms[pool][None],
            projected[start:stop],
            projected[pool].T,
            alpha=-2.0,
        )
        dist[own, own_columns] = torch.inf
        candidates = pool[
            dist.topk(n_candidates, dim=1, largest=False, sorted=False).indices
        ]
        # Exact squared distances (up to each query's own norm) to the
        # candidates, from one product with the cell's distinct candidates.
        distinct, where = torch.unique(candidates, return_inverse=True)
        exact = torch.addmm(
            norms[distinct][None], rows[start:stop], rows[distinct].T, alpha=-2.0
        ).gather(1, where)
        nearest = exact.topk(k, dim=1, largest=False).indices
        found[start:stop] = candidates.gather(1, nearest)
    # Back from cell order to the rows' own numbers.
    in_order = torch.empty_like(found)
    in_order[order] = order[found]
    return in_order.cpu().numpy().astype(np.int64)


def _squared_norms(rows: torch.Tensor) -> torch.Tensor:
    """Each row's squared Euclidean norm, without a squared copy of the rows."""
    return torch.linalg.vector_norm(rows, dim=1).square()


def _approximate_neighbors(X, k: int, random_state: int) -> np.ndarray | None:
    try:
        from pynndescent import NNDescent
    except ImportError:
        return None
    index = NNDescent(X, n_neighbors=k, random_state=random_state)
    return index.neighbor_graph[0]


def _drop_self(indices: np.ndarray, k: int) -> np.ndarray:
    """Remove each row from its own list (kept at most ``k`` columns)."""
    rows = np.arange(indices.shape[0])[:, None]
    is_self = indices == rows
    # Stable sort puts the self slot last without reordering the others.
    order = np.argsort(is_self, axis=1, kind="stable")
    kept = np.take_along_axis(indices, order, axis=1)[:, :k]
    # A slot the search left empty (-1) points at the row itself: no pull.
    return np.where(kept < 0, rows, kept).astype(np.int64)


class NeighborRecall:
    """How well codes keep held-out rows' neighbourhoods among training rows.

    For each query row (a held-out row), its ``n_neighbors`` nearest
    reference rows (training rows) in input space are found once; a call
    with the codes of both returns the share of them that are also among the
    query's ``n_neighbors`` nearest reference codes. This is what the 5-NN
    accuracy of new points measures, without labels.

    Parameters
    ----------
    X_query : {ndarray, sparse matrix} of shape (n_queries, n_features)
        Held-out rows.
    X_reference : {ndarray, sparse matrix} of shape (n_references, n_features)
        Training rows.
    n_neighbors : int
        Neighbours compared per query row (clipped to ``n_references``).
    """

    def __init__(self, X_query, X_reference, n_neighbors: int) -> None:
        k = min(n_neighbors, X_reference.shape[0])
        search = NearestNeighbors(n_neighbors=k).fit(X_reference)
        found = search.kneighbors(X_query, return_distance=False)
        self.neighbors = torch.as_tensor(found.astype(np.int64))

    def __call__(self, codes_query: np.ndarray, codes_reference: np.ndarray) -> float:
        k = self.neighbors.shape[1]
        distances = torch.cdist(
            torch.as_tensor(codes_query, dtype=torch.float32),
            torch.as_tensor(codes_reference, dtype=torch.float32),
        )
        nearest = distances.topk(k, dim=1, largest=False).indices
        kept = (nearest[:, :, None] == self.neighbors[:, None, :]).any(-1)
        return float(kept.float().mean())
