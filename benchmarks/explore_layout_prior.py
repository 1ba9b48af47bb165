"""Does a map that keeps UMAP's neighbourhoods have to leave the prior?

An exploration for issue 15, not a benchmark with peers. The 2-D map must
keep neighbourhoods as well as UMAP's and its codes must still match the
standard Gaussian prior (``prior_distance_`` within its usual range, which is
1-17 times the reference for the default fits, the warning at 25). This
script fits UMAP on a data set's training rows and scores its layout as a
set of codes would be scored: 5-NN accuracy of the test rows (through
``transform``) and of the training rows among themselves (leave-one-out),
and the energy distance to Gaussian draws over the same statistic between
two Gaussian samples (the ratio ``prior_distance_ /
prior_distance_reference_``), for the raw layout, the layout whitened by an
affine map (mean 0, covariance I: a change of the encoder's last layer
would do it), and the whitened layout with each axis further sent through
its empirical CDF to Gaussian quantiles (monotone, not affine).

If the whitened layout keeps UMAP's accuracy at a ratio in the usual range,
then codes that keep UMAP's neighbourhoods and match the prior exist, and
what holds the AAE back is its training, not the prior.

    python benchmarks/explore_layout_prior.py letter digits classification20
    python benchmarks/explore_layout_prior.py fashion-mnist --data PATH

Data: the splits of ``explore_map_settings.py``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import TABULAR_DATASETS  # noqa: E402
from _machine import (  # noqa: E402
    limit_threads,
    machine_info,
    print_load_average_end,
    print_machine_header,
)
from explore_map_settings import leave_one_out_accuracy, split  # noqa: E402
from scipy.stats import norm  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier  # noqa: E402

from skaae.metrics import energy_distance  # noqa: E402

# The number of codes the fitted estimators' diagnostic compares.
DIAGNOSTIC_ROWS = 2000


def prior_ratio(codes: np.ndarray, rng: np.random.RandomState) -> float:
    """Energy distance to Gaussian draws over what a perfect match scores."""
    keep = rng.permutation(len(codes))[:DIAGNOSTIC_ROWS]
    m, d = len(keep), codes.shape[1]
    draws, other = rng.randn(m, d), rng.randn(m, d)
    reference = 2.0 * np.linalg.norm(draws - other, axis=1).mean() / m
    return energy_distance(codes[keep], draws) / reference


def whiten(train: np.ndarray, test: np.ndarray):
    """Mean 0 and covariance I on the training codes (one affine map)."""
    mean = train.mean(0)
    inverse_root = np.linalg.inv(np.linalg.cholesky(np.cov(train.T)))
    return (train - mean) @ inverse_root.T, (test - mean) @ inverse_root.T


def gaussianise_axes(train: np.ndarray, test: np.ndarray):
    """Each axis through its empirical CDF to standard normal quantiles."""
    n = len(train)
    quantiles = norm.ppf((np.arange(n) + 0.5) / n)
    out_train, out_test = np.empty_like(train), np.empty_like(test)
    for j in range(train.shape[1]):
        ordered = np.sort(train[:, j])
        out_train[:, j] = np.interp(train[:, j], ordered, quantiles)
        out_test[:, j] = np.interp(test[:, j], ordered, quantiles)
    return out_train, out_test


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "datasets",
        nargs="+",
        choices=("digits", "fashion-mnist", *TABULAR_DATASETS),
    )
    parser.add_argument("--data", default=None, help="Fashion-MNIST folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    limit_threads(args.threads)
    import umap

    machine = machine_info("cpu", {"umap-learn": umap.__version__})
    print_machine_header(
        "UMAP layouts against the Gaussian prior (issue 15 exploration)",
        machine,
        args.threads,
        ["umap-learn"],
    )
    print(f"umap.UMAP(random_state={args.seed}), 2-D; ratio: prior_distance_ over")
    print("its reference on 2,000 training codes (the estimators warn above 25)")
    print()
    for dataset in args.datasets:
        X_train, y_train, X_test, y_test = split(dataset, args.data)
        model = umap.UMAP(random_state=args.seed).fit(X_train)
        train = model.embedding_.astype(np.float64)
        test = model.transform(X_test).astype(np.float64)
        rng = np.random.RandomState(args.seed)
        whitened = whiten(train, test)
        layouts = {
            "raw": (train, test),
            "whitened": whitened,
            "whitened, axes gaussianised": gaussianise_axes(*whitened),
        }
        for name, (codes, new_codes) in layouts.items():
            knn = KNeighborsClassifier(5).fit(codes, y_train)
            print(
                f"{dataset} UMAP {name}: 5-NN accuracy new points "
                f"{knn.score(new_codes, y_test):.3f}, training rows "
                f"{leave_one_out_accuracy(codes, y_train):.3f}, ratio "
                f"{prior_ratio(codes, rng):.1f}",
                flush=True,
            )
    print_load_average_end(machine)


if __name__ == "__main__":
    main()
