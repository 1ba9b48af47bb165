"""The training loop shared by every estimator.

One mini-batch step runs the paper's phases in order:

1. reconstruction: encoder and decoder take one step on the reconstruction
   loss;
2. regularisation: the discriminator takes one step at telling prior draws
   from codes, then the encoder (as generator) takes one step at fooling it
   (for clustering, plus a penalty that keeps the categories balanced);
3. classification (models with a categorical head and some labels): the
   encoder takes one cross-entropy step on a mini-batch of labelled samples,
   drawn from their own stream so that a few labels among many samples still
   get a batch every step.

With a categorical head ``y`` (the paper's semi-supervised and clustering
models) the decoder reads ``[y, z]`` and a second discriminator matches ``y``
to a categorical prior; the generator step fools both.

The step is kept lean (``../shared/reference/performance.md``): data and prior
draws live on the device for the whole fit, one encoder forward serves both
regularisation updates (exact, since the discriminator step does not touch the
encoder), prior and fake codes go through the discriminator in one forward,
the sigmoid is folded into the logits loss, the discriminator is frozen during
the generator step, optimisers are fused where torch offers it, and losses are
accumulated on the device and read back once per epoch.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ._model import AdversarialAutoencoder
from ._parallel import DataParallel
from .priors import BasePrior, CategoricalPrior

RECONSTRUCTION_KEY = "reconstruction"
HISTORY_KEYS = (
    RECONSTRUCTION_KEY,
    "discriminator",
    "generator",
    "discriminator_accuracy",
)
# Extra per-epoch records of models with a categorical head.
CATEGORY_HISTORY_KEYS = (
    "category_discriminator",
    "category_discriminator_accuracy",
)
CLASSIFICATION_KEY = "classification"
NEIGHBOR_KEY = "neighbor"
# Virtual adversarial divergence of the category head (see
# ``TrainingConfig.consistency_weight``).
CONSISTENCY_KEY = "consistency"
# Per-epoch reconstruction loss on the rows early stopping holds out.
VALIDATION_RECONSTRUCTION_KEY = "validation_reconstruction"
# Per-epoch share of held-out rows' input-space neighbours kept by the codes.
VALIDATION_NEIGHBOR_RECALL_KEY = "validation_neighbor_recall"


@dataclass
class TrainingConfig:
    """Settings of the training loop (validated by the estimator)."""

    max_iter: int
    batch_size: int
    learning_rate: float
    regularization_learning_rate: float
    solver: str = "adam"
    momentum: float = 0.9
    beta_1: float = 0.9
    regularization_beta_1: float = 0.5
    loss: str = "mse"
    lr_schedule: str = "constant"
    classification_learning_rate: float | None = None
    decode_known_labels: bool = False
    category_balance: float = 0.0
    cluster_head_distance: float = 0.0
    neighbor_weight: float = 0.0
    category_neighbor_weight: float = 0.0
    neighbor_scale: float = 1.0
    # The map term on codes divided by their batch's root mean square
    # spread (see neighbor_map_loss).
    neighbor_map_scale_free: bool = False
    # The similarity's tail: q = 1 / (1 + (d / s)^(2 b)); 1 is the
    # Student-t kernel, below 1 heavier tails (see neighbor_map_loss).
    neighbor_exponent: float = 1.0
    n_neighbors: int = 15
    # Graph neighbours drawn for each row of a step: the map term pulls the
    # row towards each of them (one encoder forward for all).
    n_positives: int = 1
    n_negatives: int = 5
    pretrain_iter: int = 0
    discriminator_noise: float = 0.0
    # Standard deviation of the Gaussian noise added to the encoder's inputs
    # in the reconstruction phase (in the data's units); the decoder still
    # reconstructs the clean rows.
    input_noise: float = 0.0
    # Virtual adversarial training of the category head (Miyato et al.;
    # IMSAT's radius): each row moved by ``consistency_radius`` times its
    # distance to its 10th graph neighbour, in the direction that changes
    # the head most, should keep its category distribution. Needs the
    # neighbour graph.
    consistency_weight: float = 0.0
    consistency_radius: float = 0.25
    # Mixup of the classification phase (Zhang et al.): each step trains the
    # head on convex mixtures of pairs of labelled rows, with the same
    # mixture of their labels, the weight drawn from Beta(alpha, alpha);
    # 0 trains on the rows themselves.
    mixup_alpha: float = 0.0
    # Label smoothing of the classification phase's cross-entropy.
    label_smoothing: float = 0.0
    # Weight of the cross-entropy of the head on the labelled rows of each
    # reconstruction batch, added to the reconstruction phase's loss: a
    # second supervised update per step that reuses the phase's encoder
    # pass, so it costs next to nothing.
    reconstruction_label_weight: float = 0.0
    precision: str = "float32"
    # Average gradients and records over the ranks of torch.distributed's
    # default process group (see ``_parallel``).
    data_parallel: bool = False
    tol: float = 1e-4
    n_iter_no_change: int = 10
    verbose: int = 0

    @property
    def has_discriminator(self) -> bool:
        """False at a regularisation rate of 0: no regularisation phase (the
        estimator matches the codes' moments to the prior after training)."""
        return self.regularization_learning_rate > 0


class TrainingDivergedError(FloatingPointError):
    """A loss became NaN or infinite during training."""


def _make_optimizer(params, lr: float, beta_1: float, config: TrainingConfig, device):
    params = list(params)
    if config.solver == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=config.momentum, nesterov=True)
    # The fused kernel is several times faster than the per-tensor loop.
    fused = device.type in ("cpu", "cuda")
    return torch.optim.Adam(params, lr=lr, betas=(beta_1, 0.999), fused=fused)


