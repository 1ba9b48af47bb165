"""Prior distributions that the adversarial regulariser matches the codes to.

Every prior has ``sample(n_samples, *, y=None, random_state=None)`` returning an
array of shape ``(n_samples, n_components)``. Priors with several modes
(:class:`GaussianMixturePrior`, :class:`SwissRollPrior`,
:class:`CategoricalPrior`) accept ``y``: an integer mode index per sample, or
``-1`` for a draw from the whole prior. This is what the label-conditioned
regulariser of the paper (section 2.3) uses to send each class to its own mode.

``n_components`` may be left as ``None``; an estimator then sets it from its
own ``n_components`` when it is fitted (``prior_`` holds that configured copy).
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable

import numpy as np
from sklearn.utils import check_random_state

__all__ = [
    "BasePrior",
    "GaussianPrior",
    "UniformPrior",
    "GaussianMixturePrior",
    "SwissRollPrior",
    "CategoricalPrior",
]


class BasePrior:
    """Base class for priors.

    Subclasses implement ``_sample(n_samples, y, rng)``. Priors with modes set
    ``n_modes`` to an integer; for the others it is ``None`` and ``y`` is
    ignored.
    """

    n_modes: int | None = None
    # Whether an estimator fitted with labels sends each class to its own mode.
    _label_conditional = False

    def __init__(self, n_components: int | None = None) -> None:
        self.n_components = n_components

    def sample(
        self,
        n_samples: int,
        *,
        y: np.ndarray | None = None,
        random_state: int | np.random.RandomState | None = None,
    ) -> np.ndarray:
        """Draw samples from the prior.

        Parameters
        ----------
        n_samples : int
            Number of samples to draw.
        y : array-like of shape (n_samples,), default=None
            Mode index of each sample, ``-1`` for a draw from the whole prior.
            Only used by priors with modes; ``None`` draws every sample from
            the whole prior.
        random_state : int, RandomState instance or None, default=None
            Seed or generator for the draws.

        Returns
        -------
        samples : ndarray of shape (n_samples, n_components)
            The draws, as float64.
        """
        if self.n_components is None:
            raise ValueError(
                f"{type(self).__name__}.n_components is None; set it, or let an "
                "estimator set it when fitting (see the estimator's prior_)."
            )
        if not isinstance(n_samples, numbers.Integral) or n_samples < 0:
            raise ValueError(
                f"n_samples must be a non-negative integer, got {n_samples!r}."
            )
        rng = check_random_state(random_state)
        if y is not None and self.n_modes is not None:
            y = np.asarray(y)
            if y.shape != (n_samples,):
                raise ValueError(f"y must have shape ({n_samples},), got {y.shape}.")
            if not np.issubdtype(y.dtype, np.integer):
                raise TypeError(f"y must hold integer mode indices, got {y.dtype}.")
            if np.any((y < -1) | (y >= self.n_modes)):
                raise ValueError(
                    f"y must hold mode indices in [0, {self.n_modes}) or -1, got "
                    f"values in [{y.min()}, {y.max()}]."
                )
        else:
            y = None
        return np.asarray(self._sample(int(n_samples), y, rng), dtype=np.float64)

    def _modes_for(self, n_samples: int, y: np.ndarray | None, rng) -> np.ndarray:
        """Mode of each draw: ``y`` where given, uniform at random elsewhere."""
        modes = rng.randint(self.n_modes, size=n_samples)
        if y is not None:
            modes = np.where(y >= 0, y, modes)
        return modes

    def _sample(self, n_samples: int, y: np.ndarray | None, rng) -> np.ndarray:
        raise NotImplementedError

    def _configured(self, n_components: int, n_classes: int | None) -> BasePrior:
        """Copy set up for an estimator with ``n_components`` and ``n_classes``."""
        params = self._params()
        if self.n_components is not None and self.n_components != n_components:
            raise ValueError(
                f"The prior has n_components={self.n_components} but the "
                f"estimator has n_components={n_components}."
            )
        params["n_components"] = n_components
        return type(self)(**params)

    def _params(self) -> dict:
        names = inspect.signature(type(self).__init__).parameters
        return {name: getattr(self, name) for name in names if name != "self"}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({args})"


def _with_modes(prior: BasePrior, n_classes: int | None) -> BasePrior:
    """Default ``n_modes`` to the number of classes (10 without labels)."""
    if prior.n_modes is None:
        prior.n_modes = n_classes if n_classes is not None else 10
    elif n_classes is not None and n_classes > prior.n_modes:
        raise ValueError(
            f"y has {n_classes} classes but the prior has only n_modes={prior.n_modes}."
        )
    return prior


class GaussianPrior(BasePrior):
    """Isotropic Gaussian prior, ``N(0, std**2 I)``.

    Parameters
    ----------
    n_components : int or None, default=None
        Dimension of the code. ``None``: set by the estimator.
    std : float, default=1.0
        Standard deviation of every coordinate.

    Examples
    --------
    >>> from skaae.priors import GaussianPrior
    >>> GaussianPrior(n_components=3).sample(4, random_state=0).shape
    (4, 3)
    """

    def __init__(self, n_components: int | None = None, *, std: float = 1.0) -> None:
        super().__init__(n_components)
        self.std = std

    def _sample(self, n_samples, y, rng):
        return self.std * rng.standard_normal((n_samples, self.n_components))


class UniformPrior(BasePrior):
    """Uniform prior on the box ``[low, high] ** n_components``.

    Parameters
    ----------
    n_components : int or None, default=None
        Dimension of the code. ``None``: set by the estimator.
    low, high : float, default=-1.0, 1.0
        Bounds of every coordinate.

    Examples
    --------
    >>> from skaae.priors import UniformPrior
    >>> z = UniformPrior(n_components=2).sample(1000, random_state=0)
    >>> bool(z.min() >= -1 and z.max() <= 1)
    True
    """

    def __init__(
        self, n_components: int | None = None, *, low: float = -1.0, high: float = 1.0
    ) -> None:
        super().__init__(n_components)
        self.low = low
        self.high = high

    def _sample(self, n_samples, y, rng):
        if not self.low < self.high:
            raise ValueError(f"low must be < high, got {self.low} and {self.high}.")
        return rng.uniform(self.low, self.high, size=(n_samples, self.n_components))


class GaussianMixturePrior(BasePrior):
    """Mixture of Gaussians laid out on a circle, as in the paper's figures.

    Mode ``k`` is centred at angle ``2 pi k / n_modes`` on a circle of radius
    ``radius`` in the first two coordinates and is elongated along the radius
    (``radial_std``) and thin across it (``tangential_std``), so neighbouring
    modes stay apart. Further coordinates, if any, are ``N(0, tangential_std)``
    for every mode. With one component the modes sit on a line.

    Parameters
    ----------
    n_components : int or None, default=None
        Dimension of the code. ``None``: set by the estimator.
    n_modes : int or None, default=None
        Number of mixture components. ``None``: the number of classes when an
        estimator is fitted with labels, else 10 (the paper's choice).
    radius : float, default=2.0
        Distance of every mode's centre from the origin.
    radial_std, tangential_std : float, default=0.5, 0.1
        Standard deviations along and across the radius.

    Attributes
    ----------
    means_ : ndarray of shape (n_modes, n_components)
        Centre of every mode (available once ``n_components`` and ``n_modes``
        are set).

    Examples
    --------
    >>> import numpy as np
    >>> from skaae.priors import GaussianMixturePrior
    >>> prior = GaussianMixturePrior(n_components=2, n_modes=4)
    >>> z = prior.sample(3, y=np.array([0, 1, -1]), random_state=0)
    >>> z.shape
    (3, 2)
    """

    _label_conditional = True

    def __init__(
        self,
        n_components: int | None = None,
        *,
        n_modes: int | None = None,
        radius: float = 2.0,
        radial_std: float = 0.5,
        tangential_std: float = 0.1,
    ) -> None:
        super().__init__(n_components)
        self.n_modes = n_modes
        self.radius = radius
        self.radial_std = radial_std
        self.tangential_std = tangential_std

    def _configured(self, n_components, n_classes):
        return _with_modes(super()._configured(n_components, n_classes), n_classes)

    @property
    def means_(self) -> np.ndarray:
        if self.n_modes is None or self.n_components is None:
            raise AttributeError("means_ needs n_components and n_modes to be set.")
        angles = 2 * np.pi * np.arange(self.n_modes) / self.n_modes
        means = np.zeros((self.n_modes, self.n_components))
        if self.n_components == 1:
            means[:, 0] = self.radius * np.linspace(-1, 1, self.n_modes)
        else:
            means[:, 0] = self.radius * np.cos(angles)
            means[:, 1] = self.radius * np.sin(angles)
        return means

    def _sample(self, n_samples, y, rng):
        if self.n_modes is None:
            raise ValueError("GaussianMixturePrior.n_modes is None; set it first.")
        modes = self._modes_for(n_samples, y, rng)
        noise = rng.standard_normal((n_samples, self.n_components))
        z = self.means_[modes] + self.tangential_std * noise
        if self.n_components == 1:
            z[:, 0] = self.means_[modes, 0] + self.radial_std * noise[:, 0]
            return z
        # Stretch the first two coordinates along each mode's radial direction.
        angle = 2 * np.pi * modes / self.n_modes
        radial = np.stack([np.cos(angle), np.sin(angle)], axis=1)
        tangent = np.stack([-np.sin(angle), np.cos(angle)], axis=1)
        z[:, :2] = (
            self.means_[modes, :2]
            + self.radial_std * noise[:, :1] * radial
            + self.tangential_std * noise[:, 1:2] * tangent
        )
        return z


class SwissRollPrior(BasePrior):
    """Two-dimensional swiss roll, cut into ``n_modes`` consecutive pieces.

    A point at position ``u`` in ``[0, 1)`` along the roll sits at angle
    ``t = 1.5 pi (1 + 2 u)`` and radius proportional to ``t``, plus Gaussian
    noise. Mode ``k`` is the piece ``u`` in ``[k / n_modes, (k + 1) / n_modes)``,
    which is how the paper sends each class to its own stretch of the roll.

    Parameters
    ----------
    n_components : int or None, default=None
        Must be 2 (or ``None``: set by the estimator, which must have 2).
    n_modes : int or None, default=None
        Number of pieces. ``None``: the number of classes when fitted with
        labels, else 10.
    scale : float, default=0.25
        Multiplies the roll's coordinates (the outer end lies at ``4.5 pi *
        scale`` from the origin).
    noise : float, default=0.05
        Standard deviation of the Gaussian noise added to each point.

    Examples
    --------
    >>> from skaae.priors import SwissRollPrior
    >>> SwissRollPrior(n_components=2).sample(5, random_state=0).shape
    (5, 2)
    """

    _label_conditional = True

    def __init__(
        self,
        n_components: int | None = None,
        *,
        n_modes: int | None = None,
        scale: float = 0.25,
        noise: float = 0.05,
    ) -> None:
        super().__init__(n_components)
        self.n_modes = n_modes
        self.scale = scale
        self.noise = noise

    def _configured(self, n_components, n_classes):
        if n_components != 2:
            raise ValueError(
                f"The swiss roll prior is 2-D; n_components must be 2, got "
                f"{n_components}."
            )
        return _with_modes(super()._configured(n_components, n_classes), n_classes)

    def _sample(self, n_samples, y, rng):
        if self.n_components != 2:
            raise ValueError(
                f"SwissRollPrior needs n_components=2, got {self.n_components}."
            )
        u = rng.uniform(size=n_samples)
        if y is not None:
            u = np.where(y >= 0, (y + u) / self.n_modes, u)
        t = 1.5 * np.pi * (1 + 2 * u)
        z = self.scale * np.stack([t * np.cos(t), t * np.sin(t)], axis=1)
        return z + self.noise * rng.standard_normal((n_samples, 2))


class CategoricalPrior(BasePrior):
    """Uniform categorical prior over one-hot vectors.

    Parameters
    ----------
    n_components : int or None, default=None
        Number of categories (the length of each one-hot vector).

    Examples
    --------
    >>> from skaae.priors import CategoricalPrior
    >>> CategoricalPrior(n_components=3).sample(2, random_state=0).sum(axis=1)
    array([1., 1.])
    """

    _label_conditional = True

    @property
    def n_modes(self) -> int | None:  # type: ignore[override]
        return self.n_components

    def _configured(self, n_components, n_classes):
        prior = super()._configured(n_components, n_classes)
        if n_classes is not None and n_classes > n_components:
            raise ValueError(
                f"y has {n_classes} classes but the categorical prior has only "
                f"{n_components} categories."
            )
        return prior

    def _sample(self, n_samples, y, rng):
        modes = self._modes_for(n_samples, y, rng)
        return np.eye(self.n_components)[modes]


class _CallablePrior(BasePrior):
    """Wraps a user function ``f(n_samples, random_state) -> array``."""

    def __init__(self, n_components: int | None = None, *, func: Callable) -> None:
        super().__init__(n_components)
        self.func = func

    def _sample(self, n_samples, y, rng):
        z = np.asarray(self.func(n_samples, rng), dtype=np.float64)
        if z.shape != (n_samples, self.n_components):
            raise ValueError(
                f"The prior function must return an array of shape "
                f"({n_samples}, {self.n_components}) for n_samples={n_samples}, "
                f"got shape {z.shape}."
            )
        if not np.all(np.isfinite(z)):
            raise ValueError("The prior function returned NaN or infinite values.")
        return z

    def __repr__(self) -> str:
        return f"_CallablePrior(n_components={self.n_components}, func={self.func!r})"


_PRIOR_NAMES = {
    "gaussian": GaussianPrior,
    "uniform": UniformPrior,
    "gaussian_mixture": GaussianMixturePrior,
    "swiss_roll": SwissRollPrior,
}


def _resolve_prior(spec, n_components: int, n_classes: int | None) -> BasePrior:
    """Build the fitted prior from an estimator's ``prior`` parameter.

    ``n_classes`` is the number of classes when the estimator is fitted with
    labels (``None`` otherwise). The result is checked by drawing from it, so a
    broken prior fails here, before any training.
    """
    if isinstance(spec, str):
        if spec not in _PRIOR_NAMES:
            raise ValueError(
                f"prior must be one of {sorted(_PRIOR_NAMES)}, a prior object or a "
                f"callable; got {spec!r}."
            )
        prior = _PRIOR_NAMES[spec]()._configured(n_components, n_classes)
    elif isinstance(spec, BasePrior):
        prior = spec._configured(n_components, n_classes)
    elif callable(spec):
        prior = _CallablePrior(n_components, func=spec)
    else:
        raise TypeError(
            f"prior must be a string, a skaae.priors prior or a callable; got "
            f"{type(spec).__name__}."
        )
    probe = prior.sample(4, random_state=0)
    if probe.shape != (4, n_components) or not np.all(np.isfinite(probe)):
        raise ValueError(
            f"The prior must draw finite samples of shape (n_samples, "
            f"{n_components}); a draw of 4 gave shape {probe.shape}."
        )
    if np.array_equal(probe, prior.sample(4, random_state=1)):
        # Every epoch would then match the codes to the same few points.
        raise ValueError(
            "The prior drew the same samples for random_state=0 and "
            "random_state=1: a callable prior must draw from the "
            "random_state it is given, e.g. "
            "lambda n, rng: rng.standard_normal((n, 2))."
        )
    return prior
