"""Unsupervised clustering with AAEClusterer, next to the peers a user would pick.

The experiment of Makhzani et al. (2015, section 6, Table 3): the models
cluster the training images into ``k`` clusters (16 and 30 in the paper)
without any label; the labels are used only to score the clusters. For each
method and ``k`` the script reports, as mean ± standard deviation over the
``--seeds`` (the seed is every model's ``random_state``):

- the Hungarian accuracy (%): a one-to-one matching of clusters to classes
  (``skaae.metrics.clustering_accuracy``); with more clusters than classes,
  the points of the unmatched clusters count as errors;
- NMI and ARI (``sklearn.metrics.normalized_mutual_info_score`` and
  ``adjusted_rand_score``);
- the error (%) with the paper's protocol ("confident"): cluster ``i`` takes
  the label of the training point with the largest ``q(y_i | x)``, and every
  member of the cluster gets that label;
- the majority-label error (each cluster takes the most frequent label of its
  members; many-to-one);
- the number of non-empty clusters, and fit seconds.

Clustering is transductive, so the first table scores the training points
that were clustered (their clusters from ``predict``, equal to ``labels_``
where an estimator has them; for UMAP + GMM, the embedding UMAP fitted). The
second table scores the test points: every method here has ``predict``, each
cluster keeps the label it got on the training set (with each protocol) and
the test points take the label of the cluster they are predicted into; a test
point in a cluster that got no label on the training set counts as an error.
The paper reports test error with the confident protocol, the cluster labels
coming from the training side, so the test table's "confident" column is the
one to set next to it.

Methods (``--methods``; all see the same training points; fit times include
the PCA or the embedding):

- ``aae``: ``AAEClusterer(n_clusters=k, n_components=5,
  hidden_layer_sizes=(1000, 1000), max_iter=E, batch_size=100,
  random_state=seed)``, the estimator's other defaults (dropout 0.2,
  ``balance_weight=20``, mean squared error); digits and the unbalanced sets:
  ``hidden_layer_sizes=(256, 256)`` and the estimator's 100 epochs.
  ``--aae-param name=value`` (repeatable) passes any other AAEClusterer
  parameter, or overrides one of these (the value is read as a Python
  literal, else kept as a string): ``--aae-param balance_weight=0
  --aae-param "hidden_layer_sizes=(512, 512)"``. Confidence: ``q(y | x)``
  (``predict_proba``).
  ``n_components=5`` (the style code) is the estimator's default, on purpose:
  the decoder reconstructs from ``[y, z]``, and a style code rich enough to
  describe the image by itself lets the decoder ignore ``y``, which then
  carries no cluster; a small one forces the decoder to read the coarse
  class from ``y`` and leaves ``z`` the within-class style. Five dimensions
  are also what public re-implementations of the paper's section 6 use.
  (1000, 1000) is the width of the paper's MNIST networks.
- ``kmeans``, ``kmeans-pca``: ``KMeans(n_clusters=k, n_init=10,
  random_state=seed)`` on the raw pixels, and after ``PCA(50,
  random_state=seed)`` fitted on the training points (``min(50, d)``
  components: on blobs-unbalanced all 16, a mere rotation; the tables then
  say "features" and "PCA-16"). KMeans has no
  probabilities: its confidence for cluster ``i`` is the negative distance to
  centroid ``i``, so the confident protocol names a cluster after the
  training point nearest its centroid.
- ``gmm``, ``gmm-pca``: ``GaussianMixture(k, n_init=1, random_state=seed)``,
  default ``reg_covar``, with ``covariance_type="diag"`` on the raw pixels (a
  full 784 x 784 covariance per component is infeasible: about 300,000
  parameters each, far more than the few hundred to few thousand members of
  a component can estimate, and slow) and ``covariance_type="full"`` after
  PCA-50. Confidence: ``predict_proba``.
- ``umap-gmm`` (UMAP + GMM, as in N2D, McConville et al. 2020, without its
  autoencoder): ``umap.UMAP(n_components=10, n_neighbors=20, min_dist=0.0,
  random_state=seed)`` fitted on the training points, then
  ``GaussianMixture(k, covariance_type="full", random_state=seed)`` on the
  embedding; the test points go through ``UMAP.transform``. Needs
  umap-learn (``pip install umap-learn``); skipped, with a note, without it.
  Timed after a small throw-away fit that compiles UMAP's numba kernels.
- ``ae-kmeans`` (AE + KMeans): a plain autoencoder (no adversary, no prior)
  written in this script: a ReLU MLP ``d-500-500-2000-10`` for the 784-pixel
  data sets (the N2D/DEC architecture), ``d-256-256-10`` for the others, a
  linear 10-D code and a mirrored decoder with a linear output, mean squared
  error, Adam at 1e-3, mini-batches of 256, as many epochs as the AAE
  (``max_iter``), weights and batch order seeded by the seed; then
  ``KMeans(k, n_init=10, random_state=seed)`` on the codes. Confidence as
  for KMeans.

The embeddings of the two-stage peers (UMAP, the plain autoencoder) do not
depend on ``k``: each is fitted once per seed and shared by every ``k``, and
its fit time is counted in the fit time of every ``k``.

Confidences that tie: float64 probabilities saturate at 1.0, so several
training points can share the largest ``q(y_i | x)``, and "the" most
confident point is then the first in the data order. The script ranks the
points by the log-odds ``log q_i - log(1 - q_i)``, computed from the
category logits (AAE) or the weighted component log-likelihoods (GMM): an
increasing function of ``q_i`` that picks the same point whenever the
probabilities do not tie, and breaks their ties by the evidence the
probabilities rounded away. The number of clusters whose largest probability
was tied is printed, with the confident error that the probabilities alone
would give (ties to the first point in the data order). GaussianMixture's
probabilities tie in every cluster (they saturate at 1.0 away from the other
components), and the log-odds, which grow without bound away from the other
components, name a cluster after an extreme point rather than a typical
one: GaussianMixture's confident error is well above its majority error,
with either tie-break.

Data (``--dataset``):

- ``fashion-mnist`` (default; the Debian package ``dataset-fashion-mnist``, or
  ``--data``), ``mnist`` (``--data``: an IDX folder or ``.npz``; else
  ``fetch_openml``): the official test sets; pixels in [0, 1].
- ``digits`` (1,797 8x8 images, pixels / 16; a fixed stratified 30% test
  split, ``random_state=0``).
- ``digits-unbalanced``: digits with strongly unequal classes. Class ``c``
  (0-9) keeps ``round(n_c * 0.1 ** (c / 9))`` of its ``n_c`` images, a
  fraction decreasing geometrically from 1.0 (all the 0s) to 0.1 (a tenth of
  the 9s), drawn with ``RandomState(0)``: 735 images, 178 zeros down to 18
  nines. Then the same stratified 30% test split as digits.
- ``blobs-unbalanced``: ``make_classification(n_samples=4000, n_features=16,
  n_informative=8, n_redundant=4, n_classes=4, n_clusters_per_class=1,
  weights=[0.8, 0.1, 0.05, 0.05], flip_y=0, class_sep=2.0,
  random_state=0)``: four elongated Gaussian classes of 3,200, 400, 200 and
  200 points in 8 informative dimensions, 4 redundant (linear combinations)
  and 4 noise features; a stratified 30% test split (``random_state=0``);
  ``StandardScaler`` fitted on the training points.

The header prints the class counts of both sides. ``--n-train`` clusters a
random subset of the training set (drawn once, seed 0, the same for every
seed); the test set is always whole. ``--clusters`` defaults to 16 and 30
(the paper), and to the number of classes on the unbalanced sets.

Budgets (``--budget`` sets the defaults; explicit options override them):

- ``cpu30``: ``--n-train 10000 --max-iter 25 --clusters 16 30 --seeds 0 1 2``.
  For the AAE and the one-stage peers, what fits in about 30 minutes on a
  2-core CPU with one thread: measured with one thread on a shared 2-core AMD
  EPYC VM (load average about 3), with ``--max-iter 1 --seeds 0``, a 1-epoch
  AAE fit on 10,000 Fashion-MNIST images with (1000, 1000) networks took
  9.6 s (16 clusters) and 10.3 s (30 clusters), so a 25-epoch fit takes
  about 4 minutes (the first one of the cpu30 run took 226 s) and the six
  AAE fits about 23-24 minutes; the eight one-stage peer fits of one seed
  (KMeans 0.2-0.8 s with the default ``n_init``, GaussianMixture 1.1-2.0 s
  each) took 8 s in all. ``n_init=10`` makes KMeans about 10 times slower,
  and the two-stage peers, fitted once per seed, add minutes per seed: one
  epoch of the plain autoencoder (784-500-500-2000-10) on 10,000 points took
  5.4 s with one thread, so about 2.3 minutes for 25 epochs, plus UMAP on
  10,000 images (not timed here). The whole cpu30 run with every method
  therefore takes about 40 minutes; ``--methods`` leaves peers out.
- ``paper``: a longer schedule, meant for a GPU: all 60,000 training images,
  ``--max-iter 300``, ``--clusters 16 30``, ``--seeds 0 1 2``. (300 epochs is
  this script's choice, not a figure from the paper.)

The paper's MNIST test errors are printed next to the tables of the image
data sets for reference; they are not comparable with Fashion-MNIST or
digits, which are different data sets (Fashion-MNIST's classes overlap far
more than MNIST's digits).

Examples::

    python benchmarks/bench_clustering.py --dataset digits --clusters 10 16
    python benchmarks/bench_clustering.py --dataset digits-unbalanced \\
        --methods aae kmeans gmm-pca umap-gmm ae-kmeans
    python benchmarks/bench_clustering.py --dataset blobs-unbalanced \\
        --aae-param balance_weight=0
    python benchmarks/bench_clustering.py --budget cpu30 --json cpu30.json
    python benchmarks/bench_clustering.py --dataset mnist --data ~/mnist/ \\
        --budget paper --device cuda
"""