def reconstruction_loss(output: torch.Tensor, x: torch.Tensor, loss: str):
    """Mean reconstruction loss per input feature."""
    if loss == "bce":
        return F.binary_cross_entropy_with_logits(output, x)
    return F.mse_loss(output, x)


def neighbor_map_loss(
    codes: torch.Tensor,
    neighbor_codes: torch.Tensor,
    scale: float,
    n_negatives: int,
    scale_free: bool = False,
    exponent: float = 1.0,
) -> torch.Tensor:
    """Cross-entropy of a heavy-tailed similarity on graph edges and non-edges.

    ``neighbor_codes`` holds ``p`` graph neighbours' codes for each row of
    ``codes``, row-major (row ``i``'s are rows ``i * p`` to ``i * p + p - 1``).
    A row and a graph neighbour should be similar, ``q = 1 / (1 + (d / s)^2)``
    close to 1; a row and the other rows of the batch dissimilar. The loss of
    parametric UMAP with ``a = b = 1`` (parametric t-SNE's Student-t kernel),
    on codes divided by ``scale`` so that neighbourhoods stay small next to
    the prior's spread. Every other row of the batch is a negative, weighted
    as ``n_negatives`` per edge: measured on digits, all pairs converge about
    twice as fast as ``n_negatives`` sampled ones (5-NN accuracy 0.89 against
    0.72 after 50 epochs).

    ``scale_free``: both sets of codes are first divided by the root mean
    square spread of ``codes`` (per dimension, over the batch), so that the
    loss does not change when every code is scaled: it arranges the codes
    and leaves their scale to the discriminator, instead of fighting it
    over the scale.

    ``exponent`` ``b``: the similarity is ``1 / (1 + (d / s)^(2 b))``, UMAP's
    form (its ``b``; ``a`` is ``s^(-2 b)`` here). Below 1 its tail is heavier
    than Student-t's, so rows that are not neighbours are pushed further
    apart relative to the neighbours' distances.
    """
    if scale_free:
        spread = codes.var(0).mean().sqrt().clamp_min(1e-6)
        codes, neighbor_codes = codes / spread, neighbor_codes / spread
    scaled = codes / scale
    per_row = neighbor_codes.shape[0] // codes.shape[0]
    d2 = (scaled.repeat_interleave(per_row, 0) - neighbor_codes / scale).pow(2).sum(1)
    if exponent != 1.0:
        # The floor keeps the gradient of d^(2b) finite at d = 0.
        d2 = d2.clamp(min=1e-12).pow(exponent)
    attraction = torch.log1p(d2).mean()
    m = codes.shape[0]
    if m < 2:
        return attraction
    d2_all = torch.cdist(scaled, scaled).pow(2)
    off_diagonal = ~torch.eye(m, dtype=torch.bool, device=codes.device)
    # -log(1 - q) = log(1 + 1 / d^2); the floor keeps duplicates finite.
    d2_off = d2_all[off_diagonal].clamp(min=1e-4)
    if exponent != 1.0:
        d2_off = d2_off.pow(exponent)
    repulsion = torch.log1p(1.0 / d2_off).mean()
    return attraction + n_negatives * repulsion


def category_agreement_loss(
    proba: torch.Tensor, neighbor_proba: torch.Tensor
) -> torch.Tensor:
    """Minus the log-probability that a row and its neighbour share a category."""
    return -torch.log((proba * neighbor_proba).sum(1).clamp(min=1e-8)).mean()


@dataclass
class TrainingData:
    """The rows one call trains on, on the model's device.

    ``X``: a float tensor, or :class:`SparseRows`; ``prior_labels``: mode of
    each row for the prior draws (-1: whole prior); ``conditions``: one-hot
    labels (with the "unlabeled" slot) shown to the discriminator;
    ``labels``: class index of each row (-1: unlabeled) for a model with a
    categorical head; ``neighbors``: indices of each row's graph neighbours.
    ``graph_X``: the rows ``neighbors`` indexes, when they are more than
    ``X``: ``X`` first, then rows kept from earlier ``partial_fit`` calls, so
    that a stream of small chunks finds neighbours as a fit on all the rows
    does (``neighbors`` still has a row for each row of ``X`` only, and an
    epoch passes over ``X`` only).
    """

    X: torch.Tensor | SparseRows
    prior_labels: np.ndarray | None = None
    conditions: torch.Tensor | None = None
    labels: torch.Tensor | None = None
    neighbors: torch.Tensor | None = None
    graph_X: torch.Tensor | SparseRows | None = None

    @property
    def graph_rows(self) -> torch.Tensor | SparseRows:
        """The rows the neighbour graph was built on."""
        return self.X if self.graph_X is None else self.graph_X


