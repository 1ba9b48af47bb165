"""Estimator plumbing shared by the skaae estimators.

Validation of parameters and data, devices, seeding, the call into the shared
training loop, the fit diagnostics, and pickling that works across devices.
The torch side lives in ``_model``, ``_networks`` and ``_training``.
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass
from functools import partial

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from ._model import AdversarialAutoencoder
from ._neighbors import nearest_neighbors
from ._networks import _ACTIVATIONS, ENCODERS
from ._onnx import ONNX_PARTS, write_onnx
from ._parallel import DataParallel, rank_device
from ._training import (
    VALIDATION_RECONSTRUCTION_KEY,
    SparseRows,
    TrainingConfig,
    TrainingData,
    TrainingSession,
    reconstruction_loss,
    row_keys,
    stack_rows,
)
from .metrics import energy_distance
from .priors import BasePrior, GaussianPrior, _resolve_prior

_MAX_DIAGNOSTIC_SAMPLES = 2000
# Warn when the codes are this many times further from the prior than a
# perfect match would be on average (on digits, good fits score 1-10 times).
_PRIOR_MISMATCH_FACTOR = 25.0
_ENCODE_BATCH = 8192
# Predictions run in float32 on blocks of exactly this many rows (the last
# one padded): a float32 matrix product's rounding can depend on the number
# of rows it is given, and a fixed shape keeps a sample's output independent
# of the samples it is predicted with. 256 rows: 6,000 rows through four
# 256-wide layers took 33 ms against 31 ms with 1,024-row blocks on one
# thread (20 against 16.5 ms on two), and a single row costs about 1 ms.
_PREDICT_BLOCK = 256
# Prior draws that estimate a non-Gaussian prior's mean and covariance when
# the codes are matched to them without a discriminator.
_PRIOR_MOMENT_DRAWS = 100_000
# partial_fit with a neighbour graph keeps a uniform sample of this many rows
# of the earlier calls, where the chunks' rows find neighbours (float32 on
# 784 features: 16 MB, saved with the model).
_STREAM_SAMPLE_ROWS = 5000
_LABEL_CONDITIONAL_PRIORS = ("gaussian_mixture", "swiss_roll")
# regularization_learning_rate="auto", as multiples of learning_rate_init.
_REG_LR_RATIO_UNCONDITIONED = 0.2
_REG_LR_RATIO_CONDITIONED = 2.0


@dataclass
class _Targets:
    """What the labels contribute to training.

    ``classes``: the real classes; ``prior_labels``: mode of each sample for
    the prior draws (-1: whole prior); ``conditions``: one-hot labels plus an
    "unlabeled" slot for the critic; ``labels``: class index of each sample
    (-1: unlabeled) for a categorical head of ``n_categories`` units.
    """

    classes: np.ndarray | None = None
    prior_labels: np.ndarray | None = None
    conditions: np.ndarray | None = None
    labels: np.ndarray | None = None
    n_categories: int = 0
    cluster_heads: bool = False


@dataclass
class _FitPlan:
    """Everything one fit or partial_fit call trains with, checked."""

    X: np.ndarray
    data: TrainingData
    config: TrainingConfig
    prior: BasePrior
    rng: np.random.RandomState
    device: torch.device
    classes: np.ndarray | None
    cluster_heads: bool
    architecture: dict
    n_init: int
    continuing: bool
    incremental: bool
    validation: object
    parallel: DataParallel | None = None


def resolve_device(device) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; check the rest exists."""
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, str | torch.device):
        raise TypeError(
            f"device must be 'auto', a device string such as 'cpu' or 'cuda:0', "
            f"or a torch.device; got {type(device).__name__}."
        )
    try:
        resolved = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(f"device={device!r} is not a valid torch device.") from exc
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but CUDA is not available."
            )
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} was requested but only "
                f"{torch.cuda.device_count()} CUDA device(s) are available."
            )
    return resolved


PRECISIONS = ("float32", "bfloat16")


def check_precision(precision: str, device: torch.device) -> str:
    """``precision``, once the device is known to support it."""
    if (
        precision == "bfloat16"
        and device.type == "cuda"
        and not torch.cuda.is_bf16_supported()
    ):
        raise ValueError(
            f"precision='bfloat16' was requested but {device} does not support "
            "bfloat16; use precision='float32'."
        )
    return precision


def _check_int(name: str, value, minimum: int) -> None:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}.")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}.")


def _check_float(name: str, value, *, low: float, high=None, closed=False) -> None:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{name} must be a float, got {type(value).__name__}.")
    too_low = value < low if closed else value <= low
    if too_low or (high is not None and value >= high):
        bound = f"in [{low}, {high})" if high is not None else f"> {low}"
        if closed and high is None:
            bound = f">= {low}"
        raise ValueError(f"{name} must be {bound}, got {value}.")


def _check_option(name: str, value, options) -> None:
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {sorted(options)}, got {value!r}.")


def _check_layer_sizes(name: str, value) -> tuple[int, ...]:
    if isinstance(value, str):
        raise ValueError(f"{name} must be an int or a sequence of ints, got {value!r}.")
    sizes = (value,) if isinstance(value, numbers.Integral) else value
    try:
        sizes = tuple(sizes)
    except TypeError:
        raise TypeError(f"{name} must be an int or a sequence of ints.") from None
    for size in sizes:
        if not isinstance(size, numbers.Integral) or size < 1:
            raise ValueError(f"{name} must hold positive ints, got {value!r}.")
    return tuple(int(s) for s in sizes)


def _overall_std(X) -> float:
    """Standard deviation of all the entries of ``X``, dense or sparse."""
    if sp.issparse(X):
        n_entries = X.shape[0] * X.shape[1]
        mean = X.sum() / n_entries
        return float(np.sqrt(max(X.multiply(X).sum() / n_entries - mean**2, 0.0)))
    return float(np.std(X))


