"""AAETransformer on real data: embedding quality and how well codes match priors.

Each fit here runs the defaults on ``load_digits`` (a few seconds on 2 cores).
"""

import warnings

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from skaae import AAETransformer
from skaae.metrics import energy_distance


def knn_accuracy(Z, y):
    return cross_val_score(KNeighborsClassifier(n_neighbors=5), Z, y, cv=5).mean()


def fit_codes(X, random_state=0, **params):
    with warnings.catch_warnings():
        # A good fit must not trigger the prior-mismatch warning.
        warnings.simplefilter("error", ConvergenceWarning)
        aae = AAETransformer(random_state=random_state, **params).fit(X)
    return aae, aae.transform(X)


@pytest.fixture(scope="module")
def gaussian_codes(digits):
    """The defaults, with the neighbour-graph map term."""
    return fit_codes(digits[0])


@pytest.fixture(scope="module")
def paper_codes(digits):
    """The paper's model: no neighbour term."""
    return fit_codes(digits[0], neighbor_weight=0.0)


def test_knn_accuracy_beats_pca(digits, gaussian_codes):
    X, y = digits
    _, Z = gaussian_codes
    pca_accuracy = knn_accuracy(PCA(n_components=2).fit_transform(X), y)
    aae_accuracy = knn_accuracy(Z, y)
    assert pca_accuracy < 0.70  # about 0.60: the baseline to beat
    assert aae_accuracy >= 0.85


def test_neighbor_term_keeps_neighbourhoods(digits, gaussian_codes, paper_codes):
    X, y = digits
    default, paper = knn_accuracy(gaussian_codes[1], y), knn_accuracy(paper_codes[1], y)
    print(f"5-NN accuracy: default {default:.3f}, neighbor_weight=0 {paper:.3f}")
    # Measured: 0.948 against 0.903 (UMAP: about 0.98).
    assert default > paper + 0.02


def test_default_codes_stay_near_the_prior(digits, gaussian_codes):
    # The map term opens gaps between groups of codes, which the energy
    # distance sees. One fit's figures move with the machine's float
    # kernels as much as with the seed (seed 0: energy distance 0.011 with
    # one torch thread and 0.023 with two on an EPYC, 0.029 with two on a
    # Xeon with AVX-512, whose seeds 1 and 2 gave 0.011 and 0.012; two prior
    # samples score 0.002-0.004), so the bars hold for the median of three
    # seeds. Each fit already fails on the library's mismatch warning (25
    # times the reference).
    fits = [gaussian_codes] + [fit_codes(digits[0], seed) for seed in (1, 2)]
    energy, ratio, offset, cov_error = [], [], [], []
    for aae, Z in fits:
        draws = aae.prior_.sample(len(Z), random_state=1)
        energy.append(energy_distance(Z, draws))
        ratio.append(aae.prior_distance_ / aae.prior_distance_reference_)
        offset.append(np.abs(Z.mean(axis=0)).max())
        cov_error.append(np.abs(np.cov(Z.T) - np.eye(2)).max())
    print(
        f"energy {np.round(energy, 4)}, ratio {np.round(ratio, 1)}, "
        f"mean offset {np.round(offset, 3)}, covariance error "
        f"{np.round(cov_error, 3)}"
    )
    assert np.median(energy) < 0.03
    assert np.median(ratio) < 25
    assert np.median(offset) < 0.2
    assert np.median(cov_error) < 0.3


def test_map_without_discriminator(digits):
    """regularization_learning_rate=0: the map term alone, moments matched."""
    X, y = digits
    # fit_codes fails on the prior-mismatch warning (25 times the reference).
    aae, Z = fit_codes(X, regularization_learning_rate=0, max_iter=30)
    # Measured: 0.923, prior_distance_ 6.1 times the reference.
    assert knn_accuracy(Z, y) >= 0.90
    # The affine map gives the training codes the prior's first two moments.
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-6)
    np.testing.assert_allclose(np.cov(Z.T, bias=True), np.eye(2), atol=1e-6)
    assert "discriminator" not in aae.history_


def test_codes_match_gaussian_prior(paper_codes):
    aae, Z = paper_codes
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=0.15)
    np.testing.assert_allclose(np.cov(Z.T), np.eye(2), atol=0.2)
    draws = aae.prior_.sample(len(Z), random_state=1)
    # Two independent prior samples of this size score about 0.002-0.004;
    # codes shrunk to 0.8 times the prior's scale score about 0.023.
    assert energy_distance(Z, draws) < 0.01
    assert aae.prior_distance_ < 0.01
    # The discriminator ends near chance: it cannot tell codes from draws.
    assert abs(aae.history_["discriminator_accuracy"][-1] - 0.5) < 0.15


def test_label_conditioned_mixture_sends_classes_to_their_modes(digits):
    X, y = digits
    rng = np.random.RandomState(0)
    hidden = rng.rand(len(y)) < 0.5
    y_partial = np.where(hidden, -1, y)
    aae = AAETransformer(prior="gaussian_mixture", random_state=0).fit(X, y_partial)
    assert aae.prior_.n_modes == 10
    np.testing.assert_array_equal(aae.classes_, np.arange(10))

    Z = aae.transform(X)
    means = aae.prior_.means_
    nearest = np.argmin(((Z[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
    on_own_mode = nearest == y
    assert on_own_mode[~hidden].mean() >= 0.90
    assert on_own_mode[hidden].mean() >= 0.80

    # Sampling with labels draws from those classes' modes.
    draws = aae.prior_.sample(500, y=np.full(500, 3), random_state=0)
    nearest = np.argmin(((draws[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
    assert (nearest == 3).mean() > 0.95
    assert aae.sample(4, y=[3, 3, 7, -1], random_state=0).shape == (4, 64)


def moment_matched_gaussian_distance(draws, reference):
    """Energy distance to the prior of a Gaussian with the prior's moments.

    The bar for a non-Gaussian prior: codes that beat it follow the prior's
    shape, not only its mean and covariance.
    """
    rng = np.random.RandomState(2)
    gaussian = rng.multivariate_normal(
        draws.mean(axis=0), np.cov(draws.T), size=len(draws)
    )
    return energy_distance(gaussian, reference)


@pytest.mark.parametrize(
    "prior, params",
    [
        ("uniform", {}),
        ("gaussian_mixture", {}),
        # Measured with the "auto" settings of a non-Gaussian prior (cosine
        # decay, critic at half the rate, instance noise 0.1), seeds 0-4:
        # 0.031, 0.037, 0.041, 0.046, 0.024 against the bar of 0.041 at 100
        # epochs; 0.024, 0.029, 0.018, 0.080, ... at 200.
        ("swiss_roll", {"max_iter": 200}),
    ],
)
def test_codes_match_each_named_prior(digits, prior, params):
    X, _ = digits
    aae = AAETransformer(prior=prior, random_state=0, **params).fit(X)
    Z = aae.transform(X)
    draws = aae.prior_.sample(len(Z), random_state=1)
    reference = aae.prior_.sample(len(Z), random_state=3)
    # The shape: closer to the prior than a Gaussian of the same moments.
    assert energy_distance(Z, reference) < moment_matched_gaussian_distance(
        draws, reference
    )
    # And no mismatch warning (25 times the reference). A tighter bar of 10
    # held on an EPYC but not on a Xeon with AVX-512, where the mixture
    # prior's seeds 0-2 scored 10.7, 13.0 and 8.4: float kernels move one
    # fit as much as a seed does.
    assert aae.prior_distance_ < 25 * aae.prior_distance_reference_
