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
import json
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
import torch
from _data import load_dataset
from _machine import cpu_model, device_description, load_average, usable_cores
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.semi_supervised import LabelSpreading, SelfTrainingClassifier
from threadpoolctl import threadpool_limits

import skaae
from skaae import AAEClassifier

METHODS = ("aae", "labelspreading", "selftraining", "mlp")
LABELS = {
    "aae": "AAE",
    "labelspreading": "LabelSpreading",
    "selftraining": "SelfTraining",
    "mlp": "MLP (labelled only)",
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
    parser.add_argument(
        "--dataset",
        choices=("digits", "fashion-mnist", "mnist"),
        default="fashion-mnist",
    )
    parser.add_argument(
        "--data",
        default=None,
        help="folder of IDX files or .npz (x_train, y_train, x_test, y_test) "
        "for mnist / fashion-mnist",
    )
    parser.add_argument(
        "--budget",
        choices=tuple(BUDGETS),
        default=None,
        help="named defaults: cpu30 (about 30 min on a 2-core CPU) or paper "
        "(the full schedule, for a GPU)",
    )
    parser.add_argument(
        "--labels",
        nargs="+",
        default=None,
        metavar="N",
        help="numbers of labelled training points (multiples of the number of "
        "classes), or 'all'",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=None, metavar="SEED")
    parser.add_argument(
        "--n-train",
        type=int,
        default=None,
        help="random subset of the training set (default: all of it)",
    )
    parser.add_argument("--max-iter", type=int, default=None, help="AAE epochs")
    parser.add_argument(
        "--hidden-layer-sizes",
        type=int,
        nargs="+",
        metavar="N",
        default=None,
        help="AAE hidden layers (default (1000, 1000); digits (256, 256))",
    )
    parser.add_argument(
        "--peer-subsample",
        type=int,
        default=10000,
        help="unlabelled points given to LabelSpreading and SelfTraining",
    )
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--device", default="auto", help="AAEClassifier device")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch and BLAS/OpenMP threads (more than the free cores slows "
        "torch down many times on a shared machine)",
    )
    parser.add_argument("--json", type=Path, default=None, help="write results here")
    args = parser.parse_args(argv)
    preset = BUDGETS[args.budget] if args.budget else DEFAULTS
    for key, value in preset.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    for n in args.labels:
        if n != "all" and not n.isdigit():
            parser.error(f"--labels takes integers or 'all', got {n!r}")
    return args


# -- environment ------------------------------------------------------------
def machine_info(args) -> dict:
    return {
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cores": usable_cores(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "device": device_description(args.device),
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "skaae": skaae.__version__,
        "load_average_start": load_average(),
    }


# -- data -------------------------------------------------------------------
def prepare_data(args):
    data = load_dataset(args.dataset, args.data)
    if data.X_test is None:
        X_train, X_test, y_train, y_test = train_test_split(
            data.X_train,
            data.y_train,
            test_size=0.3,
            stratify=data.y_train,
            random_state=0,
        )
        split_note = "fixed stratified 30% test split (random_state=0)"
    else:
        X_train, y_train = data.X_train, data.y_train
        X_test, y_test = data.X_test, data.y_test
        split_note = "the official test set"
    n_available = len(X_train)
    if args.n_train is not None and args.n_train < n_available:
        keep = np.random.RandomState(0).permutation(n_available)[: args.n_train]
        keep = np.sort(keep)
        X_train, y_train = X_train[keep], y_train[keep]
    description = {
        "name": data.name,
        "source": data.source,
        "n_train": len(X_train),
        "n_train_available": n_available,
        "n_test": len(X_test),
        "n_features": X_train.shape[1],
        "n_classes": int(len(np.unique(y_train))),
        "test": split_note,
    }
    return (X_train, y_train, X_test, y_test), description


def labelled_subset(y: np.ndarray, n_labels: str, seed: int) -> np.ndarray:
    """Indices of a balanced labelled subset: ``n / n_classes`` per class."""
    if n_labels == "all":
        return np.arange(len(y))
    classes = np.unique(y)
    n = int(n_labels)
    if n % len(classes):
        raise ValueError(f"{n} labels do not split evenly over {len(classes)} classes.")
    per_class = n // len(classes)
    rng = np.random.RandomState(seed)
    chosen = []
    for c in classes:
        members = np.flatnonzero(y == c)
        if len(members) < per_class:
            raise ValueError(
                f"class {c} has {len(members)} training points; {per_class} needed."
            )
        chosen.append(rng.choice(members, per_class, replace=False))
    return np.sort(np.concatenate(chosen))


# -- methods ----------------------------------------------------------------
def aae_params(args, dataset: str) -> dict:
    small = dataset == "digits"
    params = {
        "n_components": 10,
        "hidden_layer_sizes": (256, 256) if small else (1000, 1000),
        "max_iter": 100 if small else DEFAULT_MAX_ITER_LARGE,
        "batch_size": 100,
        "device": args.device,
    }
    if args.max_iter is not None:
        params["max_iter"] = args.max_iter
    if args.hidden_layer_sizes is not None:
        params["hidden_layer_sizes"] = tuple(args.hidden_layer_sizes)
    return params


