"""5-NN accuracy of new points along one fit, every few epochs.

Fits ``AAETransformer`` with ``warm_start=True`` in chunks of ``--chunk``
epochs (with constant learning rates, the default, a chunked fit follows one
long fit) and, after each chunk, scores the 2-D codes of the held-out rows
with a 5-nearest-neighbour classifier trained on the training rows' codes.
The split is ``explore_map_settings.py``'s.

Example (UCI letter, defaults, seed 0)::

    python benchmarks/explore_epoch_curve.py letter --seed 0
    python benchmarks/explore_epoch_curve.py letter '{"batch_size": 200}' --seed 1
"""

from __future__ import annotations

import argparse
import time
import warnings

from _machine import limit_threads
from explore_map_settings import TABULAR_DATASETS, map_scores, parse_params, split

from skaae import AAETransformer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=("digits", *TABULAR_DATASETS))
    parser.add_argument("params", nargs="?", default="{}")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--chunk", type=int, default=25, help="epochs per chunk")
    parser.add_argument("--chunks", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    limit_threads(args.threads)
    params = parse_params(args.params)
    X_train, y_train, X_test, y_test = split(args.dataset)
    aae = AAETransformer(
        random_state=args.seed, warm_start=True, max_iter=args.chunk, **params
    )
    seconds = 0.0
    for chunk in range(1, args.chunks + 1):
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            aae.fit(X_train)
        seconds += time.perf_counter() - start
        accuracy, ratio = map_scores(aae, X_train, y_train, X_test, y_test)
        print(
            f"{args.dataset} {args.params} seed {args.seed} epochs "
            f"{chunk * args.chunk}: 5NN {accuracy:.3f} ratio {ratio:.1f} fit "
            f"{seconds:.0f}s warn {len(caught)}",
            flush=True,
        )


if __name__ == "__main__":
    main()