from __future__ import annotations

import argparse
import ast
import sys
import time
import warnings

import numpy as np
import torch
from _data import LOAD_ERRORS, print_data_intro, split_summary, train_test_data
from _machine import (
    limit_threads,
    machine_info,
    print_load_average_end,
    print_machine_header,
)
from _options import (
    DATA_HELP,
    DATASETS,
    aae_schedule_params,
    add_budget_argument,
    add_dataset_arguments,
    add_run_arguments,
    add_schedule_arguments,
    apply_budget,
)
from _report import (
    aae_fit_facts,
    convergence_messages,
    mean_std,
    pm,
    print_convergence_warnings,
    print_lines,
    write_json,
)
from scipy.optimize import linear_sum_assignment
from scipy.special import logsumexp
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

from skaae import AAEClusterer
from skaae.metrics import clustering_accuracy, clustering_error

METHODS = (
    "aae",
    "kmeans",
    "kmeans-pca",
    "gmm",
    "gmm-pca",
    "umap-gmm",
    "ae-kmeans",
)
LABELS = {
    "aae": "AAE",
    "kmeans": "KMeans (pixels)",
    "kmeans-pca": "KMeans (PCA-50)",
    "gmm": "GMM diag (pixels)",
    "gmm-pca": "GMM full (PCA-50)",
    "umap-gmm": "UMAP + GMM",
    "ae-kmeans": "AE + KMeans",
}
# Peers that embed the training points first (once per seed, for every k).
TWO_STAGE = ("umap-gmm", "ae-kmeans")
PROTOCOLS = ("confident", "majority", "hungarian")
UNBALANCED = ("digits-unbalanced", "blobs-unbalanced")
# Data sets with the small networks and the estimator's 100 epochs.
SMALL = ("digits", *UNBALANCED)
BUDGETS = {
    "cpu30": {
        "n_train": 10000,
        "max_iter": 25,
        "clusters": [16, 30],
        "seeds": [0, 1, 2],
    },
    "paper": {
        "n_train": None,
        "max_iter": 300,
        "clusters": [16, 30],
        "seeds": [0, 1, 2],
    },
}
DEFAULTS = {
    "n_train": None,
    "max_iter": None,
    "clusters": None,  # 16 30; the number of classes on the unbalanced sets
    "seeds": [0, 1, 2],
}
DEFAULT_CLUSTERS = [16, 30]
DEFAULT_MAX_ITER_LARGE = 20
PCA_COMPONENTS = 50
KMEANS_N_INIT = 10
UMAP_PARAMS = {"n_components": 10, "n_neighbors": 20, "min_dist": 0.0}
# The plain autoencoder of "AE + KMeans": hidden layers by input size.
AE_HIDDEN_LARGE = (500, 500, 2000)  # N2D / DEC, for 784-pixel images
AE_HIDDEN_SMALL = (256, 256)
AE_CODE = 10
AE_BATCH_SIZE = 256
AE_LEARNING_RATE = 1e-3
# Makhzani et al. (2015), Table 3: MNIST test error (%) of the AAE with the
# confident protocol; not this data set.
PAPER = {16: 9.55, 30: 4.10}
# AAEClusterer parameters that the script sets itself (--clusters, --seeds).
RESERVED_AAE_PARAMS = ("n_clusters", "random_state")


