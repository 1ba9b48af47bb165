"""One AAETransformer map, scored on new points: for trying settings quickly.

An exploration helper for issue 15, not a benchmark with peers (that is
``bench_embedding.py``): fits ``AAETransformer`` with the given parameters on
the training rows of a split, and prints the 5-NN accuracy of the test rows'
codes (embedded as new points) from the training rows' codes, the same
score of the training rows among themselves (leave-one-out: how well the
layout itself keeps neighbourhoods, apart from how the encoder generalises),
how far the codes are from the prior (``prior_distance_`` over its
reference; the fit warns above 25) and the fit time. fashion-mnist (``--data``, pass
``"max_iter": 20`` for the benchmark's budget): the 10,000 training and
2,000 test images of ``bench_embedding.py``. ``--umap`` fits
``umap.UMAP(random_state=seed)`` instead and scores it the same way (new
points through ``transform``). digits: stratified 70/30 split of
``load_digits`` / 16 (``random_state=0``); the tabular sets: the split of
``bench_embedding.py`` (70/30, standardised on the training rows).

    python benchmarks/explore_map_settings.py digits '{"random_state": 1}'
    python benchmarks/explore_map_settings.py letter \\
        '{"max_iter": 40, "n_clusters": 26, "neighbor_weight": 1.0}'
    python benchmarks/explore_map_settings.py letter --umap
    python benchmarks/explore_map_settings.py letter --map-exponent 1

Measured 2026-12-01 (seed 0, 1 thread, AMD EPYC), new points / training
rows leave-one-out: UCI letter, the default map 0.649 / 0.677 (prior 3.5
times the reference, 227 s), UMAP 0.804 / 0.857: there the training rows'
own layout falls short. digits, the default map 0.907 / 0.967, UMAP 0.974 /
0.985: there the layout is nearly UMAP's, and the encoder places new points
worse than it places the rows it was trained on.

The second argument is a JSON object of ``AAETransformer`` parameters
(``random_state`` defaults to 0; lists become tuples).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
from _data import TABULAR_DATASETS, load_dataset, load_tabular, tabular_split
from _machine import limit_threads
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier

from skaae import AAETransformer


def split(dataset: str, data=None):
    if dataset == "fashion-mnist":
        # bench_embedding.py's protocol: 10,000 training and 2,000 test
        # images drawn with RandomState(0).
        images = load_dataset(dataset, data)
        rng = np.random.RandomState(0)
        train = rng.permutation(len(images.X_train))[:10_000]
        test = rng.permutation(len(images.X_test))[:2_000]
        return (
            images.X_train[train],
            images.y_train[train],
            images.X_test[test],
            images.y_test[test],
        )
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


def leave_one_out_accuracy(codes: np.ndarray, y: np.ndarray) -> float:
    """5-NN accuracy of each training row's code among the other rows'."""
    search = KNeighborsClassifier(6).fit(codes, y)
    nearest = search.kneighbors(codes, return_distance=False)
    # Drop each row's own slot (a duplicate code may take it: either way
    # five other rows vote).
    own = nearest == np.arange(len(y))[:, None]
    own[~own.any(1), -1] = True
    votes = y[nearest[~own].reshape(len(y), 5)]
    majority = np.array([np.bincount(row).argmax() for row in votes])
    return float((majority == y).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "dataset", choices=("digits", "fashion-mnist", *TABULAR_DATASETS)
    )
    parser.add_argument("--data", default=None, help="Fashion-MNIST folder")
    parser.add_argument("params", nargs="?", default="{}")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--umap", action="store_true", help="fit UMAP instead")
    parser.add_argument(
        "--map-exponent",
        type=float,
        default=None,
        help="the plain map's similarity exponent b, an internal setting "
        "(skaae._transformer._MAP_EXPONENT; 1 is the Student-t kernel)",
    )
    args = parser.parse_args()
    limit_threads(args.threads)
    if args.map_exponent is not None:
        import skaae._transformer

        skaae._transformer._MAP_EXPONENT = args.map_exponent
    params = parse_params(args.params)
    params.setdefault("random_state", 0)
    X_train, y_train, X_test, y_test = split(args.dataset, args.data)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if args.umap:
            import umap

            model = umap.UMAP(random_state=params["random_state"]).fit(X_train)
        else:
            model = AAETransformer(**params).fit(X_train)
    fit_time = time.perf_counter() - start
    Z_train = model.embedding_ if args.umap else model.transform(X_train)
    knn = KNeighborsClassifier(5).fit(Z_train, y_train)
    accuracy = knn.score(model.transform(X_test), y_test)
    own_layout = leave_one_out_accuracy(Z_train, y_train)
    prior = (
        ""
        if args.umap
        else f"prior_distance_ "
        f"{model.prior_distance_ / model.prior_distance_reference_:.1f} times "
        "the reference, "
    )
    name = "UMAP" if args.umap else args.params
    if args.map_exponent is not None:
        name += f" --map-exponent {args.map_exponent}"
    print(
        f"{args.dataset} {name}: 5-NN accuracy {accuracy:.3f} (training rows, "
        f"leave-one-out: {own_layout:.3f}), {prior}fit {fit_time:.0f} s, "
        f"{len(caught)} warning(s)",
        flush=True,
    )
    if not args.umap:
        for warning in caught:
            print(f"  {warning.category.__name__}: {warning.message}")


if __name__ == "__main__":
    main()
