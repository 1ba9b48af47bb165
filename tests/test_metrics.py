"""Clustering accuracy and Parzen-window log-likelihood metrics."""

import itertools
import warnings

import numpy as np
import pytest
from scipy.special import logsumexp

from skaae.metrics import (
    clustering_accuracy,
    clustering_error,
    parzen_log_likelihood,
    select_parzen_bandwidth,
)

# ---------------------------------------------------------------------------
# Clustering accuracy
# ---------------------------------------------------------------------------


def test_relabelled_clustering_is_perfect_for_every_method():
    rng = np.random.RandomState(0)
    y = rng.randint(0, 5, size=200)
    permutation = np.array([3, 0, 4, 1, 2])
    pred = permutation[y]
    proba = np.eye(5)[pred] * 0.8 + 0.04
    for method in ("hungarian", "majority"):
        assert clustering_accuracy(y, pred, method=method) == 1.0
        assert clustering_error(y, pred, method=method) == 0.0
    assert clustering_accuracy(y, pred, method="confident", proba=proba) == 1.0


def test_string_labels_and_string_clusters():
    y = np.array(["cat", "cat", "dog", "dog", "bird", "bird"])
    pred = np.array(["x", "x", "y", "z", "z", "z"])
    # Contingency (clusters x classes bird, cat, dog): x=[0,2,0], y=[0,0,1],
    # z=[2,0,1]: one-to-one matching gets 2 + 1 + 2 = 5 of 6.
    assert clustering_accuracy(y, pred) == pytest.approx(5 / 6)
    assert clustering_accuracy(list(y), list(pred), method="majority") == (
        pytest.approx(5 / 6)
    )


def test_more_clusters_than_classes_hand_computed():
    y = [0, 0, 0, 0, 1, 1, 1, 1]
    pred = [0, 0, 1, 1, 2, 2, 2, 3]
    # Clusters 0 and 1 both hold two 0s, cluster 2 three 1s, cluster 3 one 1.
    # Hungarian matches one cluster per class: 2 + 3 = 5 of 8; the other
    # clusters count as errors. Majority labels every cluster correctly.
    hungarian = clustering_accuracy(y, pred)
    majority = clustering_accuracy(y, pred, method="majority")
    assert hungarian == pytest.approx(5 / 8)
    assert majority == 1.0
    assert majority >= hungarian
    assert clustering_error(y, pred) == pytest.approx(3 / 8)


def test_more_classes_than_clusters_hand_computed():
    y = [0, 0, 1, 1, 2, 2, 2]
    pred = [5, 5, 5, 5, 7, 7, 7]
    # Cluster 5 holds 0,0,1,1 and cluster 7 holds 2,2,2: 2 + 3 = 5 of 7.
    assert clustering_accuracy(y, pred) == pytest.approx(5 / 7)
    assert clustering_accuracy(y, pred, method="majority") == pytest.approx(5 / 7)


def test_hungarian_matches_brute_force_and_majority_bounds_it():
    rng = np.random.RandomState(1)
    for _ in range(20):
        y = rng.randint(0, 4, size=30)
        pred = rng.randint(0, 4, size=30)
        y[:4], pred[:4] = np.arange(4), np.arange(4)  # every label occurs
        best = max(
            np.mean(np.asarray(perm)[pred] == y)
            for perm in itertools.permutations(range(4))
        )
        hungarian = clustering_accuracy(y, pred)
        assert hungarian == pytest.approx(best)
        assert clustering_accuracy(y, pred, method="majority") >= hungarian


