"""The k-nearest-neighbour graph of the training rows, built once per fit.

The graph feeds the neighbourhood terms of the training loop (see
``_training``): a map term that keeps a row's code close to its neighbours'
codes and away from other rows' (as parametric UMAP and parametric t-SNE do),
and, with a categorical head, a term that asks a row and its neighbours to
share a category.

Exact neighbours up to ``_EXACT_MAX_ROWS`` rows (more on a GPU): there by
blocks of distance matrix products on the model's device, elsewhere (and for
sparse input) by scikit-learn. Beyond that ``pynndescent`` (approximate
nearest-neighbour descent, what UMAP uses) when it is installed, since the
exact search grows with the square of the rows.
"""

from __future__ import annotations

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
