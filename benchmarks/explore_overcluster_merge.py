"""Over-cluster, then merge clusters along the neighbour graph (issue 9 lead).

An exploration, not a feature: ``AAEClusterer(n_clusters=k')`` with ``k'``
above the wanted 10 on all of scikit-learn's digits (one fit, ``n_init=1``),
then its clusters merged into 10 by how densely the 15-nearest-neighbour
graph of the rows connects them: the edge counts between two clusters over
the square root of their sizes' product, merged by average-linkage
agglomeration or by spectral clustering of that affinity. With ``k'=10``
it prints the direct fit. Hungarian accuracy / NMI.

Run (one ``k'`` per call, then the seeds; 2 cores, default threads)::

    python benchmarks/explore_overcluster_merge.py 10 0 1 2 3 4
    python benchmarks/explore_overcluster_merge.py 20 0 1 2 3 4
    python benchmarks/explore_overcluster_merge.py 30 0 1 2
"""

import sys
import time
import warnings

import numpy as np
from sklearn.cluster import AgglomerativeClustering, SpectralClustering
from sklearn.datasets import load_digits
from sklearn.metrics import normalized_mutual_info_score as nmi

from skaae import AAEClusterer
from skaae._neighbors import nearest_neighbors
from skaae.metrics import clustering_accuracy

warnings.simplefilter("ignore")
X, y = load_digits(return_X_y=True)
X = X / 16.0
GRAPH = nearest_neighbors(X, 15)


def merge(labels: np.ndarray, k: int, how: str) -> np.ndarray:
    used = np.unique(labels)
    idx = np.searchsorted(used, labels)
    m = len(used)
    edges = np.zeros((m, m))
    np.add.at(edges, (np.repeat(idx, GRAPH.shape[1]), idx[GRAPH].ravel()), 1)
    edges = edges + edges.T
    size = np.bincount(idx, minlength=m).astype(float)
    affinity = edges / np.sqrt(np.outer(size, size))
    if how == "spectral":
        merged = SpectralClustering(
            k, affinity="precomputed", random_state=0
        ).fit_predict(affinity)
    else:
        distance = 1 - affinity / affinity.max()
        np.fill_diagonal(distance, 0)
        merged = AgglomerativeClustering(
            k, metric="precomputed", linkage=how
        ).fit_predict(distance)
    return merged[idx]


def main() -> None:
    k_prime = int(sys.argv[1])
    for seed in [int(s) for s in sys.argv[2:]]:
        start = time.time()
        labels = (
            AAEClusterer(n_clusters=k_prime, n_init=1, random_state=seed).fit(X).labels_
        )
        row = [
            f"k'={k_prime} seed {seed} ({time.time() - start:.0f} s, "
            f"{len(np.unique(labels))} used):"
        ]
        if k_prime == 10:
            row.append(
                f"direct {clustering_accuracy(y, labels):.3f}/{nmi(y, labels):.3f}"
            )
        else:
            for how in ("average", "spectral"):
                merged = merge(labels, 10, how)
                row.append(
                    f"{how} {clustering_accuracy(y, merged):.3f}/{nmi(y, merged):.3f}"
                )
        print(" ".join(row), flush=True)


if __name__ == "__main__":
    main()
