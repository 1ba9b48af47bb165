"""Results of the benchmark scripts: summaries, formatting, warnings, JSON.

- ``mean_std``: mean and sample standard deviation over seeds.
- ``pm``: ``mean ± std`` text for a table cell.
- ``convergence_messages``: the distinct ConvergenceWarning messages caught.
- ``print_convergence_warnings``: list them once at the end of a run.
- ``print_lines``: print the lines of a table, kept for the JSON.
- ``aae_fit_facts``: the last epoch and prior match of a fitted AAE.
- ``write_json``: write a run's results, if asked to.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning


def mean_std(values: Iterable[float]) -> tuple[float, float]:
    """Mean and standard deviation (``ddof=1``; 0.0 for a single value)."""
    values = np.asarray(list(values), dtype=float)
    std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    return float(values.mean()), std


def pm(
    mean: float | None, std: float | None = None, n: int = 1, digits: int = 3
) -> str:
    """``mean ± std`` with ``digits`` decimals; ``mean`` alone for one run.

    ``n`` is the number of runs: the ``± std`` part is left out when it is 1
    or ``std`` is None; a ``mean`` of None gives ``n/a``.
    """
    if mean is None:
        return "n/a"
    text = f"{mean:.{digits}f}"
    if n > 1 and std is not None:
        text += f" ± {std:.{digits}f}"
    return text


def convergence_messages(caught: Iterable[warnings.WarningMessage]) -> list[str]:
    """The distinct messages of the ConvergenceWarnings in ``caught``, sorted."""
    return sorted(
        {str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)}
    )


def print_convergence_warnings(
    runs: Mapping[object, Mapping[str, Sequence[Mapping]]], labels: Mapping[str, str]
) -> None:
    """Print the distinct ConvergenceWarning messages of all runs, if any.

    Parameters
    ----------
    runs : mapping
        ``runs[setting][method]``: the runs of a method, each with a
        ``convergence_warnings`` list.
    labels : mapping of str to str
        Printed name by method.
    """
    messages = sorted(
        {
            f"{labels[name]}: {message}"
            for by_method in runs.values()
            for name, method_runs in by_method.items()
            for run in method_runs
            for message in run["convergence_warnings"]
        }
    )
    if messages:
        print()
        print("ConvergenceWarnings (distinct messages):")
        for message in messages:
            print(f"  {message}")


def print_lines(lines: list[str]) -> list[str]:
    """Print ``lines``, one a line, and return them."""
    for line in lines:
        print(line)
    return lines


def aae_fit_facts(model) -> dict:
    """``n_iter``, ``last_epoch`` (losses), ``prior_distance`` and its reference."""
    return {
        "n_iter": int(model.n_iter_),
        "last_epoch": {k: float(v[-1]) for k, v in model.history_.items()},
        "prior_distance": float(model.prior_distance_),
        "prior_distance_reference": float(model.prior_distance_reference_),
    }


def write_json(path: Path | None, **payload: object) -> None:
    """Write ``payload`` to ``path`` as indented JSON and say so; None: nothing.

    The keys come in the order given; ``path``'s folder is made if need be.
    """
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str))
    print(f"wrote {path}")


def timed(fn, *args):
    """``fn(*args)``, its wall time and the warnings it gave (first 120 chars)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        out = fn(*args)
        seconds = time.perf_counter() - start
    return out, seconds, [str(w.message)[:120] for w in caught]
