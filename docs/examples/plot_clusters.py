"""Unsupervised clustering with an adversarial autoencoder: the cluster heads.

The clustering adversarial autoencoder (Makhzani et al., 2015, section 6 and
Figure 9) gives the encoder a softmax head ``y`` with one unit per cluster
next to a small style code ``z``; one discriminator pushes ``y`` to be one-hot,
another pushes ``z`` to follow a Gaussian prior. No label is used: the decoder
can only rebuild an image well if ``y`` says which kind of image it is, so the
clusters learn the discrete structure of the data.

:class:`skaae.AAEClusterer` is this model. The script:

1. fits ``AAEClusterer(n_clusters=10, random_state=0)`` on all of
   ``load_digits`` (scaled to [0, 1]) without its labels;
2. writes ``clusters.png``, the paper's Figure 9: one row per cluster, the
   cluster head in the first column (``cluster_centers_``: the cluster's
   one-hot ``y`` decoded with a zero style code), then random training digits
   the model put in that cluster;
3. scores the clusters against the true digit labels with
   :func:`skaae.metrics.clustering_accuracy`, both with one-to-one Hungarian
   matching and with the paper's protocol (each cluster takes the label of the
   training digit it is most confident about), next to ``KMeans`` with the
   same number of clusters on the same data.

Run it from the repository root (about 20 seconds on one CPU thread)::

    python docs/examples/plot_clusters.py --output-dir demo_output
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from skaae import AAEClusterer
from skaae.metrics import clustering_accuracy

N_MEMBERS = 10


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=Path("demo_output"),
        help="directory the PNG is written into (created if missing)",
    )
    parser.add_argument(
        "--n-clusters",
        type=int,
        default=10,
        help="number of clusters (the paper used 16 and 30 on MNIST)",
    )
    parser.add_argument(
        "--max-iter",
        type=int,
        default=None,
        help="training epochs of the AAE (default: the estimator's)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="random_state of the AAE, of KMeans and of the members drawn",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch and BLAS threads; the networks are small, and more threads "
        "than free cores slow training down many times",
    )
    return parser.parse_args(argv)


def plot_clusters(
    path: Path, heads: np.ndarray, members: list[np.ndarray], sizes: np.ndarray
) -> None:
    """Rows: one cluster each; column 0: the cluster head, then members."""
    n_rows = len(heads)
    fig, axes = plt.subplots(
        n_rows,
        N_MEMBERS + 1,
        figsize=((N_MEMBERS + 1) * 0.7 + 0.6, n_rows * 0.7 + 0.6),
        squeeze=False,
    )
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
    for row in range(n_rows):
        head = np.clip(heads[row], 0, 1)
        axes[row, 0].imshow(head.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        for spine in axes[row, 0].spines.values():
            spine.set_visible(True)
            spine.set_color("tab:red")
            spine.set_linewidth(1.5)
        axes[row, 0].set_ylabel(
            f"{row} (n={sizes[row]})", rotation=0, ha="right", va="center", fontsize=7
        )
        for col, image in enumerate(members[row], start=1):
            axes[row, col].imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    axes[0, 0].set_title("head", fontsize=8)
    axes[0, 1].set_title("random members", fontsize=8, loc="left")
    fig.suptitle(
        "Clustering AAE on digits: cluster head (decoded with zero style) and members",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None) -> None:
    args = parse_args(argv)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)

    X, y = load_digits(return_X_y=True)
    X = X / 16.0  # pixel values 0..16 -> [0, 1]
    print(
        f"digits: {len(X)} images, 8 x 8 pixels, 10 classes; the labels are "
        "used only to score the clusters"
    )

    params = {"n_clusters": args.n_clusters, "random_state": args.seed}
    if args.max_iter is not None:
        params["max_iter"] = args.max_iter
    clu = AAEClusterer(**params)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        clu.fit(X)
    fit_time = time.perf_counter() - start
    sizes = np.bincount(clu.labels_, minlength=clu.n_clusters)
    print(
        f"AAEClusterer fit: {clu.n_iter_} epochs in {fit_time:.1f} s; "
        f"{np.count_nonzero(sizes)} of {clu.n_clusters} clusters in use, "
        f"sizes {sizes.tolist()}"
    )
    print(
        "  category discriminator accuracy (last epoch): "
        f"{clu.history_['category_discriminator_accuracy'][-1]:.3f}; "
        f"style prior_distance_ {clu.prior_distance_:.4f} "
        f"({clu.prior_distance_ / clu.prior_distance_reference_:.0f} x "
        "prior_distance_reference_)"
    )
    for warning in caught:
        if issubclass(warning.category, ConvergenceWarning):
            # On digits the style codes match their prior only loosely; the
            # clusters do not depend on it (see the user guide).
            print(
                "  fit warned (ConvergenceWarning): the style codes match "
                "their prior only loosely"
            )
            break

    # Figure 9: cluster heads and random members of each cluster.
    rng = np.random.default_rng(args.seed)
    members = []
    for cluster in range(clu.n_clusters):
        idx = np.flatnonzero(clu.labels_ == cluster)
        take = rng.choice(idx, size=min(N_MEMBERS, len(idx)), replace=False)
        members.append(X[take])
    path = args.output_dir / "clusters.png"
    plot_clusters(path, clu.cluster_centers_, members, sizes)
    print(f"wrote {path}")

    # Score the clusters against the true digits, next to KMeans.
    proba = clu.predict_proba(X)
    kmeans = KMeans(n_clusters=args.n_clusters, n_init=10, random_state=args.seed)
    kmeans_labels = kmeans.fit_predict(X)
    # KMeans has no probabilities; its "most confident" point of a cluster is
    # the one closest to the centroid.
    kmeans_proba = -kmeans.transform(X)
    print()
    print("clustering accuracy against the true digits:")
    print("| model | Hungarian (one-to-one) | confident (paper, Table 3) |")
    print("|---|---:|---:|")
    for name, labels, scores in (
        ("AAEClusterer", clu.labels_, proba),
        ("KMeans", kmeans_labels, kmeans_proba),
    ):
        hungarian = clustering_accuracy(y, labels)
        confident = clustering_accuracy(y, labels, method="confident", proba=scores)
        print(f"| {name} | {hungarian:.3f} | {confident:.3f} |")


if __name__ == "__main__":
    main()
