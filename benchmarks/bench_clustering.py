"""Unsupervised clustering with AAEClusterer, next to KMeans and GaussianMixture.

The experiment of Makhzani et al. (2015, section 6, Table 3): the models
cluster the training images into ``k`` clusters (16 and 30 in the paper)
without any label; the labels are used only to score the clusters. For each
method and ``k`` the script reports, as mean ± standard deviation over the
``--seeds`` (the seed is every model's ``random_state``):

- the error (%) with the paper's protocol ("confident"): cluster ``i`` takes
  the label of the training point with the largest ``q(y_i | x)``, and every
  member of the cluster gets that label;
- the majority-label error (each cluster takes the most frequent label of its
  members; many-to-one) and the Hungarian error (a one-to-one matching of
  clusters to classes; with more clusters than classes, the points of the
  unmatched clusters count as errors);
- NMI and ARI (``sklearn.metrics.normalized_mutual_info_score`` and
  ``adjusted_rand_score``), the number of non-empty clusters, and fit seconds.

Clustering is transductive, so the first table scores the training points
that were clustered (their clusters from ``predict``, equal to ``labels_``
where an estimator has them). The second table scores the test images: every
method here has ``predict``, each cluster keeps the label it got on the
training set (with each of the three protocols) and the test images take the
label of the cluster they are predicted into; a test image in a cluster that
got no label on the training set counts as an error. The paper reports test
error with the confident protocol, the cluster labels coming from the
training side, so the test table's "confident" column is the one to set next
to it.

Methods (all see the same training points; fit times include the PCA):

- AAE: ``AAEClusterer(n_clusters=k, n_components=5,
  hidden_layer_sizes=(1000, 1000), max_iter=E, batch_size=100,
  random_state=seed)``, the estimator's other defaults (dropout 0.2,
  ``balance_weight=20``, mean squared error); digits:
  ``hidden_layer_sizes=(256, 256)`` and the estimator's 100 epochs.
  Confidence: ``q(y | x)`` (``predict_proba``).
  ``n_components=5`` (the style code) is the estimator's default, on purpose:
  the decoder reconstructs from ``[y, z]``, and a style code rich enough to
  describe the image by itself lets the decoder ignore ``y``, which then
  carries no cluster; a small one forces the decoder to read the coarse
  class from ``y`` and leaves ``z`` the within-class style. Five dimensions
  are also what public re-implementations of the paper's section 6 use.
  (1000, 1000) is the width of the paper's MNIST networks.
- KMeans: ``KMeans(n_clusters=k, random_state=seed)`` (default ``n_init``)
  on the raw pixels, and after ``PCA(50, random_state=seed)`` fitted on the
  training points. KMeans has no probabilities: its confidence for cluster
  ``i`` is the negative distance to centroid ``i``, so the confident protocol
  names a cluster after the training point nearest its centroid.
- GaussianMixture: ``GaussianMixture(k, n_init=1, random_state=seed)``,
  default ``reg_covar``, with ``covariance_type="diag"`` on the raw pixels (a
  full 784 x 784 covariance per component is infeasible: about 300,000
  parameters each, far more than the few hundred to few thousand members of
  a component can estimate, and slow) and ``covariance_type="full"`` after
  PCA-50. Confidence: ``predict_proba``.

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

Data: ``--dataset fashion-mnist`` (default; the Debian package
``dataset-fashion-mnist``, or ``--data``), ``mnist`` (``--data``: an IDX folder
or ``.npz``; else ``fetch_openml``) or ``digits`` (1,797 images; a fixed
stratified 30% test split, ``random_state=0``). Pixels are scaled to [0, 1].
``--n-train`` clusters a random subset of the training set (drawn once, seed
0, the same for every seed); the test set is always whole.

Budgets (``--budget`` sets the defaults; explicit options override them):

- ``cpu30``: what fits in about 30 minutes on a 2-core CPU with one thread:
  ``--n-train 10000 --max-iter 25 --clusters 16 30 --seeds 0 1 2``.
  Measured with one thread on a shared 2-core AMD EPYC VM (load average
  about 3), with ``--max-iter 1 --seeds 0``: a 1-epoch AAE fit on 10,000
  Fashion-MNIST images with (1000, 1000) networks took 9.6 s (16 clusters)
  and 10.3 s (30 clusters), so a 25-epoch fit takes about 4 minutes (the
  first one of the cpu30 run took 226 s) and the six AAE fits about 23-24
  minutes; the eight peer fits of one seed (KMeans 0.2-0.8 s,
  GaussianMixture 1.1-2.0 s each) took 8 s in all. About 25 minutes in all,
  leaving some room for a busier machine.
- ``paper``: a longer schedule, meant for a GPU: all 60,000 training images,
  ``--max-iter 300``, ``--clusters 16 30``, ``--seeds 0 1 2``. (300 epochs is
  this script's choice, not a figure from the paper.)

The paper's MNIST test errors are printed next to the tables for reference;
they are not comparable with Fashion-MNIST or digits, which are different data
sets (Fashion-MNIST's classes overlap far more than MNIST's digits).

Examples::

    python benchmarks/bench_clustering.py --dataset digits --clusters 10 16
    python benchmarks/bench_clustering.py --budget cpu30 --json cpu30.json
    python benchmarks/bench_clustering.py --dataset mnist --data ~/mnist/ \\
        --budget paper --device cuda
"""