def aae_param(text: str) -> tuple[str, object]:
    """Parse ``name=value`` of ``--aae-param``.

    The value is read with ``ast.literal_eval`` (numbers, tuples, None,
    booleans, quoted strings...), else kept as the string itself.
    """
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        parsed = ast.literal_eval(value.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        parsed = value
    return name, parsed


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Defaults without --budget: --clusters 16 30 (the unbalanced sets: "
        "the number of classes), --seeds 0 1 2, all training points, --max-iter "
        f"{DEFAULT_MAX_ITER_LARGE} (digits and the unbalanced sets: 100).",
    )
    add_dataset_arguments(
        parser,
        choices=(*DATASETS, *UNBALANCED),
        data_help=DATA_HELP + " for mnist / fashion-mnist",
    )
    add_budget_argument(parser, BUDGETS, "a long schedule")
    parser.add_argument(
        "--clusters",
        type=int,
        nargs="+",
        default=None,
        metavar="K",
        help="numbers of clusters (the paper: 16 30)",
    )
    add_schedule_arguments(parser)
    parser.add_argument(
        "--n-components",
        type=int,
        default=5,
        help="dimension of the AAE's style code z (default 5)",
    )
    parser.add_argument(
        "--aae-param",
        type=aae_param,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="any other AAEClusterer parameter, or one to override (repeatable; "
        "the value is read as a Python literal, else kept as a string), e.g. "
        "--aae-param balance_weight=0 --aae-param 'hidden_layer_sizes=(512, 512)'",
    )
    add_run_arguments(
        parser,
        METHODS,
        "AAEClusterer and the plain autoencoder's",
        methods_help="methods to run (default: all): " + ", ".join(METHODS),
    )
    args = parser.parse_args(argv)
    apply_budget(args, BUDGETS, DEFAULTS)
    if args.clusters is not None and any(k < 2 for k in args.clusters):
        parser.error("--clusters takes integers of at least 2")
    args.methods = list(dict.fromkeys(args.methods))
    args.aae_extra = dict(args.aae_param)
    known = AAEClusterer().get_params()
    for name in args.aae_extra:
        if name in RESERVED_AAE_PARAMS:
            parser.error(f"--aae-param {name}: set by the script (--clusters, --seeds)")
        if name not in known:
            parser.error(
                f"--aae-param {name}: AAEClusterer has no such parameter; it has "
                + ", ".join(sorted(known))
            )
    return args


# -- data -------------------------------------------------------------------
def unbalanced_data(name: str) -> tuple[np.ndarray, np.ndarray, str]:
    """The points, labels and source of an unbalanced data set (module docs)."""
    if name == "digits-unbalanced":
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        rng = np.random.RandomState(0)
        keep = []
        for c in np.unique(y):
            members = np.flatnonzero(y == c)
            n_keep = int(round(len(members) * 0.1 ** (c / 9)))
            keep.append(rng.permutation(members)[:n_keep])
        keep = np.sort(np.concatenate(keep))
        source = (
            "sklearn.datasets.load_digits (8x8 images, values 0-16, / 16); class c "
            "keeps round(n_c * 0.1 ** (c / 9)) images (RandomState(0))"
        )
        return (X[keep] / 16.0).astype(np.float32), y[keep].astype(np.int64), source
    if name == "blobs-unbalanced":
        from sklearn.datasets import make_classification

        X, y = make_classification(
            n_samples=4000,
            n_features=16,
            n_informative=8,
            n_redundant=4,
            n_classes=4,
            n_clusters_per_class=1,
            weights=[0.8, 0.1, 0.05, 0.05],
            flip_y=0.0,
            class_sep=2.0,
            random_state=0,
        )
        source = (
            "sklearn.datasets.make_classification(n_samples=4000, n_features=16, "
            "n_informative=8, n_redundant=4, n_classes=4, n_clusters_per_class=1, "
            "weights=[0.8, 0.1, 0.05, 0.05], flip_y=0, class_sep=2.0, "
            "random_state=0)"
        )
        return X.astype(np.float32), y.astype(np.int64), source
    raise ValueError(f"Unknown unbalanced data set {name!r}.")


def class_counts(y: np.ndarray) -> dict:
    """Points per class, as ``{label: count}``."""
    classes, counts = np.unique(y, return_counts=True)
    return {int(c): int(n) for c, n in zip(classes, counts, strict=True)}


def load_split(name: str, data=None, n_train: int | None = None):
    """``train_test_data``, extended to the unbalanced data sets.

    The unbalanced sets get the stratified 30% test split of digits
    (``random_state=0``), ``blobs-unbalanced`` a ``StandardScaler`` fitted
    on the training points, and ``--n-train`` the random subset of
    ``train_test_data``. The description also holds the class counts of
    both sides (``class_counts_train``, ``class_counts_test``).
    """
    if name not in UNBALANCED:
        split, description = train_test_data(name, data, n_train)
    else:
        if data is not None:
            raise ValueError(f"{name} is built by the script; do not pass --data.")
        X, y, source = unbalanced_data(name)
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.3, stratify=y, random_state=0
        )
        n_available = len(X_train)
        if n_train is not None and n_train < n_available:
            keep = np.sort(np.random.RandomState(0).permutation(n_available)[:n_train])
            X_train, y_train = X_train[keep], y_train[keep]
        test_note = "fixed stratified 30% test split (random_state=0)"
        if name == "blobs-unbalanced":
            scaler = StandardScaler().fit(X_train)
            X_train = scaler.transform(X_train).astype(np.float32)
            X_test = scaler.transform(X_test).astype(np.float32)
            source += "; StandardScaler fitted on the training points"
        split = (X_train, y_train, X_test, y_test)
        description = {
            "name": name,
            "source": source,
            "n_train": len(X_train),
            "n_train_available": n_available,
            "n_test": len(X_test),
            "n_features": X_train.shape[1],
            "n_classes": int(len(np.unique(y_train))),
            "test": test_note,
        }
    description["class_counts_train"] = class_counts(split[1])
    description["class_counts_test"] = class_counts(split[3])
    return split, description