def make_peer(name: str, seed: int):
    if name == "labelspreading":
        return LabelSpreading(kernel="knn", n_neighbors=7)
    if name == "selftraining":
        return SelfTrainingClassifier(LogisticRegression(max_iter=1000))
    if name == "mlp":
        return MLPClassifier(
            hidden_layer_sizes=(256, 256),
            max_iter=200,
            early_stopping=False,
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
    elif name == "mlp":
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
    convergence = sorted(
        {str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)}
    )
    result = {
        "error": error,
        "fit_time": fit_time,
        "n_fit": len(y_fit),
        "n_test_undefined": undefined,
        "convergence_warnings": convergence,
    }
    if name == "aae":
        result["n_iter"] = int(model.n_iter_)
        result["last_epoch"] = {k: float(v[-1]) for k, v in model.history_.items()}
        result["prior_distance"] = float(model.prior_distance_)
        result["prior_distance_reference"] = float(model.prior_distance_reference_)
    return result


def summarize(runs: list[dict]) -> dict:
    out = {}
    for key in ("error", "fit_time"):
        values = np.array([r[key] for r in runs])
        out[key] = float(values.mean())
        out[key + "_std"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    out["n_runs"] = len(runs)
    out["n_warned"] = sum(bool(r["convergence_warnings"]) for r in runs)
    out["n_test_undefined"] = [r["n_test_undefined"] for r in runs]
    return out


# -- report -----------------------------------------------------------------
def pm(mean: float, std: float, n: int, digits: int) -> str:
    text = f"{mean:.{digits}f}"
    return text + (f" ± {std:.{digits}f}" if n > 1 else "")


def print_header(machine, data, args, aae) -> None:
    print("skaae semi-supervised classification benchmark (AAEClassifier)")
    print()
    print("machine")
    print(f"  platform: {machine['platform']}, Python {machine['python']}")
    print(f"  CPU: {machine['cpu']}, {machine['cores']} usable cores")
    print(
        f"  torch {machine['torch']} ({machine['torch_threads']} intra-op threads), "
        f"device {machine['device']}"
    )
    print(
        f"  numpy {machine['numpy']}, scikit-learn {machine['scikit-learn']}, "
        f"skaae {machine['skaae']}"
    )
    print(
        f"  thread limit: {args.threads}; load average at start: "
        f"{machine['load_average_start']}"
    )
    print()
    print("data")
    if data["name"] == "fashion-mnist":
        print("  Fashion-MNIST (MNIST is not reachable here; same protocol)")
    elif data["name"] == "mnist":
        print("  MNIST")
    else:
        print("  digits (8x8; a stand-in, much smaller than MNIST)")
    print(f"  from: {data['source']}")
    subset = (
        f" (random subset of {data['n_train_available']}, seed 0)"
        if data["n_train"] < data["n_train_available"]
        else ""
    )
    print(
        f"  train: {data['n_train']} x {data['n_features']}{subset}; test: "
        f"{data['n_test']} ({data['test']}); {data['n_classes']} classes"
    )
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
    if "mlp" in args.methods:
        print(
            "  MLPClassifier(hidden_layer_sizes=(256, 256), max_iter=200, "
            "early_stopping=False, random_state=seed): labelled points only"
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
    for line in lines:
        print(line)
    return lines


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
    for line in lines:
        print(line)
    return lines


# -- main -------------------------------------------------------------------
def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)
    try:
        split, data = prepare_data(args)
        for n_labels in args.labels:
            if n_labels != "all":
                labelled_subset(split[1], n_labels, 0)  # raises if impossible
            if n_labels != "all" and int(n_labels) > data["n_train"]:
                raise ValueError(
                    f"{n_labels} labels asked but the training set has "
                    f"{data['n_train']} points."
                )
    except (RuntimeError, FileNotFoundError, ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    machine = machine_info(args)
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
        print()
        print(note)
        lines += ["", note]
    print()
    paper_lines = print_paper(args.labels)
    messages = sorted(
        {
            f"{LABELS[name]}: {message}"
            for by_method in runs.values()
            for name, method_runs in by_method.items()
            for run in method_runs
            for message in run["convergence_warnings"]
        }
    )
    if messages:
        print()
        print("ConvergenceWarnings (distinct messages):")
        for message in messages:
            print(f"  {message}")
    machine["load_average_end"] = load_average()
    print()
    print(f"load average at end: {machine['load_average_end']}")

    if args.json is not None:
        payload = {
            "machine": machine,
            "data": data,
            "settings": {
                "budget": args.budget,
                "labels": args.labels,
                "seeds": args.seeds,
                "threads": args.threads,
                "peer_subsample": args.peer_subsample,
                "aae": aae,
            },
            "results": results,
            "runs": runs,
            "table": lines,
            "paper": paper_lines,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2, default=str))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
