"""The prior distributions and the energy distance."""

import warnings

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from skaae.metrics import energy_distance
from skaae.priors import (
    CategoricalPrior,
    GaussianMixturePrior,
    GaussianPrior,
    SwissRollPrior,
    UniformPrior,
    _resolve_prior,
)


def nearest_mode(Z, means):
    return np.argmin(((Z[:, None, :] - means[None]) ** 2).sum(-1), axis=1)


def test_gaussian_moments():
    Z = GaussianPrior(3, std=2.0).sample(20000, random_state=0)
    assert Z.shape == (20000, 3)
    np.testing.assert_allclose(Z.mean(0), 0, atol=0.05)
    np.testing.assert_allclose(np.cov(Z.T), 4 * np.eye(3), atol=0.15)


def test_uniform_bounds_and_mean():
    Z = UniformPrior(2, low=-2.0, high=1.0).sample(20000, random_state=0)
    assert Z.min() >= -2 and Z.max() <= 1
    np.testing.assert_allclose(Z.mean(0), -0.5, atol=0.03)


def test_mixture_modes_and_labels():
    prior = GaussianMixturePrior(2, n_modes=10)
    means = prior.means_
    np.testing.assert_allclose(np.linalg.norm(means, axis=1), 2.0)
    y = np.repeat(np.arange(10), 200)
    Z = prior.sample(2000, y=y, random_state=0)
    assert (nearest_mode(Z, means) == y).mean() > 0.97
    # -1 draws from every mode, about evenly.
    Z = prior.sample(5000, y=np.full(5000, -1), random_state=0)
    counts = np.bincount(nearest_mode(Z, means), minlength=10)
    assert counts.min() > 350


def test_mixture_modes_are_elongated_radially():
    prior = GaussianMixturePrior(2, n_modes=4, radial_std=0.5, tangential_std=0.1)
    Z = prior.sample(4000, y=np.zeros(4000, dtype=int), random_state=0)
    # Mode 0 sits on the x axis: long along x, thin along y.
    np.testing.assert_allclose(Z.std(0), [0.5, 0.1], rtol=0.1)


def test_mixture_higher_dimensions_and_one_dimension():
    Z = GaussianMixturePrior(5, n_modes=3).sample(100, random_state=0)
    assert Z.shape == (100, 5)
    Z = GaussianMixturePrior(1, n_modes=3).sample(3000, random_state=0)
    assert Z.shape == (3000, 1)
    assert np.histogram(Z, bins=3)[0].min() > 500


def test_swiss_roll_pieces_follow_labels():
    prior = SwissRollPrior(2, n_modes=5, noise=0.0)
    Z = prior.sample(1000, y=np.repeat(np.arange(5), 200), random_state=0)
    radius = np.linalg.norm(Z, axis=1)
    # Along the roll the radius grows, so piece k lies outside piece k - 1.
    per_piece = radius.reshape(5, 200)
    assert np.all(per_piece[1:].min(axis=1) >= per_piece[:-1].max(axis=1) - 1e-9)


def test_categorical_is_one_hot():
    Z = CategoricalPrior(4).sample(1000, random_state=0)
    assert set(np.unique(Z)) == {0.0, 1.0}
    np.testing.assert_array_equal(Z.sum(1), 1)
    y = np.array([3, 0, -1])
    Z = CategoricalPrior(4).sample(3, y=y, random_state=0)
    assert Z[0, 3] == 1 and Z[1, 0] == 1


def test_sample_is_reproducible():
    prior = GaussianMixturePrior(2, n_modes=10)
    np.testing.assert_array_equal(
        prior.sample(5, random_state=3), prior.sample(5, random_state=3)
    )


@pytest.mark.parametrize(
    "prior, y, error, message",
    [
        (GaussianPrior(), None, ValueError, "n_components is None"),
        (GaussianMixturePrior(2, n_modes=3), np.array([0, 3]), ValueError, "mode"),
        (GaussianMixturePrior(2, n_modes=3), np.array([0.5, 1.0]), TypeError, "int"),
        (GaussianMixturePrior(2, n_modes=3), np.array([0]), ValueError, "shape"),
    ],
)
def test_sample_errors(prior, y, error, message):
    with pytest.raises(error, match=message):
        prior.sample(2, y=y, random_state=0)


def test_resolve_prior():
    assert isinstance(_resolve_prior("gaussian", 3, None), GaussianPrior)
    prior = _resolve_prior("gaussian_mixture", 2, 7)
    assert prior.n_modes == 7 and prior.n_components == 2
    assert _resolve_prior("gaussian_mixture", 2, None).n_modes == 10
    # The user's object is left untouched.
    user = GaussianMixturePrior()
    _resolve_prior(user, 2, 4)
    assert user.n_components is None and user.n_modes is None
    with pytest.raises(ValueError, match="prior must be one of"):
        _resolve_prior("laplace", 2, None)
    with pytest.raises(ValueError, match="categorical prior has only 3"):
        _resolve_prior(CategoricalPrior(), 3, 4)


def test_repr():
    assert repr(GaussianPrior(2)) == "GaussianPrior(n_components=2, std=1.0)"


def test_energy_distance():
    rng = np.random.RandomState(0)
    a, b = rng.normal(size=(400, 2)), rng.normal(size=(400, 2))
    assert energy_distance(a, a) == pytest.approx(0.0, abs=1e-12)
    same = energy_distance(a, b)
    assert 0 <= same < 0.02
    shifted = [energy_distance(a, b + s) for s in (0.25, 0.5, 1.0)]
    assert same < shifted[0] < shifted[1] < shifted[2]
    assert energy_distance(a, b * 0.5) > 5 * same
    with pytest.raises(ValueError, match="same number of features"):
        energy_distance(a, b[:, :1])


def test_energy_distance_matches_pairwise_definition_on_read_only_input():
    # Beyond one block of rows (1,024), against scipy's pairwise distances.
    rng = np.random.RandomState(1)
    a, b = rng.normal(size=(1500, 3)), rng.normal(loc=0.3, size=(1200, 3))
    expected = 2 * cdist(a, b).mean() - cdist(a, a).mean() - cdist(b, b).mean()
    a.setflags(write=False)
    b.setflags(write=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert energy_distance(a, b) == pytest.approx(expected, rel=1e-10)
