"""Cluster heads: a 2-D map of digits where every cluster has its own place.

Section 7 of Makhzani et al. (2015) and its Figure 10 reduce dimension with an
adversarial autoencoder whose code is ``W_C y + z``: a softmax category head
``y`` (matched to a categorical prior by a second discriminator) picks one of
``n_clusters`` learned cluster heads, the columns of ``W_C``, and a small
style code ``z`` (matched to the Gaussian prior) places the sample around it.
The heads are pushed apart whenever two of them come closer than
``cluster_head_distance``, so the clusters land in separate parts of the map.

:class:`skaae.AAETransformer` with ``n_clusters`` is this model. The script:

1. fits ``AAETransformer(n_components=2, n_clusters=10)`` on all of
   ``load_digits`` (scaled to [0, 1]) twice: without labels (``fit(X)``), and
   with 10% of the labels of each class (``fit(X, y_partial)``, ``-1`` for the
   others; ``dropout=0.2``), where labelled digits of class ``k`` are sent to
   head ``k``;
2. writes ``cluster_heads.png``, the paper's Figure 10: one panel per fit, the
   2-D codes (``transform``) coloured by the true digit and the cluster heads
   (``cluster_heads_``) marked by black crosses with their index;
3. scores each map with the 5-nearest-neighbour accuracy of the true digit
   (5-fold cross-validation on the 2-D codes), next to PCA's 2-D map, and the
   assignment of each digit to its nearest head: clustering accuracy
   (Hungarian matching) without labels, and with labels the share of
   unlabelled digits that sit on their own class's head.

Run it from the repository root (about 40 seconds on one CPU thread)::

    python docs/examples/plot_cluster_heads.py --output-dir demo_output
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
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from threadpoolctl import threadpool_limits

from skaae import AAETransformer
from skaae.metrics import clustering_accuracy

N_CLUSTERS = 10
LABELLED_SHARE = 0.1


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
        "--max-iter",
        type=int,
        default=None,
        help="training epochs of each AAE (default: the estimator's)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="random_state of both AAEs and of the labels kept",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch and BLAS threads; the networks are small, and more threads "
        "than free cores slow training down many times",
    )
    return parser.parse_args(argv)


def keep_labels(y: np.ndarray, share: float, seed: int) -> np.ndarray:
    """Mask keeping ``share`` of each class's samples, drawn with ``seed``."""
    rng = np.random.RandomState(seed)
    keep = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        n_keep = int(len(members) * share + 1e-9)
        keep[rng.choice(members, n_keep, replace=False)] = True
    return keep


def knn_accuracy(Z: np.ndarray, y: np.ndarray) -> float:
    """5-nearest-neighbour accuracy of ``y`` from ``Z``, 5-fold CV."""
    return cross_val_score(KNeighborsClassifier(5), Z, y, cv=5).mean()


def nearest_head(Z: np.ndarray, heads: np.ndarray) -> np.ndarray:
    """Index of the cluster head closest to each code."""
    return np.argmin(((Z[:, None, :] - heads[None]) ** 2).sum(-1), axis=1)


def fit(X: np.ndarray, y, params: dict) -> tuple[AAETransformer, float]:
    """Fit one model; report the fit and how well the style matches its prior."""
    model = AAETransformer(**params)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(X, y)
    fit_time = time.perf_counter() - start
    heads = model.cluster_heads_
    gaps = np.linalg.norm(heads[:, None] - heads[None], axis=-1)
    closest = gaps[np.triu_indices(len(heads), 1)].min()
    print(
        f"  {model.n_iter_} epochs in {fit_time:.1f} s; closest two heads "
        f"{closest:.2f} apart (cluster_head_distance="
        f"{model.cluster_head_distance}); style prior_distance_ "
        f"{model.prior_distance_ / model.prior_distance_reference_:.0f} x "
        "prior_distance_reference_"
    )
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        # Without labels the style codes match their prior only loosely; the
        # map does not depend on it (see the user guide).
        print(
            "  fit warned (ConvergenceWarning): the style codes match their "
            "prior only loosely"
        )
    return model, fit_time


