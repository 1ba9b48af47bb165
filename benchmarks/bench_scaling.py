"""Scaling out: one search on joblib, Dask and Ray; one fit on 1 or 2 ranks.

Part 1, many fits. ``GridSearchCV`` of 8 candidates (``AAEClassifier``,
``learning_rate_init`` x ``dropout``, 2-fold CV, about 10 % of the labels) on
scikit-learn's digits, run on each backend in turn, the backends alternated
over ``--repeats`` rounds:

- ``sequential``: ``n_jobs=None``, one process, torch on every core;
- ``loky``: joblib's default process pool, ``n_jobs=--workers``;
- ``dask``: a ``dask.distributed.LocalCluster`` of ``--workers`` processes
  with one thread each, through joblib's Dask backend;
- ``ray``: ``ray.init(num_cpus=--workers)``, through Ray's joblib backend.

It prints the wall time of the search (median over rounds; the engines'
start-up is timed apart), the torch threads each worker ran, and whether
every backend found the same best parameters and cross-validation scores.

Part 2, one fit. ``AAETransformer`` (2-D codes) for ``--epochs`` epochs on
the first ``--rows`` Fashion-MNIST training images (digits when the Debian
package is missing): one process with all cores, one process with one
thread, and ``torchrun`` with 2 gloo ranks of one thread each, alternated
over ``--repeats`` rounds. It prints fit time, samples per second and the
5-NN accuracy of 2,000 test images' codes.

Part 3, same model on 1 or 2 ranks (``--parts digits-quality``). On the
fixed stratified 70/30 digits split, for each of ``--seeds``: the 2-D
``AAETransformer`` (5-NN accuracy of the test codes) and ``AAEClassifier``
with about 10 % of the labels (test accuracy), default settings, in one
process and on 2 gloo ranks, one torch thread each.

Run::

    python benchmarks/bench_scaling.py --json benchmarks/results/scaling_cpu.json
    python benchmarks/bench_scaling.py --parts digits-quality \
        --json benchmarks/results/scaling_quality_digits.json
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _data import labelled_subset, load_dataset, stratified_split
from _machine import machine_info, print_load_average_end, print_machine_header
from _report import write_json

BACKENDS = ("sequential", "loky", "dask", "ray")
GRID = {"learning_rate_init": [1e-4, 3e-4, 1e-3, 3e-3], "dropout": [0.0, 0.2]}
HERE = Path(__file__).resolve().parent


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--search-max-iter", type=int, default=20)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument(
        "--parts",
        nargs="+",
        default=["search", "data-parallel"],
        choices=["search", "data-parallel", "digits-quality"],
    )
    parser.add_argument("--json", type=Path, default=None)
    return parser.parse_args()


# -- part 1: many fits ---------------------------------------------------------
def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


class _Backend:
    """Start an engine, give its joblib backend name, stop it."""

    def __init__(self, name: str, workers: int) -> None:
        self.name, self.workers = name, workers
        self.client = self.cluster = None

    def start(self) -> tuple[str | None, float, list[int]]:
        import joblib

        t0 = time.perf_counter()
        if self.name == "dask":
            import distributed

            self.cluster = distributed.LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            self.client = distributed.Client(self.cluster)
            threads = sorted(self.client.run(_torch_threads).values())
            return "dask", time.perf_counter() - t0, threads
        if self.name == "ray":
            import ray
            from ray.util.joblib import register_ray

            ray.init(
                num_cpus=self.workers, include_dashboard=False, log_to_driver=False
            )
            register_ray()
            remote = ray.remote(_torch_threads)
            threads = ray.get([remote.remote() for _ in range(self.workers)])
            return "ray", time.perf_counter() - t0, sorted(threads)
        if self.name == "loky":
            threads = joblib.Parallel(n_jobs=self.workers)(
                joblib.delayed(_torch_threads)() for _ in range(self.workers)
            )
            return "loky", time.perf_counter() - t0, sorted(threads)
        return None, 0.0, [_torch_threads()]

    def stop(self) -> None:
        if self.name == "dask":
            self.client.close()
            self.cluster.close()
        elif self.name == "ray":
            import ray

            ray.shutdown()


def run_search(backend: str | None, workers: int, X, y, max_iter: int):
    import joblib
    from sklearn.model_selection import GridSearchCV

    from skaae import AAEClassifier

    search = GridSearchCV(
        AAEClassifier(max_iter=max_iter, random_state=0),
        GRID,
        cv=2,
        n_jobs=None if backend is None else workers,
    )
    start = time.perf_counter()
    if backend is None:
        search.fit(X, y)
    else:
        with joblib.parallel_backend(backend):
            search.fit(X, y)
    return search, time.perf_counter() - start


def part_search(args) -> dict:
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    warnings.simplefilter("ignore", ConvergenceWarning)
    data = load_dataset("digits")
    X, _, y, _ = stratified_split(data.X_train, data.y_train)
    keep = labelled_subset(y, 10 * (len(y) // 100), 0)
    y_semi = np.where(np.isin(np.arange(len(y)), keep), y, -1)
    print(
        f"part 1: GridSearchCV of {np.prod([len(v) for v in GRID.values()])} "
        f"candidates x 2 folds, AAEClassifier(max_iter={args.search_max_iter}) on "
        f"digits ({len(X)} rows, {int((y_semi >= 0).sum())} labels); grid {GRID}; "
        f"{args.workers} workers; {args.repeats} rounds",
        flush=True,
    )
    runs: dict[str, dict] = {name: {"seconds": []} for name in BACKENDS}
    for round_ in range(args.repeats):
        order = BACKENDS if round_ % 2 == 0 else BACKENDS[::-1]
        for name in order:
            engine = _Backend(name, args.workers)
            try:
                backend, startup, threads = engine.start()
            except ImportError as exc:
                print(f"  {name}: skipped ({exc})")
                runs[name]["skipped"] = str(exc)
                continue
            try:
                search, seconds = run_search(
                    backend, args.workers, X, y_semi, args.search_max_iter
                )
            finally:
                engine.stop()
            run = runs[name]
            run["seconds"].append(seconds)
            run["startup_seconds"] = startup
            run["torch_threads_per_worker"] = threads
            run["best_params"] = search.best_params_
            run["mean_test_score"] = search.cv_results_["mean_test_score"].tolist()
            print(
                f"  round {round_ + 1} {name}: {seconds:.1f} s (start-up "
                f"{startup:.1f} s), torch threads {threads}",
                flush=True,
            )
    reference = runs["loky"].get("mean_test_score")
    print()
    print(
        "| backend | search (s), median | engine start-up (s) | torch threads "
        "per worker | best parameters | same CV scores as loky |"
    )
    print("|---|---:|---:|---|---|---|")
    for name, run in runs.items():
        if not run["seconds"]:
            continue
        same = (
            "n/a"
            if reference is None
            else str(bool(np.allclose(run["mean_test_score"], reference, rtol=1e-6)))
        )
        run["median_seconds"] = float(np.median(run["seconds"]))
        print(
            f"| {name} | {run['median_seconds']:.1f} | "
            f"{run['startup_seconds']:.1f} | {run['torch_threads_per_worker']} | "
            f"{run['best_params']} | {same} |"
        )
    print(
        "(sequential runs its fits with torch on every core, so its scores may "
        "differ from the one-thread workers' in the last digits)"
    )
    return runs


# -- part 2: one fit on 1 or 2 ranks -------------------------------------------
WORKER = """
import json, sys, time
import numpy as np
import torch
import torch.distributed as dist
from sklearn.neighbors import KNeighborsClassifier
from skaae import AAETransformer
from skaae.distributed import fit, shard

