"""Peers on a fitted AAEClassifier's codes: does its representation beat its head?

An exploration for issue 14: fits ``AAEClassifier`` with bench_classifier.py's
cpu30 settings (Fashion-MNIST, 10,000 training images, ``n_components=10``,
``hidden_layer_sizes=(1000, 1000)``, 10 epochs, batch 100) on a balanced set of
labels drawn by the seed, prints its test error, then fits LabelSpreading
(k = 7 and 15), a logistic regression on the labelled rows and
self-training on the codes instead of the pixels: the style code ``z``
(``transform``), the class probabilities ``y`` (``predict_proba``), and both,
standardised on the training rows.

    python benchmarks/explore_classifier_codes.py --seed 0 --labels 100
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from _data import labelled_subset, train_test_data
from _machine import limit_threads
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.semi_supervised import LabelSpreading, SelfTrainingClassifier

from skaae import AAEClassifier


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--labels", default="100")
    parser.add_argument("--data", default=None, help="Fashion-MNIST folder or .npz")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    limit_threads(args.threads)
    warnings.simplefilter("ignore")
    (X_train, y_train, X_test, y_test), _ = train_test_data(
        "fashion-mnist", args.data, 10_000
    )
    labelled = labelled_subset(y_train, args.labels, args.seed)
    y = np.full(len(y_train), -1, dtype=y_train.dtype)
    y[labelled] = y_train[labelled]
    model = AAEClassifier(
        n_components=10,
        hidden_layer_sizes=(1000, 1000),
        max_iter=10,
        batch_size=100,
        random_state=args.seed,
    ).fit(X_train, y)
    print(f"AAE error {100 * np.mean(model.predict(X_test) != y_test):.2f}", flush=True)

    def codes(X):
        return np.hstack([model.transform(X), model.predict_proba(X)])

    train_codes, test_codes = codes(X_train), codes(X_test)
    k = model.n_components
    views = {
        "z+y": slice(None),
        "z": slice(0, k),
        "y": slice(k, None),
    }
    for name, columns in views.items():
        scaler = StandardScaler().fit(train_codes[:, columns])
        A = scaler.transform(train_codes[:, columns])
        B = scaler.transform(test_codes[:, columns])
        for n_neighbors in (7, 15):
            spreading = LabelSpreading(kernel="knn", n_neighbors=n_neighbors).fit(A, y)
            with np.errstate(all="ignore"):
                error = 100 * np.mean(spreading.predict(B) != y_test)
            print(
                f"{name}: LabelSpreading k={n_neighbors} error {error:.2f}", flush=True
            )
        logistic = LogisticRegression(max_iter=1000).fit(A[labelled], y_train[labelled])
        error = 100 * np.mean(logistic.predict(B) != y_test)
        print(f"{name}: LR on labelled {error:.2f}", flush=True)
        self_training = SelfTrainingClassifier(LogisticRegression(max_iter=1000))
        error = 100 * np.mean(self_training.fit(A, y).predict(B) != y_test)
        print(f"{name}: SelfTraining {error:.2f}", flush=True)


if __name__ == "__main__":
    main()