def test_confident_protocol_hand_computed():
    y = np.array([0, 0, 1, 1, 1, 2])
    pred = np.array([0, 0, 0, 1, 1, 1])
    # Column i is q(y_i | x). Cluster 0's most confident point is sample 2
    # (label 1), although most of its members are 0s: its members get label
    # 1, one of three right. Cluster 1's most confident point is sample 3
    # (label 1): two of three right. Cluster 2 has no members.
    proba = np.array(
        [
            [0.6, 0.3, 0.1],
            [0.7, 0.2, 0.1],
            [0.9, 0.05, 0.05],
            [0.1, 0.8, 0.1],
            [0.2, 0.7, 0.1],
            [0.3, 0.4, 0.3],
        ]
    )
    confident = clustering_accuracy(y, pred, method="confident", proba=proba)
    assert confident == pytest.approx(3 / 6)
    assert clustering_error(y, pred, method="confident", proba=proba) == pytest.approx(
        3 / 6
    )
    # The other protocols name cluster 0 after its majority instead.
    assert clustering_accuracy(y, pred) == pytest.approx(4 / 6)
    assert clustering_accuracy(y, pred, method="majority") == pytest.approx(4 / 6)
    # Clusters may share a label; integral floats are accepted as indices.
    proba[2, 1] = 0.99  # sample 2 (label 1) is now the most confident for both
    assert clustering_accuracy(
        y, pred.astype(float), method="confident", proba=proba
    ) == pytest.approx(3 / 6)


def test_confident_protocol_with_string_classes():
    y = np.array(["a", "b", "b", "a"])
    pred = np.array([1, 1, 0, 0])
    proba = np.array([[0.1, 0.9], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]])
    # Cluster 0 -> sample 3 ("a"), cluster 1 -> sample 0 ("a"): 2 of 4.
    assert clustering_accuracy(
        y, pred, method="confident", proba=proba
    ) == pytest.approx(0.5)


