"""How well can the MLP peer of bench_classifier.py be trained?

An exploration for issue 14: the supervised baseline is
``MLPClassifier`` on the labelled points only, and the AAE must beat it
trained as well as it can be. Variants (all up to 200 epochs, seeds 0-2, one
thread): the plain fit (sklearn's own stopping on the training loss),
``early_stopping=True`` (10 % of the labels held out), a larger ``alpha``,
and a (1000, 1000) network with early stopping. Prints one JSON line per
fit (test error %) and the mean per variant.

    python benchmarks/explore_mlp_peer.py --data /usr/share/datasets/fashion-mnist
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import labelled_subset, train_test_data  # noqa: E402
from _machine import limit_threads, machine_info, print_machine_header  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402

VARIANTS = {
    "plain": dict(hidden_layer_sizes=(256, 256)),
    "early stopping": dict(hidden_layer_sizes=(256, 256), early_stopping=True),
    "early stopping, alpha=1e-2": dict(
        hidden_layer_sizes=(256, 256), early_stopping=True, alpha=1e-2
    ),
    "alpha=1e-2": dict(hidden_layer_sizes=(256, 256), alpha=1e-2),
    "alpha=1e-1": dict(hidden_layer_sizes=(256, 256), alpha=1e-1),
    "(1000, 1000), early stopping": dict(
        hidden_layer_sizes=(1000, 1000), early_stopping=True
    ),
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--data", default=None)
    parser.add_argument("--n-train", type=int, default=10000)
    parser.add_argument("--labels", nargs="+", default=["100", "1000", "all"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    args = parser.parse_args(argv)
    limit_threads(1)
    print_machine_header(
        "skaae: the MLP peer, trained several ways", machine_info("cpu"), 1
    )
    split, _ = train_test_data(args.dataset, args.data, args.n_train)
    X_train, y_train, X_test, y_test = split
    errors = defaultdict(list)
    for n_labels in args.labels:
        for seed in args.seeds:
            labelled = labelled_subset(y_train, n_labels, seed)
            for name, params in VARIANTS.items():
                model = MLPClassifier(max_iter=200, random_state=seed, **params)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    start = time.perf_counter()
                    model.fit(X_train[labelled], y_train[labelled])
                error = 100 * float(np.mean(model.predict(X_test) != y_test))
                errors[(n_labels, name)].append(error)
                print(
                    json.dumps(
                        {
                            "labels": n_labels,
                            "variant": name,
                            "seed": seed,
                            "error": round(error, 2),
                            "n_iter": model.n_iter_,
                            "fit_s": round(time.perf_counter() - start, 1),
                        }
                    ),
                    flush=True,
                )
    print()
    print("| labels | variant | test error (%), mean of seeds |")
    print("|---:|---|---:|")
    for (n_labels, name), values in errors.items():
        print(f"| {n_labels} | {name} | {np.mean(values):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