# -- methods ----------------------------------------------------------------
def aae_params(args, dataset: str) -> dict:
    """The AAE settings: the schedule options, then ``--aae-param``."""
    # aae_schedule_params gives the small networks and 100 epochs to "digits".
    schedule = "digits" if dataset in SMALL else dataset
    params = aae_schedule_params(
        args, schedule, args.n_components, DEFAULT_MAX_ITER_LARGE
    )
    return {**params, **args.aae_extra}


def ae_params(aae: dict, n_features: int, device: str) -> dict:
    """The plain autoencoder's settings: as many epochs as the AAE."""
    return {
        "hidden_layer_sizes": AE_HIDDEN_LARGE if n_features >= 784 else AE_HIDDEN_SMALL,
        "n_components": AE_CODE,
        "max_iter": int(aae.get("max_iter", AAEClusterer().max_iter)),
        "batch_size": AE_BATCH_SIZE,
        "learning_rate": AE_LEARNING_RATE,
        "device": device,
    }


def umap_module():
    """umap-learn's ``umap`` module, or None when it is not installed."""
    try:
        import umap
    except ImportError:
        return None
    return umap


def _mlp(sizes) -> nn.Sequential:
    """Linear layers of ``sizes`` with ReLU between them (none after the last)."""
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        if i:
            layers.append(nn.ReLU())
        layers.append(nn.Linear(fan_in, fan_out))
    return nn.Sequential(*layers)


class PlainAutoencoder:
    """The autoencoder of the "AE + KMeans" peer: an MLP trained on MSE alone.

    A ReLU encoder ``d - hidden_layer_sizes - n_components`` with a linear
    code, the mirrored decoder with a linear output, Adam, ``max_iter``
    epochs of shuffled mini-batches. No adversary, no prior, no dropout.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int
        Hidden layers of the encoder; the decoder mirrors them.
    n_components : int
        Dimension of the code.
    max_iter : int
        Epochs.
    batch_size : int
        Mini-batch size.
    learning_rate : float
        Adam's learning rate.
    random_state : int
        Seeds the weights and the batch order.
    device : str
        ``"auto"`` (CUDA when available, else the CPU), ``"cpu"``, ``"cuda"``...
    """

    def __init__(
        self,
        hidden_layer_sizes,
        n_components,
        max_iter,
        batch_size,
        learning_rate,
        random_state,
        device="auto",
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.n_components = n_components
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.random_state = random_state
        self.device = device

    def fit_transform(self, X) -> np.ndarray:
        """Train on ``X``; return its codes (float64)."""
        auto = self.device == "auto"
        device = torch.device(
            ("cuda" if torch.cuda.is_available() else "cpu") if auto else self.device
        )
        sizes = [X.shape[1], *self.hidden_layer_sizes, self.n_components]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.random_state)
            self.encoder_ = _mlp(sizes).to(device)
            decoder = _mlp(sizes[::-1]).to(device)
        generator = torch.Generator().manual_seed(self.random_state)
        data = torch.as_tensor(np.asarray(X, dtype=np.float32), device=device)
        parameters = [*self.encoder_.parameters(), *decoder.parameters()]
        optimizer = torch.optim.Adam(parameters, lr=self.learning_rate)
        self.loss_curve_ = []
        for _ in range(self.max_iter):
            order = torch.randperm(len(data), generator=generator).to(device)
            total = 0.0
            for start in range(0, len(data), self.batch_size):
                batch = data[order[start : start + self.batch_size]]
                loss = nn.functional.mse_loss(decoder(self.encoder_(batch)), batch)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += float(loss.detach()) * len(batch)
            self.loss_curve_.append(total / len(data))
        self.device_ = device
        return self.transform(X)

    def transform(self, X) -> np.ndarray:
        """The codes of ``X`` (float64)."""
        data = torch.as_tensor(np.asarray(X, dtype=np.float32))
        with torch.no_grad():
            codes = [
                self.encoder_(data[i : i + 4096].to(self.device_)).cpu()
                for i in range(0, len(data), 4096)
            ]
        return torch.cat(codes).numpy().astype(np.float64)


