"""Quality of the 2-D embedding of AAETransformer, next to PCA, UMAP and t-SNE.

Every method maps the images to 2 dimensions; the script reports for each:

- fit (s): time to fit on the training set and embed it;
- transform (s): time to embed new points (t-SNE cannot: "n/a");
- 5-NN accuracy: a 5-nearest-neighbour classifier in the 2-D embedding;
- trustworthiness (``sklearn.manifold.trustworthiness``, ``n_neighbors=5``) of
  the training embedding, on at most 2,000 training points (the same points
  for every method).

Protocols:

- ``--dataset digits`` (1,797 images, no test split): every method embeds all
  the data (no labels are used), the 5-NN accuracy is 5-fold cross-validated
  on that embedding, and "transform" re-embeds the 1,797 points as new input.
- ``--dataset fashion-mnist`` / ``--dataset mnist``: each method is fitted on a
  random training subset (``--n-train``, default 10,000); the 5-NN classifier
  is trained on the training embedding and scored on the embedding of
  ``--n-test`` (default 2,000) test images that the method transforms as new
  points. t-SNE has no transform: its accuracy is 5-fold cross-validated on
  the training embedding instead (marked ``*``).

The AAE is ``AAETransformer(n_components=2)`` with its default Gaussian prior;
for the 784-pixel data sets it uses ``hidden_layer_sizes=(1000, 1000)`` (the
paper's MNIST networks), ``loss="mse"`` and ``learning_rate_schedule="cosine"``
(with ``loss="bce"`` and constant rates the codes leave the prior there), for
``--max-iter`` epochs
(default 20; digits: the estimator's default); ``--hidden-layer-sizes``
overrides the layers. With several ``--seeds`` its
rows give mean ± standard deviation over the seeds.

MNIST itself (the paper's data set) is read from ``--data`` (a folder of IDX
files or an ``.npz``) or fetched with ``fetch_openml("mnist_784")``. On
machines without it, run the same protocol on Fashion-MNIST.

Examples::

    python benchmarks/bench_embedding.py --dataset digits
    python benchmarks/bench_embedding.py --dataset fashion-mnist --json fm.json
    python benchmarks/bench_embedding.py --dataset mnist --data ~/mnist/ --seeds 0 1 2
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
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE, trustworthiness
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from threadpoolctl import threadpool_limits

import skaae
from skaae import AAETransformer

METHODS = ("aae", "pca", "umap", "tsne")
MAX_TRUST_POINTS = 2000
N_NEIGHBORS = 5
DEFAULT_MAX_ITER_LARGE = 20


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--dataset",
        choices=("digits", "fashion-mnist", "mnist"),
        default="digits",
    )
    parser.add_argument(
        "--data",
        default=None,
        help="folder of IDX files or .npz (x_train, y_train, x_test, y_test) "
        "for mnist / fashion-mnist",
    )
    parser.add_argument("--n-train", type=int, default=10000)
    parser.add_argument("--n-test", type=int, default=2000)
    parser.add_argument(
        "--max-iter",
        type=int,
        default=None,
        help="AAE epochs (default: the estimator's 100 on digits, "
        f"{DEFAULT_MAX_ITER_LARGE} on the 784-pixel data sets)",
    )
    parser.add_argument(
        "--hidden-layer-sizes",
        type=int,
        nargs="+",
        metavar="N",
        default=None,
        help="AAE hidden layers (default: the estimator's (256, 256) on digits, "
        "(1000, 1000) on the 784-pixel data sets)",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=[0],
        metavar="SEED",
        help="AAE random_state(s)",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=METHODS,
        default=list(METHODS),
        help="methods to run",
    )
    parser.add_argument("--device", default="auto", help="AAETransformer device")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="limit torch and the BLAS/OpenMP pools to this many threads "
        "(default: the libraries' own defaults)",
    )
    parser.add_argument("--json", type=Path, default=None, help="write results here")
    return parser.parse_args(argv)


# -- environment ------------------------------------------------------------
def umap_module():
    try:
        import umap
    except ImportError:
        return None
    return umap


def machine_info(args, umap) -> dict:
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
        "umap-learn": getattr(umap, "__version__", None) if umap else None,
        "load_average_start": load_average(),
    }


# -- data -------------------------------------------------------------------
def prepare_data(args):
    data = load_dataset(args.dataset, args.data)
    rng = np.random.RandomState(0)
    if data.X_test is None:
        split = {
            "X_train": data.X_train,
            "y_train": data.y_train,
            "X_test": None,
            "y_test": None,
        }
        description = {
            "protocol": "cv",
            "n_train": len(data.X_train),
            "n_test": 0,
            "n_train_available": len(data.X_train),
            "n_test_available": 0,
        }
    else:
        train = rng.permutation(len(data.X_train))[: args.n_train]
        test = rng.permutation(len(data.X_test))[: args.n_test]
        split = {
            "X_train": data.X_train[train],
            "y_train": data.y_train[train],
            "X_test": data.X_test[test],
            "y_test": data.y_test[test],
        }
        description = {
            "protocol": "train/test",
            "n_train": len(train),
            "n_test": len(test),
            "n_train_available": len(data.X_train),
            "n_test_available": len(data.X_test),
        }
    description.update(
        name=data.name,
        source=data.source,
        n_features=data.X_train.shape[1],
        n_classes=int(len(np.unique(data.y_train))),
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
    return split, description


# -- methods ----------------------------------------------------------------
def aae_params(dataset: str, args) -> dict:
    params = {"n_components": 2, "device": args.device}
    if dataset != "digits":
        # MSE with cosine decay: with BCE and constant rates the discriminator
        # wins on Fashion-MNIST and the codes leave the prior (benchmarks/README).
        params.update(
            hidden_layer_sizes=(1000, 1000),
            loss="mse",
            learning_rate_schedule="cosine",
        )
        params["max_iter"] = (
            DEFAULT_MAX_ITER_LARGE if args.max_iter is None else args.max_iter
        )
    elif args.max_iter is not None:
        params["max_iter"] = args.max_iter
    if args.hidden_layer_sizes is not None:
        params["hidden_layer_sizes"] = tuple(args.hidden_layer_sizes)
    return params


def peer_params(name: str) -> dict:
    if name == "pca":
        return {"n_components": 2}
    if name == "umap":
        return {
            "n_components": 2,
            "n_neighbors": 15,
            "min_dist": 0.1,
            "random_state": 0,
        }
    if name == "tsne":
        return {"n_components": 2, "perplexity": 30.0, "init": "pca", "random_state": 0}
    raise ValueError(name)


def embed(name: str, params: dict, split, umap):
    """Fit on the training set; return embeddings, times and the model."""
    X_train, X_test = split["X_train"], split["X_test"]
    if name == "aae":
        model = AAETransformer(**params)
    elif name == "pca":
        model = PCA(**params)
    elif name == "umap":
        model = umap.UMAP(**params)
    else:
        model = TSNE(**params)

    start = time.perf_counter()
    if name == "aae":
        Z_train = model.fit(X_train).transform(X_train)
    else:
        Z_train = model.fit_transform(X_train)
    fit_time = time.perf_counter() - start

    Z_test = transform_time = None
    if name != "tsne":
        new = split["X_new"]
        start = time.perf_counter()
        Z_new = model.transform(new)
        transform_time = time.perf_counter() - start
        Z_test = None if X_test is None else Z_new
    return model, Z_train, Z_test, fit_time, transform_time


def knn_accuracy(Z_train, y_train, Z_test, y_test) -> tuple[float, str]:
    knn = KNeighborsClassifier(n_neighbors=N_NEIGHBORS)
    if Z_test is None:
        return float(cross_val_score(knn, Z_train, y_train, cv=5).mean()), "cv"
    return float(knn.fit(Z_train, y_train).score(Z_test, y_test)), "test"


def evaluate(name: str, params: dict, split, umap) -> dict:
    model, Z_train, Z_test, fit_time, transform_time = embed(name, params, split, umap)
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
        "n_transformed": None if transform_time is None else n_new,
        "knn_accuracy": accuracy,
        "knn_protocol": protocol,
        "trustworthiness": float(trust),
    }
    if name == "aae":
        cov = np.cov(Z_train, rowvar=False)
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
    return result


def summarize(runs: list[dict]) -> dict:
    """Mean and std of the numeric fields over seeds."""
    summary = {}
    for key in ("fit_time", "transform_time", "knn_accuracy", "trustworthiness"):
        values = [r[key] for r in runs]
        if values[0] is None:
            summary[key] = None
            summary[key + "_std"] = None
            continue
        summary[key] = float(np.mean(values))
        summary[key + "_std"] = float(np.std(values, ddof=1)) if len(runs) > 1 else 0.0
    summary["n_transformed"] = runs[0]["n_transformed"]
    summary["knn_protocol"] = runs[0]["knn_protocol"]
    return summary


# -- report -----------------------------------------------------------------
LABELS = {"aae": "AAE", "pca": "PCA", "umap": "UMAP", "tsne": "t-SNE"}


def fmt(value, std=None, n_runs=1, digits=3) -> str:
    if value is None:
        return "n/a"
    text = f"{value:.{digits}f}"
    if n_runs > 1 and std is not None:
        text += f" ± {std:.{digits}f}"
    return text


def print_header(machine: dict, data: dict, args, aae: dict, umap) -> None:
    print("skaae embedding benchmark (2-D embeddings)")
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
        f"umap-learn {machine['umap-learn'] or 'not installed'}, "
        f"skaae {machine['skaae']}"
    )
    limit = "default" if args.threads is None else str(args.threads)
    print(
        f"  thread limit: {limit}; "
        f"load average at start: {machine['load_average_start']}"
    )
    print()
    print("data")
    if data["name"] == "fashion-mnist":
        print("  Fashion-MNIST (MNIST is not reachable here; same protocol)")
    elif data["name"] == "mnist":
        print("  MNIST")
    else:
        print("  digits")
    print(f"  from: {data['source']}")
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
        print(
            f"  train: {data['n_train']} x {data['n_features']} (random subset of "
            f"{data['n_train_available']}); test: {data['n_test']} x "
            f"{data['n_features']} (random subset of {data['n_test_available']}); "
            f"{data['n_classes']} classes"
        )
        print(
            "  5-NN accuracy: kNN trained on the training embedding, scored on "
            "the embedding of the test points (transformed as new points)"
        )
    print(
        f"  trustworthiness: n_neighbors={N_NEIGHBORS}, on {data['n_trust']} "
        "training points (the same for every method)"
    )
    print()
    print("methods")
    params = ", ".join(f"{k}={v!r}" for k, v in aae.items())
    if "aae" in args.methods:
        print(
            f"  AAE: AAETransformer({params}), seeds {args.seeds} "
            "(timed after a 1-epoch warm-up fit)"
        )
    for name in ("pca", "umap", "tsne"):
        if name not in args.methods:
            continue
        if name == "umap" and umap is None:
            print("  UMAP: skipped: umap-learn not installed")
            continue
        peer = ", ".join(f"{k}={v!r}" for k, v in peer_params(name).items())
        cls = {"pca": "PCA", "umap": "umap.UMAP", "tsne": "TSNE"}[name]
        note = " (timed after a JIT warm-up)" if name == "umap" else ""
        print(f"  {LABELS[name]}: {cls}({peer}){note}")
    print(flush=True)


def print_table(results: dict, n_runs: dict) -> list[str]:
    lines = [
        "| method | fit (s) | transform (s) | new points | 5-NN accuracy "
        "| trustworthiness |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    footnote = False
    for name, r in results.items():
        if r is None:
            lines.append(f"| {LABELS[name]} | skipped: umap-learn not installed |||||")
            continue
        n = n_runs[name]
        acc = fmt(r["knn_accuracy"], r["knn_accuracy_std"], n)
        if r["knn_protocol"] == "cv" and results_protocol(results) == "test":
            acc += " *"
            footnote = True
        label = LABELS[name] + (f" ({n} seeds)" if n > 1 else "")
        lines.append(
            f"| {label} | {fmt(r['fit_time'], r['fit_time_std'], n, 2)} "
            f"| {fmt(r['transform_time'], r['transform_time_std'], n, 3)} "
            f"| {r['n_transformed'] if r['n_transformed'] is not None else 'n/a'} "
            f"| {acc} | {fmt(r['trustworthiness'], r['trustworthiness_std'], n)} |"
        )
    if footnote:
        lines.append("")
        lines.append(
            "\\* t-SNE cannot embed new points: 5-fold CV on its training embedding."
        )
    for line in lines:
        print(line)
    return lines


def results_protocol(results: dict) -> str:
    protocols = {r["knn_protocol"] for r in results.values() if r is not None}
    return "test" if "test" in protocols else "cv"


def print_diagnostics(runs: list[dict], seeds: list[int]) -> None:
    print()
    print("AAE fit diagnostics (last epoch; a perfect prior match gives both")
    print("losses log 2 = 0.693, discriminator accuracy 0.5, prior_distance_ close")
    print("to prior_distance_reference_, code mean 0 and covariance I):")
    for seed, run in zip(seeds, runs, strict=True):
        d = run["diagnostics"]
        last = d["last_epoch"]
        cov = np.asarray(d["code_covariance"])
        print(
            f"  seed {seed}: {d['n_iter']} epochs, reconstruction "
            f"{last['reconstruction']:.4f}, discriminator {last['discriminator']:.3f}, "
            f"generator {last['generator']:.3f}, accuracy "
            f"{last['discriminator_accuracy']:.3f}"
        )
        print(
            f"          prior_distance_ {d['prior_distance']:.4f} vs reference "
            f"{d['prior_distance_reference']:.4f} (ratio "
            f"{d['prior_distance'] / d['prior_distance_reference']:.2f}); code mean "
            f"[{d['code_mean'][0]:.3f}, {d['code_mean'][1]:.3f}], covariance "
            f"[[{cov[0, 0]:.3f}, {cov[0, 1]:.3f}], [{cov[1, 0]:.3f}, {cov[1, 1]:.3f}]]"
        )


# -- main -------------------------------------------------------------------
def main(argv=None) -> int:
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
        threadpool_limits(args.threads)
    umap = umap_module() if "umap" in args.methods else None
    if umap is not None and args.threads is not None:
        import numba

        numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))

    try:
        split, data = prepare_data(args)
    except (RuntimeError, FileNotFoundError, ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    machine = machine_info(args, umap)
    aae = aae_params(data["name"], args)
    print_header(machine, data, args, aae, umap)

    results, n_runs, aae_runs = {}, {}, []
    for name in args.methods:
        if name == "umap" and umap is None:
            print("UMAP: skipped: umap-learn not installed", flush=True)
            results[name] = None
            continue
        if name == "aae":
            # Keep torch's one-off start-up costs out of the timings.
            AAETransformer(**{**aae, "max_iter": 1}).fit(split["X_train"][:200])
            for seed in args.seeds:
                print(f"running AAE (seed {seed})...", flush=True)
                run = evaluate("aae", {**aae, "random_state": seed}, split, umap)
                aae_runs.append(run)
            results[name] = summarize(aae_runs)
            n_runs[name] = len(aae_runs)
            continue
        if name == "umap":
            # Numba compiles UMAP's kernels on first use; keep that out of the
            # timings with a small throw-away fit.
            warm = umap.UMAP(**peer_params("umap"))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                warm.fit(split["X_train"][:300])
                warm.transform(split["X_train"][300:350])
        print(f"running {LABELS[name]}...", flush=True)
        with warnings.catch_warnings():
            # UMAP warns that random_state disables parallelism.
            warnings.filterwarnings("ignore", message=".*n_jobs.*")
            run = evaluate(name, peer_params(name), split, umap)
        results[name] = summarize([run])
        n_runs[name] = 1

    print()
    lines = print_table(results, n_runs)
    if aae_runs:
        print_diagnostics(aae_runs, args.seeds)
    machine["load_average_end"] = load_average()
    print()
    print(f"load average at end: {machine['load_average_end']}")

    if args.json is not None:
        payload = {
            "machine": machine,
            "data": data,
            "settings": {
                "n_neighbors": N_NEIGHBORS,
                "threads": args.threads,
                "seeds": args.seeds,
                "aae": dict(aae),
                "peers": {n: peer_params(n) for n in ("pca", "umap", "tsne")},
            },
            "results": results,
            "aae_runs": aae_runs,
            "table": lines,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2, default=str))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
