"""AAEClusterer: unsupervised clustering with an adversarial autoencoder."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import (
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import ClassifierTags

from ._base import _BaseAAE, _check_float, _check_int, _Targets
from ._merge import (
    SubclusterStatistics,
    kept_edge_share,
    merge_subclusters,
    principal_subclusters,
)

# Measured on digits (10 clusters, 3-5 seeds): the category head needs a
# regulariser as fast as the autoencoder to become one-hot; at 0.2x the
# category discriminator wins (accuracy 0.96) and the clusters stay soft.
_CLUSTER_REG_LR_RATIO = 1.0
# n_init="auto" without over-clustering: restarts where a fit is cheap
# (digits, 1,797 rows: 3 fits in about 90 s on one quiet core). With a
# merge they did not pay (digits seeds 0-2, spectral merge: 0.844, 0.936,
# 0.943 against 0.864, 0.939, 0.943 for one fit), so one fit.
_AUTO_N_INIT_MAX_SAMPLES = 5000
# n_subclusters="auto": the head has five units per cluster, merged along
# the neighbour graph after training, but no more than half a mini-batch
# (the balance penalty is computed per batch) unless that leaves fewer than
# two per cluster. Measured (benchmarks/explore_overcluster_merge.py, seeds
# 0-4, mean Hungarian accuracy / NMI, two units per cluster -> five): the
# digits benchmark split 0.854 / 0.824 -> 0.909 / 0.880, unbalanced digits
# 0.843 / 0.826 -> 0.856 / 0.844, all of digits 0.901 / 0.871 -> 0.888 /
# 0.870; units are purer (0.89-0.92 -> 0.93-0.96 of their rows in one
# class) and the merge has more to work with.
_AUTO_SUBCLUSTERS_PER_CLUSTER = 5
_AUTO_SUBCLUSTERS_MIN_PER_CLUSTER = 2


class AAEClusterer(
    ClusterMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, _BaseAAE
):
    """Unsupervised clustering with an adversarial autoencoder.

    The semi-supervised model of :class:`AAEClassifier` with no labels
    (Makhzani et al., 2015, section 6): the encoder has a softmax head ``y``
    with ``n_clusters`` units and a style code ``z``; the decoder
    reconstructs from ``[y, z]``. One discriminator matches ``y`` to a
    categorical prior (so ``y`` becomes one-hot), another matches ``z`` to the
    style prior. With a small style code the decoder must read the cluster
    from ``y``, so ``y`` learns the discrete structure of the data.

    A per-sample discriminator cannot tell that whole categories go unused,
    and without labels the paper's game collapses onto a few clusters
    (measured on digits: 1 to 6 of 10 clusters used). The generator step
    therefore also pays ``balance_weight`` times the Kullback-Leibler
    divergence between the mini-batch mean of ``y`` and the uniform
    distribution; ``balance_weight=0`` is the paper's model.

    Beyond the paper, the reconstruction step also pays ``neighbor_weight``
    times minus the log-probability that a row and one of its nearest
    neighbours in the training data share a cluster (the neighbour graph is
    built once per fit), and ``n_init`` restarts keep the model whose
    clusters cut the fewest neighbour-graph edges. Measured on digits (10
    clusters, seeds 0-4): Hungarian accuracy 0.70-0.87 (mean 0.78, level
    with k-means) without them, 0.85-0.94 (mean 0.89, NMI 0.87) with the
    neighbour term and three restarts.

    Also beyond the paper, the head over-clusters: it has ``n_subclusters``
    units (five per cluster by default), merged into ``n_clusters``
    clusters along the neighbour graph once training ends, since a class
    split over two units is easy to join again while two classes sharing a
    unit cannot be parted. Measured on digits (10 clusters, seeds 0-4, one
    fit each): mean Hungarian accuracy 0.888 (NMI 0.870) with 50 units
    merged, 0.901 (NMI 0.871) with 20, 0.831 (NMI 0.825) with 10; on the
    benchmark's 1,257-image split 0.909 (NMI 0.880) with 50 units against
    0.854 (NMI 0.824) with 20; on unbalanced digits 0.856 (NMI 0.844) with
    50, above k-means.
    A third departure, ``consistency_weight``, asks the head to keep its
    output when a row moves a short way in the direction that changes the
    head most (virtual adversarial training, as IMSAT uses for clustering):
    on digits it raised the mean accuracy from 0.891 to 0.908 (NMI 0.867 to
    0.885, seeds 0-4).
    ``n_subclusters=n_clusters, neighbor_weight=0, consistency_weight=0,
    n_init=1`` gives the paper's model with the balance penalty. See the
    user guide for the figures.

    Parameters
    ----------
    n_clusters : int, default=16
        Number of clusters (units of the category head).
    n_components : int, default=5
        Dimension of the style code ``z``. Keep it small: a rich style lets
        the decoder ignore ``y``.
    prior : str, prior object or callable, default="gaussian"
        Prior of the style code (see :class:`AAETransformer`).
    encoder : {"deterministic", "gaussian", "universal"}, default="deterministic"
        Posterior of the encoder (see :class:`AAETransformer`).
    hidden_layer_sizes : int or tuple of int, default=(256, 256)
        Hidden layers of the encoder; the decoder mirrors them.
    discriminator_hidden_layer_sizes : int, tuple of int or None, default=None
        Hidden layers of both discriminators; ``None`` uses
        ``hidden_layer_sizes``.
    activation : {"relu", "leaky_relu", "tanh", "elu", "gelu"}, default="relu"
        Hidden-layer activation of every network.
    dropout : float, default=0.2
        Dropout rate after every hidden layer. Measured on digits (10
        clusters, Hungarian accuracy): 0.60-0.75 without dropout over the
        settings tried, 0.70-0.87 with 0.2 (8 seeds, mean 0.78; KMeans 0.69-0.79,
        mean 0.76); 0.3 collapsed one seed of three.
    batch_norm : bool, default=False
        Batch normalisation in the encoder and decoder hidden layers.
    loss : {"mse", "bce"}, default="mse"
        Reconstruction loss (``"bce"`` needs ``X`` in [0, 1]).
    solver : {"adam", "sgd"}, default="adam"
        Optimiser of every phase.
    batch_size : int, default=100
        Mini-batch size. The balance penalty is computed per mini-batch, so
        batches much smaller than ``n_clusters`` make it noisy.
    learning_rate_init : float, default=1e-3
        Learning rate of the reconstruction phase.
    regularization_learning_rate : float or "auto", default="auto"
        Learning rate of the discriminator and generator updates;
        ``"auto"``: equal to ``learning_rate_init``.
    balance_weight : float, default=20.0
        Weight of the penalty that keeps clusters balanced (see above).
    neighbor_weight : float, default=1.0
        Weight of the neighbour-agreement term (see above); 0 disables it.
        Measured on digits: 0.5 and 2 clustered worse than 1.
    n_neighbors : int, default=15
        Neighbours per training row in the neighbour graph (exact search; a
        partitioned search for dense rows of 65 features or more from 4,096
        rows on the CPU; ``pynndescent`` above 50,000 rows when it is
        installed).
    consistency_weight : float, default=1.0
        Weight of a virtual adversarial term on the category head, a
        departure from the paper (IMSAT's consistency term): each row is
        moved, by ``consistency_radius`` times its distance to its 10th
        nearest neighbour in the graph, in the direction that changes ``y``
        most (one power iteration, as in virtual adversarial training), and
        the reconstruction step also pays the Kullback-Leibler divergence
        from ``y`` at the row to ``y`` at the moved row. The head then
        changes little within a row's neighbourhood. 0 disables it.
        Measured on the digits benchmark split (10 clusters, seeds 0-4, two
        threads, both settings in one run): Hungarian accuracy 0.891 ->
        0.908 and NMI 0.867 -> 0.885, higher on every seed (the lowest 0.878
        -> 0.897), with fits about 21 % longer; Fashion-MNIST (cpu30
        settings, seeds 0-2) level within the seeds' spread (0.585 / 0.650
        -> 0.598 / 0.641, fits 24 % longer), unbalanced digits and blobs
        level. See the user guide.
    consistency_radius : float, default=0.25
        How far the consistency term moves a row, as a share of the row's
        distance to its 10th nearest neighbour (IMSAT's 0.25). On digits
        1.0 clustered one seed of two at 0.629.
    n_subclusters : int or "auto", default="auto"
        Units of the category head. With more units than ``n_clusters`` the
        model over-clusters, and after training the units (sub-clusters)
        are merged into ``n_clusters`` clusters along the neighbour graph:
        the graph is contracted to the sub-clusters and they are joined
        greedily, the join that raises its modularity most first (at
        resolution 0.75), down to ``n_clusters`` groups
        (``cluster_of_subcluster_``); the join that lowers the normalised
        cut most first replaces that merge when it keeps at least 2 % more
        of the rows' probability in their clusters, as it does when one
        class is much larger than the others. :meth:`predict_proba` adds up the
        probabilities of a cluster's sub-clusters. ``"auto"``: five times
        ``n_clusters``, at most ``batch_size // 2`` (the balance penalty is
        computed per mini-batch) and at least twice ``n_clusters``: 50 for
        10 clusters, 60 for 30, with the default batch of 100;
        ``n_clusters`` gives one unit per cluster and no merge. The user
        guide has the figures.
    pretrain_iter : int, default=0
        Epochs, among the ``max_iter``, that train the autoencoder alone
        before the categorical game starts (their discriminator entries in
        ``history_`` are NaN). Measured on digits, 20 lowered the mean
        accuracy from 0.87 to 0.81, so it is off by default. A fit whose
        epochs are all pretraining warns (``ConvergenceWarning``) that no
        discriminator has shaped the codes yet.
    n_init : int or "auto", default="auto"
        Number of models trained from different seeds; the one whose
        clusters keep the most neighbour-graph edges within a cluster is
        kept. ``"auto"``: 1 when the head over-clusters (``n_subclusters``
        above ``n_clusters``, the default), where restarts did not pay on
        digits; else 3 up to 5,000 training rows and 1 above.
    learning_rate_schedule : {"auto", "constant", "cosine"}, default="auto"
        ``"cosine"`` decays every rate along a half cosine over ``max_iter``
        epochs; ``"auto"`` keeps them constant.
    momentum : float, default=0.9
        Momentum for ``solver="sgd"``.
    max_iter : int, default=100
        Maximum number of epochs (passes over the data) per call to ``fit``.
    early_stopping : bool, default=False
        Whether to hold out ``validation_fraction`` of the training rows and
        stop when their score has not improved by at least ``tol`` for
        ``n_iter_no_change`` epochs; the weights of the best epoch are then
        restored. The score is minus the mean reconstruction loss of the
        held-out rows (what :meth:`score` returns); the clusters themselves have
        no held-out measure without labels. Not used by :meth:`partial_fit`.
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
        Seeds weights, batches, noise and prior draws.
    device : str or torch.device, default="auto"
        ``"auto"``: CUDA when available, else the CPU.
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
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training sample.
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        The cluster heads decoded into input space: each cluster's principal
        sub-cluster as a one-hot category, with a zero style code (the
        paper's Figure 9).
    n_subclusters_ : int
        Units of the category head (``n_subclusters`` resolved).
    cluster_of_subcluster_ : ndarray of shape (`n_subclusters_`,)
        Cluster each unit of the category head was merged into.
    principal_subcluster_ : ndarray of shape (n_clusters,)
        Each cluster's largest sub-cluster (most training rows): the unit
        :meth:`decode` and ``cluster_centers_`` decode it with, and what the
        ONNX decoder's one-hot input holds for that cluster.
    prior_ : skaae.priors.BasePrior
        The style prior.
    history_ : dict of str to ndarray of shape (`n_iter_`,)
        Per-epoch means: the keys of :class:`AAETransformer` (for the style
        discriminator), ``"category_discriminator"`` and
        ``"category_discriminator_accuracy"`` (the ``y`` discriminator),
        ``"neighbor"`` (the neighbour-agreement term) and ``"consistency"``
        (the virtual adversarial divergence, without its weight) when those
        terms are on.
    prior_distance_ : float
        Energy distance between style codes and prior draws.
    prior_distance_reference_ : float
        What a perfect match scores on average.
    n_iter_ : int
        Number of epochs run, over every call (``warm_start``,
        :meth:`partial_fit`).
    validation_scores_ : ndarray of shape (n_epochs,) or None
        Validation score after each epoch of the last ``fit`` with
        ``early_stopping`` (see ``early_stopping``); ``None`` without it.
        ``history_["validation_reconstruction"]`` holds the reconstruction
        loss of the held-out rows.
    best_validation_score_ : float or None
        Best of ``validation_scores_``: the model is that epoch's.
    module_ : torch.nn.Module
        The trained networks.
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
    sklearn.cluster.KMeans : Clustering by distance to centroids.
    AAEClassifier : The same model with labels.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skaae import AAEClusterer
    >>> X, _ = load_digits(return_X_y=True)
    >>> clu = AAEClusterer(n_clusters=10, max_iter=2, random_state=0).fit(X / 16)
    >>> clu.labels_.shape, clu.cluster_centers_.shape
    ((1797,), (10, 64))
    """

    def __init__(
        self,
        n_clusters: int = 16,
        *,
        n_components: int = 5,
        prior="gaussian",
        encoder: str = "deterministic",
        hidden_layer_sizes=(256, 256),
        discriminator_hidden_layer_sizes=None,
        activation: str = "relu",
        dropout: float = 0.2,
        batch_norm: bool = False,
        loss: str = "mse",
        solver: str = "adam",
        batch_size: int = 100,
        learning_rate_init: float = 1e-3,
        regularization_learning_rate: float | str = "auto",
        balance_weight: float = 20.0,
        neighbor_weight: float = 1.0,
        n_neighbors: int = 15,
        consistency_weight: float = 1.0,
        consistency_radius: float = 0.25,
        n_subclusters: int | str = "auto",
        pretrain_iter: int = 0,
        n_init: int | str = "auto",
        learning_rate_schedule: str = "auto",
        momentum: float = 0.9,
        max_iter: int = 100,
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
        self.n_clusters = n_clusters
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
        self.balance_weight = balance_weight
        self.neighbor_weight = neighbor_weight
        self.n_neighbors = n_neighbors
        self.consistency_weight = consistency_weight
        self.consistency_radius = consistency_radius
        self.n_subclusters = n_subclusters
        self.pretrain_iter = pretrain_iter
        self.n_init = n_init
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
        """Fit the clustering adversarial autoencoder.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        self : AAEClusterer
            The fitted estimator.
        """
        return self._fit(X, None)

    def partial_fit(self, X, y=None):
        """One pass over ``X``, continuing the model (the first call builds it).

        For data that arrive in chunks or do not fit in memory: each call
        trains one epoch over the rows it is given, with one model (no
        restarts), the optimisers' state kept between calls and the learning
        rates at their initial values; ``early_stopping`` is not used. The
        neighbour graph of the agreement term is built on each chunk's rows,
        so chunks of a few thousand rows keep it meaningful. ``labels_`` are
        the clusters of the last chunk.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : None
            Ignored.

        Returns
        -------
        self : AAEClusterer
            The updated estimator.
        """
        return self._fit(X, None, incremental=True)

    def _validate_params(self) -> None:
        super()._validate_params()
        _check_int("n_clusters", self.n_clusters, 1)
        _check_float("balance_weight", self.balance_weight, low=0.0, closed=True)
        _check_float("neighbor_weight", self.neighbor_weight, low=0.0, closed=True)
        _check_int("n_neighbors", self.n_neighbors, 1)
        _check_float(
            "consistency_weight", self.consistency_weight, low=0.0, closed=True
        )
        _check_float("consistency_radius", self.consistency_radius, low=0.0)
        _check_int("pretrain_iter", self.pretrain_iter, 0)
        if not (isinstance(self.n_init, str) and self.n_init == "auto"):
            _check_int("n_init", self.n_init, 1)
        if not (isinstance(self.n_subclusters, str) and self.n_subclusters == "auto"):
            _check_int("n_subclusters", self.n_subclusters, 1)
            if self.n_subclusters < self.n_clusters:
                raise ValueError(
                    f"n_subclusters must be 'auto' or at least n_clusters="
                    f"{self.n_clusters}, got {self.n_subclusters}."
                )

    def _head_units(self) -> int:
        """Units of the category head: ``n_subclusters`` resolved."""
        if isinstance(self.n_subclusters, str):
            return min(
                _AUTO_SUBCLUSTERS_PER_CLUSTER * self.n_clusters,
                max(
                    _AUTO_SUBCLUSTERS_MIN_PER_CLUSTER * self.n_clusters,
                    self.batch_size // 2,
                ),
            )
        return self.n_subclusters

    def _needs_neighbor_graph(self) -> bool:
        # The merge joins sub-clusters along the graph (the consistency term
        # asks for it through the config, in _plan_fit).
        return self._head_units() > self.n_clusters

    def _uses_labels(self) -> bool:
        return False

    def _training_targets(self, y, n_samples: int, classes=None) -> _Targets:
        return _Targets(n_categories=self._head_units())

    def _extra_config(self, targets: _Targets, X: np.ndarray) -> dict:
        return {
            "category_balance": float(self.balance_weight),
            "category_neighbor_weight": float(self.neighbor_weight),
            "n_neighbors": int(self.n_neighbors),
            "consistency_weight": float(self.consistency_weight),
            "consistency_radius": float(self.consistency_radius),
            "pretrain_iter": int(self.pretrain_iter),
        }

    def _auto_regularization_ratio(self, conditioned: bool) -> float:
        return _CLUSTER_REG_LR_RATIO

    def _n_init(self, n_samples: int) -> int:
        if self.n_init == "auto":
            if self._head_units() > self.n_clusters:
                return 1
            return 3 if n_samples <= _AUTO_N_INIT_MAX_SAMPLES else 1
        return self.n_init

    def _subcluster_statistics(self, module, X_t, neighbors, parallel=None):
        module.eval()
        stats = SubclusterStatistics.from_proba(
            self._map_batches(module.predict_proba, X_t),
            neighbors.cpu().numpy(),
        )
        if parallel is not None:
            # Sums over every rank's rows: the same merge everywhere.
            total = parallel.mean(stats.to_vector()) * parallel.world_size
            stats = SubclusterStatistics.from_vector(total, self._head_units())
        return stats

    def _init_score(self, module, X_t, neighbors) -> float:
        # The share of neighbour-graph edges whose two ends fall in the same
        # cluster (after the merge). Measured on digits (5 seeds, no merge):
        # 0.95 for the runs at 0.93-0.94 accuracy, 0.93 for those at
        # 0.76-0.80.
        stats = self._subcluster_statistics(module, X_t, neighbors)
        return kept_edge_share(stats, merge_subclusters(stats, self.n_clusters))

    def _finish_fit(self, plan) -> None:
        n_units = self._head_units()
        if n_units > self.n_clusters:
            # The rows of the graph: with partial_fit, the chunk and the
            # sample kept of earlier chunks.
            X_t = plan.data.graph_rows
            stats = self._subcluster_statistics(
                self.module_, X_t, plan.data.neighbors, plan.parallel
            )
            merge = merge_subclusters(
                stats, self.n_clusters, getattr(self, "cluster_of_subcluster_", None)
            )
            principal = principal_subclusters(stats, merge, self.n_clusters)
        else:
            merge = principal = np.arange(n_units)
        self.n_subclusters_ = n_units
        self.cluster_of_subcluster_ = merge
        self.principal_subcluster_ = principal
        self.labels_ = self.predict(plan.X)
        empty = self.n_clusters - len(np.unique(self.labels_))
        if empty and not plan.incremental:
            warnings.warn(
                f"{empty} of the n_clusters={self.n_clusters} clusters got no "
                "training sample: the data may hold fewer clusters, or the fit "
                "collapsed (see history_['category_discriminator_accuracy']).",
                ConvergenceWarning,
                stacklevel=5,
            )
        self.cluster_centers_ = self.decode(
            np.zeros((self.n_clusters, self.n_components)), np.arange(self.n_clusters)
        )

    def _proba_map(self) -> np.ndarray:
        return np.eye(self.n_clusters)[self.cluster_of_subcluster_]

    def _onnx_proba_map(self) -> np.ndarray | None:
        if self.n_subclusters_ == self.n_clusters:
            return None
        return self._proba_map()

    def predict_proba(self, X) -> np.ndarray:
        """Cluster probabilities: the category head's softmax, merged.

        A cluster's probability is the sum of its sub-clusters' (see
        ``n_subclusters``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_clusters)
            Probability of each cluster.
        """
        proba = self._category_proba(X)
        if self.n_subclusters_ == self.n_clusters:
            return proba
        return proba @ self._proba_map()

    def predict(self, X) -> np.ndarray:
        """Most probable cluster of each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Cluster index of each sample, in ``[0, n_clusters)``.
        """
        return np.argmax(self.predict_proba(X), axis=1)

    def transform(self, X) -> np.ndarray:
        """Style codes ``z`` of ``X``: what is left once the cluster is known.

        The cluster itself is in :meth:`predict_proba`; for distances to the
        cluster heads compare ``X`` with ``cluster_centers_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            Deterministic style codes, in the floating dtype of ``X``.
        """
        return self._encode(self._check_X(X))

    def decode(self, Z, labels) -> np.ndarray:
        """Decode style codes under given clusters.

        Parameters
        ----------
        Z : array-like of shape (n_samples, n_components)
            Style codes.
        labels : array-like of shape (n_samples,)
            Cluster index of each sample, in ``[0, n_clusters)``.

        Returns
        -------
        X : ndarray of shape (n_samples, `n_features_in_`)
            Decoded samples.
        """
        Z = self._check_codes(Z)
        labels = np.asarray(labels)
        if labels.shape != (Z.shape[0],):
            raise ValueError(
                f"labels must have shape ({Z.shape[0]},), got {labels.shape}."
            )
        if not np.issubdtype(labels.dtype, np.integer) or (
            labels.size and (labels.min() < 0 or labels.max() >= self.n_clusters)
        ):
            raise ValueError(
                f"labels must hold cluster indices in [0, {self.n_clusters})."
            )
        units = self.principal_subcluster_[labels]
        return self._decode(np.hstack([np.eye(self.n_subclusters_)[units], Z]))

    def score(self, X, y=None) -> float:
        """Negative mean reconstruction loss of ``X`` (higher is better).

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
        # predict_proba gives one column per cluster, as a multi-class
        # classifier's gives one per class; scikit-learn's sparse-input check
        # reads these tags for any estimator with predict_proba.
        tags.classifier_tags = ClassifierTags(multi_class=True)
        return tags