class CodeThenCluster:
    """A two-stage peer: a clusterer on an embedding fitted beforehand.

    Parameters
    ----------
    embedder : object
        Fitted on the training points, with ``transform``.
    train_code : ndarray
        The training points' embedding (for UMAP, the one it fitted, not
        ``transform`` of the training points).
    seconds : float
        The embedding's fit time, added to this model's.
    cluster : KMeans or GaussianMixture
        Fitted on ``train_code`` by ``fit``.
    """

    def __init__(self, embedder, train_code, seconds, cluster):
        self.embedder = embedder
        self.train_code = train_code
        self.seconds = seconds
        self.cluster = cluster

    def fit(self, X=None):
        """Fit the clusterer on the training code (``X`` is not used)."""
        self.cluster.fit(self.train_code)
        return self

    def code(self, X, training: bool = False) -> np.ndarray:
        """The embedding of ``X``; ``training``: ``X`` is the training set."""
        return self.train_code if training else self.embedder.transform(X)

    def predict(self, X) -> np.ndarray:
        """Clusters of new points."""
        return self.cluster.predict(self.code(X))


def fit_embedding(name: str, X: np.ndarray, seed: int, ae: dict, umap):
    """Fit a two-stage peer's embedding: ``(embedder, train_code, seconds)``."""
    if name == "umap-gmm":
        embedder = umap.UMAP(**UMAP_PARAMS, random_state=seed)
    else:
        embedder = PlainAutoencoder(**ae, random_state=seed)
    with warnings.catch_warnings():
        # UMAP warns that random_state disables parallelism.
        warnings.filterwarnings("ignore", message=".*n_jobs.*")
        start = time.perf_counter()
        code = embedder.fit_transform(X)
        seconds = time.perf_counter() - start
    return embedder, np.asarray(code, dtype=np.float64), seconds


def make_model(name: str, k: int, seed: int, aae: dict, n_pca: int, embedding=None):
    if name == "aae":
        return AAEClusterer(n_clusters=k, **aae, random_state=seed)
    if name == "umap-gmm":
        gmm = GaussianMixture(k, covariance_type="full", random_state=seed)
        return CodeThenCluster(*embedding, gmm)
    if name == "ae-kmeans":
        kmeans = KMeans(n_clusters=k, n_init=KMEANS_N_INIT, random_state=seed)
        return CodeThenCluster(*embedding, kmeans)
    if name.startswith("kmeans"):
        model = KMeans(n_clusters=k, n_init=KMEANS_N_INIT, random_state=seed)
    elif name.startswith("gmm"):
        covariance = "full" if name.endswith("-pca") else "diag"
        model = GaussianMixture(
            n_components=k, covariance_type=covariance, n_init=1, random_state=seed
        )
    else:
        raise ValueError(name)
    if name.endswith("-pca"):
        return Pipeline(
            [("pca", PCA(n_components=n_pca, random_state=seed)), ("cluster", model)]
        )
    return model


def log_odds(log_weights: np.ndarray) -> np.ndarray:
    """``log q_i - log(1 - q_i)`` for ``q = softmax(log_weights)``, row-wise.

    Increasing in ``q_i`` but never saturating, unlike ``q_i`` itself.
    """
    out = np.empty_like(log_weights)
    for i in range(log_weights.shape[1]):
        others = np.delete(log_weights, i, axis=1)
        out[:, i] = log_weights[:, i] - logsumexp(others, axis=1)
    return out


def aae_logits(model: AAEClusterer, X: np.ndarray) -> np.ndarray:
    """Cluster log-weights in float64 (``predict_proba`` is their softmax).

    The head's logits, with the units merged into one cluster added up
    (``logsumexp``), as ``predict_proba`` adds their probabilities.
    """
    X = model._check_X(X)
    model.module_.eval()
    with torch.no_grad():
        logits = model._map_batches(
            lambda x: model.module_.encoder.encode(x)[1], model._to_device(X)
        )
    merge = model.cluster_of_subcluster_
    return np.column_stack(
        [logsumexp(logits[:, merge == k], axis=1) for k in range(model.n_clusters)]
    )


def assign(name: str, model, X: np.ndarray, training: bool = False):
    """Clusters of ``X``, a confidence per (point, cluster), and the probabilities.

    The confidence is what the confident protocol ranks points by: the
    log-odds of the cluster probability (AAE, GMM), or the negative distance
    to the centroid (KMeans, which gives no probabilities: ``proba`` is then
    None). ``training``: ``X`` is the training set (a two-stage peer then
    uses the embedding it fitted).
    """
    if name == "aae":
        labels = np.asarray(model.predict(X))
        return labels, log_odds(aae_logits(model, X)), model.predict_proba(X)
    if isinstance(model, Pipeline):
        Xt, estimator = model[:-1].transform(X), model[-1]
    elif isinstance(model, CodeThenCluster):
        Xt, estimator = model.code(X, training), model.cluster
    else:
        Xt, estimator = X, model
    labels = np.asarray(estimator.predict(Xt))
    if isinstance(estimator, KMeans):
        return labels, -estimator.transform(Xt), None
    weighted = estimator._estimate_weighted_log_prob(Xt)
    return labels, log_odds(weighted), estimator.predict_proba(Xt)


def tied_clusters(proba: np.ndarray | None) -> int:
    """Clusters whose largest probability is shared by several points."""
    if proba is None:
        return 0
    top = proba.max(axis=0)
    return int(np.sum((proba == top).sum(axis=0) > 1))


def cluster_labels(y, labels, confidence, k: int) -> dict:
    """The class each cluster is given on the training set, per protocol.

    ``-1`` marks a cluster that gets no class (no training member; or, for
    the Hungarian matching, left unmatched), whose test points count as
    errors.
    """
    classes, class_index = np.unique(y, return_inverse=True)
    counts = np.zeros((k, len(classes)), dtype=np.int64)
    np.add.at(counts, (labels, class_index), 1)
    used = np.flatnonzero(counts.sum(axis=1))
    majority = np.full(k, -1, dtype=np.int64)
    majority[used] = classes[counts[used].argmax(axis=1)]
    hungarian = np.full(k, -1, dtype=np.int64)
    rows, cols = linear_sum_assignment(counts[used], maximize=True)
    hungarian[used[rows]] = classes[cols]
    confident = y[np.argmax(confidence, axis=0)].astype(np.int64)
    return {"confident": confident, "majority": majority, "hungarian": hungarian}