from __future__ import annotations

import argparse
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
from sklearn.pipeline import Pipeline

from skaae import AAEClusterer
from skaae.metrics import clustering_error

METHODS = ("aae", "kmeans", "kmeans-pca", "gmm", "gmm-pca")
LABELS = {
    "aae": "AAE",
    "kmeans": "KMeans (pixels)",
    "kmeans-pca": "KMeans (PCA-50)",
    "gmm": "GMM diag (pixels)",
    "gmm-pca": "GMM full (PCA-50)",
}
PROTOCOLS = ("confident", "majority", "hungarian")
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
    "clusters": [16, 30],
    "seeds": [0, 1, 2],
}
DEFAULT_MAX_ITER_LARGE = 20
PCA_COMPONENTS = 50
# Makhzani et al. (2015), Table 3: MNIST test error (%) of the AAE with the
# confident protocol; not this data set.
PAPER = {16: 9.55, 30: 4.10}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Defaults without --budget: --clusters 16 30, --seeds 0 1 2, all "
        f"training images, --max-iter {DEFAULT_MAX_ITER_LARGE} (digits: 100).",
    )
    add_dataset_arguments(parser)
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
    add_run_arguments(parser, METHODS, "AAEClusterer")
    args = parser.parse_args(argv)
    apply_budget(args, BUDGETS, DEFAULTS)
    if any(k < 2 for k in args.clusters):
        parser.error("--clusters takes integers of at least 2")
    return args


# -- methods ----------------------------------------------------------------
def aae_params(args, dataset: str) -> dict:
    return aae_schedule_params(args, dataset, args.n_components, DEFAULT_MAX_ITER_LARGE)


def make_model(name: str, k: int, seed: int, aae: dict, n_pca: int):
    if name == "aae":
        return AAEClusterer(n_clusters=k, **aae, random_state=seed)
    if name.startswith("kmeans"):
        model = KMeans(n_clusters=k, random_state=seed)
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
    """The category head's logits, in float64 (``predict_proba`` is their softmax)."""
    X = model._check_X(X)
    model.module_.eval()
    with torch.no_grad():
        return model._map_batches(
            lambda x: model.module_.encoder.encode(x)[1], model._to_device(X)
        )


def assign(name: str, model, X: np.ndarray):
    """Clusters of ``X``, a confidence per (point, cluster), and the probabilities.

    The confidence is what the confident protocol ranks points by: the
    log-odds of the cluster probability (AAE, GMM), or the negative distance
    to the centroid (KMeans, which gives no probabilities: ``proba`` is then
    None).
    """
    labels = np.asarray(model.predict(X))
    if name == "aae":
        return labels, log_odds(aae_logits(model, X)), model.predict_proba(X)
    if isinstance(model, Pipeline):
        Xt, estimator = model[:-1].transform(X), model[-1]
    else:
        Xt, estimator = X, model
    if name.startswith("kmeans"):
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
    out["nmi"] = float(normalized_mutual_info_score(y, labels))
    out["ari"] = float(adjusted_rand_score(y, labels))
    out["clusters_used"] = int(len(np.unique(labels)))
    return out


def run_one(name, split, k, seed, aae, n_pca) -> dict:
    X_train, y_train, X_test, y_test = split
    model = make_model(name, k, seed, aae, n_pca)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X_train)
        fit_time = time.perf_counter() - start
    convergence = convergence_messages(caught)
    labels, confidence, proba = assign(name, model, X_train)
    mapping = cluster_labels(y_train, labels, confidence, k)
    train = scores(y_train, labels, mapping)
    # The training-set errors through skaae.metrics, as a check of the
    # mapping that the test errors use.
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
}


