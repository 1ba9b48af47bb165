"""How closely do unlabelled codes follow a non-Gaussian prior?

An exploration for issue 14, not a benchmark with peers. ``AAETransformer``
is fitted on ``load_digits`` (scaled to [0, 1], 2-D codes, no labels) with
the uniform, the ten-mode Gaussian mixture and the swiss roll prior, under
two settings:

- ``paper``: constant rates, the critic at 0.2 times the reconstruction rate
  and no instance noise (the "auto" settings before 2026-12-01);
- ``auto``: the estimator's "auto" settings for a non-Gaussian prior without
  labels or map term (cosine decay, critic at 0.5 times, instance noise 0.1).

Each fit is scored as ``tests/test_transformer_quality.py`` scores it: the
energy distance between the training codes and a prior sample of the same
size, against the bar of a Gaussian with the prior's mean and covariance
(codes below it follow the prior's shape, not only its moments), and
``prior_distance_`` over ``prior_distance_reference_`` (the estimator warns
above 25).

    python benchmarks/explore_prior_shape.py
    python benchmarks/explore_prior_shape.py --priors swiss_roll --max-iter 200
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import (  # noqa: E402
    limit_threads,
    machine_info,
    print_load_average_end,
    print_machine_header,
)
from sklearn.datasets import load_digits  # noqa: E402

from skaae import AAETransformer  # noqa: E402
from skaae.metrics import energy_distance  # noqa: E402

SETTINGS = {
    "paper": {
        "learning_rate_schedule": "constant",
        "regularization_learning_rate": 2e-4,
        "discriminator_noise": 0.0,
    },
    "auto": {},
}


def gaussian_bar(draws: np.ndarray, reference: np.ndarray) -> float:
    """Energy distance to ``reference`` of a Gaussian with the draws' moments."""
    rng = np.random.RandomState(2)
    gaussian = rng.multivariate_normal(
        draws.mean(axis=0), np.cov(draws.T), size=len(draws)
    )
    return float(energy_distance(gaussian, reference))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--priors",
        nargs="+",
        default=["uniform", "gaussian_mixture", "swiss_roll"],
    )
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--max-iter", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    limit_threads(args.threads)
    machine = machine_info("cpu")
    print_machine_header(
        "skaae: codes against non-Gaussian priors (AAETransformer, no labels)",
        machine,
        args.threads,
    )
    X = load_digits().data / 16.0
    print(f"data: load_digits, {X.shape[0]} x {X.shape[1]}, scaled to [0, 1]")
    print(f"epochs: {args.max_iter}; seeds: {args.seeds}")
    print()
    print(
        "| prior | settings | seed | energy distance | Gaussian bar | below bar "
        "| prior_distance_ / reference | fit (s) |"
    )
    print("|---|---|---:|---:|---:|---|---:|---:|")
    for prior in args.priors:
        for name in args.settings:
            for seed in args.seeds:
                model = AAETransformer(
                    prior=prior,
                    max_iter=args.max_iter,
                    random_state=seed,
                    device="cpu",
                    **SETTINGS[name],
                )
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model.fit(X)
                fit_time = time.perf_counter() - start
                Z = model.transform(X)
                draws = model.prior_.sample(len(Z), random_state=1)
                reference = model.prior_.sample(len(Z), random_state=3)
                distance = float(energy_distance(Z, reference))
                bar = gaussian_bar(draws, reference)
                ratio = model.prior_distance_ / model.prior_distance_reference_
                print(
                    f"| {prior} | {name} | {seed} | {distance:.4f} | {bar:.4f} "
                    f"| {'yes' if distance < bar else 'no'} | {ratio:.1f} "
                    f"| {fit_time:.1f} |",
                    flush=True,
                )
    print()
    print_load_average_end(machine)
    return 0


if __name__ == "__main__":
    sys.exit(main())