class SparseRows:
    """A CSR matrix on the device whose rows are gathered into dense blocks.

    Indexing with a tensor of row indices (or a slice) returns those rows as
    a dense ``(m, n_features)`` tensor, so sparse input (one-hot encodings,
    TF-IDF) trains without ever densifying the whole matrix.
    """

    def __init__(self, A, device: torch.device, dtype=torch.float32) -> None:
        A = A.tocsr()
        self.shape = A.shape
        self.device = torch.device(device)
        self.dtype = dtype
        self._indptr = torch.as_tensor(A.indptr.astype(np.int64), device=device)
        self._indices = torch.as_tensor(A.indices.astype(np.int64), device=device)
        self._values = torch.as_tensor(A.data, dtype=dtype, device=device)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows) -> torch.Tensor:
        if isinstance(rows, slice):
            rows = torch.arange(*rows.indices(self.shape[0]), device=self.device)
        rows = torch.as_tensor(rows, device=self.device)
        starts = self._indptr[rows]
        counts = self._indptr[rows + 1] - starts
        out_row = torch.repeat_interleave(
            torch.arange(rows.shape[0], device=self.device), counts
        )
        # Position of every stored entry of the selected rows in the CSR arrays.
        first = torch.repeat_interleave(starts - (counts.cumsum(0) - counts), counts)
        pos = first + torch.arange(out_row.shape[0], device=self.device)
        out = torch.zeros(
            rows.shape[0], self.shape[1], dtype=self.dtype, device=self.device
        )
        out.index_put_(
            (out_row, self._indices[pos]), self._values[pos], accumulate=True
        )
        return out

    def to(self, dtype) -> SparseRows:
        """The same rows, gathered in another floating dtype."""
        copy = object.__new__(SparseRows)
        copy.__dict__.update(self.__dict__)
        copy.dtype = dtype
        copy._values = self._values.to(dtype)
        return copy

    def double(self) -> SparseRows:
        """The same rows in float64, as ``Tensor.double`` gives dense rows."""
        return self.to(torch.float64)


def row_keys(A) -> list[bytes]:
    """A digest of each row's float32 values (dense or SciPy sparse ``A``)."""
    if sp.issparse(A):
        A = sp.csr_matrix(A, dtype=np.float32)
        A.sum_duplicates()  # canonical: sorted indices, no repeats
        return [
            hashlib.blake2b(
                A.indices[a:b].tobytes() + A.data[a:b].tobytes(), digest_size=16
            ).digest()
            for a, b in zip(A.indptr[:-1], A.indptr[1:], strict=True)
        ]
    A = np.ascontiguousarray(A, dtype=np.float32)
    return [hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in A]


def stack_rows(A, B):
    """The rows of ``A`` then those of ``B``: dense in ``A``'s dtype, or CSR if
    either is sparse."""
    if sp.issparse(A) or sp.issparse(B):
        return sp.vstack([A, B], format="csr")
    return np.concatenate([A, np.asarray(B, dtype=A.dtype)])


