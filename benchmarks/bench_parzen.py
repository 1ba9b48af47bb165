"""Parzen-window log-likelihood of AAETransformer samples (the paper's Table 1).

The protocol of Makhzani et al. (2015, section 3, Table 1), after Goodfellow
et al. (2014): a generative model draws 10,000 samples, an isotropic Gaussian
Parzen window is centred on them, its width is chosen on a validation set, and
the mean log-likelihood (nats) of the test images under that window is
reported with its standard error. Pixels are in [0, 1] (pixel / 255).

Data (one fixed split, ``RandomState(0)`` over the 60,000 training images):

- fit set: ``--n-train`` training images (default 10,000) that every model is
  fitted on;
- validation set: the next ``--n-validation`` training images (default 1,000),
  disjoint from the fit set, on which each model's width is chosen with
  ``skaae.metrics.select_parzen_bandwidth`` among ``--bandwidths`` (default:
  25 widths from 0.05 to 1, evenly spaced in log);
- reference images: the next ``--n-samples`` training images (default
  10,000), used by no fit;
- test set: ``--n-test`` images of the official test set (default all
  10,000; a random subset otherwise).

Models (each draws ``--n-samples`` samples; with several ``--seeds`` every
model but the real images is refitted and resampled per seed):

- ``aae``: ``AAETransformer(n_components=8, hidden_layer_sizes=(1000, 1000),
  loss="bce", learning_rate_schedule="cosine", max_iter=100)`` with its
  default Gaussian prior, then ``.sample(n, random_state=seed)``. A small code
  and two layers of 1,000 units, as the paper's generative MNIST model; the
  loss, schedule and epochs are this script's choices. ``loss="bce"`` gives
  the decoder a sigmoid output, so samples stay in [0, 1] (with ``"mse"``
  20-23% of the sample pixels fell outside). Measured on Fashion-MNIST (fit on
  10,000 images, 15 epochs, seed 0, 2,000 test images; test log-likelihood,
  ratio = ``prior_distance_`` / reference): bce + cosine 364 (ratio 6), bce +
  constant 393 (ratio 18), mse + cosine 312 (ratio 9), mse + constant 364
  (ratio 18). Constant rates scored higher while matching the prior worse
  (the Parzen score does not follow sample quality closely); the cosine decay
  is kept because it settles the adversarial game over a long run, where
  constant rates let the codes drift from the prior (benchmarks/README.md,
  2-D embedding). 100 epochs of 10,000 images took 9.2 minutes on one CPU
  thread of a 2-core AMD EPYC at load 2 (5.5 s an epoch; 9 s an epoch has been
  seen on a busier machine, about 15 minutes), and the whole run 10 minutes.
- ``gmm``: ``GaussianMixture(n_components=10, covariance_type="diag")``
  fitted on the same pixels: a simple generative baseline.
- ``pca``: a linear Gaussian model with the AAE's code size: ``PCA(8)``
  fitted on the same pixels, codes drawn from ``N(0, diag(explained
  variance))`` and mapped back with ``inverse_transform`` (no pixel noise).
- ``real``: the reference training images as "samples": what a generator
  that reproduced the data distribution would score with this many samples,
  the reference of the protocol. It is no upper bound: a model whose samples
  are smoother than the data (closer, on average, to many test images) can
  score above it, as the AAE does on Fashion-MNIST (403.6 ± 2.5 nats against
  364.3 ± 2.2 for the real images, 222.9 for PCA-Gaussian and -98.2 for the
  mixture; benchmarks/results/parzen_fashion-mnist.txt).

Samples are not clipped to [0, 1] unless ``--clip``. The Parzen estimate is
biased and has a large variance in 784 dimensions (Theis et al., 2016); it
only ranks models evaluated the same way. The paper's MNIST Table 1 is printed
for reference: Fashion-MNIST is a different, harder data set, and its numbers
are not comparable with those.

Examples::

    python benchmarks/bench_parzen.py --threads 1
    python benchmarks/bench_parzen.py --max-iter 1 --n-test 1000   # smoke test
    python benchmarks/bench_parzen.py --dataset mnist --data ~/mnist/ --device cuda
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np
from _data import LOAD_ERRORS, load_dataset, print_data_intro
from _machine import (
    limit_threads,
    machine_info,
    print_load_average_end,
    print_machine_header,
)
from _options import DATA_HELP, add_dataset_arguments, add_run_arguments
from _report import (
    aae_fit_facts,
    convergence_messages,
    mean_std,
    print_lines,
    write_json,
)
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

from skaae import AAETransformer
from skaae.metrics import parzen_log_likelihood, select_parzen_bandwidth

METHODS = ("aae", "gmm", "pca", "real")
LABELS = {
    "aae": "AAE",
    "gmm": "GaussianMixture(10, diag)",
    "pca": "PCA-Gaussian",
    "real": "real training images",
}
DEFAULT_MAX_ITER = 100
DEFAULT_BANDWIDTHS = np.geomspace(0.05, 1.0, 25)
# Makhzani et al. (2015), Table 1: MNIST, Parzen window on 10K samples, nats.
PAPER = {
    "DBN": (138, 2),
    "Stacked CAE": (121, 1.6),
    "Deep GSN": (214, 1.1),
    "GAN": (225, 2),
    "GMMN + AE": (282, 2),
    "Adversarial Autoencoder": (340, 2),
}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_dataset_arguments(
        parser, choices=("fashion-mnist", "mnist"), data_help=DATA_HELP
    )
    parser.add_argument(
        "--n-train", type=int, default=10000, help="training images the models fit"
    )
    parser.add_argument(
        "--n-validation",
        type=int,
        default=1000,
        help="held-out training images the Parzen width is chosen on",
    )
    parser.add_argument(
        "--n-samples",
        type=int,
        default=10000,
        help="samples per model (and held-out real training images)",
    )
    parser.add_argument(
        "--n-test",
        type=int,
        default=None,
        help="test images scored (default: the whole test set)",
    )
    parser.add_argument(
        "--max-iter",
        type=int,
        default=DEFAULT_MAX_ITER,
        help="AAE epochs (100: 9-15 minutes on one CPU thread)",
    )
    parser.add_argument("--n-components", type=int, default=8, help="AAE code size")
    parser.add_argument(
        "--hidden-layer-sizes",
        type=int,
        nargs="+",
        metavar="N",
        default=[1000, 1000],
        help="AAE hidden layers",
    )
    parser.add_argument(
        "--loss", choices=("mse", "bce"), default="bce", help="AAE loss"
    )
    parser.add_argument(
        "--schedule",
        choices=("auto", "constant", "cosine"),
        default="cosine",
        help="AAE learning_rate_schedule",
    )
    parser.add_argument(
        "--gmm-components", type=int, default=10, help="GaussianMixture components"
    )
    parser.add_argument(
        "--bandwidths",
        type=float,
        nargs="+",
        default=None,
        metavar="SIGMA",
        help="candidate Parzen widths (default: 25 from 0.05 to 1, log-spaced)",
    )
    parser.add_argument(
        "--clip", action="store_true", help="clip generated samples to [0, 1]"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], metavar="SEED")
    add_run_arguments(parser, METHODS, "AAETransformer")
    args = parser.parse_args(argv)
    if args.bandwidths is None:
        args.bandwidths = DEFAULT_BANDWIDTHS.tolist()
    return args


# -- data -------------------------------------------------------------------
def prepare_data(args):
    data = load_dataset(args.dataset, args.data)
    n_available = len(data.X_train)
    needed = args.n_train + args.n_validation + args.n_samples
    if needed > n_available:
        raise ValueError(
            f"--n-train + --n-validation + --n-samples = {needed} training images "
            f"needed (the three sets are disjoint), but there are {n_available}."
        )
    order = np.random.RandomState(0).permutation(n_available)
    a, b = args.n_train, args.n_train + args.n_validation
    fit, validation, reference = order[:a], order[a:b], order[b:needed]
    n_test = len(data.X_test) if args.n_test is None else args.n_test
    if n_test > len(data.X_test):
        raise ValueError(f"--n-test {n_test} > {len(data.X_test)} test images.")
    test = np.sort(np.random.RandomState(1).permutation(len(data.X_test))[:n_test])
    split = {
        "X_fit": data.X_train[np.sort(fit)],
        "X_validation": data.X_train[np.sort(validation)],
        "X_reference": data.X_train[np.sort(reference)],
        "X_test": data.X_test[test],
    }
    description = {
        "name": data.name,
        "source": data.source,
        "n_features": data.X_train.shape[1],
        "n_train_available": n_available,
        "n_test_available": len(data.X_test),
        "n_fit": len(fit),
        "n_validation": len(validation),
        "n_reference": len(reference),
        "n_test": n_test,
    }
    return split, description


# -- models -----------------------------------------------------------------
def aae_params(args) -> dict:
    return {
        "n_components": args.n_components,
        "hidden_layer_sizes": tuple(args.hidden_layer_sizes),
        "loss": args.loss,
        "learning_rate_schedule": args.schedule,
        "max_iter": args.max_iter,
        "batch_size": 100,
        "device": args.device,
    }


def gmm_params(args) -> dict:
    return {"n_components": args.gmm_components, "covariance_type": "diag"}


def fit_and_sample(name: str, split, args, seed: int, aae: dict) -> dict:
    """Fit one model on the fit set and draw its samples; with timings."""
    X, n = split["X_fit"], args.n_samples
    info: dict = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        if name == "real":
            model = None
        elif name == "aae":
            model = AAETransformer(**{**aae, "random_state": seed}).fit(X)
        elif name == "gmm":
            model = GaussianMixture(**gmm_params(args), random_state=seed).fit(X)
        else:
            model = PCA(n_components=args.n_components, random_state=seed).fit(X)
        fit_time = time.perf_counter() - start

        start = time.perf_counter()
        if name == "real":
            samples = split["X_reference"][:n]
        elif name == "aae":
            samples = model.sample(n, random_state=seed)
        elif name == "gmm":
            # GaussianMixture.sample draws with its own random_state and sorts
            # the samples by component; the order does not matter here.
            samples, _ = model.sample(n)
        else:
            rng = np.random.RandomState(seed)
            codes = rng.normal(size=(n, model.n_components_)) * np.sqrt(
                model.explained_variance_
            )
            samples = model.inverse_transform(codes)
        sample_time = time.perf_counter() - start
    info["convergence_warnings"] = convergence_messages(caught)
    samples = np.asarray(samples, dtype=np.float64)
    info["outside_unit_interval"] = float(np.mean((samples < 0) | (samples > 1)))
    if args.clip and name != "real":
        samples = np.clip(samples, 0.0, 1.0)
    if name == "aae":
        info.update(aae_fit_facts(model))
        info["history"] = {k: np.asarray(v).tolist() for k, v in model.history_.items()}
        X_test = split["X_test"]
        decoded = model.inverse_transform(model.transform(X_test))
        info["reconstruction_test_mse"] = float(np.mean((decoded - X_test) ** 2))
    if name == "gmm":
        info["converged"] = bool(model.converged_)
    return {
        "samples": samples,
        "fit_time": fit_time,
        "sample_time": sample_time,
        **info,
    }


def score(samples, split, bandwidths) -> dict:
    """Width chosen on the validation set, then the test log-likelihood."""
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        bandwidth = select_parzen_bandwidth(
            samples, split["X_validation"], bandwidths=bandwidths
        )
    at_edge = any("edge of the grid" in str(w.message) for w in caught)
    validation_ll = parzen_log_likelihood(
        samples, split["X_validation"], bandwidth=bandwidth
    )
    ll, se = parzen_log_likelihood(
        samples, split["X_test"], bandwidth=bandwidth, return_std=True
    )
    return {
        "bandwidth": bandwidth,
        "bandwidth_at_grid_edge": at_edge,
        "validation_log_likelihood": float(validation_ll),
        "log_likelihood": float(ll),
        "std_error": float(se),
        "score_time": time.perf_counter() - start,
    }


# -- report -----------------------------------------------------------------
def print_header(machine, data, args, aae) -> None:
    print_machine_header(
        "skaae Parzen-window log-likelihood benchmark (the paper's Table 1)",
        machine,
        args.threads,
    )
    print_data_intro(data, source_note="; pixels / 255, in [0, 1]")
    print(
        f"  fit: {data['n_fit']} training images; validation (Parzen width): "
        f"{data['n_validation']}; real reference: {data['n_reference']}; the "
        f"three are disjoint random subsets of the {data['n_train_available']} "
        "training images (seed 0)"
    )
    subset = (
        "the whole test set"
        if data["n_test"] == data["n_test_available"]
        else f"a random subset of the {data['n_test_available']} (seed 1)"
    )
    print(f"  test: {data['n_test']} images, {subset}")
    print(
        f"  Parzen: isotropic Gaussian window on {args.n_samples} samples per "
        f"model; width chosen on the validation set among {len(args.bandwidths)} "
        f"values in [{min(args.bandwidths):g}, {max(args.bandwidths):g}]; "
        "test mean log-likelihood ± standard error, nats"
    )
    print(f"  samples clipped to [0, 1]: {'yes' if args.clip else 'no'}")
    print()
    print("models (seeds " + str(args.seeds) + ")")
    if "aae" in args.methods:
        params = ", ".join(f"{k}={v!r}" for k, v in aae.items())
        print(
            f"  AAE: AAETransformer({params}, random_state=seed) (Gaussian prior; "
            "timed after a 1-epoch warm-up fit); .sample(n, random_state=seed)"
        )
    if "gmm" in args.methods:
        print(
            f"  GaussianMixture(n_components={args.gmm_components}, "
            'covariance_type="diag", random_state=seed) on the pixels; .sample(n)'
        )
    if "pca" in args.methods:
        print(
            f"  PCA-Gaussian: PCA({args.n_components}) on the pixels; codes from "
            "N(0, diag(explained_variance_)), inverse_transform"
        )
    if "real" in args.methods:
        print(
            f"  real: {data['n_reference']} held-out training images as the "
            "samples (the data's own score; not an upper bound)"
        )
    print(flush=True)


def pm(mean, std, digits=1) -> str:
    """``mean ± std`` (a standard error, or a spread over seeds): always both."""
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def print_table(runs: dict) -> list[str]:
    lines = [
        "| model | seed | Parzen width | validation LL | test LL (nats) "
        "| fit (s) | sample (s) | Parzen (s) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, method_runs in runs.items():
        for r in method_runs:
            edge = " (grid edge)" if r["bandwidth_at_grid_edge"] else ""
            lines.append(
                f"| {LABELS[name]} | {r['seed'] if name != 'real' else '-'} "
                f"| {r['bandwidth']:.3f}{edge} | {r['validation_log_likelihood']:.1f} "
                f"| {pm(r['log_likelihood'], r['std_error'])} "
                f"| {r['fit_time']:.1f} | {r['sample_time']:.2f} "
                f"| {r['score_time']:.1f} |"
            )
        if len(method_runs) > 1:
            mean, std = mean_std(r["log_likelihood"] for r in method_runs)
            lines.append(
                f"| {LABELS[name]}, mean ± std over seeds | | | "
                f"| {pm(mean, std)} | | | |"
            )
    return print_lines(lines)


def print_paper() -> list[str]:
    lines = [
        "Reference: Makhzani et al. (2015), Table 1: MNIST, Parzen window on 10K "
        "samples,",
        "nats. These are MNIST figures; Fashion-MNIST is a different data set and "
        "is not",
        "comparable with them.",
        "",
        "| model (paper) | MNIST log-likelihood |",
        "|---|---:|",
    ]
    for name, (mean, std) in PAPER.items():
        lines.append(f"| {name} | {mean} ± {std} |")
    return print_lines(lines)


def print_diagnostics(runs: list[dict]) -> None:
    print()
    print("AAE fit diagnostics (last epoch; a perfect prior match gives both")
    print("losses log 2 = 0.693, discriminator accuracy 0.5, prior_distance_ close")
    print("to prior_distance_reference_):")
    for r in runs:
        last = r["last_epoch"]
        print(
            f"  seed {r['seed']}: {r['n_iter']} epochs, reconstruction "
            f"{last['reconstruction']:.4f} (test-set MSE "
            f"{r['reconstruction_test_mse']:.4f}), discriminator "
            f"{last['discriminator']:.3f}, generator {last['generator']:.3f}, "
            f"accuracy {last['discriminator_accuracy']:.3f}"
        )
        print(
            f"          prior_distance_ {r['prior_distance']:.4f} vs reference "
            f"{r['prior_distance_reference']:.4f} (ratio "
            f"{r['prior_distance'] / r['prior_distance_reference']:.2f}); "
            f"{100 * r['outside_unit_interval']:.1f}% of sample pixels outside "
            "[0, 1]"
        )
        for message in r["convergence_warnings"]:
            print(f"          ConvergenceWarning: {message}")


# -- main -------------------------------------------------------------------
def main(argv=None) -> int:
    args = parse_args(argv)
    limit_threads(args.threads)
    try:
        split, data = prepare_data(args)
    except LOAD_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    machine = machine_info(args.device)
    aae = aae_params(args)
    print_header(machine, data, args, aae)

    if "aae" in args.methods:
        # Keep torch's one-off start-up costs out of the timings.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            AAETransformer(**{**aae, "max_iter": 1}).fit(split["X_fit"][:200])

    runs: dict = {}
    for name in args.methods:
        runs[name] = []
        for seed in [args.seeds[0]] if name == "real" else args.seeds:
            print(f"{LABELS[name]}, seed {seed}...", end=" ", flush=True)
            drawn = fit_and_sample(name, split, args, seed, aae)
            samples = drawn.pop("samples")
            scored = score(samples, split, args.bandwidths)
            run = {"seed": seed, **drawn, **scored}
            runs[name].append(run)
            print(
                f"fit {run['fit_time']:.1f} s, width {run['bandwidth']:.3f}, "
                f"test LL {pm(run['log_likelihood'], run['std_error'])}",
                flush=True,
            )

    print()
    lines = print_table(runs)
    edges = [
        name
        for name, rs in runs.items()
        if any(r["bandwidth_at_grid_edge"] for r in rs)
    ]
    if edges:
        note = (
            "The chosen width lies at the edge of the grid for: "
            + ", ".join(LABELS[n] for n in edges)
            + "; widen --bandwidths."
        )
        lines += print_lines(["", note])
    print()
    paper_lines = print_paper()
    if runs.get("aae"):
        print_diagnostics(runs["aae"])
    print_load_average_end(machine)

    write_json(
        args.json,
        machine=machine,
        data=data,
        settings={
            "seeds": args.seeds,
            "threads": args.threads,
            "n_samples": args.n_samples,
            "bandwidths": args.bandwidths,
            "clip": args.clip,
            "aae": aae,
            "gmm": gmm_params(args),
            "pca_components": args.n_components,
        },
        runs=runs,
        table=lines,
        paper=paper_lines,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
