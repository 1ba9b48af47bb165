"""AAETransformer: dimensionality reduction with an adversarial autoencoder."""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._base import (
    _BaseAAE,
    _check_float,
    _check_int,
    _mean_feature_variance,
    _overall_std,
    _Targets,
)
from ._neighbors import NeighborRecall
from ._training import VALIDATION_NEIGHBOR_RECALL_KEY, VALIDATION_RECONSTRUCTION_KEY
from .priors import GaussianPrior

# neighbor_weight="auto": this many times the mean feature variance, at most
# _NEIGHBOR_WEIGHT_MAX (see _extra_config).
_NEIGHBOR_WEIGHT_PER_VARIANCE = 10.0
_NEIGHBOR_WEIGHT_MAX = 10.0
# neighbor_weight="auto" with cluster heads: the codes spread over heads six
# units apart, and the term needs more weight to order the rows around them
# (see _extra_config).
_HEADS_NEIGHBOR_WEIGHT = 0.1
# discriminator_noise="auto" with the map term on: the standard deviation of
# the Gaussian noise added to the critic's inputs (see the docstring).
_MAP_DISCRIMINATOR_NOISE = 1.0
# dropout="auto" with the map term on (and no cluster heads), on training
# sets with fewer rows than this per feature: there the encoder otherwise
# places new points worse than the rows it was trained on; with more rows
# per feature the layout itself limits the map and dropout blurred it (see
# the docstring).
_MAP_DROPOUT = 0.1
_MAP_DROPOUT_MAX_ROWS_PER_FEATURE = 600
# input_noise="auto" under the plain map on training sets with fewer rows
# than this per feature: the noise's standard deviation as a multiple of
# the training data's. It helped digits (20 rows per feature),
# Fashion-MNIST (13) and the 20-class table (233) place new points, and
# cost UCI pen-digits (481) 0.02 (see the docstring).
_MAP_INPUT_NOISE = 0.5
_MAP_INPUT_NOISE_MAX_ROWS_PER_FEATURE = 300
# Graph neighbours the plain map's term draws for each row of a step (see
# _extra_config).
_MAP_POSITIVES = 3
# The plain map's similarity exponent b, q = 1 / (1 + (d / s)^(2b)) (see
# _extra_config).
_MAP_EXPONENT = 0.4
# max_iter="auto" with the plain map: enough epochs for this many mini-batch
# steps, between the usual 100 epochs and _MAP_MAX_EPOCHS (see
# _auto_max_iter).
_MAP_MIN_STEPS = 4000
_MAP_MAX_EPOCHS = 300
_DEFAULT_EPOCHS = 100
# regularization_learning_rate="auto" with the map term on, as a multiple of
# learning_rate_init (see _auto_regularization_ratio).
_MAP_REG_LR_RATIO = 0.1
# A non-Gaussian prior met by the critic alone (no map term, no cluster
# heads, no labels): the rate ratio of "auto" and the instance noise of
# discriminator_noise="auto" (see _shapes_a_non_gaussian_prior).
_SHAPE_REG_LR_RATIO = 0.5
_SHAPE_DISCRIMINATOR_NOISE = 0.1
# Early stopping with the map term: held-out rows (at most this many) and
# their neighbours among training rows (a sample of at most this many), per
# epoch (see _validation_scorer).
_RECALL_MAX_QUERIES = 1000
_RECALL_MAX_REFERENCES = 2000
_RECALL_NEIGHBORS = 10


class AAETransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, _BaseAAE):
    """Adversarial autoencoder for dimensionality reduction and generation.

    An autoencoder whose codes are pushed, by a discriminator trained to tell
    them from draws of a prior, to follow that prior (Makhzani et al., 2015).
    ``transform`` gives the codes, ``inverse_transform`` decodes codes, and
    ``sample`` decodes draws from the prior, so the decoder is a generative
    model of the data.

    Each mini-batch step runs a reconstruction phase (encoder and decoder on
    the reconstruction loss), then a regularisation phase (the discriminator
    on prior draws against codes, then the encoder against the
    discriminator). Scale the input features first (e.g. with
    :class:`~sklearn.preprocessing.StandardScaler`, or
    :class:`~sklearn.preprocessing.MinMaxScaler` for ``loss="bce"``).

    Parameters
    ----------
    n_components : int, default=2
        Dimension of the code.
    prior : str, prior object or callable, default="gaussian"
        Distribution the codes are matched to: ``"gaussian"``,
        ``"uniform"``, ``"gaussian_mixture"``, ``"swiss_roll"`` (2-D only), an
        object of :mod:`skaae.priors`, or a function
        ``f(n_samples, random_state) -> ndarray of shape (n_samples,
        n_components)``. The fitted copy is ``prior_``.
    encoder : {"deterministic", "gaussian", "universal"}, default="deterministic"
        Posterior of the encoder. ``"deterministic"``: ``z = f(x)``.
        ``"gaussian"``: the encoder outputs a mean and log-variance and
        training samples ``z`` with the reparametrisation trick; ``transform``
        returns the mean. ``"universal"``: the encoder also receives Gaussian
        noise; ``transform`` returns the average code over 16 noise vectors
        that are fixed when the model is built, so it is deterministic and a
        sample's code does not depend on the rest of the batch.
    hidden_layer_sizes : "auto", int or tuple of int, default="auto"
        Hidden layers of the encoder; the decoder mirrors them (and the
        discriminator has the same or, with the map term, the first two:
        see ``discriminator_hidden_layer_sizes``).
        ``"auto"`` is ``(256, 256, 256, 256)`` when the map term is on
        (``neighbor_weight``) and ``(256, 256)`` otherwise: four layers keep
        more neighbourhoods in a map, but without the term they did worse
        than two (figures in the user guide, "Network depth").
    discriminator_hidden_layer_sizes : "auto", int, tuple or None, default="auto"
        Hidden layers of the discriminator; ``None`` uses
        ``hidden_layer_sizes``. ``"auto"`` is the first two of the encoder's
        layers when the map term is on without ``n_clusters``, else the same
        as ``None``: the critic judges low-dimensional codes, and two layers
        made a letter epoch 12-18 % shorter at level 5-NN accuracy of new
        points (letter 0.657 against 0.645 over seeds 0-2, digits 0.910
        against 0.913, the 20-class table 0.80 both, Fashion-MNIST 0.666
        against 0.662 over seeds 0-3).
    activation : {"relu", "leaky_relu", "tanh", "elu", "gelu"}, default="relu"
        Hidden-layer activation of every network.
    dropout : float or "auto", default="auto"
        Dropout rate after every hidden layer of the encoder, decoder and
        discriminator during training (0 disables it; ``transform`` never
        drops). ``"auto"``: 0.1 when the map term is on without
        ``n_clusters`` and the training set has fewer than 600 rows per
        feature, else 0 (the paper's model has none). With the map term the
        encoder lays out the training rows closely but places new points
        worse: on digits (70/30 split, seed 0) the training rows' codes keep
        0.967 5-NN accuracy among themselves and new points 0.907. Dropout
        0.1 raised new points' 5-NN accuracy on digits (seeds 0-2) to 0.935
        / 0.930 / 0.937 against 0.907 / 0.922 / 0.913, on Fashion-MNIST
        (seeds 0-1) to 0.684 against 0.672, on the 20-class table to 0.825
        against 0.810 and on UCI pen-digits (481 rows per feature) to 0.975
        against 0.955; on UCI letter (875 rows per feature), where the
        layout itself is the limit, it cost 0.05 (0.594-0.612 against
        0.649-0.668). The user guide has the figures.
    batch_norm : bool, default=False
        Batch normalisation in the encoder and decoder hidden layers.
    loss : {"mse", "bce"}, default="mse"
        Reconstruction loss. ``"bce"`` (binary cross-entropy) needs ``X`` in
        [0, 1]; the decoder then ends in a sigmoid.
    solver : {"adam", "sgd"}, default="adam"
        Optimiser of every phase (``"sgd"``: Nesterov momentum, as the paper).
    batch_size : int, default=100
        Mini-batch size (clipped to the number of samples).
    learning_rate_init : float, default=1e-3
        Learning rate of the reconstruction phase.
    regularization_learning_rate : float or "auto", default="auto"
        Learning rate of the discriminator and generator updates. ``"auto"``:
        ``0.1 * learning_rate_init`` without labels when the map term is on
        (the critic is what holds a map back: UCI letter keeps 0.62 5-NN
        accuracy instead of 0.51, see the user guide),
        ``0.5 * learning_rate_init`` without labels for a prior other than
        the Gaussian when the map term is off (see
        ``learning_rate_schedule``), ``0.2 * learning_rate_init`` without
        labels otherwise (a faster discriminator destabilises the game and
        the codes collapse),
        ``2 * learning_rate_init`` when the regulariser is conditioned on
        labels (the conditioned game needs the faster pace to pull each class
        onto its own mode), ``0.5 * learning_rate_init`` with ``n_clusters``.
        ``0`` switches the discriminator off (a departure from the paper, for
        maps; not with labels that condition the prior or with
        ``n_clusters``): training is the reconstruction phase with the map
        term alone, and at the end of each call the codes get the prior's
        mean and covariance by an affine change of the code space, folded
        into the networks (see the user guide, "Maps without a
        discriminator"). On UCI letter, with ``neighbor_weight=10``, 5-NN
        accuracy of new points rose from 0.630 to 0.755 (three seeds; UMAP
        0.796) with ``prior_distance_`` 5-11 times its reference, and an
        epoch took 1.7 times less time; on other data sets it lost up to
        0.044, and the best ``neighbor_weight`` depends on the data, so it
        is not the default.
    n_clusters : int or None, default=None
        With an int, the code is ``W_C y + z`` (the paper's section 7): the
        encoder also has a softmax head ``y`` with ``n_clusters`` categories,
        matched by a second discriminator to a categorical prior, and
        ``W_C`` holds one learned cluster head per category; the style ``z``
        is matched to ``prior``. Each sample is placed near its cluster's
        head, so clusters separate in the map. Unsupervised with ``fit(X)``;
        semi-supervised with ``fit(X, y)`` (``-1``: unlabeled), where a
        classification phase sends class ``k`` to head ``k`` (``n_clusters``
        must be at least the number of classes, else ``y`` is ignored with a
        warning).
    cluster_head_distance : float, default=6.0
        With ``n_clusters``: every two cluster heads closer than this
        (Euclidean, in code units) are pushed apart. Six standard deviations
        of the default Gaussian style prior keep clusters from overlapping.
    balance_weight : float, default=20.0
        With ``n_clusters`` and no labels: weight of the penalty that keeps
        the categories in use (see :class:`AAEClusterer`).
    neighbor_weight : float or "auto", default="auto"
        Weight of the neighbour-graph map term, a departure from the paper: the
        reconstruction step also pulls each code towards the codes of some of
        its ``n_neighbors`` nearest neighbours in ``X`` (drawn at random each
        step: three without ``n_clusters``, since 2026-12-02, digits 0.916 ->
        0.927 over five seeds; one with it) and pushes it away from the other
        codes of the batch, with the loss of parametric UMAP (similarities
        ``1 / (1 + (d / neighbor_scale)^(2b))``: b = 0.4 without ``n_clusters`` since
        2026-12-02, a heavier tail than Student-t's b = 1, which lifted letter's
        5-NN accuracy from 0.72 to 0.79; b = 1 with it), while the discriminator
        keeps shaping the codes as a whole. The graph is built once per fit.
        ``0`` is the paper's model. Without ``n_clusters`` the term sees the
        codes divided by their mini-batch's root mean square spread, so that it
        arranges the codes but leaves their scale to the discriminator (since
        2026-12-02; before, the two pulled the scale apart and the term had to
        stay weak). ``"auto"``: 10 times the mean variance of the features, at
        most 10, with the Gaussian prior (0.4 times, at most 0.1, before; UCI
        letter, 2-D 5-NN accuracy of new points, seed 0: 0.617 -> 0.736); 0.1
        with ``n_clusters`` (on ``W_C y + z``; 2-D 5-NN accuracy, unsupervised:
        digits 0.879 -> 0.950, Fashion-MNIST 0.516 -> 0.674); 0 with other
        priors (on the uniform prior the term pushed codes past its edges).
        Measured with 2-D codes (5-NN accuracy), the term against none: digits
        0.903 -> 0.948 (cross-validated), a 20-class ``make_classification``
        table 0.52 -> 0.70 (new points); see the user guide.
    n_neighbors : int, default=15
        Neighbours per training row in the neighbour graph (exact search; a
        partitioned search for dense rows of 65 features or more from 4,096
        rows on the CPU; ``pynndescent`` above 50,000 rows when it is
        installed).
    neighbor_scale : float, default=0.25
        Length, in code units, that the map term's similarity treats as
        "near": neighbourhoods a quarter of the prior's standard deviation
        wide leave room for many groups inside the prior.
    discriminator_noise : float or "auto", default="auto"
        Standard deviation of the Gaussian noise added to the prior draws
        and to the codes before the discriminator sees them ("instance
        noise", a departure from the paper). The discriminator then judges
        the shape of the codes as a whole rather than their fine structure:
        without it, it pushes codes into the empty space between the groups
        that the map term forms, and the groups blur. ``"auto"``: 1.0 with
        the map term on and no ``n_clusters``; 0.1 without labels for a
        prior other than the Gaussian when the map term is off (see
        ``learning_rate_schedule``); else 0 (the paper's model).
        Measured against no noise (2-D codes, seeds 0-2, 5-NN accuracy):
        digits 0.957 -> 0.963, a 20-class ``make_classification`` table
        0.794 -> 0.801 with ``prior_distance_`` 13-17 -> 7-9 times its
        reference, Fashion-MNIST level (0.667 and 0.665 over six seeds),
        UCI letter 0.629 -> 0.639 over six fits (it moves by 0.03 between
        runs) with the codes closer to the prior (4-9 -> 2-4 times); see the
        user guide.
    input_noise : float or "auto", default="auto"
        Standard deviation of the Gaussian noise added to the encoder's
        inputs in the reconstruction phase, as a multiple of the standard
        deviation of all the training data's entries; the decoder still
        reconstructs the clean rows (a denoising autoencoder, a departure
        from the paper; 0 disables it, and ``transform`` never adds noise).
        ``"auto"``: 0.5 with the map term on without ``n_clusters`` on
        training sets of fewer than 300 rows per feature, else 0; a
        continued fit keeps what its first call chose. Like dropout it helps
        the encoder place new points. 5-NN accuracy of new points (2-D
        codes, seeds 0-2) without and with 0.5: digits (70/30 split, 20
        rows per feature) 0.959 -> 0.965, a 20-class
        ``make_classification`` table (233) 0.832 -> 0.846, Fashion-MNIST
        (13, seeds 0-1, 100 epochs) 0.721 -> 0.730, within the spread
        between runs there; on UCI pen-digits (481) it cost 0.974 -> 0.956,
        hence the threshold. See the user guide.
    learning_rate_schedule : {"auto", "constant", "cosine"}, default="auto"
        ``"cosine"`` decays every learning rate along a half cosine to zero
        over ``max_iter`` epochs, which settles the adversarial game late in
        training (it helps bounded priors such as ``"uniform"``). ``"auto"``:
        ``"cosine"`` when the regulariser is conditioned on labels, with the
        map term on and no ``n_clusters``, and without labels for a prior
        other than the Gaussian when the map term is off; else
        ``"constant"``. There the three "auto" settings (this
        decay, a critic at half the reconstruction rate and instance noise
        of 0.1) are a departure from the paper's constant rates: on digits
        (seeds 0-4, 100 epochs) they brought the swiss roll's codes from an
        energy distance of 0.13 (seed 0) to 0.024-0.046, the uniform prior's
        to 0.002 and the mixture's to 0.004-0.017, against 0.041, 0.012 and
        0.042 for Gaussians with each prior's moments; the swiss roll needs
        more epochs to settle in most seeds (0.018-0.029 in three of four
        seeds at 200 epochs, one at 0.080). See the user guide, "Priors".
    momentum : float, default=0.9
        Momentum for ``solver="sgd"``.
    max_iter : int or "auto", default="auto"
        Maximum number of epochs (passes over the data) per call to ``fit``.
        ``"auto"``: 100, except for the map (the map term on without
        ``n_clusters``) on small training sets, which get enough epochs for
        4,000 mini-batch steps, at most 300: the map keeps improving with the
        number of steps, and 100 epochs of digits' 1,257 rows are only 1,300
        of them (2-D 5-NN accuracy of new points 0.95 at 300 epochs against
        0.93 at 100). Sets of 4,000 rows or more at the default batch size
        get 100 (see the user guide, "The epoch budget of small training
        sets").
    early_stopping : bool, default=False
        Whether to hold out ``validation_fraction`` of the training rows and
        stop when their score has not improved by at least ``tol`` for
        ``n_iter_no_change`` epochs; the weights of the best epoch are then
        restored. With the map term on (``neighbor_weight``), the score is
        the share of each held-out row's 10 nearest training rows (in input
        space) that its code keeps among its 10 nearest training codes
        (``history_["validation_neighbor_recall"]``; at most 1,000 held-out
        and 2,000 training rows are compared); the held-out reconstruction
        loss flattens while a map still improves. Without the map term it is
        minus the mean reconstruction loss of the held-out rows (what
        :meth:`score` returns). The prior match is not part of it: it is
        checked once the fit ends (``prior_distance_``), as without early
        stopping. Not used by :meth:`partial_fit`.
    validation_fraction : float, default=0.1
        Share of the training rows held out for early stopping.
    n_iter_no_change : int, default=10
        Epochs without an improvement of at least ``tol`` before early
        stopping ends the fit.
    tol : float, default=1e-4
        Smallest validation-score gain that counts as an improvement. Only
        used with ``early_stopping``: without it every fit runs ``max_iter``
        epochs, since the adversarial losses do not settle monotonically.
    warm_start : bool, default=False
        When True, ``fit`` continues training the fitted networks (and the
        optimisers' states) for ``max_iter`` more epochs instead of starting
        over; ``n_iter_`` counts on and ``history_`` grows. The architecture
        parameters and the number of features must stay the same. A cosine
        schedule starts a new cycle with each call.
    on_epoch_end : callable or None, default=None
        Called as ``on_epoch_end(info)`` after every epoch, to watch a long
        fit from code: ``info`` is a dict with ``"epoch"`` (epochs run so
        far, over every call), ``"history"`` (the per-epoch records so far,
        as in ``history_``) and ``"validation_score"`` (None without
        ``early_stopping``). Returning True ends the fit after that epoch,
        keeping its model (the best epoch's with ``early_stopping``).
    random_state : int, RandomState instance or None, default=None
        Seeds initial weights, batches, noise and prior draws. With an int,
        two fits on the CPU give identical results.
    device : str or torch.device, default="auto"
        ``"auto"`` uses CUDA when available, else the CPU; or ``"cpu"``,
        ``"cuda"``, ``"cuda:1"``... A model fitted on a GPU pickles and loads
        on a machine without one (it then runs on the CPU).
    precision : {"float32", "bfloat16"}, default="float32"
        Arithmetic of the training step. ``"bfloat16"``: mixed precision
        (``torch.autocast``): the networks' matrix products run in bfloat16,
        while the weights, the optimisers' states and every loss stay
        float32. Measured, it did not pay at the default sizes: on an H100
        the paper's MNIST architecture trained no faster (the step is bound
        by kernel launches, not arithmetic); on a 2-core Xeon with AMX it
        trained that architecture 1.0-1.3 times faster, but the default
        256-wide networks 1.3 times slower (casting the weights each step
        costs more than the narrow products save), with digits quality
        within seed noise either way; on a CPU without native bfloat16 it
        is 16 times slower. It is there for wide networks and large
        batches. Predictions run in float32, whatever the precision.
    verbose : int, default=0
        ``>= 1`` shows a progress bar with the running losses.

    Attributes
    ----------
    prior_ : skaae.priors.BasePrior
        The prior the codes were matched to, set up with ``n_components``
        (and ``n_modes`` from the classes when fitted with labels).
    classes_ : ndarray of shape (n_classes,) or None
        Classes of ``y`` when the regulariser was conditioned on labels (a
        prior with modes and ``y`` given), else ``None``. Class ``k`` is
        matched to mode ``k`` of ``prior_``.
    history_ : dict of str to ndarray of shape (`n_iter_`,)
        Per-epoch means: ``"reconstruction"`` (loss), ``"discriminator"``
        and ``"generator"`` (binary cross-entropies, each averaged over its
        batch: both ``log 2 = 0.693`` at the equilibrium where codes match
        the prior), and
        ``"discriminator_accuracy"`` (0.5 when it cannot tell codes from
        prior draws; near 1 when the codes do not match the prior); with
        the map term also ``"neighbor"``, its loss. Without a discriminator
        (``regularization_learning_rate=0``) only ``"reconstruction"`` and
        ``"neighbor"``.
    cluster_heads_ : ndarray of shape (n_clusters, n_components)
        The learned cluster heads ``W_C``, when ``n_clusters`` is set.
    prior_distance_ : float
        Energy distance between the codes (the style ``z`` with
        ``n_clusters``) of up to 2,000 training samples
        and as many prior draws (see :func:`skaae.metrics.energy_distance`).
    prior_distance_reference_ : float
        What a perfect match scores on average: the expected statistic between
        two independent prior samples of that size (``2 / m`` times the mean
        distance between paired prior draws). Good fits on digits score 1-10
        times it; past 25 times, ``fit`` warns with a
        :class:`~sklearn.exceptions.ConvergenceWarning` that the codes do not
        match the prior.
    n_iter_ : int
        Number of epochs run, over every call (``warm_start``,
        :meth:`partial_fit`).
    validation_scores_ : ndarray of shape (n_epochs,) or None
        Validation score after each epoch of the last ``fit`` with
        ``early_stopping`` (see ``early_stopping``); ``None`` without it.
        ``history_["validation_reconstruction"]`` holds the reconstruction
        loss of the held-out rows, and with the map term
        ``history_["validation_neighbor_recall"]`` the neighbourhood score.
    best_validation_score_ : float or None
        Best of ``validation_scores_``: the model is that epoch's.
    module_ : torch.nn.Module
        The trained encoder, decoder and discriminator.
    device_ : torch.device
        Device the model lives on.
    precision_ : {"float32", "bfloat16"}
        Arithmetic the last call trained in (``precision`` resolved).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    sklearn.decomposition.PCA : Linear dimensionality reduction.
    sklearn.manifold.TSNE : Non-parametric embedding (no transform of new data).

    References
    ----------
    A. Makhzani, J. Shlens, N. Jaitly, I. Goodfellow and B. Frey,
    "Adversarial Autoencoders", arXiv:1511.05644, 2015.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skaae import AAETransformer
    >>> X, _ = load_digits(return_X_y=True)
    >>> aae = AAETransformer(n_components=2, max_iter=5, random_state=0)
    >>> aae.fit_transform(X / 16).shape
    (1797, 2)
    >>> aae.sample(3, random_state=0).shape
    (3, 64)
    """

    def __init__(
        self,
        n_components: int = 2,
        *,
        prior="gaussian",
        encoder: str = "deterministic",
        hidden_layer_sizes="auto",
        discriminator_hidden_layer_sizes="auto",
        activation: str = "relu",
        dropout: float | str = "auto",
        batch_norm: bool = False,
        loss: str = "mse",
        solver: str = "adam",
        batch_size: int = 100,
        learning_rate_init: float = 1e-3,
        regularization_learning_rate: float | str = "auto",
        n_clusters: int | None = None,
        cluster_head_distance: float = 6.0,
        balance_weight: float = 20.0,
        neighbor_weight: float | str = "auto",
        n_neighbors: int = 15,
        neighbor_scale: float = 0.25,
        discriminator_noise: float | str = "auto",
        input_noise: float | str = "auto",
        learning_rate_schedule: str = "auto",
        momentum: float = 0.9,
        max_iter: int | str = "auto",
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        warm_start: bool = False,
        on_epoch_end=None,
        random_state=None,
        device="auto",
        precision: str = "float32",
        verbose: int = 0,
    ) -> None:
        self.n_components = n_components
        self.prior = prior
        self.encoder = encoder
        self.hidden_layer_sizes = hidden_layer_sizes
        self.discriminator_hidden_layer_sizes = discriminator_hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.loss = loss
        self.solver = solver
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.regularization_learning_rate = regularization_learning_rate
        self.n_clusters = n_clusters
        self.cluster_head_distance = cluster_head_distance
        self.balance_weight = balance_weight
        self.neighbor_weight = neighbor_weight
        self.n_neighbors = n_neighbors
        self.neighbor_scale = neighbor_scale
        self.discriminator_noise = discriminator_noise
        self.input_noise = input_noise
        self.learning_rate_schedule = learning_rate_schedule
        self.momentum = momentum
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.on_epoch_end = on_epoch_end
        self.random_state = random_state
        self.device = device
        self.precision = precision
        self.verbose = verbose

    def fit(self, X, y=None):
        """Fit the adversarial autoencoder to ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,), default=None
            Class labels, ``-1`` for unlabeled samples. Used only with a prior
            that has modes (``"gaussian_mixture"``, ``"swiss_roll"`` or such
            an object): the discriminator then also sees a one-hot label with
            an extra slot for "unlabeled", which sends the codes of class
            ``k`` to mode ``k`` (paper section 2.3). Ignored otherwise, so the
            transformer can sit in a supervised :class:`~sklearn.pipeline.Pipeline`.
            With ``n_clusters``: labelled samples train the category head
            (class ``k`` goes to cluster head ``k``).

        Returns
        -------
        self : AAETransformer
            The fitted estimator.
        """
        return self._fit(X, y)

    def partial_fit(self, X, y=None, classes=None):
        """One pass over ``X``, continuing the model (the first call builds it).

        For data that arrive in chunks or do not fit in memory: each call
        trains one epoch over the rows it is given, and the optimisers keep
        their state between calls. The learning rates stay at their initial
        values (a schedule needs to know where training ends, which a stream
        does not), ``early_stopping`` is not used, and the neighbour graph of
        the map term is built on each chunk's rows, so chunks of a few
        thousand rows keep it meaningful.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,), default=None
            Labels, as in :meth:`fit`.
        classes : array-like of shape (n_classes,), default=None
            Every class ``y`` may hold in the whole stream, on the first call
            when the labels are used (a prior with modes, or ``n_clusters``);
            without it the first chunk's labels fix the classes. Ignored on
            later calls.

        Returns
        -------
        self : AAETransformer
            The updated estimator.
        """
        return self._fit(X, y, incremental=True, classes=classes)

    def transform(self, X) -> np.ndarray:
        """Encode ``X`` into codes.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            Deterministic codes (see ``encoder`` for how noise is handled), in
            the floating dtype of ``X``; ``W_C y + z`` with ``n_clusters``.
        """
        return self._encode(self._check_X(X))

    # -- cluster heads (paper section 7) -------------------------------------
    def _validate_params(self) -> None:
        super()._validate_params()
        if self.n_clusters is not None:
            _check_int("n_clusters", self.n_clusters, 1)
        _check_float(
            "cluster_head_distance", self.cluster_head_distance, low=0.0, closed=True
        )
        _check_float("balance_weight", self.balance_weight, low=0.0, closed=True)
        if not (
            isinstance(self.neighbor_weight, str) and self.neighbor_weight == "auto"
        ):
            _check_float("neighbor_weight", self.neighbor_weight, low=0.0, closed=True)
        _check_int("n_neighbors", self.n_neighbors, 1)
        _check_float("neighbor_scale", self.neighbor_scale, low=0.0)
        if not (
            isinstance(self.discriminator_noise, str)
            and self.discriminator_noise == "auto"
        ):
            _check_float(
                "discriminator_noise", self.discriminator_noise, low=0.0, closed=True
            )
        if not (isinstance(self.input_noise, str) and self.input_noise == "auto"):
            _check_float("input_noise", self.input_noise, low=0.0, closed=True)

    def _uses_labels(self) -> bool:
        return self.n_clusters is None and super()._uses_labels()

    def _training_targets(self, y, n_samples: int, classes=None) -> _Targets:
        if self.n_clusters is None:
            return super()._training_targets(y, n_samples, classes)
        targets = _Targets(n_categories=self.n_clusters, cluster_heads=True)
        if y is None:
            return targets
        classes, codes, _ = self._encode_labels(y, n_samples, classes)
        if len(classes) > self.n_clusters:
            # Not an error: the transformer may sit in a supervised pipeline
            # whose y it cannot use, as without n_clusters.
            warnings.warn(
                f"y has {len(classes)} classes but n_clusters={self.n_clusters}: "
                "y is ignored and the fit is unsupervised. Set n_clusters to at "
                "least the number of classes to train on the labels.",
                UserWarning,
                stacklevel=4,
            )
            return targets
        targets.classes, targets.labels = classes, codes
        return targets

    def _auto_hidden_layer_sizes(self) -> tuple[int, ...]:
        # Four layers help the map term lay out the neighbour graph (2-D 5-NN
        # accuracy of new points, seeds 0-2: digits 0.925 against 0.895, the
        # 20-class table and UCI letter by 0.1 or more), but without the term
        # the deeper game did worse: the paper's model left the prior on
        # digits (49 times the reference) and the cluster-head map lost
        # (0.803 against 0.861). See the user guide, "Network depth".
        return (256,) * 4 if self._map_term_on() else (256, 256)

    def _auto_discriminator_hidden_layer_sizes(
        self, hidden: tuple[int, ...]
    ) -> tuple[int, ...]:
        # With the map term (and no cluster heads) the first two of the
        # encoder's layers: the critic sees 2-D codes on three rows per
        # training row, and two layers made a letter epoch 12-18 % shorter
        # at level 5-NN accuracy (letter and digits over three seeds, the
        # 20-class table two, Fashion-MNIST four). See the user guide,
        # "Network depth".
        if self._plain_map():
            return hidden[:2]
        return hidden

    _accepts_auto_dropout = True
    _accepts_auto_max_iter = True
    _accepts_zero_regularization = True

    def _auto_max_iter(self, n_batches: int) -> int:
        # The map keeps improving with the number of steps, and a small
        # training set gives few of them an epoch: digits' 1,257 rows make 13
        # mini-batches, so 100 epochs are 1,300 steps where UCI letter gets
        # 14,000. 300 epochs on digits placed new points at 0.954 against
        # 0.932 (seeds 0-2, the prior met as closely; 0.957 against 0.919 in
        # bench_embedding.py). Larger sets reach the
        # steps within 100 epochs and keep them. Not measured with cluster
        # heads or the paper's model: 100 there.
        if not self._plain_map():
            return _DEFAULT_EPOCHS
        wanted = math.ceil(_MAP_MIN_STEPS / n_batches)
        return min(_MAP_MAX_EPOCHS, max(_DEFAULT_EPOCHS, wanted))

    def _auto_dropout(self, n_samples: int, n_features: int) -> float:
        # With the map term the encoder fits the training rows' layout
        # closely and, where the rows cover the input space thinly, places
        # new points worse (digits: 5-NN 0.97 among the training rows, 0.91
        # for new points); dropout closes part of that gap (+0.02 on digits,
        # Fashion-MNIST, the 20-class table and pen-digits, 481 rows a
        # feature). Where rows are dense (UCI letter, 875 a feature) the
        # layout itself is the limit and dropout cost 0.05; the threshold
        # lies between the two. Not measured with cluster heads or the
        # paper's model: 0 there.
        on = self._plain_map()
        sparse_rows = n_samples < _MAP_DROPOUT_MAX_ROWS_PER_FEATURE * n_features
        return _MAP_DROPOUT if on and sparse_rows else 0.0

    def _input_noise(self, X, n_rows: int, continuing: bool) -> float:
        noise = self.input_noise
        if noise == "auto":
            if continuing:
                # As dropout: a continued fit or a stream keeps what its
                # first call chose, in that call's units.
                return self._session.config.input_noise
            sparse_rows = n_rows < _MAP_INPUT_NOISE_MAX_ROWS_PER_FEATURE * X.shape[1]
            noise = _MAP_INPUT_NOISE if self._plain_map() and sparse_rows else 0.0
        return float(noise) * _overall_std(X) if noise else 0.0

    def _plain_map(self) -> bool:
        """The map term on the codes themselves (no cluster heads)."""
        return self._map_term_on() and self.n_clusters is None

    def _map_term_on(self) -> bool:
        """Whether ``neighbor_weight`` switches the map term on."""
        weight = self.neighbor_weight
        if isinstance(weight, str):
            # "auto": only with the Gaussian prior (see _extra_config).
            gaussian = isinstance(self.prior, str) and self.prior == "gaussian"
            return weight == "auto" and gaussian
        return isinstance(weight, numbers.Real) and weight > 0

    def _validation_scorer(self, X_val, labels_val, config, device, X_train):
        """With the map term, score the neighbourhoods of held-out rows.

        The score is the share of each held-out row's 10 nearest training
        rows (input space) that are also among its 10 nearest training codes.
        The held-out reconstruction loss is a poor guide to a map: on digits
        it flattens while the map still improves, and stopping on it gave
        5-NN accuracy 0.867 against 0.899 for the full fit. Measured on
        digits (70/30 split, seeds 0-3, patience 10, 100 epochs): this score
        stops at 59-100 epochs with 0.902 against 0.907 for the full fit;
        the reconstruction loss stopped at 34-72 epochs with 0.883.
        Without the map term (the paper's model) the score is the
        reconstruction loss.
        """
        if config.neighbor_weight <= 0:
            return super()._validation_scorer(
                X_val, labels_val, config, device, X_train
            )
        X_val_t = self._to_tensor(X_val, device)
        # Evenly spaced rows: the same for every seed, and no draw from the
        # fit's random state.
        queries = _spaced_rows(X_val.shape[0], _RECALL_MAX_QUERIES)
        references = _spaced_rows(X_train.shape[0], _RECALL_MAX_REFERENCES)
        recall = NeighborRecall(X_val[queries], X_train[references], _RECALL_NEIGHBORS)
        X_query_t = self._to_tensor(X_val[queries], device)
        X_reference_t = self._to_tensor(X_train[references], device)

        def validation(module):
            loss = self._mean_reconstruction_loss(module, X_val_t)
            score = recall(
                self._map_batches(module.embed, X_query_t),
                self._map_batches(module.embed, X_reference_t),
            )
            return score, {
                VALIDATION_RECONSTRUCTION_KEY: loss,
                VALIDATION_NEIGHBOR_RECALL_KEY: score,
            }

        return validation

    def _discriminator_noise(self, shaping: bool = False) -> float:
        noise = self.discriminator_noise
        if noise != "auto":
            return float(noise)
        # Only with the map term: there the critic pushed codes into the gaps
        # between the map's groups (see the parameter's docstring).
        on = self._plain_map()
        if on:
            return _MAP_DISCRIMINATOR_NOISE
        return _SHAPE_DISCRIMINATOR_NOISE if shaping else 0.0

    def _shapes_a_non_gaussian_prior(self, conditioned: bool) -> bool:
        """Whether the critic alone shapes the codes into a non-Gaussian prior.

        No labels, no map term, no cluster heads, and a prior other than
        the Gaussian (uniform, mixture, swiss roll, a custom one). The paper's
        constant rates and noiseless critic left the swiss roll far off
        (energy distance 0.13 on digits, against 0.041 for a Gaussian with
        the roll's moments); a critic at half the reconstruction rate, with
        instance noise of 0.1 and a cosine decay, brings every named prior
        closer (digits, seeds 0-4): see the user guide, "Priors".
        """
        prior = self.prior
        gaussian = (isinstance(prior, str) and prior == "gaussian") or isinstance(
            prior, GaussianPrior
        )
        return (
            not conditioned
            and not gaussian
            and self.n_clusters is None
            and not self._map_term_on()
        )

    def _auto_learning_rate_schedule(self, conditioned: bool) -> str:
        if self._shapes_a_non_gaussian_prior(conditioned) or self._plain_map():
            return "cosine"
        return super()._auto_learning_rate_schedule(conditioned)

    def _extra_config(self, targets: _Targets, X: np.ndarray) -> dict:
        weight = self.neighbor_weight
        if weight == "auto":
            # The term is weighed against the reconstruction loss, whose
            # scale is the features' variance. Since the term is scale-free
            # (neighbor_map_scale_free) it no longer fights the critic over
            # the codes' spread and can weigh far more. Measured (2-D 5-NN
            # accuracy of new points, seed 0): UCI letter 0.714 at 1 and
            # 0.736 at 10 (0.617-0.649 before), prior_distance_ 3.6 times
            # the reference; the 20-class table 0.809 at 10; Fashion-MNIST
            # 0.693 at 1 (0.682 before); digits 0.92-0.93 at 0.03 to 10
            # (0.93 before). Only for the Gaussian prior: its repulsion
            # pushed codes past the edges of the uniform prior
            # (prior_distance_ 46 times the reference on digits).
            if not self._map_term_on():
                weight = 0.0
            elif self.n_clusters is not None:
                weight = _HEADS_NEIGHBOR_WEIGHT
            else:
                weight = min(
                    _NEIGHBOR_WEIGHT_PER_VARIANCE * _mean_feature_variance(X),
                    _NEIGHBOR_WEIGHT_MAX,
                )
        neighbor = {
            "neighbor_weight": float(weight),
            "n_neighbors": int(self.n_neighbors),
            "neighbor_scale": float(self.neighbor_scale),
            "neighbor_map_scale_free": self._plain_map(),
            # Three neighbours a row a step with the plain map: 5-NN accuracy
            # of new points on digits 0.927 +- 0.004 against 0.916 +- 0.003
            # with one (seeds 0-4), letter 0.737 / 0.726 against 0.724 /
            # 0.721 (seeds 0-1), level on the 20-class table and
            # Fashion-MNIST, for 12-15 % more fit time. See the user guide.
            "n_positives": _MAP_POSITIVES if self._plain_map() else 1,
            # A heavier tail than Student-t's with the plain map (UMAP's b):
            # 5-NN accuracy of new points, seed 0, letter 0.794 at 0.4, 0.791
            # at 0.3, 0.772 at 0.6 and 0.758 at 0.8 against 0.724 at 1;
            # digits 0.931 at 0.4 against 0.925 at 1 (seeds 0-2); the
            # 20-class table's seed 1 0.821, no longer warning (0.796 at 29
            # times the reference). See the user guide.
            "neighbor_exponent": _MAP_EXPONENT if self._plain_map() else 1.0,
            "discriminator_noise": self._discriminator_noise(
                self._shapes_a_non_gaussian_prior(targets.conditions is not None)
            ),
        }
        if self.n_clusters is None:
            return neighbor
        labelled = targets.labels is not None
        return {
            **neighbor,
            "cluster_head_distance": float(self.cluster_head_distance),
            # Labels keep every category in use; without them the balance
            # penalty does (see AAEClusterer).
            "category_balance": 0.0 if labelled else float(self.balance_weight),
            # As AAEClassifier's default: a classification phase faster than
            # the reconstruction keeps the head anchored to a few labels.
            "classification_learning_rate": 3 * self.learning_rate_init,
        }

    def _auto_regularization_ratio(self, conditioned: bool) -> float:
        if self.n_clusters is not None:
            # Measured on digits (2-D, 10 heads, 2 seeds): at 0.2x the
            # category head stays soft, at 1x the style codes drift far from
            # the prior (prior_distance_ 70-540x the reference); 0.5x: 2-70x,
            # 5-NN accuracy 0.87.
            return 0.5
        if not conditioned and self._map_term_on():
            # With the map term the critic is what holds a map back (UCI
            # letter, 26 classes: 0.708 5-NN with it switched off). Measured
            # at 0.1x against 0.2x (2-D 5-NN of new points): letter 0.617 /
            # 0.628 (seeds 0-1) against 0.475 and the bench's 0.506 mean,
            # with the codes closer to the prior (2-3x the reference against
            # 5-16x); Fashion-MNIST 0.675 against 0.652 (seed 0); the
            # 20-class table 0.808 / 0.808 against 0.807; digits 0.912
            # against 0.925 (mean of seeds 0-2). See the user guide.
            return _MAP_REG_LR_RATIO
        if self._shapes_a_non_gaussian_prior(conditioned):
            return _SHAPE_REG_LR_RATIO
        return super()._auto_regularization_ratio(conditioned)

    def _finish_fit(self, plan) -> None:
        if self.n_clusters is not None:
            self.cluster_heads_ = (
                self.module_.cluster_heads.detach().cpu().numpy().astype(np.float64)
            )

    def inverse_transform(self, Z) -> np.ndarray:
        """Decode codes back into the input space.

        Parameters
        ----------
        Z : array-like of shape (n_samples, n_components)
            Codes.

        Returns
        -------
        X : ndarray of shape (n_samples, `n_features_in_`)
            Decoded samples.
        """
        return self._decode(self._check_codes(Z))

    def sample(self, n_samples: int = 1, *, y=None, random_state=None) -> np.ndarray:
        """Generate samples by decoding draws from the prior.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples.
        y : array-like of shape (n_samples,), default=None
            Class of each sample (``-1``: any), when the estimator was fitted
            with labels: draws come from the prior modes of those classes
            (with ``n_clusters``: from the cluster heads of those classes).
        random_state : int, RandomState instance or None, default=None
            Seeds the prior draws.

        Returns
        -------
        X : ndarray of shape (n_samples, `n_features_in_`)
            Generated samples.
        """
        check_is_fitted(self)
        rng = check_random_state(random_state)
        if self.n_clusters is not None:
            # A cluster head plus a style draw, for random or given classes.
            if y is None:
                heads = rng.randint(self.n_clusters, size=n_samples)
            else:
                heads = self._prior_modes_for(y, n_samples)
                if np.any(heads < 0):
                    heads = np.where(
                        heads < 0, rng.randint(self.n_clusters, size=n_samples), heads
                    )
            Z = self.prior_.sample(n_samples, random_state=rng)
            return self._decode(Z + self.cluster_heads_[heads])
        modes = self._prior_modes_for(y, n_samples)
        Z = self.prior_.sample(n_samples, y=modes, random_state=rng)
        return self._decode(Z)

    def score(self, X, y=None) -> float:
        """Negative mean reconstruction loss of ``X`` (higher is better).

        The loss is the training loss (``loss``), averaged over features and
        samples, so :class:`~sklearn.model_selection.GridSearchCV` can select
        models without a ``scoring``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to reconstruct.
        y : None
            Ignored.

        Returns
        -------
        score : float
            Minus the mean reconstruction loss.
        """
        return self._reconstruction_score(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _spaced_rows(n_rows: int, n_max: int) -> np.ndarray:
    """At most ``n_max`` row indices spread evenly over ``range(n_rows)``."""
    if n_rows <= n_max:
        return np.arange(n_rows)
    return np.linspace(0, n_rows - 1, n_max).astype(np.int64)