def scores(y, labels, mapping: dict) -> dict:
    out = {
        f"error_{p}": 100.0 * float(np.mean(mapping[p][labels] != y)) for p in PROTOCOLS
    }
    out["accuracy_hungarian"] = 100.0 - out["error_hungarian"]
    out["nmi"] = float(normalized_mutual_info_score(y, labels))
    out["ari"] = float(adjusted_rand_score(y, labels))
    out["clusters_used"] = int(len(np.unique(labels)))
    return out


def run_one(name, split, k, seed, aae, n_pca, embedding=None) -> dict:
    X_train, y_train, X_test, y_test = split
    model = make_model(name, k, seed, aae, n_pca, embedding)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X_train)
        fit_time = time.perf_counter() - start
    convergence = convergence_messages(caught)
    labels, confidence, proba = assign(name, model, X_train, training=True)
    mapping = cluster_labels(y_train, labels, confidence, k)
    train = scores(y_train, labels, mapping)
    # The training-set scores through skaae.metrics, as a check of the
    # mapping that the test scores use.
    for p in PROTOCOLS:
        reference = 100.0 * clustering_error(
            y_train, labels, method=p, proba=confidence if p == "confident" else None
        )
        if abs(reference - train[f"error_{p}"]) > 1e-9:
            raise AssertionError(
                f"{name}, k={k}, seed {seed}: {p} training error "
                f"{train[f'error_{p}']:.4f}% but skaae.metrics gives "
                f"{reference:.4f}%"
            )
    accuracy = 100.0 * clustering_accuracy(y_train, labels)
    if abs(accuracy - train["accuracy_hungarian"]) > 1e-9:
        raise AssertionError(
            f"{name}, k={k}, seed {seed}: Hungarian accuracy "
            f"{train['accuracy_hungarian']:.4f}% but skaae.metrics gives "
            f"{accuracy:.4f}%"
        )
    test_labels = np.asarray(model.predict(X_test))
    test = scores(y_test, test_labels, mapping)
    if proba is not None:
        # The protocol on the probabilities themselves: a tie goes to the
        # first maximiser in the data order.
        by_proba = y_train[np.argmax(proba, axis=0)]
        train["error_confident_proba"] = 100.0 * float(
            np.mean(by_proba[labels] != y_train)
        )
        test["error_confident_proba"] = 100.0 * float(
            np.mean(by_proba[test_labels] != y_test)
        )
    result = {
        "fit_time": fit_time,
        "train": train,
        "test": test,
        "tied_clusters": tied_clusters(proba),
        "cluster_labels": {p: mapping[p].tolist() for p in PROTOCOLS},
        "convergence_warnings": convergence,
    }
    if isinstance(model, CodeThenCluster):
        result["embedding_fit_time"] = model.seconds
        result["cluster_fit_time"] = fit_time
        result["fit_time"] = fit_time + model.seconds
        if name == "ae-kmeans":
            result["ae_loss_curve"] = model.embedder.loss_curve_
    if name == "aae":
        result.update(aae_fit_facts(model))
    return result


def summarize(runs: list[dict]) -> dict:
    out = {"n_runs": len(runs)}
    out["fit_time"], out["fit_time_std"] = mean_std([r["fit_time"] for r in runs])
    for where in ("train", "test"):
        out[where] = {}
        for key in runs[0][where]:
            mean, std = mean_std([r[where][key] for r in runs])
            out[where][key], out[where][key + "_std"] = mean, std
    out["n_warned"] = sum(bool(r["convergence_warnings"]) for r in runs)
    out["tied_clusters"] = [r["tied_clusters"] for r in runs]
    return out


# -- report -----------------------------------------------------------------
# The data set's title in the header, where it differs from _data's.
TITLES = {
    "fashion-mnist": "Fashion-MNIST (MNIST is not reachable here; the paper's "
    "protocol is run on Fashion-MNIST)",
    "digits-unbalanced": "digits, unbalanced: class c keeps 0.1 ** (c / 9) of its "
    "images (all the 0s down to a tenth of the 9s)",
    "blobs-unbalanced": "unbalanced synthetic classes: 4 elongated Gaussians "
    "weighted 0.8 / 0.1 / 0.05 / 0.05, 16 features",
}


def method_labels(dataset: str, n_pca: int) -> dict:
    """Printed method names: ``LABELS`` with the raw inputs and PCA size named.

    The raw inputs are pixels but on ``blobs-unbalanced`` (features), and
    the PCA keeps ``n_pca = min(50, n_features, n_train)`` components.
    """
    raw = "features" if dataset == "blobs-unbalanced" else "pixels"
    return {
        name: label.replace("pixels", raw).replace("PCA-50", f"PCA-{n_pca}")
        for name, label in LABELS.items()
    }


def counts_text(counts: dict) -> str:
    return ", ".join(f"{c}: {n}" for c, n in counts.items())


