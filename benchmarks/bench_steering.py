"""Steering a fit on digits: early stopping, warm_start and partial_fit
against one full fit, in the same run.

On scikit-learn's digits (fixed stratified 70/30 split), for several seeds:

- ``AAETransformer`` (2-D codes): a full fit of ``max_iter`` epochs;
  ``early_stopping=True`` with the same ``max_iter``; ``warm_start=True``
  fitted twice with half the epochs; and a ``partial_fit`` stream, the
  training rows in 3 chunks, as many passes as the full fit's epochs. Quality:
  5-NN accuracy of the test codes from the training codes, and the prior match
  (``prior_distance_`` over its reference).
- ``AAEClassifier`` with about 10% of the training labels (12 per class): a
  full fit against
  ``early_stopping=True``. Quality: test accuracy.

Each row gives epochs run, fit time and quality (mean ± std over seeds).

Run::

    python benchmarks/bench_steering.py --seeds 0 1 2
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from _data import labelled_subset, load_dataset, stratified_split
from _machine import (
    limit_threads,
    machine_info,
    print_load_average_end,
    print_machine_header,
)
from _report import mean_std, pm, timed, write_json
from sklearn.neighbors import KNeighborsClassifier

from skaae import AAEClassifier, AAETransformer

TRANSFORMER_VARIANTS = ("full fit", "early_stopping", "warm_start 2 x half", "stream")
CLASSIFIER_VARIANTS = ("full fit", "early_stopping")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--max-iter", type=int, default=100)
    parser.add_argument("--n-chunks", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", type=Path, default=None)
    return parser.parse_args()


def transformer_variant(name, params, X_train, max_iter, n_chunks, seed):
    if name == "full fit":
        return AAETransformer(**params, max_iter=max_iter).fit(X_train)
    if name == "early_stopping":
        return AAETransformer(**params, max_iter=max_iter, early_stopping=True).fit(
            X_train
        )
    if name == "warm_start 2 x half":
        model = AAETransformer(**params, max_iter=max_iter // 2, warm_start=True)
        return model.fit(X_train).fit(X_train)
    model = AAETransformer(**params)
    chunks = np.array_split(
        np.random.RandomState(seed).permutation(len(X_train)), n_chunks
    )
    for _ in range(max_iter):
        for chunk in chunks:
            model.partial_fit(X_train[chunk])
    return model


def main() -> None:
    args = parse_args()
    limit_threads(args.threads)
    data = load_dataset("digits")
    X_train, X_test, y_train, y_test = stratified_split(data.X_train, data.y_train)
    machine = machine_info(args.device)
    print_machine_header("skaae steering benchmark (digits)", machine, args.threads)
    print("data")
    print(f"  digits: {data.source}")
    print(
        f"  fixed stratified 70/30 split: train {X_train.shape[0]} x "
        f"{X_train.shape[1]}, test {len(X_test)}; seeds {args.seeds}"
    )
    print(
        f"  AAETransformer(n_components=2): max_iter={args.max_iter}; stream = "
        f"partial_fit over {args.n_chunks} chunks, {args.max_iter} passes"
    )
    n_labels = 10 * (len(y_train) // 100)
    print(
        f"  AAEClassifier: {n_labels} training labels ({n_labels // 10} per class, "
        "about 10%), the rest -1"
    )
    print()

    results = {"transformer": {}, "classifier": {}}
    for seed in args.seeds:
        params = dict(n_components=2, random_state=seed, device=args.device)
        for name in TRANSFORMER_VARIANTS:
            print(f"transformer {name} (seed {seed})...", flush=True)
            model, seconds, caught = timed(
                transformer_variant,
                name,
                params,
                X_train,
                args.max_iter,
                args.n_chunks,
                seed,
            )
            knn = KNeighborsClassifier(5).fit(model.transform(X_train), y_train)
            results["transformer"].setdefault(name, []).append(
                {
                    "seed": seed,
                    "epochs": int(model.n_iter_),
                    "seconds": seconds,
                    "knn_accuracy": float(knn.score(model.transform(X_test), y_test)),
                    "prior_ratio": float(
                        model.prior_distance_ / model.prior_distance_reference_
                    ),
                    "warnings": caught,
                }
            )
        keep = labelled_subset(y_train, n_labels, seed)
        y_partial = np.full_like(y_train, -1)
        y_partial[keep] = y_train[keep]
        for name in CLASSIFIER_VARIANTS:
            print(f"classifier {name} (seed {seed})...", flush=True)
            clf = AAEClassifier(
                random_state=seed,
                device=args.device,
                max_iter=args.max_iter,
                early_stopping=name == "early_stopping",
            )
            model, seconds, caught = timed(clf.fit, X_train, y_partial)
            results["classifier"].setdefault(name, []).append(
                {
                    "seed": seed,
                    "epochs": int(model.n_iter_),
                    "seconds": seconds,
                    "accuracy": float(model.score(X_test, y_test)),
                    "warnings": caught,
                }
            )

    def summary(runs, key, digits=3):
        return pm(*mean_std(r[key] for r in runs), len(runs), digits)

    print()
    print("AAETransformer, 2-D codes")
    print(
        "| variant | epochs | fit (s) | 5-NN accuracy | prior_distance_ / reference |"
    )
    print("|---|---:|---:|---:|---:|")
    for name, runs in results["transformer"].items():
        print(
            f"| {name} | {summary(runs, 'epochs', 0)} | {summary(runs, 'seconds', 1)} "
            f"| {summary(runs, 'knn_accuracy')} | {summary(runs, 'prior_ratio', 1)} |"
        )
    print()
    print(f"AAEClassifier, {n_labels} labels")
    print("| variant | epochs | fit (s) | test accuracy |")
    print("|---|---:|---:|---:|")
    for name, runs in results["classifier"].items():
        print(
            f"| {name} | {summary(runs, 'epochs', 0)} | {summary(runs, 'seconds', 1)} "
            f"| {summary(runs, 'accuracy')} |"
        )
    print()
    print("warnings:")
    for part, variants in results.items():
        for name, runs in variants.items():
            for r in runs:
                for message in r["warnings"]:
                    print(f"  {part} {name} seed {r['seed']}: {message}")
    print_load_average_end(machine)
    write_json(args.json, machine=machine, args=vars(args), results=results)


if __name__ == "__main__":
    main()