def plot_panel(ax, Z: np.ndarray, y: np.ndarray, heads: np.ndarray, title: str):
    """Codes coloured by the true digit, cluster heads as numbered crosses."""
    cmap = plt.get_cmap("tab10")
    for digit in range(10):
        mine = y == digit
        ax.scatter(
            Z[mine, 0],
            Z[mine, 1],
            s=4,
            color=cmap(digit),
            alpha=0.6,
            label=str(digit),
            rasterized=True,
        )
    ax.scatter(heads[:, 0], heads[:, 1], marker="x", s=60, c="black", linewidths=2)
    for index, (hx, hy) in enumerate(heads):
        ax.annotate(
            str(index),
            (hx, hy),
            xytext=(4, 4),
            textcoords="offset points",
            fontsize=9,
            fontweight="bold",
        )
    ax.set_title(title, fontsize=9)
    ax.set_aspect("equal", adjustable="datalim")
    ax.tick_params(labelsize=7)


def main(argv=None) -> None:
    args = parse_args(argv)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)

    X, y = load_digits(return_X_y=True)
    X = X / 16.0  # pixel values 0..16 -> [0, 1]
    labelled = keep_labels(y, LABELLED_SHARE, args.seed)
    y_partial = np.where(labelled, y, -1)
    print(
        f"digits: {len(X)} images, 8 x 8 pixels, 10 classes; the second fit "
        f"keeps {labelled.sum()} labels ({LABELLED_SHARE:.0%} of each class)"
    )

    params = {"n_components": 2, "n_clusters": N_CLUSTERS, "random_state": args.seed}
    if args.max_iter is not None:
        params["max_iter"] = args.max_iter
    print("unsupervised AAETransformer(n_clusters=10).fit(X):")
    unsup, _ = fit(X, None, params)
    print("semi-supervised AAETransformer(n_clusters=10, dropout=0.2).fit(X, y):")
    semi, _ = fit(X, y_partial, {**params, "dropout": 0.2})

    Z_unsup = unsup.transform(X)
    Z_semi = semi.transform(X)
    head_unsup = nearest_head(Z_unsup, unsup.cluster_heads_)
    head_semi = nearest_head(Z_semi, semi.cluster_heads_)
    # semi.classes_ is 0..9, so class k's head is head k.
    on_own_head = np.mean(
        semi.classes_[head_semi[~labelled]] == y[~labelled],
    )

    # Figure 10: the two maps side by side.
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.4))
    plot_panel(
        axes[0],
        Z_unsup,
        y,
        unsup.cluster_heads_,
        "unsupervised: fit(X)",
    )
    plot_panel(
        axes[1],
        Z_semi,
        y,
        semi.cluster_heads_,
        f"semi-supervised: fit(X, y) with {LABELLED_SHARE:.0%} of labels "
        "(head k = class k)",
    )
    handles, labels = axes[1].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        title="true digit",
        loc="center right",
        markerscale=4,
        fontsize=8,
        title_fontsize=8,
    )
    fig.suptitle(
        "AAETransformer(n_components=2, n_clusters=10) on digits: "
        "codes W_C y + z and cluster heads W_C (x)",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0, 0.93, 1))
    path = args.output_dir / "cluster_heads.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"wrote {path}")

    print()
    print(
        "2-D maps of all digits (the true labels score them; only the "
        "semi-supervised fit saw some):"
    )
    print("| map | 5-NN accuracy (5-fold CV) | nearest head |")
    print("|---|---:|---:|")
    print(
        f"| unsupervised cluster heads | {knn_accuracy(Z_unsup, y):.3f} | "
        f"{clustering_accuracy(y, head_unsup):.3f} (Hungarian; "
        f"{len(np.unique(head_unsup))} heads in use) |"
    )
    print(
        f"| semi-supervised cluster heads | {knn_accuracy(Z_semi, y):.3f} | "
        f"{on_own_head:.3f} (unlabelled digits on their class's head) |"
    )
    pca = PCA(n_components=2, random_state=args.seed).fit_transform(X)
    print(f"| PCA | {knn_accuracy(pca, y):.3f} | |")


if __name__ == "__main__":
    main()