def print_header(machine, data, args, aae, ae, n_pca, skipped, labels) -> None:
    print_machine_header(
        "skaae unsupervised clustering benchmark (AAEClusterer and its peers)",
        machine,
        args.threads,
        versions=("umap-learn",) if "umap-learn" in machine else (),
    )
    scale = (
        "; standardised features"
        if data["name"] == "blobs-unbalanced"
        else "; pixels in [0, 1]"
    )
    print_data_intro(data, TITLES, source_note=scale)
    print(f"  {split_summary(data)} (labels used only for scoring)")
    print(f"  class counts, train: {counts_text(data['class_counts_train'])}")
    print(f"  class counts, test: {counts_text(data['class_counts_test'])}")
    budget = args.budget or "none"
    print(f"  clusters: {args.clusters}; seeds: {args.seeds}; budget: {budget}")
    print()
    print("methods (fit on the training points; seed = random_state)")
    methods = args.methods
    if "aae" in methods:
        params = ", ".join(f"{k}={v!r}" for k, v in aae.items())
        print(
            f"  AAE: AAEClusterer(n_clusters=k, {params}, random_state=seed) "
            "(timed after a 1-epoch warm-up fit); confidence q(y|x)"
        )
        extra = ", ".join(f"{k}={v!r}" for k, v in args.aae_extra.items())
        print(f"    from --aae-param: {extra or 'none'}")
    if any(m in methods for m in ("kmeans", "kmeans-pca", "ae-kmeans")):
        print(
            f"  KMeans(n_clusters=k, n_init={KMEANS_N_INIT}, random_state=seed); no "
            "probabilities: confidence = minus the distance to the centroid"
        )
    if "gmm" in methods or "gmm-pca" in methods:
        print(
            "  GaussianMixture(k, n_init=1, random_state=seed), default reg_covar: "
            'covariance_type="diag" on the raw inputs (full d x d covariances '
            f'are infeasible for 784-pixel images), "full" on PCA-{n_pca}; '
            "confidence predict_proba"
        )
    if any(m.endswith("-pca") for m in methods):
        print(
            f"  PCA-{n_pca}: PCA(n_components={n_pca}, random_state=seed) fitted "
            "on the training points, inside the timed fit"
        )
    if "umap-gmm" in methods:
        params = ", ".join(f"{k}={v!r}" for k, v in UMAP_PARAMS.items())
        print(
            f"  UMAP + GMM: umap.UMAP({params}, random_state=seed) fitted on the "
            'training points, then GaussianMixture(k, covariance_type="full", '
            "random_state=seed) on the embedding; test points through "
            "UMAP.transform; timed after a numba warm-up fit"
        )
    if "ae-kmeans" in methods:
        sizes = "-".join(str(n) for n in ae["hidden_layer_sizes"])
        print(
            f"  AE + KMeans: plain autoencoder d-{sizes}-{ae['n_components']} "
            f"(ReLU, linear code and output, mirrored decoder), MSE, Adam "
            f"lr={ae['learning_rate']}, batch {ae['batch_size']}, "
            f"{ae['max_iter']} epochs (the AAE's), seeded by the seed; then "
            "KMeans on the codes"
        )
    if any(m in methods for m in TWO_STAGE):
        print(
            "    (UMAP and the autoencoder do not depend on k: fitted once per "
            "seed, their fit time counted in every k)"
        )
    for name, why in skipped.items():
        print(f"  {labels[name]}: skipped: {why}")
    print()
    print("scoring")
    print(
        "  Hungarian accuracy: one-to-one matching of clusters to classes (more "
        "clusters than classes: the points of unmatched clusters are errors)"
    )
    print(
        "  confident (the paper's protocol): cluster i takes the label of the "
        "training point with the largest q(y_i|x); every member gets it"
    )
    print(
        "    (points ranked by log q_i - log(1 - q_i), from logits / weighted "
        "log-likelihoods, which breaks ties of saturated probabilities)"
    )
    print("  majority: each cluster takes the most frequent label of its members")
    print(
        "  train: the clustered training points (clustering is transductive); "
        "test: predict on the test set, cluster labels from the training set"
    )
    print(flush=True)


TABLE_COLUMNS = (
    "| k | method | accuracy, Hungarian (%) | NMI | ARI | error, confident (%) "
    "| error, majority (%) | clusters used |"
)


def print_tables(results: dict, labels: dict) -> list[str]:
    lines = []
    for where, title in (
        ("train", "Training points (the clustered points; transductive)"),
        ("test", "Test set (predict; each cluster keeps its training-set label)"),
    ):
        extra = " fit (s) | runs with ConvergenceWarning |" if where == "train" else ""
        lines += [
            title,
            "",
            TABLE_COLUMNS + extra,
            "|---:|---|---:|---:|---:|---:|---:|---:|"
            + ("---:|---:|" if where == "train" else ""),
        ]
        for k, by_method in results.items():
            for name, r in by_method.items():
                n, s = r["n_runs"], r[where]
                accuracy = pm(
                    s["accuracy_hungarian"], s["accuracy_hungarian_std"], n, 2
                )
                row = (
                    f"| {k} | {labels[name]} | {accuracy}"
                    + f" | {pm(s['nmi'], s['nmi_std'], n, 3)}"
                    + f" | {pm(s['ari'], s['ari_std'], n, 3)}"
                    + "".join(
                        f" | {pm(s[f'error_{p}'], s[f'error_{p}_std'], n, 2)}"
                        for p in ("confident", "majority")
                    )
                    + f" | {pm(s['clusters_used'], s['clusters_used_std'], n, 1)} |"
                )
                if where == "train":
                    row += (
                        f" {pm(r['fit_time'], r['fit_time_std'], n, 2)}"
                        f" | {r['n_warned']} of {n} |"
                    )
                lines.append(row)
        lines.append("")
    lines.pop()
    return print_lines(lines)


def print_paper() -> list[str]:
    lines = [
        "Reference: Makhzani et al. (2015), Table 3, MNIST test error (%) of the AAE "
        "with the",
        "confident protocol. These are MNIST figures with the paper's networks and "
        "training",
        "schedule, not results on this data set.",
        "",
        "| k | AAE (paper, MNIST) |",
        "|---:|---:|",
    ]
    # Both of the paper's rows, whatever --clusters asks for.
    for k, error in PAPER.items():
        lines.append(f"| {k} | {error:.2f} |")
    return print_lines(lines)


