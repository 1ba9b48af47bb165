"""One AAETransformer map, scored on new points: for trying settings quickly.

An exploration helper for issue 15, not a benchmark with peers (that is
``bench_embedding.py``): fits ``AAETransformer`` with the given parameters on
the training rows of a split, and prints the 5-NN accuracy of the test rows'
codes (embedded as new points) from the training rows' codes, how far the
codes are from the prior (``prior_distance_`` over its reference; the fit
warns above 25) and the fit time. digits: stratified 70/30 split of
``load_digits`` / 16 (``random_state=0``); the tabular sets: the split of
``bench_embedding.py`` (70/30, standardised on the training rows).

    python benchmarks/explore_map_settings.py digits '{"random_state": 1}'
    python benchmarks/explore_map_settings.py letter \\
        '{"max_iter": 40, "n_clusters": 26, "neighbor_weight": 1.0}'

The second argument is a JSON object of ``AAETransformer`` parameters
(``random_state`` defaults to 0; lists become tuples).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
from _data import TABULAR_DATASETS, load_tabular, tabular_split
from _machine import limit_threads
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier

from skaae import AAETransformer


def split(dataset: str):
    if dataset == "digits":
        X, y = load_digits(return_X_y=True)
        X_train, X_test, y_train, y_test = train_test_split(
            (X / 16).astype(np.float32), y, test_size=0.3, stratify=y, random_state=0
        )
        return X_train, y_train, X_test, y_test
    return tabular_split(load_tabular(dataset))


def parse_params(text: str) -> dict:
    """Estimator parameters from JSON (lists become tuples)."""
    return {
        name: tuple(value) if isinstance(value, list) else value
        for name, value in json.loads(text).items()
    }


def map_scores(aae, X_train, y_train, X_test, y_test) -> tuple[float, float]:
    """5-NN accuracy of the held-out rows' codes, and the prior ratio."""
    knn = KNeighborsClassifier(5).fit(aae.transform(X_train), y_train)
    accuracy = knn.score(aae.transform(X_test), y_test)
    return accuracy, aae.prior_distance_ / aae.prior_distance_reference_


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=("digits", *TABULAR_DATASETS))
    parser.add_argument("params", nargs="?", default="{}")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    limit_threads(args.threads)
    params = parse_params(args.params)
    params.setdefault("random_state", 0)
    X_train, y_train, X_test, y_test = split(args.dataset)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        aae = AAETransformer(**params).fit(X_train)
    fit_time = time.perf_counter() - start
    accuracy, ratio = map_scores(aae, X_train, y_train, X_test, y_test)
    print(
        f"{args.dataset} {args.params}: 5-NN accuracy {accuracy:.3f}, "
        f"prior_distance_ {ratio:.1f} times the reference, fit {fit_time:.0f} s, "
        f"{len(caught)} warning(s)",
        flush=True,
    )
    for warning in caught:
        print(f"  {warning.category.__name__}: {warning.message}")


if __name__ == "__main__":
    main()