def print_header(machine, data, args, aae, n_pca) -> None:
    print_machine_header(
        "skaae unsupervised clustering benchmark (AAEClusterer)",
        machine,
        args.threads,
    )
    print_data_intro(data, TITLES, source_note="; pixels in [0, 1]")
    print(f"  {split_summary(data)} (labels used only for scoring)")
    budget = args.budget or "none"
    print(f"  clusters: {args.clusters}; seeds: {args.seeds}; budget: {budget}")
    print()
    print("methods (fit on the training points; seed = random_state)")
    if "aae" in args.methods:
        params = ", ".join(f"{k}={v!r}" for k, v in aae.items())
        print(
            f"  AAE: AAEClusterer(n_clusters=k, {params}, random_state=seed) "
            "(timed after a 1-epoch warm-up fit); confidence q(y|x)"
        )
    if "kmeans" in args.methods or "kmeans-pca" in args.methods:
        print(
            "  KMeans(n_clusters=k, random_state=seed), default n_init; no "
            "probabilities: confidence = minus the distance to the centroid"
        )
    if "gmm" in args.methods or "gmm-pca" in args.methods:
        print(
            "  GaussianMixture(k, n_init=1, random_state=seed), default reg_covar: "
            'covariance_type="diag" on pixels (full d x d covariances are '
            'infeasible for 784-pixel images), "full" on PCA-50; confidence '
            "predict_proba"
        )
    if any(m.endswith("-pca") for m in args.methods):
        print(
            f"  PCA-50: PCA(n_components={n_pca}, random_state=seed) fitted "
            "on the training points, inside the timed fit"
        )
    print()
    print("scoring")
    print(
        "  confident (the paper's protocol): cluster i takes the label of the "
        "training point with the largest q(y_i|x); every member gets it"
    )
    print(
        "    (points ranked by log q_i - log(1 - q_i), from logits / weighted "
        "log-likelihoods, which breaks ties of saturated probabilities)"
    )
    print(
        "  majority: the most frequent label of the members; Hungarian: one-to-one "
        "matching (more clusters than classes: unmatched clusters are errors)"
    )
    print(
        "  train: the clustered training points (clustering is transductive); "
        "test: predict on the test set, cluster labels from the training set"
    )
    print(flush=True)


TABLE_COLUMNS = (
    "| k | method | error, confident (%) | error, majority (%) "
    "| error, Hungarian (%) | NMI | ARI | clusters used |"
)


def print_tables(results: dict) -> list[str]:
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
                row = (
                    f"| {k} | {LABELS[name]}"
                    + "".join(
                        f" | {pm(s[f'error_{p}'], s[f'error_{p}_std'], n, 2)}"
                        for p in PROTOCOLS
                    )
                    + f" | {pm(s['nmi'], s['nmi_std'], n, 3)}"
                    + f" | {pm(s['ari'], s['ari_std'], n, 3)}"
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


# -- main -------------------------------------------------------------------
def main(argv=None) -> int:
    args = parse_args(argv)
    limit_threads(args.threads)
    try:
        split, data = train_test_data(args.dataset, args.data, args.n_train)
    except LOAD_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    n_pca = min(PCA_COMPONENTS, data["n_features"], data["n_train"])
    if max(args.clusters) > data["n_train"]:
        print(
            f"error: {max(args.clusters)} clusters asked but the training set "
            f"has {data['n_train']} points.",
            file=sys.stderr,
        )
        return 2

    machine = machine_info(args.device)
    aae = aae_params(args, data["name"])
    print_header(machine, data, args, aae, n_pca)

    if "aae" in args.methods:
        # Keep torch's one-off start-up costs out of the timings.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            AAEClusterer(n_clusters=2, **{**aae, "max_iter": 1}).fit(split[0][:200])

    runs: dict = {}
    results: dict = {}
    start = time.perf_counter()
    for k in args.clusters:
        runs[k] = {name: [] for name in args.methods}
        for seed in args.seeds:
            for name in args.methods:
                print(f"k {k}, seed {seed}: {LABELS[name]}...", end=" ")
                sys.stdout.flush()
                run = run_one(name, split, k, seed, aae, n_pca)
                runs[k][name].append({"seed": seed, **run})
                notes = " (ConvergenceWarning)" if run["convergence_warnings"] else ""
                if run["tied_clusters"]:
                    notes += f" ({run['tied_clusters']} clusters with tied top q)"
                tr, te = run["train"], run["test"]
                print(
                    f"confident {tr['error_confident']:.2f}% train / "
                    f"{te['error_confident']:.2f}% test, majority "
                    f"{tr['error_majority']:.2f}%, Hungarian "
                    f"{tr['error_hungarian']:.2f}%, NMI {tr['nmi']:.3f}, "
                    f"{tr['clusters_used']} clusters used, "
                    f"{run['fit_time']:.2f} s{notes}",
                    flush=True,
                )
        results[k] = {name: summarize(runs[k][name]) for name in args.methods}
    total = time.perf_counter() - start

    print()
    lines = print_tables(results)
    tied = [
        (k, name, r)
        for k, by_method in results.items()
        for name, r in by_method.items()
        if any(r["tied_clusters"])
    ]
    if tied:
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
                f"| {k} | {LABELS[name]} | {r['tied_clusters']} | {train} | {test} |"
            )
        lines += print_lines(note)
    print()
    paper_lines = print_paper()
    print_convergence_warnings(runs, LABELS)
    print_load_average_end(machine, f"total time of the runs: {total / 60:.1f} min; ")

    write_json(
        args.json,
        machine=machine,
        data=data,
        settings={
            "budget": args.budget,
            "clusters": args.clusters,
            "seeds": args.seeds,
            "threads": args.threads,
            "pca_components": n_pca,
            "aae": aae,
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
