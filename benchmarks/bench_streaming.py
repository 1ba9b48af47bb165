"""Out-of-core training: ``partial_fit`` over chunks of a ``numpy.memmap``.

The training images are written to a float32 memory-mapped file on disk; the
streamed model reads one chunk of rows at a time from it (one ``partial_fit``
call per chunk, every chunk once per pass), so no more than a chunk, and
the sample of at most 5,000 earlier rows that the model keeps for the
chunks' neighbour graphs, is ever in memory. It is compared, in the same
run and with the same number of passes, with ``fit`` on the whole array in
memory: 5-NN accuracy of the test codes (a k-NN classifier on the training
codes), test reconstruction score (minus the mean squared error) and time.

Run::

    python benchmarks/bench_streaming.py               # Fashion-MNIST
    python benchmarks/bench_streaming.py --dataset digits --chunk-size 300
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from _data import load_dataset
from _machine import (
    limit_threads,
    machine_info,
    print_load_average_end,
    print_machine_header,
)
from _report import aae_fit_facts, mean_std, pm, write_json
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier

from skaae import AAETransformer

METHODS = ("fit", "partial_fit")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--dataset", choices=("fashion-mnist", "digits"), default="fashion-mnist"
    )
    parser.add_argument("--data", default=None, help="Fashion-MNIST IDX folder/.npz")
    parser.add_argument(
        "--n-train", type=int, default=20000, help="training rows (random subset)"
    )
    parser.add_argument("--chunk-size", type=int, default=4000)
    parser.add_argument("--passes", type=int, default=10, help="epochs of both")
    parser.add_argument("--n-components", type=int, default=8)
    parser.add_argument("--hidden-layer-sizes", type=int, nargs="+", default=[512, 512])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=METHODS)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--memmap-dir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    return parser.parse_args()


def load(args) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    data = load_dataset(args.dataset, args.data)
    if data.X_test is None:
        X_train, X_test, y_train, y_test = train_test_split(
            data.X_train, data.y_train, test_size=0.3, random_state=0
        )
    else:
        X_train, y_train, X_test, y_test = (
            data.X_train,
            data.y_train,
            data.X_test,
            data.y_test,
        )
    if args.n_train < len(X_train):
        keep = np.sort(
            np.random.RandomState(0).permutation(len(X_train))[: args.n_train]
        )
        X_train, y_train = X_train[keep], y_train[keep]
    return X_train, y_train, X_test, y_test, data.source


def quality(model, X_train, y_train, X_test, y_test) -> dict:
    knn = KNeighborsClassifier(5).fit(model.transform(X_train), y_train)
    return {
        "knn_accuracy": float(knn.score(model.transform(X_test), y_test)),
        "test_score": float(model.score(X_test)),
    }


def run_fit(params, X_memmap, passes):
    X = np.array(X_memmap)  # the whole training set in memory
    model = AAETransformer(**params, max_iter=passes)
    start = time.perf_counter()
    model.fit(X)
    return model, time.perf_counter() - start, X.nbytes


def run_partial_fit(params, X_memmap, passes, chunk_size, seed):
    model = AAETransformer(**params)
    starts = np.arange(0, X_memmap.shape[0], chunk_size)
    rng = np.random.RandomState(seed)
    largest = 0
    start = time.perf_counter()
    for _ in range(passes):
        for first in rng.permutation(starts):
            chunk = np.array(X_memmap[first : first + chunk_size])
            model.partial_fit(chunk)
            # The chunk, and the sample of earlier rows the model keeps for
            # the chunks' neighbour graphs.
            sample = model._session.stream_sample
            held = chunk.nbytes + (0 if sample is None else sample.nbytes)
            largest = max(largest, held)
    return model, time.perf_counter() - start, largest


def main() -> None:
    args = parse_args()
    limit_threads(args.threads)
    X_train, y_train, X_test, y_test, source = load(args)
    machine = machine_info(args.device)
    print_machine_header(
        "skaae out-of-core benchmark (partial_fit over a memmap)",
        machine,
        args.threads,
    )
    folder = Path(tempfile.mkdtemp(dir=args.memmap_dir))
    path = folder / "train.f32"
    memmap = np.memmap(path, dtype=np.float32, mode="w+", shape=X_train.shape)
    memmap[:] = X_train
    memmap.flush()
    del memmap
    X_memmap = np.memmap(path, dtype=np.float32, mode="r", shape=X_train.shape)
    n_chunks = -(-len(X_train) // args.chunk_size)
    print("data")
    print(f"  {args.dataset}: {source}")
    print(
        f"  train: {X_train.shape[0]} x {X_train.shape[1]} float32 in a memmap "
        f"({X_memmap.nbytes / 2**20:.1f} MiB on disk); test: {len(X_test)} rows"
    )
    print(
        f"  partial_fit: chunks of {args.chunk_size} rows "
        f"({n_chunks} per pass, in a random order each pass); "
        f"fit: the whole array in memory"
    )
    print(
        f"  both: {args.passes} passes, n_components={args.n_components}, "
        f"hidden_layer_sizes={tuple(args.hidden_layer_sizes)}, seeds {args.seeds}"
    )
    print("  quality: 5-NN accuracy of the test codes from the training codes;")
    print("  test score = minus the mean squared reconstruction error")
    print()

    results = {method: [] for method in args.methods}
    for seed in args.seeds:
        params = dict(
            n_components=args.n_components,
            hidden_layer_sizes=tuple(args.hidden_layer_sizes),
            random_state=seed,
            device=args.device,
        )
        for method in args.methods:
            print(f"running {method} (seed {seed})...", flush=True)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                if method == "fit":
                    model, seconds, in_memory = run_fit(params, X_memmap, args.passes)
                else:
                    model, seconds, in_memory = run_partial_fit(
                        params, X_memmap, args.passes, args.chunk_size, seed
                    )
            results[method].append(
                {
                    "seed": seed,
                    "seconds": seconds,
                    "data_bytes_in_memory": in_memory,
                    **quality(model, X_train, y_train, X_test, y_test),
                    **aae_fit_facts(model),
                    "warnings": [str(w.message) for w in caught],
                }
            )
    path.unlink()
    folder.rmdir()

    print()
    print(
        "| method | time (s) | training data in memory (MiB) | 5-NN accuracy "
        "| test score |"
    )
    print("|---|---:|---:|---:|---:|")
    for method, runs in results.items():
        mib = max(r["data_bytes_in_memory"] for r in runs) / 2**20
        print(
            f"| {method} ({len(runs)} seeds) | "
            f"{pm(*mean_std(r['seconds'] for r in runs), len(runs), 1)} | "
            f"{mib:.1f} | "
            f"{pm(*mean_std(r['knn_accuracy'] for r in runs), len(runs))} | "
            f"{pm(*mean_std(r['test_score'] for r in runs), len(runs), 4)} |"
        )
    for method, runs in results.items():
        for r in runs:
            ratio = r["prior_distance"] / r["prior_distance_reference"]
            print(
                f"  {method} seed {r['seed']}: {r['n_iter']} epochs, prior_distance_ "
                f"{ratio:.1f} x reference, {len(r['warnings'])} warning(s)"
            )
    print_load_average_end(machine)
    write_json(args.json, machine=machine, args=vars(args), results=results)


if __name__ == "__main__":
    main()
