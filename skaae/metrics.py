"""Metrics for adversarial autoencoders."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    column_or_1d,
)

__all__ = [
    "clustering_accuracy",
    "clustering_error",
    "energy_distance",
    "parzen_log_likelihood",
    "select_parzen_bandwidth",
]


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
    # Copied into torch once (small next to the quadratic work; read-only
    # inputs work).
    X_t = torch.tensor(X, dtype=torch.float64)
    Y_t = X_t if Y is X else torch.tensor(Y, dtype=torch.float64)
    return float(
        2 * _mean_distance(X_t, Y_t)
        - _mean_distance(X_t, X_t)
        - _mean_distance(Y_t, Y_t)
    )


# Rows of the first sample per block of the distance matrix (bounded memory).
_DISTANCE_BLOCK_ROWS = 1024


def _mean_distance(A: torch.Tensor, B: torch.Tensor) -> float:
    """Mean Euclidean distance over all pairs of rows of ``A`` and ``B``.

    From the Gram matrix (``|a|^2 + |b|^2 - 2 a.b``, one matrix product) rather
    than pair by pair, in float64, where the rounding is far below what the
    diagnostic resolves. In torch, whose element-wise passes use every
    thread: a third of numpy's time on a fit's 2,000 codes (2 cores).
    """
    same = A is B
    B_sq = B.square().sum(1)
    total = 0.0
    for start in range(0, A.shape[0], _DISTANCE_BLOCK_ROWS):
        block = A[start : start + _DISTANCE_BLOCK_ROWS]
        d2 = torch.addmm(B_sq[None], block, B.T, alpha=-2.0)
        d2 += block.square().sum(1)[:, None]
        if same:
            # Exact zeros on the diagonal, where rounding would leave dust.
            rows = torch.arange(block.shape[0])
            d2[rows, start + rows] = 0.0
        total += float(d2.clamp_(min=0.0).sqrt_().sum())
    return total / (A.shape[0] * B.shape[0])


_CLUSTERING_METHODS = ("hungarian", "majority", "confident")


def _check_labels(labels_true, labels_pred):
    """Validate two label vectors of the same, non-zero length."""
    labels_true = column_or_1d(labels_true)
    labels_pred = column_or_1d(labels_pred)
    check_consistent_length(labels_true, labels_pred)
    if labels_true.shape[0] == 0:
        raise ValueError(
            "Found array with 0 sample(s) (shape=(0,)) while a minimum of 1 is "
            "required."
        )
    return labels_true, labels_pred


def _contingency(labels_true, labels_pred) -> np.ndarray:
    """Counts of each (cluster, class) pair, clusters as rows."""
    _, class_idx = np.unique(labels_true, return_inverse=True)
    _, cluster_idx = np.unique(labels_pred, return_inverse=True)
    class_idx, cluster_idx = class_idx.ravel(), cluster_idx.ravel()
    n_classes, n_clusters = class_idx.max() + 1, cluster_idx.max() + 1
    counts = np.bincount(
        cluster_idx * n_classes + class_idx, minlength=n_clusters * n_classes
    )
    return counts.reshape(n_clusters, n_classes)


def _confident_mapping(labels_true, labels_pred, proba) -> np.ndarray:
    """Labels given to each sample by the most confident point of its cluster."""
    proba = check_array(proba, dtype=np.float64)
    n_samples = labels_true.shape[0]
    if proba.shape[0] != n_samples:
        raise ValueError(
            f"proba must have shape (n_samples, n_clusters) with n_samples="
            f"{n_samples}, got shape {proba.shape}."
        )
    n_clusters = proba.shape[1]
    if labels_pred.dtype.kind == "f" and np.all(labels_pred == np.round(labels_pred)):
        labels_pred = labels_pred.astype(np.intp)
    if (
        labels_pred.dtype.kind not in "iu"
        or labels_pred.min() < 0
        or labels_pred.max() >= n_clusters
    ):
        raise ValueError(
            "With method='confident', labels_pred must hold integer cluster "
            f"indices in [0, {n_clusters}) matching the columns of proba, got "
            f"values {np.unique(labels_pred)[:10]!r}."
        )
    # Cluster i is named after the training point with the largest q(y_i | x).
    cluster_labels = labels_true[np.argmax(proba, axis=0)]
    return cluster_labels[labels_pred]


def clustering_accuracy(
    labels_true, labels_pred, *, method: str = "hungarian", proba=None
) -> float:
    """Accuracy of a clustering once each cluster is given a class label.

    Clusters carry arbitrary names, so a clustering is scored by first mapping
    each cluster to a class and then counting the samples whose mapped
    cluster matches their true class.

    Parameters
    ----------
    labels_true : array-like of shape (n_samples,)
        True class labels, of any type (integers, strings, ...).
    labels_pred : array-like of shape (n_samples,)
        Cluster assignments. With ``method="confident"`` they must be integer
        cluster indices in ``[0, n_clusters)``, index ``i`` matching column
        ``i`` of ``proba``, as returned by ``proba.argmax(axis=1)``.
    method : {"hungarian", "majority", "confident"}, default="hungarian"
        How clusters are mapped to classes:

        - ``"hungarian"``: one-to-one matching that maximises the number of
          agreements (Hungarian algorithm on the contingency table). When
          there are more clusters than classes, the samples of unmatched
          clusters count as errors.
        - ``"majority"``: each cluster takes the most frequent true label of
          its members (many-to-one). Never lower than ``"hungarian"``; it
          tends to 1 as the number of clusters grows.
        - ``"confident"``: the protocol of Makhzani et al. (2015, Table 3).
          Cluster ``i`` takes the true label of the sample with the largest
          ``proba[:, i]``, and all members of the cluster get that label.
          Clusters without members contribute nothing.
    proba : array-like of shape (n_samples, n_clusters), default=None
        Cluster membership probabilities ``q(y | x)``. Required with
        ``method="confident"``; ignored by the other methods. Only the
        sample with the largest value of each column matters, so any score
        increasing with ``q(y_i | x)`` gives the same result. Probabilities
        that saturate at exactly 1.0 tie, and a tie goes to the first such
        sample; a score that keeps them apart, such as the log-odds
        ``log q - log(1 - q)`` computed from logits, breaks the tie.

    Returns
    -------
    accuracy : float
        Fraction of samples, between 0 and 1, whose cluster maps to their
        true class.

    See Also
    --------
    clustering_error : One minus this accuracy.

    Examples
    --------
    >>> from skaae.metrics import clustering_accuracy
    >>> clustering_accuracy(["a", "a", "b", "b"], [1, 1, 0, 0])
    1.0
    >>> clustering_accuracy([0, 0, 0, 1], [0, 0, 1, 1])
    0.75
    >>> clustering_accuracy([0, 0, 0, 1], [0, 0, 1, 2], method="majority")
    1.0
    """
    if method not in _CLUSTERING_METHODS:
        raise ValueError(
            "The 'method' parameter of clustering_accuracy must be a str among "
            f"{{'hungarian', 'majority', 'confident'}}. Got {method!r} instead."
        )
    labels_true, labels_pred = _check_labels(labels_true, labels_pred)
    n_samples = labels_true.shape[0]
    if method == "confident":
        if proba is None:
            raise ValueError("method='confident' requires proba, got None.")
        mapped = _confident_mapping(labels_true, labels_pred, proba)
        return float(np.mean(mapped == labels_true))
    counts = _contingency(labels_true, labels_pred)
    if method == "majority":
        return float(counts.max(axis=1).sum() / n_samples)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return float(counts[rows, cols].sum() / n_samples)


def clustering_error(
    labels_true, labels_pred, *, method: str = "hungarian", proba=None
) -> float:
    """Error rate of a clustering once each cluster is given a class label.

    ``1 - clustering_accuracy(...)``. Makhzani et al. (2015, Table 3) report
    the unsupervised clustering error of adversarial autoencoders with the
    ``"confident"`` protocol: pass ``method="confident"`` and the cluster
    probabilities to compare with the paper.

    Parameters
    ----------
    labels_true : array-like of shape (n_samples,)
        True class labels, of any type (integers, strings, ...).
    labels_pred : array-like of shape (n_samples,)
        Cluster assignments; integer indices into the columns of ``proba``
        with ``method="confident"``.
    method : {"hungarian", "majority", "confident"}, default="hungarian"
        How clusters are mapped to classes; see :func:`clustering_accuracy`.
    proba : array-like of shape (n_samples, n_clusters), default=None
        Cluster membership probabilities. Required with
        ``method="confident"``; ignored by the other methods.

    Returns
    -------
    error : float
        Fraction of samples, between 0 and 1, whose cluster does not map to
        their true class.

    See Also
    --------
    clustering_accuracy : One minus this error.

    Examples
    --------
    >>> import numpy as np
    >>> from skaae.metrics import clustering_error
    >>> proba = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.4, 0.6]])
    >>> clustering_error([0, 0, 1, 0], proba.argmax(axis=1), proba=proba,
    ...                  method="confident")
    0.25
    """
    return 1.0 - clustering_accuracy(
        labels_true, labels_pred, method=method, proba=proba
    )


def _default_bandwidths() -> np.ndarray:
    return np.logspace(-1, 0, 10)


def _check_parzen_inputs(samples, X, name: str):
    samples = check_array(samples, dtype=np.float64)
    X = check_array(X, dtype=np.float64)
    if X.shape[1] != samples.shape[1]:
        raise ValueError(
            f"{name} has {X.shape[1]} features, but samples has "
            f"{samples.shape[1]} features."
        )
    return samples, X


def _check_bandwidths(bandwidths) -> np.ndarray:
    if bandwidths is None:
        return _default_bandwidths()
    bandwidths = np.asarray(bandwidths, dtype=np.float64).ravel()
    if bandwidths.size == 0 or not np.all(np.isfinite(bandwidths) & (bandwidths > 0)):
        raise ValueError(
            f"bandwidths must be a non-empty sequence of positive floats, got "
            f"{bandwidths!r}."
        )
    return bandwidths


def _check_batch_size(batch_size) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}.")
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}.")
    return int(batch_size)


def _parzen_log_densities(samples, X, bandwidths, batch_size) -> np.ndarray:
    """Parzen log-densities of the rows of ``X``, one column per bandwidth.

    Squared distances are computed ``batch_size`` rows of ``X`` at a time as
    ``|x|^2 + |s|^2 - 2 x.s`` after centring both sets on the mean of the
    samples (which limits cancellation), and are shared by all bandwidths.
    """
    n_samples, n_features = samples.shape
    center = samples.mean(axis=0)
    samples = samples - center
    samples_sq = np.einsum("ij,ij->i", samples, samples)
    inv_two_var = 1.0 / (2.0 * bandwidths**2)
    # log of the kernel normalisation and of the 1 / n_samples average
    log_norm = np.log(n_samples) + 0.5 * n_features * np.log(
        2.0 * np.pi * bandwidths**2
    )
    out = np.empty((X.shape[0], bandwidths.shape[0]))
    for start in range(0, X.shape[0], batch_size):
        chunk = X[start : start + batch_size] - center
        sq_dist = np.einsum("ij,ij->i", chunk, chunk)[:, None] + samples_sq
        sq_dist -= 2.0 * (chunk @ samples.T)
        np.maximum(sq_dist, 0.0, out=sq_dist)
        # logsumexp over the samples: the nearest sample gives the largest term
        nearest = sq_dist.min(axis=1)
        sq_dist -= nearest[:, None]
        for k, scale in enumerate(inv_two_var):
            lse = np.log(np.exp(-scale * sq_dist).sum(axis=1)) - scale * nearest
            out[start : start + batch_size, k] = lse - log_norm[k]
    return out


def select_parzen_bandwidth(
    samples, X_validation, *, bandwidths=None, batch_size: int = 500
) -> float:
    """Width of the Gaussian Parzen window that best fits a validation set.

    Fits an isotropic Gaussian kernel density estimate to ``samples`` for
    each width in ``bandwidths`` and returns the width that gives the highest
    mean log-likelihood of ``X_validation``, as in the evaluation protocol of
    Goodfellow et al. (2014) and Makhzani et al. (2015).

    Parameters
    ----------
    samples : array-like of shape (n_samples, n_features)
        Points the density is estimated from, e.g. samples from a generator.
    X_validation : array-like of shape (n_validation, n_features)
        Held-out data the width is chosen on.
    bandwidths : array-like of shape (n_bandwidths,), default=None
        Candidate widths, in the units of the data. ``None`` means
        ``np.logspace(-1, 0, 10)``, ten widths from 0.1 to 1, suited to data
        scaled to [0, 1] such as images; rescale it for other data.
    batch_size : int, default=500
        Number of validation points processed at once; memory grows as
        ``batch_size * n_samples``.

    Returns
    -------
    bandwidth : float
        The best width from ``bandwidths``. A warning is issued when it lies
        at either end of the grid, as a better width may lie beyond it.

    See Also
    --------
    parzen_log_likelihood : Log-likelihood of test data under the window.

    Examples
    --------
    >>> import numpy as np
    >>> from skaae.metrics import select_parzen_bandwidth
    >>> rng = np.random.RandomState(0)
    >>> samples, X_val = rng.normal(size=(1000, 2)), rng.normal(size=(200, 2))
    >>> select_parzen_bandwidth(samples, X_val, bandwidths=[0.05, 0.3, 2.0])
    0.3
    """
    samples, X_validation = _check_parzen_inputs(samples, X_validation, "X_validation")
    bandwidths = _check_bandwidths(bandwidths)
    batch_size = _check_batch_size(batch_size)
    scores = _parzen_log_densities(samples, X_validation, bandwidths, batch_size).mean(
        axis=0
    )
    best = int(np.argmax(scores))
    if bandwidths.size > 1 and bandwidths[best] in (
        bandwidths.min(),
        bandwidths.max(),
    ):
        warnings.warn(
            f"The selected Parzen bandwidth {bandwidths[best]:g} is at the edge "
            f"of the grid [{bandwidths.min():g}, {bandwidths.max():g}]; consider "
            "extending bandwidths.",
            UserWarning,
            stacklevel=2,
        )
    return float(bandwidths[best])


def parzen_log_likelihood(
    samples,
    X_test,
    *,
    bandwidth: float | None = None,
    X_validation=None,
    bandwidths=None,
    batch_size: int = 500,
    return_std: bool = False,
) -> float | tuple[float, float]:
    """Mean log-likelihood of test data under a Gaussian Parzen window.

    The evaluation of Makhzani et al. (2015, Table 1), after Goodfellow et
    al. (2014): an isotropic Gaussian kernel density estimate of width
    ``sigma`` is fitted to generated ``samples`` (10,000 in the paper) and
    each test point gets the log-density, in nats,

    ``log p(x) = logsumexp_j(-|x - s_j|^2 / (2 sigma^2)) - log(n_samples)
    - (n_features / 2) log(2 pi sigma^2)``.

    The width is chosen on a validation set (see
    :func:`select_parzen_bandwidth`) unless ``bandwidth`` is given. The
    estimate is biased and high-variance in high dimensions; use it only to
    compare models evaluated the same way.

    Parameters
    ----------
    samples : array-like of shape (n_samples, n_features)
        Points the density is estimated from, e.g. samples from a generator.
    X_test : array-like of shape (n_test, n_features)
        Data whose log-likelihood is reported.
    bandwidth : float, default=None
        Width ``sigma`` of the kernel. If None, it is selected on
        ``X_validation`` among ``bandwidths``.
    X_validation : array-like of shape (n_validation, n_features), default=None
        Held-out data to select the width on; required when ``bandwidth`` is
        None, ignored otherwise.
    bandwidths : array-like of shape (n_bandwidths,), default=None
        Candidate widths. ``None`` means ``np.logspace(-1, 0, 10)``, ten
        widths from 0.1 to 1, suited to data scaled to [0, 1].
    batch_size : int, default=500
        Number of test points processed at once; memory grows as
        ``batch_size * n_samples``, never with ``n_features``.
    return_std : bool, default=False
        Whether to also return the standard error of the mean, as reported
        (``mean ± std``) in the paper.

    Returns
    -------
    log_likelihood : float
        Mean log-likelihood of the rows of ``X_test``, in nats.
    std_error : float
        Standard error of that mean across test points (NaN for a single
        test point). Only returned if ``return_std`` is True.

    See Also
    --------
    select_parzen_bandwidth : The width selection on its own.

    Examples
    --------
    >>> import numpy as np
    >>> from skaae.metrics import parzen_log_likelihood
    >>> rng = np.random.RandomState(0)
    >>> samples = rng.normal(size=(2000, 2))
    >>> X_test = rng.normal(size=(500, 2))
    >>> ll, se = parzen_log_likelihood(samples, X_test, bandwidth=0.3,
    ...                                return_std=True)
    >>> bool(abs(ll - (-np.log(2 * np.pi * np.e))) < 0.2), bool(se < 0.1)
    (True, True)
    """
    samples, X_test = _check_parzen_inputs(samples, X_test, "X_test")
    batch_size = _check_batch_size(batch_size)
    if bandwidth is None:
        if X_validation is None:
            raise ValueError(
                "Either bandwidth or X_validation must be given, to select the "
                "bandwidth on; got neither."
            )
        bandwidth = select_parzen_bandwidth(
            samples, X_validation, bandwidths=bandwidths, batch_size=batch_size
        )
    elif not (
        isinstance(bandwidth, numbers.Real) and np.isfinite(bandwidth) and bandwidth > 0
    ):
        raise ValueError(f"bandwidth must be a positive float, got {bandwidth!r}.")
    log_density = _parzen_log_densities(
        samples, X_test, np.array([float(bandwidth)]), batch_size
    )[:, 0]
    mean = float(log_density.mean())
    if not return_std:
        return mean
    n_test = log_density.shape[0]
    if n_test < 2:
        return mean, float("nan")
    return mean, float(log_density.std(ddof=1) / np.sqrt(n_test))