torch.set_num_threads(1)
data = np.load(sys.argv[1])
epochs = int(sys.argv[2])
start = time.perf_counter()
model = fit(AAETransformer(n_components=2, max_iter=epochs, random_state=0),
            shard(data["X_train"]))
seconds = time.perf_counter() - start
if dist.get_rank() == 0:
    knn = KNeighborsClassifier(5).fit(model.transform(data["X_train"]),
                                      data["y_train"])
    print(json.dumps({"seconds": seconds,
                      "knn": knn.score(model.transform(data["X_test"]),
                                       data["y_test"])}))
"""

ONE_PROCESS = """
import json, sys, time
import numpy as np
import torch
from sklearn.neighbors import KNeighborsClassifier
from skaae import AAETransformer

torch.set_num_threads(int(sys.argv[3]))
data = np.load(sys.argv[1])
epochs = int(sys.argv[2])
start = time.perf_counter()
model = AAETransformer(n_components=2, max_iter=epochs, random_state=0)
model.fit(data["X_train"])
seconds = time.perf_counter() - start
knn = KNeighborsClassifier(5).fit(model.transform(data["X_train"]), data["y_train"])
print(json.dumps({"seconds": seconds,
                  "knn": knn.score(model.transform(data["X_test"]),
                                   data["y_test"])}))
