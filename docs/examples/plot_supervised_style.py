"""Supervised adversarial autoencoder: one handwriting style, every digit.

The supervised adversarial autoencoder (Makhzani et al., 2015, section 4 and
Figure 7) gives the decoder the true label of each image next to the style
code ``z``. Since the label already says *which* digit it is, ``z`` is pushed
to keep only *how* it is written (slant, stroke width, size), and the
adversarial regularisation makes ``z`` match the prior. Decoding one style
code under each label 0..9 then draws the same handwriting style as every
digit.

:class:`skaae.AAEClassifier` is this model when every sample of ``y`` is
labelled (``decode_known_labels="auto"``). The script:

1. fits ``AAEClassifier(random_state=0)`` on 70% of ``load_digits`` (scaled to
   [0, 1]) with all its labels;
2. takes the style codes (``transform``) of 8 held-out test digits and decodes
   each under the labels 0..9 with
   ``decode(np.repeat(z, 10, axis=0), np.arange(10))``;
3. writes ``supervised_style.png``: an 8 x 11 grid, the original test digit in
   the first column, then one column per label (rows share a style, columns
   change the label);
4. checks that the decoded digits show the label they were asked for: a
   ``LogisticRegression`` trained on the real training digits classifies the
   style of every test digit decoded under every label, and the script prints,
   per asked label, how often it sees that label (and, for reference, its
   accuracy on the real test digits and the AAE's own test accuracy).

Run it from the repository root (about 10-30 seconds on one CPU thread)::

    python docs/examples/plot_supervised_style.py --output-dir demo_output
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from skaae import AAEClassifier

N_ROWS = 8
N_CLASSES = 10


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
        help="training epochs of the AAE (default: the estimator's)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch and BLAS threads; the networks are small, and more threads "
        "than free cores slow training down many times",
    )
    return parser.parse_args(argv)


def plot_grid(path: Path, originals: np.ndarray, decoded: np.ndarray) -> None:
    """Rows: one style each; column 0: the original, then labels 0..9."""
    n_rows = len(originals)
    fig, axes = plt.subplots(
        n_rows, N_CLASSES + 1, figsize=((N_CLASSES + 1) * 0.8, n_rows * 0.8 + 0.6)
    )
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    for row in range(n_rows):
        images = [originals[row], *decoded[row]]
        for col, image in enumerate(images):
            axes[row, col].imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    axes[0, 0].set_title("original", fontsize=8)
    for label in range(N_CLASSES):
        axes[0, label + 1].set_title(f"y={label}", fontsize=8)
    for ax in axes[:, 0]:
        for spine in ax.spines.values():
            spine.set_color("tab:red")
            spine.set_linewidth(1.5)
    fig.suptitle(
        "Supervised AAE: each row keeps the style of a test digit, "
        "each column sets the label",
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
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0
    )
    print(
        f"digits: {len(X_train)} training and {len(X_test)} test images, "
        "8 x 8 pixels, 10 classes; every training label is given"
    )

    params = {"random_state": 0}
    if args.max_iter is not None:
        params["max_iter"] = args.max_iter
    clf = AAEClassifier(**params)
    start = time.perf_counter()
    clf.fit(X_train, y_train)  # no -1 in y: the supervised AAE
    fit_time = time.perf_counter() - start
    print(
        f"AAEClassifier fit: {clf.n_iter_} epochs in {fit_time:.1f} s "
        f"({clf.n_components}-D style code); test accuracy of its category "
        f"head: {clf.score(X_test, y_test):.3f}"
    )

    # Figure: 8 test digits, one per row, decoded under every label.
    originals = X_test[:N_ROWS]
    Z = clf.transform(originals)
    decoded = clf.decode(np.repeat(Z, N_CLASSES, axis=0), np.tile(clf.classes_, N_ROWS))
    decoded = decoded.reshape(N_ROWS, N_CLASSES, -1)
    path = args.output_dir / "supervised_style.png"
    plot_grid(path, originals, decoded)
    print(f"wrote {path}")

    # Do the decoded digits show the label they were asked for? Decode the
    # style of every test digit under every label and classify the results
    # with a model of the real digits.
    judge = LogisticRegression(max_iter=2000).fit(X_train, y_train)
    print()
    print(
        "LogisticRegression trained on the real training digits; accuracy on "
        f"the real test digits: {judge.score(X_test, y_test):.3f}"
    )
    Z_all = clf.transform(X_test)
    asked = np.tile(clf.classes_, len(Z_all))
    seen = judge.predict(clf.decode(np.repeat(Z_all, N_CLASSES, axis=0), asked))
    print(
        f"it recognises the asked label in the {len(Z_all)} test styles decoded "
        "under each label:"
    )
    print("| asked label | recognised as asked | most common other reading |")
    print("|---:|---:|---|")
    for label in clf.classes_:
        mine = asked == label
        hits = np.mean(seen[mine] == label)
        others = seen[mine & (seen != label)]
        if len(others):
            values, counts = np.unique(others, return_counts=True)
            other = f"{values[np.argmax(counts)]} ({counts.max()} of {mine.sum()})"
        else:
            other = "none"
        print(f"| {label} | {hits:.3f} | {other} |")
    print(f"| all | {np.mean(seen == asked):.3f} | |")
    # Style-only: the label of a decoded digit should follow the asked label,
    # not the digit the style came from.
    source = np.repeat(y_test, N_CLASSES)
    off = asked != source
    print(
        f"decoded under another label than the source digit's: read as the "
        f"asked label {np.mean(seen[off] == asked[off]):.3f}, as the source "
        f"digit {np.mean(seen[off] == source[off]):.3f}"
    )


if __name__ == "__main__":
    main()