def _mean_feature_variance(X) -> float:
    """Mean over features of the variance, for dense and sparse ``X``."""
    if sp.issparse(X):
        mean = np.asarray(X.mean(axis=0)).ravel()
        mean_sq = np.asarray(X.multiply(X).mean(axis=0)).ravel()
        return float((mean_sq - mean**2).mean())
    return float(X.var(axis=0).mean())


def _unlabeled_mask(y: np.ndarray) -> np.ndarray:
    if y.dtype.kind in "OUS":
        return np.array([v == -1 or v == "-1" for v in y], dtype=bool)
    return y == -1


class _BaseAAE(BaseEstimator):
    """Shared fit/transform machinery; subclasses set the public API."""

    # SciPy sparse formats taken as input (False: dense only).
    _accept_sparse: tuple[str, ...] | bool = ("csr", "csc", "coo")

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "module_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = bool(self._accept_sparse)
        return tags

    # -- validation --------------------------------------------------------
    def _validate_params(self) -> None:
        _check_int("n_components", self.n_components, 1)
        if isinstance(self.max_iter, str) and self._accepts_auto_max_iter:
            if self.max_iter != "auto":
                raise ValueError(
                    f'max_iter must be an int >= 1 or "auto", got {self.max_iter!r}.'
                )
        else:
            _check_int("max_iter", self.max_iter, 1)
        _check_int("batch_size", self.batch_size, 1)
        _check_float("learning_rate_init", self.learning_rate_init, low=0.0)
        if not (
            isinstance(self.regularization_learning_rate, str)
            and self.regularization_learning_rate == "auto"
        ):
            _check_float(
                "regularization_learning_rate",
                self.regularization_learning_rate,
                low=0.0,
                closed=self._accepts_zero_regularization,
            )
        if not (
            isinstance(self.dropout, str)
            and self.dropout == "auto"
            and self._accepts_auto_dropout
        ):
            _check_float("dropout", self.dropout, low=0.0, high=1.0, closed=True)
        _check_float("momentum", self.momentum, low=0.0, high=1.0, closed=True)
        _check_option("encoder", self.encoder, ENCODERS)
        _check_option("activation", self.activation, _ACTIVATIONS)
        _check_option("solver", self.solver, ("adam", "sgd"))
        _check_option("precision", self.precision, PRECISIONS)
        _check_option("loss", self.loss, ("mse", "bce"))
        _check_option(
            "learning_rate_schedule",
            self.learning_rate_schedule,
            ("auto", "constant", "cosine"),
        )
        if not isinstance(self.batch_norm, bool | np.bool_):
            raise TypeError(f"batch_norm must be a bool, got {self.batch_norm!r}.")
        _check_int("verbose", self.verbose, 0)
        for name in ("early_stopping", "warm_start"):
            if not isinstance(getattr(self, name), bool | np.bool_):
                raise TypeError(f"{name} must be a bool, got {getattr(self, name)!r}.")
        _check_float("validation_fraction", self.validation_fraction, low=0.0, high=1.0)
        _check_int("n_iter_no_change", self.n_iter_no_change, 1)
        if self.on_epoch_end is not None and not callable(self.on_epoch_end):
            raise TypeError(
                "on_epoch_end must be a callable on_epoch_end(info) or None, "
                f"got {type(self.on_epoch_end).__name__}."
            )
        _check_float("tol", self.tol, low=0.0, closed=True)
        if not (isinstance(self.prior, str | BasePrior) or callable(self.prior)):
            raise TypeError(
                "prior must be a string, a skaae.priors prior or a callable "
                f"f(n_samples, random_state); got {type(self.prior).__name__}."
            )

    def _training_targets(self, y, n_samples: int, classes=None) -> _Targets:
        """What ``y`` contributes to training (the transformer's rule).

        Labels condition the regulariser only with a prior that has modes;
        otherwise ``y`` is ignored, so the transformer can sit in a
        supervised pipeline. ``classes``: the classes fixed by an earlier
        call (``warm_start``, ``partial_fit``), or None.
        """
        if not self._uses_labels():
            return _Targets()
        if y is None:
            if classes is None:
                return _Targets()
            # A model conditioned on labels, continued without them.
            y = np.full(n_samples, -1)
        classes, codes, onehot = self._encode_labels(y, n_samples, classes)
        return _Targets(classes=classes, prior_labels=codes, conditions=onehot)

    def _extra_config(self, targets: _Targets, X: np.ndarray) -> dict:
        """Estimator-specific settings of the training loop."""
        return {}

    def _auto_regularization_ratio(self, conditioned: bool) -> float:
        """Regularisation / reconstruction learning-rate ratio of ``"auto"``."""
        # Measured on digits: without labels a discriminator faster than the
        # autoencoder destabilises the game and the codes collapse; with
        # labels the conditioned discriminator needs the faster pace to pull
        # each class onto its own mode.
        return _REG_LR_RATIO_CONDITIONED if conditioned else _REG_LR_RATIO_UNCONDITIONED

    def _auto_learning_rate_schedule(self, conditioned: bool) -> str:
        """The schedule ``learning_rate_schedule="auto"`` resolves to."""
        # Decay settles the label-conditioned game (measured on digits: every
        # class on its own mode, where constant rates let some seeds drift);
        # without labels it would help bounded priors but hurts the mixture,
        # so rates stay constant there.
        return "cosine" if conditioned else "constant"

    def _auto_hidden_layer_sizes(self) -> tuple[int, ...]:
        """The hidden layers ``hidden_layer_sizes="auto"`` stands for."""
        return (256, 256)

    def _auto_discriminator_hidden_layer_sizes(
        self, hidden: tuple[int, ...]
    ) -> tuple[int, ...] | None:
        """What ``discriminator_hidden_layer_sizes="auto"`` stands for, given
        the resolved ``hidden``; None where ``"auto"`` is not accepted."""
        return None

    # Whether regularization_learning_rate=0 (no discriminator, the codes'
    # moments matched to the prior after training) is accepted.
    _accepts_zero_regularization = False

    # Whether max_iter="auto" is accepted (see _auto_max_iter).
    _accepts_auto_max_iter = False

    def _auto_max_iter(self, n_batches: int) -> int:
        """What ``max_iter="auto"`` stands for, given the mini-batches of an
        epoch."""
        raise NotImplementedError

    def _max_iter(self, n_rows: int) -> int:
        """The epochs of this call, ``"auto"`` resolved from its rows."""
        if not isinstance(self.max_iter, str):
            return int(self.max_iter)
        return int(self._auto_max_iter(math.ceil(n_rows / self.batch_size)))

    # Whether dropout="auto" is accepted (see _auto_dropout).
    _accepts_auto_dropout = False

    def _auto_dropout(self, n_samples: int, n_features: int) -> float:
        """What ``dropout="auto"`` stands for, given the training set's shape."""
        raise NotImplementedError

    def _dropout(self, n_samples: int, n_features: int, continuing: bool) -> float:
        """The networks' dropout rate, ``"auto"`` resolved: from the rows of
        the first call (a continued fit keeps the fitted networks')."""
        if not isinstance(self.dropout, str):
            return float(self.dropout)
        if continuing:
            return self._session.architecture["dropout"]
        return float(self._auto_dropout(n_samples, n_features))

    def _input_noise(self, X, n_rows: int, continuing: bool) -> float:
        """Standard deviation of the noise on the encoder's inputs, in the
        data's units (subclass hook; none by default)."""
        return 0.0

    def _finish_fit(self, plan: _FitPlan) -> None:
        """Fitted attributes derived from the trained model (subclass hook)."""

    def _needs_neighbor_graph(self) -> bool:
        """Whether the fit needs the neighbour graph beyond the loss terms."""
        return False

    def _onnx_proba_map(self) -> np.ndarray | None:
        """Matrix from the head's softmax to ``predict_proba`` (subclass hook)."""
        return None

    def _n_init(self, n_samples: int) -> int:
        """How many models to train, keeping the best (subclass hook)."""
        return 1

    def _init_score(self, module, X_t: torch.Tensor, neighbors) -> float:
        """Unsupervised quality of one trained model, higher is better."""
        raise NotImplementedError

    def _uses_labels(self) -> bool:
        """Whether ``fit(X, y)`` conditions the regulariser on ``y``."""
        if isinstance(self.prior, str):
            return self.prior in _LABEL_CONDITIONAL_PRIORS
        return isinstance(self.prior, BasePrior) and self.prior._label_conditional

    def _encode_labels(self, y, n_samples: int, classes=None):
        """Classes, per-sample class index (-1 = unlabeled) and one-hots.

        With ``classes`` (fixed by an earlier call) the labels must be among
        them, and the classes stay as they are.
        """
        y = column_or_1d(y, warn=True)
        check_consistent_length(np.empty(n_samples), y)
        unlabeled = _unlabeled_mask(y)
        if classes is not None:
            if np.isin(-1, classes):
                unlabeled = np.zeros(n_samples, dtype=bool)
            unknown = ~np.isin(y[~unlabeled], classes)
            if unknown.any():
                raise ValueError(
                    f"y contains labels not in classes {list(classes)}: "
                    f"{np.unique(y[~unlabeled][unknown]).tolist()}. The classes "
                    "are fixed by the first fit or partial_fit call."
                )
            codes = np.full(n_samples, -1, dtype=np.int64)
            codes[~unlabeled] = np.searchsorted(classes, y[~unlabeled])
            onehot = np.zeros((n_samples, len(classes) + 1), dtype=np.float32)
            onehot[np.arange(n_samples), np.where(codes >= 0, codes, len(classes))] = 1
            return classes, codes, onehot
        if unlabeled.all():
            raise ValueError(
                "y has no labelled samples (every entry is -1, which marks an "
                "unlabeled sample); label some samples or fit without y."
            )
        labelled = y[~unlabeled]
        target_type = type_of_target(labelled, input_name="y")
        if target_type not in ("binary", "multiclass"):
            raise ValueError(
                f"Unknown label type: y must hold class labels (and -1 for "
                f"unlabeled samples); got a {target_type!r} target."
            )
        classes, index = np.unique(labelled, return_inverse=True)
        codes = np.full(n_samples, -1, dtype=np.int64)
        codes[~unlabeled] = index
        onehot = np.zeros((n_samples, len(classes) + 1), dtype=np.float32)
        onehot[np.arange(n_samples), np.where(codes >= 0, codes, len(classes))] = 1
        return classes, codes, onehot

    # -- fitting -----------------------------------------------------------
    def _fit(
        self,
        X,
        y=None,
        *,
        incremental: bool = False,
        classes=None,
        data_parallel: bool = False,
    ):
        """Fit from scratch, or continue (``warm_start``, ``partial_fit``).

        Input is checked before anything changes: a call that fails there
        leaves a fitted estimator as it was. A failure during training
        leaves no fitted attributes behind; an interruption (Ctrl-C) keeps
        the model of the last finished epoch, with a warning.
        ``data_parallel``: this process is one rank of a data-parallel fit
        (see :mod:`skaae.distributed`), and ``X`` its shard.
        """
        continuing = (incremental or self.warm_start) and self.__sklearn_is_fitted__()
        if not continuing:
            self._reset_fitted()
        plan = self._plan_fit(X, y, continuing, incremental, classes, data_parallel)
        try:
            self._run_fit(plan)
        except BaseException:
            self._reset_fitted()
            raise
        return self

    def _reset_fitted(self) -> None:
        for name in list(vars(self)):
            if name.endswith("_") and not name.startswith("__"):
                delattr(self, name)
        self.__dict__.pop("_session", None)

    def _validate_X_fit(self, X, reset: bool):
        X = validate_data(
            self,
            X,
            accept_sparse=self._accept_sparse,
            dtype=[np.float64, np.float32],
            reset=reset,
        )
        if sp.issparse(X):
            X = X.tocsr()
        # Two reductions, no temporary array: this runs on every fit.
        lowest, highest = (X.min(), X.max()) if X.size else (0.0, 0.0)
        if max(highest, -lowest) > np.finfo(np.float32).max:
            raise ValueError(
                "Input X has values too large for float32, the precision the "
                "networks train in; scale X first."
            )
        if self.loss == "bce" and (lowest < 0 or highest > 1):
            raise ValueError(
                "loss='bce' needs X in [0, 1]; scale X (e.g. with MinMaxScaler) "
                "or use loss='mse'."
            )
        return X

    def _plan_fit(
        self,
        X,
        y,
        continuing: bool,
        incremental: bool,
        classes,
        data_parallel: bool = False,
    ):
        """Check everything a call needs, before the model changes."""
        self._validate_params()
        X = self._validate_X_fit(X, reset=not continuing)
        n_samples = X.shape[0]
        hidden = self.hidden_layer_sizes
        if isinstance(hidden, str):
            if hidden != "auto":
                raise ValueError(
                    "hidden_layer_sizes must be 'auto', an int or a sequence of "
                    f"ints, got {hidden!r}."
                )
            hidden = self._auto_hidden_layer_sizes()
        hidden = _check_layer_sizes("hidden_layer_sizes", hidden)
        critic_hidden = self.discriminator_hidden_layer_sizes
        auto_critic = self._auto_discriminator_hidden_layer_sizes(hidden)
        if critic_hidden is None:
            critic_hidden = hidden
        elif (
            auto_critic is not None
            and isinstance(critic_hidden, str)
            and critic_hidden == "auto"
        ):
            critic_hidden = auto_critic
        else:
            critic_hidden = _check_layer_sizes(
                "discriminator_hidden_layer_sizes", critic_hidden
            )
        if continuing:
            device, known_classes = self.device_, self.classes_
        else:
            device = resolve_device(self.device)
            if data_parallel:
                device = rank_device(device)
            known_classes = self._first_call_classes(classes) if incremental else None
        parallel = DataParallel(device) if data_parallel else None
        if parallel is not None and y is not None and known_classes is None:
            # The classes are those of every rank's shard together.
            y_column = column_or_1d(y)
            known_classes = self._first_call_classes(
                parallel.union(y_column[~_unlabeled_mask(y_column)])
            )
        targets = self._training_targets(y, n_samples, known_classes)
        architecture = {
            "n_features_in_": X.shape[1],
            "n_components": self.n_components,
            "hidden_layer_sizes": hidden,
            "discriminator_hidden_layer_sizes": critic_hidden,
            "encoder": self.encoder,
            "activation": self.activation,
            "dropout": self._dropout(
                n_samples if parallel is None else parallel.sum_int(n_samples),
                X.shape[1],
                continuing,
            ),
            "batch_norm": bool(self.batch_norm),
            "loss": self.loss,
            "labels conditioning the prior": (
                0 if targets.conditions is None else targets.conditions.shape[1]
            ),
            "categories": targets.n_categories,
        }
        if continuing:
            self._check_same_architecture(architecture, incremental)
            prior, rng = self.prior_, self._session.rng
        else:
            n_classes = None if targets.classes is None else len(targets.classes)
            prior = _resolve_prior(self.prior, self.n_components, n_classes)
            rng = check_random_state(self.random_state)

        train_rows = np.arange(n_samples)
        validation = None
        early_stopping = self.early_stopping and not incremental
        if early_stopping:
            train_rows, val_rows = self._validation_split(targets, n_samples, rng)
        # Without a validation split the training rows are all of X: no copy.
        X_all, X = X, (X[train_rows] if early_stopping else X)
        lr = self.learning_rate_init
        reg_lr = self.regularization_learning_rate
        conditions = targets.conditions
        if reg_lr == "auto":
            reg_lr = self._auto_regularization_ratio(conditions is not None) * lr
        if reg_lr == 0 and (conditions is not None or targets.n_categories):
            raise ValueError(
                "regularization_learning_rate=0 switches the discriminator off, "
                "but the prior is conditioned on y or the model has a "
                "categorical head (n_clusters), and only the discriminator "
                "can shape those codes. Use a positive rate."
            )
        schedule = self.learning_rate_schedule
        if schedule == "auto":
            schedule = self._auto_learning_rate_schedule(conditions is not None)
        n_rows = X.shape[0] if parallel is None else parallel.sum_int(X.shape[0])
        config = TrainingConfig(
            max_iter=self._max_iter(n_rows),
            batch_size=self.batch_size,
            learning_rate=lr,
            regularization_learning_rate=reg_lr,
            solver=self.solver,
            momentum=self.momentum,
            loss=self.loss,
            lr_schedule=schedule,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            precision=check_precision(self.precision, device),
            data_parallel=parallel is not None,
            verbose=self.verbose,
            input_noise=self._input_noise(X, n_rows, continuing),
            **self._extra_config(targets, X),
        )
        if early_stopping:
            validation = self._validation_scorer(
                X_all[val_rows],
                None if targets.labels is None else targets.labels[val_rows],
                config,
                device,
                X_train=X,
            )
        n_init = 1 if continuing or incremental else self._n_init(n_rows)
        neighbors = graph_data = None
        if (
            config.neighbor_weight > 0
            or config.category_neighbor_weight > 0
            or config.consistency_weight > 0
            or n_init > 1
            or self._needs_neighbor_graph()
        ):
            # Built once per call, on the rows the call trains on (the
            # consistency term reads its radii from it); it also
            # scores the restarts. A data-parallel rank sees a thinner sample
            # of the same data: its k nearest rows reach as far as the
            # k * world_size nearest of all the rows, so it takes fewer, to
            # keep the neighbourhoods' reach (measured on digits, 2 ranks:
            # 5-NN 0.887 and 0.878 for seeds 0 and 1, against 0.885 and 0.882
            # in one process; 0.863 and 0.869 with the full k).
            n_neighbors = config.n_neighbors
            if parallel is not None:
                n_neighbors = max(1, round(n_neighbors * X.shape[0] / n_rows))
            graph_X = X
            if incremental and continuing and self._session.stream_sample is not None:
                # A chunk's own rows are a coarse sample of the data: its rows
                # find their neighbours among a sample of the earlier chunks
                # too (on digits in 3 chunks of 420 rows, 100 passes: 5-NN
                # 0.882 with the chunk's own graph against 0.912 for fit).
                graph_X = _stack_new_rows(X, self._session.stream_sample)
            neighbors = torch.as_tensor(
                nearest_neighbors(
                    graph_X,
                    n_neighbors,
                    random_state=0,
                    device=device,
                    # The rows kept from earlier chunks are neighbours only.
                    n_queries=None if graph_X is X else X.shape[0],
                )
            ).to(device)
            if graph_X is not X:
                graph_data = self._to_tensor(graph_X, device)
        data = TrainingData(
            X=self._to_tensor(X, device),
            prior_labels=(
                None
                if targets.prior_labels is None
                else targets.prior_labels[train_rows]
            ),
            conditions=(
                None
                if conditions is None
                else torch.as_tensor(conditions[train_rows]).to(device)
            ),
            labels=(
                None
                if targets.labels is None
                else torch.as_tensor(targets.labels[train_rows]).to(device)
            ),
            neighbors=neighbors,
            graph_X=graph_data,
        )
        return _FitPlan(
            X=X_all,
            data=data,
            config=config,
            prior=prior,
            rng=rng,
            device=device,
            classes=targets.classes,
            cluster_heads=targets.cluster_heads,
            architecture=architecture,
            n_init=n_init,
            continuing=continuing,
            incremental=incremental,
            validation=validation,
            parallel=parallel,
        )

    def _first_call_classes(self, classes):
        """Classes fixed by the first ``partial_fit`` call (subclass hook)."""
        if classes is None:
            return None
        return np.unique(column_or_1d(classes))

    def _check_same_architecture(self, architecture: dict, incremental: bool) -> None:
        fitted = self._session.architecture
        for name, value in architecture.items():
            if fitted[name] != value:
                how = "partial_fit" if incremental else "fit with warm_start=True"
                raise ValueError(
                    f"{how} continues the fitted model, but {name} is now "
                    f"{value!r} where the fitted model has {fitted[name]!r}. "
                    "Fit from scratch (warm_start=False) to change it."
                )

    def _validation_split(self, targets: _Targets, n_samples: int, rng):
        """Rows to train on and rows to hold out for early stopping."""
        if targets.labels is None:
            train, val = train_test_split(
                np.arange(n_samples),
                test_size=self.validation_fraction,
                random_state=rng,
            )
            if len(train) < 2 or len(val) < 1:
                raise ValueError(
                    f"The validation split of {n_samples} samples with "
                    f"validation_fraction={self.validation_fraction} leaves "
                    "too few samples to train or to validate on; lower "
                    "validation_fraction or set early_stopping=False."
                )
            return np.sort(train), np.sort(val)
        return self._labelled_validation_split(targets.labels, rng)

    def _labelled_validation_split(self, labels: np.ndarray, rng):
        """Stratified on the labelled rows; unlabelled rows all train."""
        labelled = np.flatnonzero(labels >= 0)
        try:
            train, val = train_test_split(
                labelled,
                test_size=self.validation_fraction,
                random_state=rng,
                stratify=labels[labelled],
            )
        except ValueError as exc:
            raise ValueError(
                f"early_stopping holds out validation_fraction="
                f"{self.validation_fraction} of the {len(labelled)} labelled "
                f"samples, stratified by class, and that split failed: {exc} "
                "Label more samples, change validation_fraction or set "
                "early_stopping=False."
            ) from None
        train = np.union1d(train, np.flatnonzero(labels < 0))
        return train, np.sort(val)

    def _validation_scorer(self, X_val, labels_val, config, device, X_train):
        """``validation(module) -> (score, records)`` for early stopping.

        The score is what :meth:`score` returns on the held-out rows: minus
        the mean reconstruction loss (subclasses may override). Adding the
        map term, on the held-out rows' own neighbour graph, stopped digits
        fits earlier and worse (5-NN accuracy 0.85 against 0.87; measured).
        """
        X_val_t = self._to_tensor(X_val, device)

        def validation(module):
            loss = self._mean_reconstruction_loss(module, X_val_t)
            return -loss, {VALIDATION_RECONSTRUCTION_KEY: loss}

        return validation

    def _mean_reconstruction_loss(self, module, X_t) -> float:
        total = 0.0
        for i in range(0, X_t.shape[0], _ENCODE_BATCH):
            xb = X_t[i : i + _ENCODE_BATCH]
            out = module.reconstruct(xb)
            total += reconstruction_loss(out, xb, self.loss).item() * xb.shape[0]
        return total / X_t.shape[0]

    def _run_fit(self, plan: _FitPlan) -> None:
        """Train as planned, then set every fitted attribute together."""
        fork_devices = [plan.device] if plan.device.type == "cuda" else []
        if plan.continuing:
            session = self._session
            module = self.module_
            session.config = plan.config
            candidates = [session]
        else:
            candidates = []
        parallel = plan.parallel
        for _ in range(1 if plan.continuing else plan.n_init):
            seed = int(plan.rng.randint(np.iinfo(np.int32).max))
            with torch.random.fork_rng(devices=fork_devices):
                torch.manual_seed(seed)
                if not plan.continuing:
                    module = self._build_module(plan)
                    rng = plan.rng
                    if parallel is not None:
                        # Same weights everywhere; each rank its own
                        # shuffles, dropout masks and prior draws.
                        parallel.broadcast_module(module)
                        torch.manual_seed(seed + parallel.rank)
                        rng = np.random.RandomState(
                            (seed + parallel.rank) % np.iinfo(np.int32).max
                        )
                    session = TrainingSession(
                        module, plan.config, prior=plan.prior, rng=rng
                    )
                    session.architecture = plan.architecture
                    candidates.append(session)
                session.run(
                    plan.data,
                    1 if plan.incremental else plan.config.max_iter,
                    schedule=not plan.incremental,
                    validation=plan.validation,
                    on_epoch_end=self.on_epoch_end,
                )
            if session.interrupted:
                break
        interrupted = any(s.interrupted for s in candidates)
        if len(candidates) > 1:
            scores = [
                self._init_score(s.model, plan.data.X, plan.data.neighbors)
                for s in candidates
            ]
            if parallel is not None:
                scores = parallel.mean(scores)
            session = candidates[int(np.argmax(scores))]
        module = session.model
        if not plan.config.has_discriminator:
            self._match_prior_moments(module, plan)
        distance, reference = self._prior_match(
            module, plan.data.X, plan.prior, plan.data.prior_labels, plan.rng
        )
        if parallel is not None:
            agreed = parallel.mean([distance, reference])
            distance, reference = float(agreed[0]), float(agreed[1])
        history = session.history_arrays()
        # Fitted attributes are set together, once training has succeeded.
        self.module_ = module
        self._session = session
        self.device_ = plan.device
        self.precision_ = plan.config.precision
        self.prior_ = plan.prior
        self.classes_ = plan.classes
        self.history_ = history
        self.n_iter_ = session.n_epochs
        self.prior_distance_ = distance
        self.prior_distance_reference_ = reference
        if self.early_stopping and not plan.incremental:
            self.validation_scores_ = np.asarray(session.validation_scores)
            self.best_validation_score_ = session.best_validation_score
        elif not plan.continuing:
            self.validation_scores_ = None
            self.best_validation_score_ = None
        self._n_features_out = self.n_components
        self._finish_fit(plan)
        if interrupted:
            restarts = (
                f" (the best of the {len(candidates)} restarts run)"
                if len(candidates) > 1
                else ""
            )
            warnings.warn(
                f"Training interrupted by the user: {type(self).__name__} keeps "
                f"the model of its last finished epoch{restarts}, "
                f"{session.n_epochs} epochs in all. Fit again with "
                "warm_start=True to continue.",
                UserWarning,
                stacklevel=4,
            )
            return
        if plan.incremental:
            if plan.data.neighbors is not None:
                session.remember_rows(plan.X, _STREAM_SAMPLE_ROWS)
            # One pass over a chunk is not a finished fit: no verdict yet.
            return
        if (
            self.early_stopping
            and not session.stopped_early
            and not session.stopped_by_callback
        ):
            warnings.warn(
                f"Early stopping did not trigger within max_iter="
                f"{plan.config.max_iter} epochs: the validation score was still "
                "improving. Consider increasing max_iter.",
                ConvergenceWarning,
                stacklevel=4,
            )
        if plan.config.has_discriminator and "discriminator_accuracy" not in history:
            # Every epoch so far was pretraining: no game has been played, so
            # the codes' distance to the prior says nothing about it.
            warnings.warn(
                f"All {self.n_iter_} epochs run so far were pretraining "
                f"(pretrain_iter={plan.config.pretrain_iter}): no discriminator "
                "has shaped the codes yet. Set max_iter above pretrain_iter, or "
                "fit again with warm_start=True to continue.",
                ConvergenceWarning,
                stacklevel=4,
            )
        elif reference > 0 and distance > _PRIOR_MISMATCH_FACTOR * reference:
            if not plan.config.has_discriminator:
                judged = (
                    "There is no discriminator (regularization_learning_rate=0): "
                    "the codes have the prior's mean and covariance, not its "
                    "shape; a positive rate lets a discriminator shape them. "
                )
            else:
                judged = (
                    "The final discriminator accuracy is "
                    f"{history['discriminator_accuracy'][-1]:.2f} (0.5 at a match). "
                )
            warnings.warn(
                f"The codes do not match the prior: prior_distance_={distance:.4g} "
                f"is {distance / reference:.0f} times prior_distance_reference_="
                f"{reference:.2g}, what a perfect match scores. {judged}"
                f"Try {self._mismatch_remedies(plan.X, plan.config.lr_schedule)}; "
                "see the user guide.",
                ConvergenceWarning,
                stacklevel=4,
            )

    def _build_module(self, plan: _FitPlan) -> AdversarialAutoencoder:
        arch = plan.architecture
        return AdversarialAutoencoder(
            arch["n_features_in_"],
            self.n_components,
            arch["hidden_layer_sizes"],
            arch["discriminator_hidden_layer_sizes"],
            encoder=self.encoder,
            n_conditions=arch["labels conditioning the prior"],
            n_categories=arch["categories"],
            cluster_heads=plan.cluster_heads,
            output="logits" if self.loss == "bce" else "linear",
            activation=self.activation,
            dropout=arch["dropout"],
            batch_norm=self.batch_norm,
        ).to(plan.device)

    def _mismatch_remedies(self, X: np.ndarray, schedule: str) -> str:
        """What to change, among what the current settings leave open."""
        remedies = []
        if X.size and max(X.max(), -X.min()) > 10:
            remedies.append("scaling the features (e.g. StandardScaler)")
        if schedule != "cosine":
            remedies.append("learning_rate_schedule='cosine'")
        if self.loss == "bce":
            remedies.append("loss='mse'")
        remedies.append("more epochs (max_iter)")
        return ", ".join(remedies)

    @staticmethod
    def _to_tensor(A, device: torch.device, dtype=torch.float32):
        """Rows on the device: a dense tensor, or :class:`SparseRows`."""
        if sp.issparse(A):
            return SparseRows(A, device, dtype)
        A = np.asarray(A)
        if (
            device.type == "cpu"
            and dtype == torch.float32
            and A.dtype == np.float32
            and A.flags.c_contiguous
            and A.flags.writeable
        ):
            # Shared, not copied (62 MB and 0.03-0.06 s on 20,000 images):
            # training only reads its rows. Read-only inputs (memmaps) are
            # copied, as torch does not share memory with them.
            return torch.from_numpy(A)
        return torch.tensor(A, dtype=dtype, device=device)

    def _match_prior_moments(self, module, plan: _FitPlan) -> None:
        """Give the training rows' codes the prior's mean and covariance.

        What stands in for the discriminator when it is off
        (``regularization_learning_rate=0``): the affine map ``z' = M (z -
        m) + mu`` with ``M = S_prior^(1/2) S_codes^(-1/2)`` (symmetric roots,
        so the map turns the codes as little as possible), folded into the
        networks' weights: ``transform``, decoding and ONNX export need
        nothing more.
        """
        module.eval()
        codes = self._map_batches(module.encode, plan.data.X)
        n, d = codes.shape
        moments = np.concatenate([codes.mean(0), (codes.T @ codes).ravel() / n])
        if plan.parallel is not None:
            # The ranks' shards differ by at most a few rows: equal weights.
            moments = plan.parallel.mean(moments)
        mean = moments[:d]
        covariance = moments[d:].reshape(d, d) - np.outer(mean, mean)
        prior = plan.prior
        if isinstance(prior, GaussianPrior):
            prior_mean = np.zeros(d)
            prior_covariance = prior.std**2 * np.eye(d)
        else:
            draws = prior.sample(_PRIOR_MOMENT_DRAWS, random_state=0)
            prior_mean, prior_covariance = draws.mean(0), np.cov(draws.T).reshape(d, d)

        def root(matrix, power):
            values, vectors = np.linalg.eigh(matrix)
            # A collapsed direction keeps a finite (huge) scale.
            values = np.maximum(values, 1e-12 * max(values.max(), 1e-300))
            return (vectors * values**power) @ vectors.T

        matrix = root(prior_covariance, 0.5) @ root(covariance, -0.5)
        offset = prior_mean - matrix @ mean
        as_tensor = partial(torch.as_tensor, dtype=torch.float32, device=plan.device)
        module.reparametrize_codes(as_tensor(matrix), as_tensor(offset))

    @classmethod
    def _prior_match(cls, module, X_t, prior, prior_labels, rng):
        """Energy distance of codes to prior draws, and of prior to itself.

        On a random subset of at most ``_MAX_DIAGNOSTIC_SAMPLES`` training
        samples: the statistic costs quadratic time.
        """
        n = X_t.shape[0]
        keep = np.sort(rng.permutation(n)[: min(n, _MAX_DIAGNOSTIC_SAMPLES)])
        module.eval()
        # The style codes (not a cluster-head representation) meet the prior.
        rows = X_t[torch.as_tensor(keep, device=X_t.device)]
        codes = cls._map_batches(module.encode, rows)
        labels = None if prior_labels is None else prior_labels[keep]
        m = len(keep)
        draws = prior.sample(m, y=labels, random_state=rng)
        other = prior.sample(m, y=labels, random_state=rng)
        # What a perfect match scores on average: for two independent samples
        # with the same labels, the statistic's mean is 2 / m times the mean
        # distance between paired draws (only the i == j pairs differ).
        reference = 2.0 * np.linalg.norm(draws - other, axis=1).mean() / m
        return energy_distance(codes, draws), float(reference)

    @staticmethod
    def _map_batches(fn, A_t: torch.Tensor) -> np.ndarray:
        """``fn`` over fixed-size row blocks of ``A_t``, as float64.

        Every block has ``_PREDICT_BLOCK`` rows, the last one padded with
        zeros, so that a row's output does not depend on the other rows.
        """
        parts = []
        for i in range(0, A_t.shape[0], _PREDICT_BLOCK):
            block = A_t[i : i + _PREDICT_BLOCK]
            n_rows = block.shape[0]
            if n_rows < _PREDICT_BLOCK:
                padding = block.new_zeros((_PREDICT_BLOCK - n_rows, *block.shape[1:]))
                block = torch.cat([block, padding])
            parts.append(fn(block)[:n_rows])
        return torch.cat(parts).cpu().numpy().astype(np.float64)

    # -- using the fitted model -------------------------------------------
    def _check_X(self, X):
        check_is_fitted(self)
        return validate_data(
            self,
            X,
            accept_sparse=self._accept_sparse,
            dtype=[np.float64, np.float32],
            reset=False,
        )

    def _to_device(self, A):
        if sp.issparse(A):
            A = A.tocsr()
        return self._to_tensor(A, self.device_, torch.float32)

    def _encode(self, X: np.ndarray) -> np.ndarray:
        """What ``transform`` returns: codes (``W_C y + z`` with cluster heads)."""
        self.module_.eval()
        codes = self._map_batches(self.module_.embed, self._to_device(X))
        return codes.astype(X.dtype, copy=False)

    def _category_proba(self, X) -> np.ndarray:
        """Softmax of the category head (models with one)."""
        X = self._check_X(X)
        self.module_.eval()
        return self._map_batches(self.module_.predict_proba, self._to_device(X))

    @torch.no_grad()
    def _reconstruction_score(self, X) -> float:
        """Minus the mean reconstruction loss of ``X`` (the training loss)."""
        X_t = self._to_device(self._check_X(X))
        self.module_.eval()
        return -self._mean_reconstruction_loss(self.module_, X_t)

    def _decode(self, Z: np.ndarray) -> np.ndarray:
        self.module_.eval()
        return self._map_batches(self.module_.decode, self._to_device(Z))

    def _check_codes(self, Z) -> np.ndarray:
        check_is_fitted(self)
        Z = check_array(Z, dtype=[np.float64, np.float32], input_name="Z")
        if Z.shape[1] != self.n_components:
            raise ValueError(
                f"Z has {Z.shape[1]} features, but {type(self).__name__} has "
                f"n_components={self.n_components}."
            )
        return Z

    def _prior_modes_for(self, y, n_samples: int) -> np.ndarray | None:
        """Map class labels given to ``sample`` onto prior modes."""
        if y is None:
            return None
        if self.classes_ is None:
            raise ValueError(
                "y can only be given to sample() when the estimator was fitted "
                "with labels, and with a prior that has modes or n_clusters."
            )
        y = column_or_1d(y)
        if y.shape[0] != n_samples:
            raise ValueError(f"y has {y.shape[0]} entries but n_samples={n_samples}.")
        unlabeled = _unlabeled_mask(y)
        unknown = ~np.isin(y[~unlabeled], self.classes_)
        if unknown.any():
            raise ValueError(
                f"y contains labels not seen during fit: "
                f"{np.unique(y[~unlabeled][unknown]).tolist()}."
            )
        modes = np.full(n_samples, -1, dtype=np.int64)
        modes[~unlabeled] = np.searchsorted(self.classes_, y[~unlabeled])
        return modes

    # -- pickling across devices -----------------------------------------
    # -- serving -----------------------------------------------------------
    def export_onnx(self, path, *, part: str = "encoder") -> str:
        """Write the encoder or the decoder as an ONNX model, for serving.

        The graph runs in float32 with a dynamic batch dimension; its outputs
        match the estimator's (which also predicts in float32) to about 1e-6. It
        is written with ``torch.onnx``'s dynamo exporter, or with the
        TorchScript exporter where dynamo fails. Needs the ``onnx`` extra
        (``onnx``, ``onnxscript``; ``onnxruntime`` to run the file).

        Parameters
        ----------
        path : str or path-like
            File to write.
        part : {"encoder", "decoder"}, default="encoder"
            ``"encoder"``: input ``"X"`` (float32, ``(batch, n_features_in_)``);
            output ``"codes"``, what :meth:`transform` returns, and for a model
            with a category head (:class:`AAEClassifier`,
            :class:`AAEClusterer`) also ``"proba"``, what ``predict_proba``
            returns. ``"decoder"``: input ``"decoder_input"``, what the decoder
            reads (the codes; ``[one-hot y, z]`` for the classifier and the
            clusterer), output ``"X"``, as ``inverse_transform`` / ``decode``.

        Returns
        -------
        exporter : {"dynamo", "torchscript"}
            The ``torch.onnx`` exporter that wrote the file.
        """
        check_is_fitted(self)
        _check_option("part", part, ONNX_PARTS)
        return write_onnx(self.module_, path, part, proba_map=self._onnx_proba_map())

    # The pickled state holds no torch objects: the networks as the plain
    # values that rebuild them plus their weights as NumPy arrays, and the
    # device as a string. It loads under any torch version that builds the
    # same networks, and skops can check every type in it.
    def __getstate__(self):
        state = super().__getstate__()
        if "module_" in state:
            state = dict(state)
            state["module_"] = {
                "init_kwargs": self.module_.init_kwargs,
                # float32 is lossless: the networks train and predict in
                # float32.
                "weights": {
                    name: (
                        tensor.detach().cpu().float().numpy()
                        if tensor.is_floating_point()
                        else tensor.detach().cpu().numpy()
                    )
                    for name, tensor in self.module_.state_dict().items()
                },
            }
            state["device_"] = str(self.device_)
        return state

    def __setstate__(self, state):
        state = dict(state)
        stored = state.get("module_")
        if isinstance(stored, dict):
            device = torch.device(state["device_"])
            if device.type == "cuda" and not (
                torch.cuda.is_available()
                and (device.index or 0) < torch.cuda.device_count()
            ):
                # Fitted on a GPU that this machine lacks: the CPU.
                device = torch.device("cpu")
            module = AdversarialAutoencoder(**stored["init_kwargs"])
            module.load_state_dict(
                {name: torch.from_numpy(w) for name, w in stored["weights"].items()}
            )
            module.eval()
            state["module_"] = module.to(device)
            state["device_"] = device
        super().__setstate__(state)
        if "_session" in state:
            self._session.attach(self.module_)


def _stack_new_rows(A, B):
    """The rows of ``A`` then those of ``B`` not in ``A``: a row must not find
    itself as a neighbour."""
    in_A = set(row_keys(A))
    return stack_rows(A, B[np.array([key not in in_A for key in row_keys(B)])])