"""


def _child_env() -> dict:
    """Environment of the child processes: one torch thread, this checkout."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join([str(HERE.parent), env.get("PYTHONPATH", "")])
    return env


def _last_json(text: str) -> dict:
    import json

    return json.loads([line for line in text.splitlines() if line.startswith("{")][-1])


def part_data_parallel(args) -> dict:
    try:
        data = load_dataset("fashion-mnist")
        name = "Fashion-MNIST"
    except FileNotFoundError:
        data = load_dataset("digits")
        name = "digits"
    X_train = data.X_train[: args.rows].astype(np.float32)
    y_train = data.y_train[: args.rows]
    if data.X_test is not None:
        X_test, y_test = data.X_test[:2000], data.y_test[:2000]
    else:
        X_train, X_test, y_train, y_test = stratified_split(X_train, y_train)
    print(
        f"part 2: AAETransformer(n_components=2, max_iter={args.epochs}) on "
        f"{name}, {len(X_train)} x {X_train.shape[1]} training rows, "
        f"{len(X_test)} test rows; {args.repeats} rounds",
        flush=True,
    )
    env = _child_env()
    variants = {
        f"1 process, {os.cpu_count()} threads": ("one", os.cpu_count()),
        "1 process, 1 thread": ("one", 1),
        "torchrun, 2 ranks x 1 thread (gloo)": ("ranks", 1),
    }
    runs: dict[str, list[dict]] = {v: [] for v in variants}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.npz"
        np.savez(path, X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test)
        worker, one = Path(tmp) / "worker.py", Path(tmp) / "one.py"
        worker.write_text(WORKER)
        one.write_text(ONE_PROCESS)
        for round_ in range(args.repeats):
            names = list(variants)
            for label in names if round_ % 2 == 0 else names[::-1]:
                kind, threads = variants[label]
                if kind == "one":
                    command = [
                        sys.executable,
                        str(one),
                        str(path),
                        str(args.epochs),
                        str(threads),
                    ]
                else:
                    command = [
                        sys.executable,
                        "-m",
                        "torch.distributed.run",
                        "--standalone",
                        "--nproc_per_node=2",
                        str(worker),
                        str(path),
                        str(args.epochs),
                    ]
                out = subprocess.run(
                    command, capture_output=True, text=True, env=env, check=True
                )
                result = _last_json(out.stdout)
                result["samples_per_second"] = (
                    len(X_train) * args.epochs / result["seconds"]
                )
                runs[label].append(result)
                print(
                    f"  round {round_ + 1} {label}: {result['seconds']:.1f} s, "
                    f"5-NN {result['knn']:.3f}",
                    flush=True,
                )
    print()
    print("| run | fit (s), median | samples/s | 5-NN accuracy |")
    print("|---|---:|---:|---:|")
    for label, results in runs.items():
        seconds = float(np.median([r["seconds"] for r in results]))
        rate = float(np.median([r["samples_per_second"] for r in results]))
        knn = float(np.median([r["knn"] for r in results]))
        print(f"| {label} | {seconds:.1f} | {rate:,.0f} | {knn:.3f} |")
    print(
        "(fit time includes each process's neighbour graph, built on its own "
        "rows: a shard's graph costs a quarter of the whole's)"
    )
    return {"data": name, "rows": len(X_train), "runs": runs}


