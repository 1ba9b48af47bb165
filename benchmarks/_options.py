"""Command-line options shared by the benchmark scripts.

- ``add_dataset_arguments``: ``--dataset`` and ``--data``.
- ``add_budget_argument``, ``add_schedule_arguments``, ``apply_budget``: the
  named budgets and the AAE schedule of the scripts that reproduce a table of
  the paper with several seeds (classification, clustering).
- ``aae_schedule_params``: the AAE settings those options give.
- ``add_run_arguments``: ``--methods``, ``--device``, ``--threads``, ``--json``.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path

DATASETS = ("digits", "fashion-mnist", "mnist")
DATA_HELP = "folder of IDX files or .npz (x_train, y_train, x_test, y_test)"
THREADS_HELP = {
    "limit": "torch and BLAS/OpenMP threads (more than the free cores slows "
    "torch down many times on a shared machine)",
    "default": "limit torch and the BLAS/OpenMP pools to this many threads "
    "(default: the libraries' own defaults)",
}


def add_dataset_arguments(
    parser: argparse.ArgumentParser,
    *,
    choices: Sequence[str] = DATASETS,
    default: str = "fashion-mnist",
    data_help: str = DATA_HELP + " for mnist / fashion-mnist",
) -> None:
    """Add ``--dataset`` (one of ``choices``) and ``--data`` (a path)."""
    parser.add_argument("--dataset", choices=tuple(choices), default=default)
    parser.add_argument("--data", default=None, help=data_help)


def add_budget_argument(
    parser: argparse.ArgumentParser, budgets: Mapping[str, dict], paper: str
) -> None:
    """Add ``--budget``: ``cpu30`` or ``paper`` (described as ``paper``)."""
    parser.add_argument(
        "--budget",
        choices=tuple(budgets),
        default=None,
        help="named defaults: cpu30 (about 30 min on a 2-core CPU) or paper "
        f"({paper}, for a GPU)",
    )


def add_schedule_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--seeds``, ``--n-train``, ``--max-iter``, ``--hidden-layer-sizes``.

    All default to None, to be filled by ``apply_budget``.
    """
    parser.add_argument("--seeds", type=int, nargs="+", default=None, metavar="SEED")
    parser.add_argument(
        "--n-train",
        type=int,
        default=None,
        help="random subset of the training set (default: all of it)",
    )
    parser.add_argument("--max-iter", type=int, default=None, help="AAE epochs")
    parser.add_argument(
        "--hidden-layer-sizes",
        type=int,
        nargs="+",
        metavar="N",
        default=None,
        help="AAE hidden layers (default (1000, 1000); digits (256, 256))",
    )


def apply_budget(
    args: argparse.Namespace,
    budgets: Mapping[str, Mapping[str, object]],
    defaults: Mapping[str, object],
) -> None:
    """Fill the options left at None from ``--budget``'s preset or ``defaults``."""
    preset = budgets[args.budget] if args.budget else defaults
    for key, value in preset.items():
        if getattr(args, key) is None:
            setattr(args, key, value)


def aae_schedule_params(
    args: argparse.Namespace, dataset: str, n_components: int, max_iter_large: int
) -> dict:
    """The AAE settings of ``add_schedule_arguments`` and ``--device``.

    digits: ``hidden_layer_sizes=(256, 256)`` and 100 epochs; the 784-pixel
    data sets: ``(1000, 1000)`` and ``max_iter_large`` epochs; ``--max-iter``
    and ``--hidden-layer-sizes`` override them. ``batch_size=100``.
    """
    small = dataset == "digits"
    params = {
        "n_components": n_components,
        "hidden_layer_sizes": (256, 256) if small else (1000, 1000),
        "max_iter": 100 if small else max_iter_large,
        "batch_size": 100,
        "device": args.device,
    }
    if args.max_iter is not None:
        params["max_iter"] = args.max_iter
    if args.hidden_layer_sizes is not None:
        params["hidden_layer_sizes"] = tuple(args.hidden_layer_sizes)
    return params


def add_run_arguments(
    parser: argparse.ArgumentParser,
    methods: Sequence[str],
    estimator: str,
    *,
    threads: int | None = 1,
    methods_help: str | None = None,
) -> None:
    """Add ``--methods``, ``--device``, ``--threads`` and ``--json``.

    Parameters
    ----------
    parser : ArgumentParser
    methods : sequence of str
        The choices of ``--methods``, all of them by default.
    estimator : str
        The skaae estimator that ``--device`` is for.
    threads : int or None
        The default of ``--threads``; None leaves the libraries' own defaults.
    methods_help : str, optional
        The help of ``--methods``.
    """
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=methods,
        default=list(methods),
        help=methods_help,
    )
    parser.add_argument("--device", default="auto", help=f"{estimator} device")
    parser.add_argument(
        "--threads",
        type=int,
        default=threads,
        help=THREADS_HELP["default" if threads is None else "limit"],
    )
    parser.add_argument("--json", type=Path, default=None, help="write results here")