def _to_numpy(value):
    """A copy of a (nested) optimiser state with NumPy arrays for tensors."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy().copy()
    if isinstance(value, dict):
        return {k: _to_numpy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_to_numpy(v) for v in value)
    return value


def _to_torch(value):
    """Inverse of :func:`_to_numpy` (the optimiser moves tensors on load)."""
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value.copy())
    if isinstance(value, dict):
        return {k: _to_torch(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_to_torch(v) for v in value)
    return value


def _clone_state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


class TrainingSession:
    """One model's training, and everything about it that outlives a call.

    The mini-batch loop lives in :meth:`run`; the session keeps what a later
    call needs to continue where the last one stopped: the optimisers (their
    moment estimates), the number of epochs run (which drives pretraining),
    the per-epoch history, the random state of the prior draws and the
    early-stopping bookkeeping. ``fit`` runs one session from scratch,
    ``warm_start`` and ``partial_fit`` run more epochs of the same session,
    and an interrupted call rolls the model back to its last finished epoch.

    The model is not pickled with the session (the estimator stores it and
    :meth:`attach` hands it back). The optimisers' state is, as NumPy
    arrays: a model that is pickled between two ``partial_fit`` calls (as
    Dask does when it moves a model between workers) trains on exactly as
    one that is not.

    Parameters
    ----------
    model : AdversarialAutoencoder
        The networks, on their device, in float32.
    config : TrainingConfig
        Settings of the loop; a later call may bring new ones (learning
        rates, epochs), see :meth:`run`.
    prior : BasePrior
        Prior of the codes.
    rng : RandomState
        Draws the prior samples and the seeds of torch's generator.
    """

    def __init__(
        self,
        model: AdversarialAutoencoder,
        config: TrainingConfig,
        *,
        prior: BasePrior,
        rng: np.random.RandomState,
    ) -> None:
        self.model = model
        self.config = config
        self.prior = prior
        self.rng = rng
        self.n_epochs = 0
        self.history: dict[str, list[float]] = {}
        self.validation_scores: list[float] = []
        self.best_validation_score: float | None = None
        self.best_epoch: int | None = None
        self.stopped_early = False
        self.interrupted = False
        self.stopped_by_callback = False
        self._best_state: dict[str, torch.Tensor] | None = None
        # partial_fit: a sample of the rows of the calls so far, and how many
        # rows it was drawn from (see remember_rows).
        self.stream_sample = None
        self.rows_streamed = 0
        self._optimizers: dict[str, torch.optim.Optimizer] | None = None
        self._optimizer_states: dict[str, dict] = {}
        self._parallel: DataParallel | None = None
        heads = model.cluster_heads
        if heads is not None:
            # Adam moves a parameter by about the learning rate per step:
            # heads start and move at the scale of the distance between them.
            with torch.no_grad():
                heads.mul_(self._head_scale())

    # -- state that outlives a call ------------------------------------------
    def __getstate__(self):
        state = dict(vars(self))
        state["model"] = None
        # The optimisers' state goes as NumPy arrays (no torch objects in a
        # pickle). It triples the file, but without it a model pickled
        # between two partial_fit calls would restart its moment estimates
        # and train differently. The best-epoch weights only matter within
        # a call.
        optimizer_states = dict(self._optimizer_states)
        if self._optimizers is not None:
            optimizer_states.update(
                {name: opt.state_dict() for name, opt in self._optimizers.items()}
            )
        state["_optimizer_states"] = {
            name: _to_numpy(opt_state) for name, opt_state in optimizer_states.items()
        }
        state["_optimizers"] = None
        state["_best_state"] = None
        state["_parallel"] = None
        return state

    def attach(self, model: AdversarialAutoencoder) -> None:
        """Hand the model back after unpickling; optimisers rebuild lazily."""
        if self._optimizers is not None:
            self._optimizer_states = {
                name: opt.state_dict() for name, opt in self._optimizers.items()
            }
            self._optimizers = None
        self.model = model

    @property
    def parallel(self) -> DataParallel | None:
        """The ranks' collectives in a data-parallel run, else None."""
        if not self.config.data_parallel:
            return None
        if self._parallel is None:
            device = next(self.model.parameters()).device
            self._parallel = DataParallel(device)
        return self._parallel

    def history_arrays(self) -> dict[str, np.ndarray]:
        return {key: np.asarray(values) for key, values in self.history.items()}

    def _head_scale(self) -> float:
        return max(self.config.cluster_head_distance, 1.0)

    def _param_groups(self) -> dict[str, list]:
        """Parameters of each optimiser, in a fixed order."""
        model = self.model
        ae = list(model.encoder.parameters()) + list(model.decoder.parameters())
        if model.cluster_heads is not None:
            ae = [{"params": ae}, {"params": [model.cluster_heads]}]
        critics = [model.discriminator]
        if model.category_discriminator is not None:
            critics.append(model.category_discriminator)
        groups = {
            "autoencoder": ae,
            "discriminator": [p for c in critics for p in c.parameters()],
            "generator": list(model.encoder.parameters()),
        }
        if model.n_categories:
            groups["classifier"] = list(model.encoder.parameters())
        return groups

    def _learning_rates(self) -> dict[str, list[float]]:
        """Rate of each optimiser's parameter groups under the current config."""
        config = self.config
        lr, reg_lr = config.learning_rate, config.regularization_learning_rate
        ae = [lr]
        if self.model.cluster_heads is not None:
            ae = [lr, lr * self._head_scale()]
        return {
            "autoencoder": ae,
            "discriminator": [reg_lr],
            "generator": [reg_lr],
            "classifier": [config.classification_learning_rate or lr],
        }

    def _optimizer(self, name: str) -> torch.optim.Optimizer:
        if self._optimizers is None:
            self._optimizers = {}
        if name not in self._optimizers:
            config = self.config
            beta = (
                config.regularization_beta_1
                if name in ("discriminator", "generator")
                else config.beta_1
            )
            device = next(self.model.parameters()).device
            opt = _make_optimizer(self._param_groups()[name], 1.0, beta, config, device)
            if name in self._optimizer_states:
                opt.load_state_dict(_to_torch(self._optimizer_states.pop(name)))
            self._optimizers[name] = opt
        return self._optimizers[name]

    def _set_learning_rates(self, factor: float) -> None:
        for name, rates in self._learning_rates().items():
            if self._optimizers is not None and name in self._optimizers:
                for group, rate in zip(
                    self._optimizers[name].param_groups, rates, strict=True
                ):
                    group["lr"] = rate * factor

    # -- the loop --------------------------------------------------------------
    def run(
        self,
        data: TrainingData,
        n_epochs: int,
        *,
        schedule: bool = True,
        validation: Callable[[AdversarialAutoencoder], tuple[float, dict]]
        | None = None,
        on_epoch_end: Callable[[dict], bool | None] | None = None,
    ) -> None:
        """Train for up to ``n_epochs`` more epochs over ``data``.

        Parameters
        ----------
        data : TrainingData
            The rows of this call.
        n_epochs : int
            Epochs to run (fewer when early stopping triggers).
        schedule : bool
            Whether ``config.lr_schedule`` applies: a cosine schedule anneals
            over this call's ``n_epochs``. ``partial_fit`` passes False: a
            stream has no known end, so its rates stay at their initial
            values.
        validation : callable or None
            ``validation(model) -> (score, records)``, called in eval mode
            after every epoch: enables early stopping on ``score`` (higher is
            better; ``config.tol`` and ``config.n_iter_no_change``) and adds
            ``records`` to the history. The best epoch's weights are restored
            at the end of the call.
        on_epoch_end : callable or None
            ``on_epoch_end(info)`` after every epoch, with ``info`` a dict of
            ``"epoch"`` (epochs run so far, over every call), ``"history"``
            (the per-epoch records so far, as arrays) and
            ``"validation_score"`` (None without validation). A true return
            value ends the call after that epoch (``stopped_by_callback``).

        Raises
        ------
        TrainingDivergedError
            When a loss becomes NaN or infinite; the message names the epoch.
        KeyboardInterrupt
            Only when interrupted before the model ever finished an epoch;
            otherwise the model is rolled back to its last finished epoch and
            ``interrupted`` is set.
        """
        config = self.config
        self.stopped_early = self.interrupted = self.stopped_by_callback = False
        if validation is not None:
            self.best_validation_score = self.best_epoch = self._best_state = None
        for name in ("autoencoder", "discriminator", "generator"):
            self._optimizer(name)
        parallel = self.parallel
        progress = tqdm(
            range(n_epochs),
            # One progress bar for a data-parallel run: rank 0's.
            disable=config.verbose < 1 or (parallel is not None and parallel.rank > 0),
            desc=type(self.model).__name__,
            unit="epoch",
            leave=True,
        )
        no_improvement = 0
        finished = _clone_state(self.model) if self.n_epochs else None
        self.model.train()
        try:
            for epoch in progress:
                factor = 1.0
                if schedule and config.lr_schedule == "cosine":
                    factor = 0.5 * (1.0 + math.cos(math.pi * epoch / n_epochs))
                self._set_learning_rates(factor)
                means = self._epoch(data)
                progress.set_postfix(
                    rec=f"{means[RECONSTRUCTION_KEY]:.4f}",
                    disc=f"{means.get('discriminator', math.nan):.3f}",
                    gen=f"{means.get('generator', math.nan):.3f}",
                    acc=f"{means.get('discriminator_accuracy', math.nan):.2f}",
                )
                if validation is not None:
                    self.model.eval()
                    with torch.no_grad():
                        score, records = validation(self.model)
                    self.model.train()
                    if parallel is not None:
                        # Every rank scores its own held-out rows; they
                        # decide on the mean, so they stop together.
                        agreed = parallel.mean([score, *records.values()])
                        score = float(agreed[0])
                        records = dict(zip(records, agreed[1:], strict=True))
                    means.update(records)
                    self.validation_scores.append(float(score))
                self._record(means)
                if validation is not None:
                    best = self.best_validation_score
                    if best is None or score > best + config.tol:
                        no_improvement = 0
                    else:
                        no_improvement += 1
                    if best is None or score > best:
                        self.best_validation_score = float(score)
                        self.best_epoch = self.n_epochs
                        self._best_state = _clone_state(self.model)
                    if no_improvement >= config.n_iter_no_change:
                        self.stopped_early = True
                        break
                stop = on_epoch_end is not None and on_epoch_end(
                    {
                        "epoch": self.n_epochs,
                        "history": self.history_arrays(),
                        "validation_score": (
                            None if validation is None else float(score)
                        ),
                    }
                )
                if parallel is not None:
                    stop = parallel.any(stop)
                if stop:
                    self.stopped_by_callback = True
                    break
                finished = _clone_state(self.model)
        except KeyboardInterrupt:
            progress.close()
            if finished is None:
                raise
            self.model.load_state_dict(finished)
            self.interrupted = True
        finally:
            progress.close()
            self.model.eval()
        if self._best_state is not None:
            self.model.load_state_dict(self._best_state)

    def remember_rows(self, X, capacity: int) -> None:
        """Keep a uniform sample of at most ``capacity`` of the rows streamed.

        Reservoir sampling over the rows of the ``partial_fit`` calls so far:
        a row already kept is not kept twice when a later pass brings it
        again (it would be its own nearest neighbour). A row not kept has
        another chance when it comes again (remembering every row seen would
        grow with the stream), which favours a pass's last chunks slightly:
        over three passes of four chunks, 4 % above and below the mean.
        ``X`` is an ndarray or a SciPy sparse matrix (the sample is then CSR),
        kept in float32, what the model trains on.
        """
        X = X.astype(np.float32, copy=False)
        sample = self.stream_sample
        n_kept = 0 if sample is None else sample.shape[0]
        kept_keys = set() if sample is None else set(row_keys(sample))
        seen = self.rows_streamed
        keep = list(range(n_kept))
        slots = self.rng.random_sample(X.shape[0])
        for i, key in enumerate(row_keys(X)):
            if key in kept_keys:
                continue
            kept_keys.add(key)
            if len(keep) < capacity:
                keep.append(n_kept + i)
            else:
                # The seen-th new row replaces a kept row with probability
                # capacity / (seen + 1).
                slot = int(slots[i] * (seen + 1))
                if slot < capacity:
                    keep[slot] = n_kept + i
            seen += 1
        self.rows_streamed = seen
        rows = X if sample is None else stack_rows(sample, X)
        if sp.issparse(rows):
            rows = rows.tocsr()
        self.stream_sample = rows[np.asarray(keep, dtype=np.int64)]

    def _record(self, means: dict[str, float]) -> None:
        for key in means:
            if key not in self.history:
                # A record that starts late (e.g. after pretraining) is NaN
                # for the epochs before it.
                self.history[key] = [math.nan] * self.n_epochs
        for key, values in self.history.items():
            values.append(float(means.get(key, math.nan)))
        self.n_epochs += 1

    def _consistency_loss(self, encode, x, logits, x_far) -> torch.Tensor:
        """Virtual adversarial divergence of the category head.

        KL(head at ``x`` || head at ``x + r``), where ``r`` has length
        ``consistency_radius`` times the row's distance to ``x_far`` (its
        10th graph neighbour) and points where the head changes most, found
        by one power iteration from a random direction (Miyato et al.). The
        head at ``x`` is the fixed target.
        """
        target = torch.softmax(logits.detach(), dim=1)
        log_target = torch.log_softmax(logits.detach(), dim=1)
        radius = self.config.consistency_radius * (x - x_far).norm(dim=1, keepdim=True)

        def divergence(shift):
            _, moved = encode(x + shift)
            log_moved = torch.log_softmax(moved, dim=1)
            return (target * (log_target - log_moved)).sum(1).mean()

        def scaled(vectors, length):
            return length * vectors / vectors.norm(dim=1, keepdim=True).clamp_min(1e-12)

        # The probe is a tenth of the radius rather than VAT's fixed 1e-6,
        # whose effect on the head would be near float32 rounding.
        probe = scaled(torch.randn_like(x), 0.1 * radius).requires_grad_(True)
        (grad,) = torch.autograd.grad(divergence(probe), probe)
        return divergence(scaled(grad, radius).detach())

    def _epoch(self, data: TrainingData) -> dict[str, float]:
        """One pass over ``data``; returns the epoch means of the losses."""
        config, model = self.config, self.model
        X = data.X
        device, dtype = X.device, X.dtype
        n_samples = X.shape[0]
        batch_size = min(config.batch_size, n_samples)
        encoder, decoder, critic = model.encoder, model.decoder, model.discriminator
        category_critic = model.category_discriminator
        n_categories = model.n_categories
        critic_params = list(critic.parameters())
        if category_critic is not None:
            critic_params += list(category_critic.parameters())
        opt_ae = self._optimizer("autoencoder")
        opt_critic = self._optimizer("discriminator")
        opt_gen = self._optimizer("generator")

        labels = data.labels
        known = labelled = onehot = None
        if n_categories and labels is not None:
            known = labels >= 0
            labelled = torch.nonzero(known).flatten()
            onehot = F.one_hot(labels.clamp(min=0), n_categories).to(dtype)
        parallel = self.parallel
        has_labels = labelled is not None and labelled.numel() > 0
        if parallel is not None and labelled is not None:
            # A rank whose shard holds no label still joins the classifier's
            # gradient average (with zeros), or the others would wait on it.
            run_classifier = parallel.any(has_labels)
        else:
            run_classifier = has_labels
        smoothing = config.label_smoothing
        # On every rank alike (a shard without labels adds a zero term), so
        # that the ranks' gradients cover the same parameters.
        label_weight = config.reconstruction_label_weight if run_classifier else 0.0
        opt_cls = None
        if run_classifier:
            opt_cls = self._optimizer("classifier")
            self._set_learning_rates_of("classifier")
        decode_known = config.decode_known_labels and onehot is not None
        has_batch_norm = any(
            isinstance(m, torch.nn.BatchNorm1d) for m in model.modules()
        )
        neighbors, graph_rows = data.neighbors, data.graph_rows
        map_weight = config.neighbor_weight if neighbors is not None else 0.0
        agree_weight = (
            config.category_neighbor_weight
            if neighbors is not None and n_categories
            else 0.0
        )
        use_neighbors = map_weight > 0 or agree_weight > 0
        consistency_weight = (
            config.consistency_weight if neighbors is not None and n_categories else 0.0
        )
        # The lists are sorted nearest first: this column is the 10th
        # nearest neighbour (or the farthest there is).
        radius_column = None if neighbors is None else min(9, neighbors.shape[1] - 1)
        # Pretraining epochs run the reconstruction phase alone (with the map
        # term, without the category terms), so that the categorical game
        # starts from codes that already reflect the data.
        pretraining = self.n_epochs < config.pretrain_iter
        # Without a discriminator a step is the reconstruction phase alone,
        # as in pretraining.
        reconstruction_only = pretraining or not config.has_discriminator
        if reconstruction_only:
            agree_weight = 0.0
            consistency_weight = 0.0
            label_weight = 0.0
            keys = [RECONSTRUCTION_KEY]
        else:
            keys = list(HISTORY_KEYS)
            if n_categories:
                keys += CATEGORY_HISTORY_KEYS
            if opt_cls is not None:
                keys.append(CLASSIFICATION_KEY)
        if use_neighbors:
            keys.append(NEIGHBOR_KEY)
            n_neighbors = neighbors.shape[1]
            n_positives = config.n_positives
        if consistency_weight > 0:
            keys.append(CONSISTENCY_KEY)

        # Mixed precision: the networks run under autocast, their outputs
        # come back in float32 so that every loss is computed in float32;
        # backward runs outside autocast, as torch recommends. With float32
        # the casts are no-ops and the step is unchanged.
        mixed_precision = config.precision == "bfloat16"

        def encode(x):
            with torch.autocast(device.type, torch.bfloat16, mixed_precision):
                z, logits = encoder(x)
            return z.float(), None if logits is None else logits.float()

        def decode(rep):
            with torch.autocast(device.type, torch.bfloat16, mixed_precision):
                return decoder(rep).float()

        def judge(net, codes):
            with torch.autocast(device.type, torch.bfloat16, mixed_precision):
                return net(codes).float()

        def noisy(x):
            if not config.input_noise:
                return x
            return x + config.input_noise * torch.randn_like(x)

        def critic_target_for(m: int) -> torch.Tensor:
            # Prior draws first (label 1), then codes (label 0).
            return torch.cat(
                [
                    torch.ones(m, 1, dtype=dtype, device=device),
                    torch.zeros(m, 1, dtype=dtype, device=device),
                ]
            )

        # Built once: on a GPU every small tensor op is a kernel launch.
        critic_target = critic_target_for(batch_size)
        if not reconstruction_only:
            # One host-to-device copy of the epoch's prior draws.
            prior_draws = torch.as_tensor(
                self.prior.sample(
                    n_samples, y=data.prior_labels, random_state=self.rng
                ),
                dtype=dtype,
            ).to(device, non_blocking=True)
            if n_categories:
                category_draws = torch.as_tensor(
                    CategoricalPrior(n_categories).sample(
                        n_samples, random_state=self.rng
                    ),
                    dtype=dtype,
                ).to(device, non_blocking=True)
        order = torch.randperm(n_samples, device=device)
        if parallel is not None:
            # batch_size is the mini-batch of all the ranks together, so
            # that a setting means the same on any number of ranks. Every
            # rank runs as many full batches as the largest shard needs,
            # going round its own rows again where it has fewer.
            batch_size = math.ceil(config.batch_size / parallel.world_size)
            n_rows = parallel.batches_per_epoch(n_samples, batch_size) * batch_size
            order = torch.cat(
                [order]
                + [
                    torch.randperm(n_samples, device=device)
                    for _ in range(math.ceil(n_rows / n_samples) - 1)
                ]
            )[:n_rows]
            critic_target = critic_target_for(batch_size)

        def step(optimizer: torch.optim.Optimizer) -> None:
            if parallel is not None:
                parallel.average_optimizer_gradients(optimizer)
            optimizer.step()

        sums = torch.zeros(len(keys), device=device)
        n_batches = 0
        for start in range(0, order.shape[0], batch_size):
            idx = order[start : start + batch_size]
            if has_batch_norm and idx.shape[0] < 2:
                continue
            x = X[idx]
            m = idx.shape[0]
            target = critic_target if m == batch_size else critic_target_for(m)

            # Reconstruction phase (with the neighbourhood terms).
            opt_ae.zero_grad(set_to_none=True)
            if use_neighbors:
                # The batch and n_positives random graph neighbours of each
                # row (row-major), in one encoder forward.
                pick = torch.randint(n_neighbors, (m, n_positives), device=device)
                x_nb = graph_rows[neighbors[idx[:, None], pick].reshape(-1)]
                z_all, logits_all = encode(noisy(torch.cat([x, x_nb])))
                z, z_nb = z_all[:m], z_all[m:]
                logits_y = None if logits_all is None else logits_all[:m]
            else:
                z, logits_y = encode(noisy(x))
            y = None if logits_y is None else torch.softmax(logits_y, dim=1)
            if decode_known:
                y = torch.where(known[idx, None], onehot[idx], y)
            rep = model.decoder_input(z, y)
            output = decode(rep)
            loss_rec = reconstruction_loss(output, x, config.loss)
            loss_ae = loss_rec
            if label_weight > 0:
                # Summed over the batch's labelled rows, divided by the batch:
                # a batch with few labels moves the head little.
                loss_labels = F.cross_entropy(
                    logits_y,
                    labels[idx].clamp(min=0),
                    reduction="none",
                    label_smoothing=smoothing,
                )
                loss_ae = (
                    loss_ae
                    + label_weight * (loss_labels * known[idx].to(dtype)).sum() / m
                )
            if use_neighbors:
                y_nb = (
                    None if logits_all is None else torch.softmax(logits_all[m:], dim=1)
                )
                loss_nb = rep.new_zeros(())
                if map_weight > 0:
                    # On what transform returns: z, or W_C y + z.
                    rep_nb = model.decoder_input(z_nb, y_nb)
                    loss_nb = loss_nb + map_weight * neighbor_map_loss(
                        rep,
                        rep_nb,
                        config.neighbor_scale,
                        config.n_negatives,
                        scale_free=config.neighbor_map_scale_free,
                        exponent=config.neighbor_exponent,
                    )
                if agree_weight > 0:
                    loss_nb = loss_nb + agree_weight * category_agreement_loss(
                        torch.softmax(logits_y, dim=1).repeat_interleave(
                            n_positives, 0
                        ),
                        y_nb,
                    )
                loss_ae = loss_ae + loss_nb
            if consistency_weight > 0:
                loss_vat = self._consistency_loss(
                    encode, x, logits_y, graph_rows[neighbors[idx, radius_column]]
                )
                loss_ae = loss_ae + consistency_weight * loss_vat
            heads = model.cluster_heads
            if heads is not None and config.cluster_head_distance > 0:
                # The paper's section 7: push apart every two cluster heads
                # closer than the threshold.
                gaps = config.cluster_head_distance - torch.pdist(heads)
                loss_ae = loss_ae + torch.relu(gaps).sum()
            loss_ae.backward()
            step(opt_ae)
            if reconstruction_only:
                stats = [loss_rec] + ([loss_nb] if use_neighbors else [])
                with torch.no_grad():
                    sums += torch.stack([stat.detach() for stat in stats])
                n_batches += 1
                continue

            # Regularisation phase: one encoder forward for both updates.
            fake, logits_y = encode(x)
            real = prior_draws[idx]
            gen_in = fake
            if config.discriminator_noise:
                # Instance noise: the critic compares the two distributions
                # blurred, so it judges the codes' overall shape and no longer
                # pushes codes into the gaps between a map's groups.
                real = real + config.discriminator_noise * torch.randn_like(real)
                gen_in = fake + config.discriminator_noise * torch.randn_like(fake)
            if data.conditions is not None:
                cond = data.conditions[idx]
                real = torch.cat([real, cond], 1)
                gen_in = torch.cat([fake, cond], 1)
            opt_critic.zero_grad(set_to_none=True)
            logits = judge(critic, torch.cat([real, gen_in.detach()]))
            loss_critic = F.binary_cross_entropy_with_logits(logits, target)
            if category_critic is not None:
                fake_y = torch.softmax(logits_y, dim=1)
                logits_cat = judge(
                    category_critic, torch.cat([category_draws[idx], fake_y.detach()])
                )
                loss_cat = F.binary_cross_entropy_with_logits(logits_cat, target)
                (loss_critic + loss_cat).backward()
            else:
                loss_critic.backward()
            step(opt_critic)

            for p in critic_params:
                p.requires_grad_(False)
            opt_gen.zero_grad(set_to_none=True)
            ones = target[:m]
            loss_gen = F.binary_cross_entropy_with_logits(judge(critic, gen_in), ones)
            if category_critic is not None:
                loss_gen = loss_gen + F.binary_cross_entropy_with_logits(
                    judge(category_critic, fake_y), ones
                )
                if config.category_balance:
                    # KL(batch mean of y || uniform): a per-sample critic
                    # cannot see that whole categories go unused, and without
                    # labels the codes collapse onto a few of them. (Its own
                    # Adam optimiser normalises the weight away and fails to
                    # balance: measured.)
                    mean_y = fake_y.mean(0)
                    loss_gen = loss_gen + config.category_balance * (
                        mean_y * torch.log(mean_y * n_categories + 1e-12)
                    ).sum(0)
            loss_gen.backward()
            step(opt_gen)
            for p in critic_params:
                p.requires_grad_(True)

            stats = [
                loss_rec,
                loss_critic,
                loss_gen,
                ((logits > 0).to(dtype) == target).to(dtype).mean(),
            ]
            if category_critic is not None:
                stats += [
                    loss_cat,
                    ((logits_cat > 0).to(dtype) == target).to(dtype).mean(),
                ]

            # Semi-supervised classification phase, on the labelled stream.
            if opt_cls is not None:
                opt_cls.zero_grad(set_to_none=True)
                if has_labels:
                    pick = torch.randint(labelled.numel(), (m,), device=device)
                    lab = labelled[pick]
                    if config.mixup_alpha > 0:
                        # One weight per step, drawn on the host: no sync.
                        share = float(
                            self.rng.beta(config.mixup_alpha, config.mixup_alpha)
                        )
                        partner = lab[torch.randperm(m, device=device)]
                        mixed = torch.lerp(X[partner], X[lab], share)
                        logits_mixed = encode(mixed)[1]
                        loss_cls = share * F.cross_entropy(
                            logits_mixed, labels[lab], label_smoothing=smoothing
                        ) + (1.0 - share) * F.cross_entropy(
                            logits_mixed, labels[partner], label_smoothing=smoothing
                        )
                    else:
                        loss_cls = F.cross_entropy(
                            encode(X[lab])[1], labels[lab], label_smoothing=smoothing
                        )
                else:
                    # No label in this rank's shard: a zero loss through the
                    # same parameters, so it joins the average.
                    loss_cls = encode(x[:1])[1].sum() * 0.0
                loss_cls.backward()
                step(opt_cls)
                stats.append(loss_cls)
            if use_neighbors:
                stats.append(loss_nb)
            if consistency_weight > 0:
                stats.append(loss_vat)

            with torch.no_grad():
                sums += torch.stack([stat.detach() for stat in stats])
            n_batches += 1

        means = (sums / max(n_batches, 1)).cpu().numpy()  # one sync per epoch
        if parallel is not None:
            means = parallel.mean(means)
            parallel.average_buffers(model)
        bad = [k for k, v in zip(keys, means, strict=True) if not np.isfinite(v)]
        if bad:
            raise TrainingDivergedError(
                f"Training diverged at epoch {self.n_epochs + 1}: the "
                f"{', '.join(bad)} loss became {means[keys.index(bad[0])]}. Scale "
                "the input features or lower learning_rate_init."
            )
        return {key: float(v) for key, v in zip(keys, means, strict=True)}

    def _set_learning_rates_of(self, name: str) -> None:
        """Rates of an optimiser created mid-call (the classifier's)."""
        opt = self._optimizers[name]
        reference = self._optimizers["autoencoder"].param_groups[0]
        factor = reference["lr"] / self._learning_rates()["autoencoder"][0]
        for group, rate in zip(
            opt.param_groups, self._learning_rates()[name], strict=True
        ):
            group["lr"] = rate * factor


def train(
    model: AdversarialAutoencoder,
    X: torch.Tensor,
    *,
    prior: BasePrior,
    prior_labels: np.ndarray | None,
    conditions: torch.Tensor | None,
    config: TrainingConfig,
    rng: np.random.RandomState,
    labels: torch.Tensor | None = None,
    neighbors: torch.Tensor | None = None,
) -> dict[str, np.ndarray]:
    """Train ``model`` for ``config.max_iter`` epochs in a new session.

    Returns the per-epoch history (see :class:`TrainingSession`).
    """
    session = TrainingSession(model, config, prior=prior, rng=rng)
    session.run(
        TrainingData(X, prior_labels, conditions, labels, neighbors), config.max_iter
    )
    return session.history_arrays()