# -- part 3: the same model on 1 or 2 ranks -----------------------------------
QUALITY = """
import json, sys
import numpy as np
import torch
import torch.distributed as dist
from sklearn.neighbors import KNeighborsClassifier
from skaae import AAEClassifier, AAETransformer
from skaae.distributed import fit, shard

torch.set_num_threads(1)
data = np.load(sys.argv[1])
kind, seed, ranks = sys.argv[2], int(sys.argv[3]), sys.argv[4]
X, X_test, y_test = data["X_train"], data["X_test"], data["y_test"]
if kind == "transformer":
    model, y = AAETransformer(n_components=2, random_state=seed), None
else:
    model, y = AAEClassifier(random_state=seed), data[f"y_semi_{seed}"]
if ranks == "2":
    fit(model, shard(X), None if y is None else shard(y))
    rank = dist.get_rank()
else:
    model.fit(X, y)
    rank = 0
if kind == "transformer":
    knn = KNeighborsClassifier(5).fit(model.transform(X), data["y_train"])
    score = knn.score(model.transform(X_test), y_test)
else:
    score = model.score(X_test, y_test)
if rank == 0:
    print(json.dumps({"score": score, "epochs": int(model.n_iter_)}))
"""


def part_digits_quality(args) -> dict:
    data = load_dataset("digits")
    X, X_test, y, y_test = stratified_split(data.X_train, data.y_train)
    n_labels = 10 * (len(y) // 100)
    arrays = dict(X_train=X, y_train=y, X_test=X_test, y_test=y_test)
    for seed in args.seeds:
        keep = labelled_subset(y, n_labels, seed)
        arrays[f"y_semi_{seed}"] = np.where(np.isin(np.arange(len(y)), keep), y, -1)
    print(
        f"part 3: digits, {len(X)} training rows, {len(X_test)} test rows; "
        f"AAETransformer(n_components=2) 5-NN accuracy and AAEClassifier "
        f"({n_labels} labels) test accuracy, defaults; seeds {args.seeds}",
        flush=True,
    )
    env = _child_env()
    scores: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path, script = Path(tmp) / "data.npz", Path(tmp) / "quality.py"
        np.savez(path, **arrays)
        script.write_text(QUALITY)
        for kind in ("transformer", "classifier"):
            for seed in args.seeds:
                for ranks in ("1", "2"):
                    launcher = (
                        [sys.executable]
                        if ranks == "1"
                        else [
                            sys.executable,
                            "-m",
                            "torch.distributed.run",
                            "--standalone",
                            "--nproc_per_node=2",
                        ]
                    )
                    out = subprocess.run(
                        [*launcher, str(script), str(path), kind, str(seed), ranks],
                        capture_output=True,
                        text=True,
                        env=env,
                        check=True,
                    )
                    score = _last_json(out.stdout)["score"]
                    scores.setdefault(kind, {}).setdefault(ranks, []).append(score)
                    print(
                        f"  {kind} seed {seed}, {ranks} rank(s): {score:.3f}",
                        flush=True,
                    )
    print()
    print("| model | seeds | 1 process | 2 ranks |")
    print("|---|---|---:|---:|")
    for kind, by_ranks in scores.items():
        print(
            f"| {kind} | {args.seeds} | "
            f"{' / '.join(f'{v:.3f}' for v in by_ranks['1'])} | "
            f"{' / '.join(f'{v:.3f}' for v in by_ranks['2'])} |"
        )
    return scores


def main() -> None:
    args = parse_args()
    machine = machine_info("cpu")
    print_machine_header("skaae scaling benchmark", machine, None)
    results = {}
    if "search" in args.parts:
        results["search"] = part_search(args)
        print()
    if "data-parallel" in args.parts:
        results["data_parallel"] = part_data_parallel(args)
    if "digits-quality" in args.parts:
        results["digits_quality"] = part_digits_quality(args)
    print_load_average_end(machine)
    write_json(args.json, machine=machine, args=vars(args), results=results)


if __name__ == "__main__":
    main()
