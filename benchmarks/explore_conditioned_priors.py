"""Do label-conditioned priors hold on Fashion-MNIST as they do on digits?

An exploration for issue 14, not a benchmark with peers. ``AAETransformer``
is fitted (2-D codes) with the ten-mode ``"gaussian_mixture"`` or the
``"swiss_roll"`` prior, conditioned on labels: half the training rows keep
their label (drawn by the seed), the rest are ``-1``. A row counts as "on its
mode" when its code lies nearest to its class's mode: the mixture's mean,
or for the swiss roll the class's piece of the roll (a 15-NN vote among
prior draws of every piece). Printed: the share of labelled, hidden and test
rows on their mode, and ``prior_distance_`` over its reference. On digits
``tests/test_transformer_quality.py`` asks at least 0.90 of the labelled and
0.80 of the hidden rows on their mode (mixture prior, 100 epochs).

    python benchmarks/explore_conditioned_priors.py \\
        --data /usr/share/datasets/fashion-mnist
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import train_test_data  # noqa: E402
from _machine import limit_threads, machine_info, print_machine_header  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier  # noqa: E402

from skaae import AAETransformer  # noqa: E402


def share_on_mode(model, Z: np.ndarray, labels: np.ndarray) -> float:
    """Share of codes nearest to their own class's mode."""
    prior = model.prior_
    if hasattr(prior, "means_"):
        nearest = np.argmin(((Z[:, None, :] - prior.means_[None]) ** 2).sum(-1), 1)
    else:
        pieces = np.repeat(np.arange(len(model.classes_)), 2000)
        draws = prior.sample(len(pieces), y=pieces, random_state=0)
        nearest = KNeighborsClassifier(15).fit(draws, pieces).predict(Z)
    return float(np.mean(nearest == labels))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--data", default=None)
    parser.add_argument("--n-train", type=int, default=10000)
    parser.add_argument(
        "--priors", nargs="+", default=["gaussian_mixture", "swiss_roll"]
    )
    parser.add_argument(
        "--max-iter",
        type=int,
        default=None,
        help="epochs (default: the estimator's max_iter='auto', 100 here)",
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument(
        "--aae-param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a further AAETransformer parameter (VALUE as a Python literal)",
    )
    args = parser.parse_args(argv)
    extra = {}
    for item in args.aae_param:
        name, _, value = item.partition("=")
        extra[name] = ast.literal_eval(value)
    limit_threads(1)
    print_machine_header("skaae: label-conditioned priors", machine_info("cpu"), 1)
    split, _ = train_test_data(args.dataset, args.data, args.n_train)
    X, y, X_test, y_test = split
    for prior in args.priors:
        for seed in args.seeds:
            hidden = np.random.RandomState(seed).rand(len(y)) < 0.5
            model = AAETransformer(
                prior=prior,
                max_iter="auto" if args.max_iter is None else args.max_iter,
                random_state=seed,
                device="cpu",
                **extra,
            )
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(X, np.where(hidden, -1, y))
            Z = model.transform(X)
            print(
                json.dumps(
                    {
                        "prior": prior,
                        **extra,
                        "seed": seed,
                        "epochs": model.n_iter_,
                        "labelled": round(
                            share_on_mode(model, Z[~hidden], y[~hidden]), 3
                        ),
                        "hidden": round(share_on_mode(model, Z[hidden], y[hidden]), 3),
                        "test": round(
                            share_on_mode(model, model.transform(X_test), y_test), 3
                        ),
                        "prior_ratio": round(
                            model.prior_distance_ / model.prior_distance_reference_, 1
                        ),
                        "fit_s": round(time.perf_counter() - start, 1),
                    }
                ),
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