def print_tied(results: dict, labels: dict) -> list[str]:
    """The confident error by the probabilities alone, where they tied."""
    tied = [
        (k, name, r)
        for k, by_method in results.items()
        for name, r in by_method.items()
        if any(r["tied_clusters"])
    ]
    if not tied:
        return []
    note = [
        "",
        "Tied confidences: clusters whose largest probability (float64) was "
        "shared by several",
        "training points, per seed; the confident columns above break the ties "
        "by the log-odds.",
        "With the probabilities alone (a tie goes to the first point in the "
        "data order) the",
        "confident error would be:",
        "",
        "| k | method | tied clusters per seed | error, confident by "
        "predict_proba, train (%) | test (%) |",
        "|---:|---|---|---:|---:|",
    ]
    for k, name, r in tied:
        n, key = r["n_runs"], "error_confident_proba"
        train, test = (
            pm(r[where][key], r[where][key + "_std"], n, 2)
            for where in ("train", "test")
        )
        note.append(
            f"| {k} | {labels[name]} | {r['tied_clusters']} | {train} | {test} |"
        )
    return print_lines(note)


# -- main -------------------------------------------------------------------
def main(argv=None) -> int:
    args = parse_args(argv)
    limit_threads(args.threads)
    skipped = {}
    umap = None
    if "umap-gmm" in args.methods:
        umap = umap_module()
        if umap is None:
            skipped["umap-gmm"] = "umap-learn not installed (pip install umap-learn)"
            args.methods.remove("umap-gmm")
        elif args.threads is not None:
            import numba

            numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    try:
        split, data = load_split(args.dataset, args.data, args.n_train)
    except LOAD_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.clusters is None:
        unbalanced = args.dataset in UNBALANCED
        args.clusters = [data["n_classes"]] if unbalanced else DEFAULT_CLUSTERS
    n_pca = min(PCA_COMPONENTS, data["n_features"], data["n_train"])
    if max(args.clusters) > data["n_train"]:
        print(
            f"error: {max(args.clusters)} clusters asked but the training set "
            f"has {data['n_train']} points.",
            file=sys.stderr,
        )
        return 2

    versions = {}
    if "umap-gmm" in args.methods or "umap-gmm" in skipped:
        versions["umap-learn"] = getattr(umap, "__version__", None)
    machine = machine_info(args.device, versions)
    aae = aae_params(args, data["name"])
    ae = ae_params(aae, data["n_features"], args.device)
    labels = method_labels(data["name"], n_pca)
    print_header(machine, data, args, aae, ae, n_pca, skipped, labels)
    for name, why in skipped.items():
        print(f"{labels[name]}: skipped: {why}", flush=True)

    if "aae" in args.methods:
        # Keep torch's one-off start-up costs out of the timings.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            AAEClusterer(n_clusters=2, **{**aae, "max_iter": 1}).fit(split[0][:200])
    if "umap-gmm" in args.methods:
        # Numba compiles UMAP's kernels on first use; keep that out of the
        # timings with a small throw-away fit.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            warm = umap.UMAP(**UMAP_PARAMS).fit(split[0][:300])
            warm.transform(split[0][:50])

    runs: dict = {k: {name: [] for name in args.methods} for k in args.clusters}
    results: dict = {}
    start = time.perf_counter()
    for seed in args.seeds:
        # The two-stage peers' embeddings, shared by every k of this seed.
        embeddings = {}
        for name in args.methods:
            if name in TWO_STAGE:
                print(f"seed {seed}: embedding of {labels[name]}...", end=" ")
                sys.stdout.flush()
                embeddings[name] = fit_embedding(name, split[0], seed, ae, umap)
                print(f"{embeddings[name][2]:.2f} s", flush=True)
        for k in args.clusters:
            for name in args.methods:
                print(f"k {k}, seed {seed}: {labels[name]}...", end=" ")
                sys.stdout.flush()
                run = run_one(name, split, k, seed, aae, n_pca, embeddings.get(name))
                runs[k][name].append({"seed": seed, **run})
                notes = " (ConvergenceWarning)" if run["convergence_warnings"] else ""
                if run["tied_clusters"]:
                    notes += f" ({run['tied_clusters']} clusters with tied top q)"
                tr, te = run["train"], run["test"]
                print(
                    f"Hungarian accuracy {tr['accuracy_hungarian']:.2f}% train / "
                    f"{te['accuracy_hungarian']:.2f}% test, NMI {tr['nmi']:.3f}, "
                    f"ARI {tr['ari']:.3f}, confident {tr['error_confident']:.2f}% "
                    f"train / {te['error_confident']:.2f}% test, majority "
                    f"{tr['error_majority']:.2f}%, {tr['clusters_used']} clusters "
                    f"used, {run['fit_time']:.2f} s{notes}",
                    flush=True,
                )
    for k in args.clusters:
        results[k] = {name: summarize(runs[k][name]) for name in args.methods}
    total = time.perf_counter() - start

    print()
    lines = print_tables(results, labels)
    lines += print_tied(results, labels)
    paper_lines = []
    if args.dataset not in UNBALANCED:
        print()
        paper_lines = print_paper()
    print_convergence_warnings(runs, labels)
    print_load_average_end(machine, f"total time of the runs: {total / 60:.1f} min; ")

    write_json(
        args.json,
        machine=machine,
        data=data,
        settings={
            "budget": args.budget,
            "methods": args.methods,
            "labels": labels,
            "skipped": skipped,
            "clusters": args.clusters,
            "seeds": args.seeds,
            "threads": args.threads,
            "pca_components": n_pca,
            "kmeans_n_init": KMEANS_N_INIT,
            "aae": aae,
            "aae_param": args.aae_extra,
            "umap": UMAP_PARAMS if "umap-gmm" in args.methods else None,
            "plain_autoencoder": ae if "ae-kmeans" in args.methods else None,
        },
        results=results,
        runs=runs,
        table=lines,
        paper=paper_lines,
        total_seconds=total,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
