"""Metrics for adversarial autoencoders."""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cdist
from sklearn.utils.validation import check_array

__all__ = ["energy_distance"]


def energy_distance(X, Y) -> float:
    """Energy distance between two samples of points.

    The statistic ``2 E|x - y| - E|x - x'| - E|y - y'|`` (Székely and Rizzo),
    with Euclidean norms and expectations over all pairs of the two samples
    (a V-statistic). It is zero for identical samples, non-negative, and tends
    to zero as both samples grow only when the two distributions are equal.
    Use it to judge how closely codes match a prior: compare it with the same
    statistic between two independent prior samples of the same sizes
    (``prior_distance_reference_`` of a fitted estimator).

    Parameters
    ----------
    X : array-like of shape (n_samples_X, n_features)
        First sample.
    Y : array-like of shape (n_samples_Y, n_features)
        Second sample.

    Returns
    -------
    distance : float
        The energy distance, in the units of the data.

    Examples
    --------
    >>> import numpy as np
    >>> from skaae.metrics import energy_distance
    >>> rng = np.random.RandomState(0)
    >>> a, b = rng.normal(size=(500, 2)), rng.normal(size=(500, 2))
    >>> energy_distance(a, b) < energy_distance(a, b + 1.0)
    True
    """
    X = check_array(X, dtype=np.float64)
    Y = check_array(Y, dtype=np.float64)
    if X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"X and Y must have the same number of features, got {X.shape[1]} "
            f"and {Y.shape[1]}."
        )
    return float(2 * cdist(X, Y).mean() - cdist(X, X).mean() - cdist(Y, Y).mean())