def test_clustering_input_errors():
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        clustering_accuracy([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="0 sample"):
        clustering_accuracy([], [])
    with pytest.raises(ValueError, match="'method' parameter.*'hungarian'"):
        clustering_accuracy([0, 1], [0, 1], method="greedy")
    with pytest.raises(ValueError, match="'method' parameter"):
        clustering_error([0, 1], [0, 1], method="greedy")
    with pytest.raises(ValueError, match="requires proba"):
        clustering_accuracy([0, 1], [0, 1], method="confident")
    with pytest.raises(ValueError, match=r"shape \(n_samples, n_clusters\)"):
        clustering_accuracy([0, 1], [0, 1], method="confident", proba=np.eye(3))
    with pytest.raises(ValueError, match=r"integer cluster indices in \[0, 2\)"):
        clustering_accuracy([0, 1], [0, 2], method="confident", proba=np.eye(2))
    with pytest.raises(ValueError, match="integer cluster indices"):
        clustering_accuracy([0, 1], ["a", "b"], method="confident", proba=np.eye(2))
    with pytest.raises(ValueError, match="integer cluster indices"):
        clustering_accuracy([0, 1], [0.5, 1], method="confident", proba=np.eye(2))


# ---------------------------------------------------------------------------
# Parzen-window log-likelihood
# ---------------------------------------------------------------------------


def naive_parzen(samples, X, sigma):
    """Direct evaluation of the Parzen log-density, one row per point of X."""
    sq = ((X[:, None, :] - samples[None, :, :]) ** 2).sum(axis=-1)
    d = X.shape[1]
    return (
        logsumexp(-sq / (2 * sigma**2), axis=1)
        - np.log(len(samples))
        - d / 2 * np.log(2 * np.pi * sigma**2)
    )


@pytest.fixture(scope="module")
def gaussian_2d():
    rng = np.random.RandomState(0)
    return (
        rng.normal(size=(5000, 2)),  # generated samples
        rng.normal(size=(1000, 2)),  # validation
        rng.normal(size=(1000, 2)),  # test
    )


def test_chunked_computation_matches_naive():
    rng = np.random.RandomState(2)
    samples = rng.uniform(size=(37, 6)) + 5.0  # far from the origin
    X = rng.uniform(size=(23, 6)) + 5.0
    for sigma in (0.05, 0.3, 2.0):
        expected = naive_parzen(samples, X, sigma)
        for batch_size in (1, 4, 23, 100):
            mean, se = parzen_log_likelihood(
                samples, X, bandwidth=sigma, batch_size=batch_size, return_std=True
            )
            assert mean == pytest.approx(expected.mean(), abs=1e-10, rel=0)
            assert se == pytest.approx(
                expected.std(ddof=1) / np.sqrt(len(X)), abs=1e-10, rel=0
            )


def test_parzen_close_to_true_log_density(gaussian_2d):
    samples, X_val, X_test = gaussian_2d
    bandwidths = np.logspace(-1.5, 0, 12)
    sigma = select_parzen_bandwidth(samples, X_val, bandwidths=bandwidths)
    assert sigma in bandwidths
    assert 0.1 < sigma < 0.6  # Silverman's rule gives about 0.24 here
    ll, se = parzen_log_likelihood(
        samples, X_test, X_validation=X_val, bandwidths=bandwidths, return_std=True
    )
    true_log_density = -0.5 * (X_test**2).sum(axis=1) - np.log(2 * np.pi)
    # The entropy of N(0, I_2) is log(2 pi e) ~ 2.84 nats.
    assert abs(ll - true_log_density.mean()) < 0.1
    assert abs(ll + np.log(2 * np.pi * np.e)) < 0.15
    assert 0 < se < 0.1
    # Selecting then evaluating is the same as passing the chosen width.
    assert ll == parzen_log_likelihood(samples, X_test, bandwidth=sigma)
    # Points off the sampled distribution are much less likely.
    shifted = parzen_log_likelihood(samples, X_test + 3.0, bandwidth=sigma)
    assert shifted < ll - 3.0


def test_default_bandwidth_grid(gaussian_2d):
    samples, X_val, _ = gaussian_2d
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sigma = select_parzen_bandwidth(samples[:2000], X_val[:300])
    assert np.any(np.isclose(sigma, np.logspace(-1, 0, 10), rtol=0, atol=1e-15))


def test_bandwidth_at_grid_edge_warns(gaussian_2d):
    samples, X_val, _ = gaussian_2d
    with pytest.warns(UserWarning, match="edge of the grid"):
        sigma = select_parzen_bandwidth(
            samples[:500], X_val[:100], bandwidths=[2.0, 4.0, 8.0]
        )
    assert sigma == 2.0


def test_parzen_input_errors():
    rng = np.random.RandomState(0)
    samples, X = rng.normal(size=(10, 2)), rng.normal(size=(5, 2))
    with pytest.raises(ValueError, match="Either bandwidth or X_validation"):
        parzen_log_likelihood(samples, X)
    with pytest.raises(ValueError, match="X_test has 3 features, but samples has 2"):
        parzen_log_likelihood(samples, np.ones((5, 3)), bandwidth=1.0)
    with pytest.raises(ValueError, match="X_validation has 3 features"):
        parzen_log_likelihood(samples, X, X_validation=np.ones((5, 3)))
    for bad in (0.0, -1.0, np.inf, "wide"):
        with pytest.raises(ValueError, match="bandwidth must be a positive float"):
            parzen_log_likelihood(samples, X, bandwidth=bad)
    for bad in ([], [0.1, -0.2], [np.nan]):
        with pytest.raises(ValueError, match="bandwidths must be a non-empty"):
            select_parzen_bandwidth(samples, X, bandwidths=bad)
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="batch_size must be a positive int"):
            parzen_log_likelihood(samples, X, bandwidth=1.0, batch_size=bad)
    with pytest.raises(ValueError, match="NaN"):
        parzen_log_likelihood(samples, np.full((2, 2), np.nan), bandwidth=1.0)


def test_single_test_point_has_nan_standard_error():
    rng = np.random.RandomState(0)
    mean, se = parzen_log_likelihood(
        rng.normal(size=(50, 3)), np.zeros((1, 3)), bandwidth=0.5, return_std=True
    )
    assert np.isfinite(mean) and np.isnan(se)
