"""Semi-supervised classification with AAEClassifier, next to scikit-learn peers.

The protocol of Makhzani et al. (2015, section 5, Table 2): a balanced subset
of the training labels is kept (``n / 10`` per class, drawn with the seed),
every other training label is set to ``-1`` (unlabeled), the models are fitted
on the training set, and the error rate (%) is measured on the test set. With
several ``--seeds`` (the labelled subset, the peers' subsample and the AAE's
``random_state`` all follow the seed) the table gives mean ± standard
deviation over the seeds, of the error rate and of the fit time.

Methods (all see the same split and the same labelled points):

- AAE: ``AAEClassifier(n_components=10, hidden_layer_sizes=(1000, 1000),
  max_iter=E, batch_size=100, random_state=seed)`` on the whole training set
  (labelled and unlabelled); digits: ``hidden_layer_sizes=(256, 256)`` and the
  estimator's 100 epochs.
- LabelSpreading: ``LabelSpreading(kernel="knn", n_neighbors=7)``, fitted on
  all labelled points plus a random subsample of ``--peer-subsample``
  unlabelled points (default 10,000; its cost grows with the square of the
  number of points).
- SelfTraining: ``SelfTrainingClassifier(LogisticRegression(max_iter=1000))``
  on the same points as LabelSpreading.
- MLP: ``MLPClassifier(hidden_layer_sizes=(256, 256), max_iter=200,
  early_stopping=False)`` on the labelled points only (the supervised
  baseline, the paper's "NN baseline").
- MLP, early stopping: the same with ``early_stopping=True`` (10 % of the
  labelled points held out, stratified, patience 10). Each MLP runs until its
  own criterion stops it, up to 200 epochs over its labelled points: with
  few labels far more passes than the AAE's, which is the point (the
  supervised baseline trained as well as it can be).

After the table, the AAE's mean error is set beside the best peer's (lowest
mean error among the others) at each label count.

Data: ``--dataset fashion-mnist`` (default; the Debian package
``dataset-fashion-mnist``, or ``--data``), ``mnist`` (``--data``: an IDX folder
or ``.npz``; else ``fetch_openml``) or ``digits`` (1,797 images; a fixed
stratified 30% test split, ``random_state=0``). ``--n-train`` fits on a random
subset of the training set (drawn once, seed 0, the same for every seed).

Budgets (``--budget`` sets the defaults; explicit options override them):

- ``cpu30``: what fits in about 30 minutes on a 2-core CPU with one thread:
  ``--n-train 10000 --max-iter 10 --labels 100 1000 all --seeds 0 1 2``
  (measured with one thread: an epoch of 10,000 images takes about 9 s, so
  about 1.5 minutes per AAE fit, and 100 and 1000 labels with one seed took
  4.3 minutes with the peers; with ``all`` and three seeds, about 20 minutes,
  leaving room for a busy machine).
- ``paper``: the full schedule, meant for a GPU: all 60,000 training images,
  ``--max-iter 500``, ``--labels 100 1000 all``, ``--seeds 0 1 2``. (The paper
  trains far longer than a CPU allows; 500 epochs is this script's choice,
  not a figure from the paper.)

The paper's MNIST error rates are printed next to the table for reference;
they are not comparable with Fashion-MNIST or digits, which are different data
sets (Fashion-MNIST is much harder).

Examples::

    python benchmarks/bench_classifier.py --dataset digits
    python benchmarks/bench_classifier.py --budget cpu30 --json cpu30.json
    python benchmarks/bench_classifier.py --dataset mnist --data ~/mnist/ \\
        --budget paper --device cuda
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np
from _data import (
    LOAD_ERRORS,
    labelled_subset,
    print_data_intro,
    split_summary,
    train_test_data,
)
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
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.semi_supervised import LabelSpreading, SelfTrainingClassifier

from skaae import AAEClassifier

METHODS = ("aae", "labelspreading", "selftraining", "mlp", "mlp-es")
LABELS = {
    "aae": "AAE",
    "labelspreading": "LabelSpreading",
    "selftraining": "SelfTraining",
    "mlp": "MLP (labelled only)",
    "mlp-es": "MLP, early stopping (labelled only)",
}
BUDGETS = {
    "cpu30": {
        "n_train": 10000,
        "max_iter": 10,
        "labels": ["100", "1000", "all"],
        "seeds": [0, 1, 2],
    },
    "paper": {
        "n_train": None,
        "max_iter": 500,
        "labels": ["100", "1000", "all"],
        "seeds": [0, 1, 2],
    },
}
DEFAULTS = {
    "n_train": None,
    "max_iter": None,
    "labels": ["100", "1000", "all"],
    "seeds": [0, 1, 2],
}
DEFAULT_MAX_ITER_LARGE = 20
# Makhzani et al. (2015), Table 2: MNIST test error (%), not this data set.
PAPER = {
    "100": {"AAE": 1.90, "NN baseline": 25.80},
    "1000": {"AAE": 1.60, "NN baseline": 8.73},
    "all": {"AAE": 0.85, "NN baseline": 1.25},
}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Defaults without --budget: --labels 100 1000 all, --seeds 0 1 2, "
        "all training images, --max-iter "
        f"{DEFAULT_MAX_ITER_LARGE} (digits: 100).",
    )
    add_dataset_arguments(parser)
    add_budget_argument(parser, BUDGETS, "the full schedule")
    parser.add_argument(
        "--labels",
        nargs="+",
        default=None,
        metavar="N",
        help="numbers of labelled training points (multiples of the number of "
        "classes), or 'all'",
    )
    add_schedule_arguments(parser)
    parser.add_argument(
        "--peer-subsample",
        type=int,
        default=10000,
        help="unlabelled points given to LabelSpreading and SelfTraining",
    )
    add_run_arguments(parser, METHODS, "AAEClassifier")
    args = parser.parse_args(argv)
    apply_budget(args, BUDGETS, DEFAULTS)
    for n in args.labels:
        if n != "all" and not n.isdigit():
            parser.error(f"--labels takes integers or 'all', got {n!r}")
    return args


# -- methods ----------------------------------------------------------------
def aae_params(args, dataset: str) -> dict:
    return aae_schedule_params(args, dataset, 10, DEFAULT_MAX_ITER_LARGE)


def make_peer(name: str, seed: int):
    if name == "labelspreading":
        return LabelSpreading(kernel="knn", n_neighbors=7)
    if name == "selftraining":
        return SelfTrainingClassifier(LogisticRegression(max_iter=1000))
    if name in ("mlp", "mlp-es"):
        return MLPClassifier(
            hidden_layer_sizes=(256, 256),
            max_iter=200,
            early_stopping=name == "mlp-es",
            random_state=seed,
        )
    raise ValueError(name)


def run_one(name, split, labelled, seed, args, aae) -> dict:
    X_train, y_train, X_test, y_test = split
    n = len(y_train)
    if name == "aae":
        y_partial = np.full(n, -1, dtype=y_train.dtype)
        y_partial[labelled] = y_train[labelled]
        model = AAEClassifier(**{**aae, "random_state": seed})
        X_fit, y_fit = X_train, y_partial
    elif name in ("mlp", "mlp-es"):
        model = make_peer(name, seed)
        X_fit, y_fit = X_train[labelled], y_train[labelled]
    else:
        unlabelled = np.setdiff1d(np.arange(n), labelled)
        rng = np.random.RandomState(seed)
        if len(unlabelled) > args.peer_subsample:
            unlabelled = rng.choice(unlabelled, args.peer_subsample, replace=False)
        index = np.concatenate([labelled, unlabelled])
        X_fit = X_train[index]
        y_fit = np.concatenate([y_train[labelled], np.full(len(unlabelled), -1)])
        model = make_peer(name, seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X_fit, y_fit)
        fit_time = time.perf_counter() - start
    with np.errstate(invalid="ignore", divide="ignore"):
        # LabelSpreading leaves a point without any label mass (a kNN-graph
        # component with no labelled point) at 0/0 = NaN, which predict
        # turns into the first class; count such test points.
        proba = model.predict_proba(X_test)
        prediction = model.classes_[np.argmax(proba, axis=1)]
    undefined = int(np.sum(~np.isfinite(proba).all(axis=1)))
    error = 100.0 * float(np.mean(prediction != y_test))
    result = {
        "error": error,
        "fit_time": fit_time,
        "n_fit": len(y_fit),
        "n_test_undefined": undefined,
        "convergence_warnings": convergence_messages(caught),
    }
    if name == "aae":
        result.update(aae_fit_facts(model))
    return result


def summarize(runs: list[dict]) -> dict:
    out = {}
    for key in ("error", "fit_time"):
        out[key], out[key + "_std"] = mean_std(r[key] for r in runs)
    out["n_runs"] = len(runs)
    out["n_warned"] = sum(bool(r["convergence_warnings"]) for r in runs)
    out["n_test_undefined"] = [r["n_test_undefined"] for r in runs]
    return out


# -- report -----------------------------------------------------------------
def print_header(machine, data, args, aae) -> None:
    print_machine_header(
        "skaae semi-supervised classification benchmark (AAEClassifier)",
        machine,
        args.threads,
    )
    print_data_intro(data)
    print(f"  {split_summary(data)}")
    print(
        f"  labels: {' '.join(args.labels)} (balanced: n / {data['n_classes']} per "
        f"class, drawn by the seed; every other training label is -1)"
    )
    budget = args.budget or "none"
    print(f"  seeds: {args.seeds}; budget: {budget}")
    print()
    print("methods")
    if "aae" in args.methods:
        params = ", ".join(f"{k}={v!r}" for k, v in aae.items())
        print(
            f"  AAE: AAEClassifier({params}, random_state=seed) on all "
            f"{data['n_train']} training points (timed after a 1-epoch warm-up fit)"
        )
    if "labelspreading" in args.methods:
        print(
            '  LabelSpreading(kernel="knn", n_neighbors=7): all labelled points + '
            f"up to {args.peer_subsample} random unlabelled ones (its cost grows "
            "as n^2: a subsample)"
        )
    if "selftraining" in args.methods:
        print(
            "  SelfTrainingClassifier(LogisticRegression(max_iter=1000)): the same "
            "points as LabelSpreading"
        )
    for name in ("mlp", "mlp-es"):
        if name in args.methods:
            print(
                "  MLPClassifier(hidden_layer_sizes=(256, 256), max_iter=200, "
                f"early_stopping={name == 'mlp-es'}, random_state=seed): "
                "labelled points only"
            )
    print(flush=True)


def print_table(results: dict) -> list[str]:
    lines = [
        "| labels | method | test error (%) | fit (s) | runs with ConvergenceWarning |",
        "|---:|---|---:|---:|---:|",
    ]
    for n_labels, by_method in results.items():
        for name, r in by_method.items():
            n = r["n_runs"]
            lines.append(
                f"| {n_labels} | {LABELS[name]} "
                f"| {pm(r['error'], r['error_std'], n, 2)}"
                f" | {pm(r['fit_time'], r['fit_time_std'], n, 1)}"
                f" | {r['n_warned']} of {n} |"
            )
    return print_lines(lines)


def print_margins(results: dict) -> list[str]:
    """The AAE against the best peer (lowest mean error) at each label count."""
    lines = [
        "| labels | AAE error (%) | best peer | its error (%) | AAE below it by |",
        "|---:|---:|---|---:|---:|",
    ]
    for n_labels, by_method in results.items():
        peers = {k: r for k, r in by_method.items() if k != "aae"}
        if "aae" not in by_method or not peers:
            continue
        best = min(peers, key=lambda k: peers[k]["error"])
        aae, peer = by_method["aae"]["error"], peers[best]["error"]
        lines.append(
            f"| {n_labels} | {aae:.2f} | {LABELS[best]} | {peer:.2f} "
            f"| {peer - aae:+.2f} |"
        )
    return print_lines(lines) if len(lines) > 2 else []


def print_paper(labels) -> list[str]:
    lines = [
        "Reference: Makhzani et al. (2015), Table 2, MNIST test error (%). These "
        "are MNIST",
        "figures with the paper's networks and training schedule, not results on "
        "this data set.",
        "",
        "| labels | AAE (paper) | NN baseline (paper) |",
        "|---:|---:|---:|",
    ]
    for n in labels:
        if n in PAPER:
            lines.append(
                f"| {n} | {PAPER[n]['AAE']:.2f} | {PAPER[n]['NN baseline']:.2f} |"
            )
    return print_lines(lines)


# -- main -------------------------------------------------------------------
def main(argv=None) -> int:
    args = parse_args(argv)
    limit_threads(args.threads)
    try:
        split, data = train_test_data(args.dataset, args.data, args.n_train)
        for n_labels in args.labels:
            if n_labels != "all":
                labelled_subset(split[1], n_labels, 0)  # raises if impossible
            if n_labels != "all" and int(n_labels) > data["n_train"]:
                raise ValueError(
                    f"{n_labels} labels asked but the training set has "
                    f"{data['n_train']} points."
                )
    except LOAD_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    machine = machine_info(args.device)
    aae = aae_params(args, data["name"])
    print_header(machine, data, args, aae)

    if "aae" in args.methods:
        # Keep torch's one-off start-up costs out of the timings.
        X_train, y_train = split[0], split[1]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            AAEClassifier(**{**aae, "max_iter": 1}).fit(X_train[:200], y_train[:200])

    runs: dict = {}
    results: dict = {}
    for n_labels in args.labels:
        runs[n_labels] = {name: [] for name in args.methods}
        for seed in args.seeds:
            labelled = labelled_subset(split[1], n_labels, seed)
            for name in args.methods:
                print(f"labels {n_labels}, seed {seed}: {LABELS[name]}...", end=" ")
                sys.stdout.flush()
                run = run_one(name, split, labelled, seed, args, aae)
                runs[n_labels][name].append({"seed": seed, **run})
                warned = " (ConvergenceWarning)" if run["convergence_warnings"] else ""
                if run["n_test_undefined"]:
                    warned += (
                        f" ({run['n_test_undefined']} test points without any "
                        "label mass: NaN probabilities, counted as class "
                        f"{split[1].min()})"
                    )
                print(
                    f"error {run['error']:.2f}%, {run['fit_time']:.1f} s{warned}",
                    flush=True,
                )
        results[n_labels] = {
            name: summarize(runs[n_labels][name]) for name in args.methods
        }

    print()
    lines = print_table(results)
    undefined = [
        f"{n_labels} labels: {r['n_test_undefined']}"
        for n_labels, by_method in results.items()
        for name, r in by_method.items()
        if name == "labelspreading" and any(r["n_test_undefined"])
    ]
    if undefined:
        note = (
            "LabelSpreading: test points without any label mass (NaN "
            "probabilities, predicted as the first class), per seed: "
            + "; ".join(undefined)
        )
        lines += print_lines(["", note])
    print()
    margin_lines = print_margins(results)
    if margin_lines:
        print()
    paper_lines = print_paper(args.labels)
    print_convergence_warnings(runs, LABELS)
    print_load_average_end(machine)

    write_json(
        args.json,
        machine=machine,
        data=data,
        settings={
            "budget": args.budget,
            "labels": args.labels,
            "seeds": args.seeds,
            "threads": args.threads,
            "peer_subsample": args.peer_subsample,
            "aae": aae,
        },
        results=results,
        runs=runs,
        table=lines,
        margins=margin_lines,
        paper=paper_lines,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
