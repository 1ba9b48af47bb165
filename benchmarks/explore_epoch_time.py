"""Seconds per epoch of ``AAETransformer`` under several settings, alternated.

Each setting is fitted for ``--epochs`` epochs per repeat, in alternating
order; an epoch's time is read from ``on_epoch_end`` (the first epoch, which
pays warm-up, is left out). Prints the median over repeats for each setting.
The split is ``explore_map_settings.py``'s.

Example (UCI letter, the default critic against a two-layer one)::

    python benchmarks/explore_epoch_time.py letter '{}' \
        '{"discriminator_hidden_layer_sizes": [256, 256]}'
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

from _machine import limit_threads
from explore_map_settings import TABULAR_DATASETS, parse_params, split

from skaae import AAETransformer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=("digits", *TABULAR_DATASETS))
    parser.add_argument("settings", nargs="+", help="JSON estimator parameters")
    parser.add_argument("--epochs", type=int, default=3, help="at least 2")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    limit_threads(args.threads)
    X_train = split(args.dataset)[0]
    seconds = {text: [] for text in args.settings}
    for repeat in range(args.repeats):
        order = args.settings if repeat % 2 == 0 else args.settings[::-1]
        for text in order:
            ends = []
            params = {"random_state": 0, **parse_params(text)}
            with warnings.catch_warnings():
                # A few epochs never match the prior; only the time matters.
                warnings.simplefilter("ignore")
                AAETransformer(
                    max_iter=args.epochs,
                    on_epoch_end=lambda info, ends=ends: ends.append(
                        time.perf_counter()
                    ),
                    **params,
                ).fit(X_train)
            seconds[text].append((ends[-1] - ends[0]) / (len(ends) - 1))
    for text, values in seconds.items():
        runs = ", ".join(f"{v:.2f}" for v in values)
        print(
            f"{args.dataset} {text}: {statistics.median(values):.2f} s an epoch "
            f"(repeats {runs})"
        )


if __name__ == "__main__":
    main()
