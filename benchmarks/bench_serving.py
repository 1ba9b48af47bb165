"""Serving throughput: onnxruntime against the estimator's own ``transform``.

Fits ``AAETransformer`` (a few epochs: throughput does not depend on how well
it trained) on random data of the given width, exports the encoder with
``export_onnx`` and times both on the same 10,000 rows, alternating the two,
median of the repeats. Also checks that the outputs agree.

Run::

    python benchmarks/bench_serving.py                       # 64 features
    python benchmarks/bench_serving.py --n-features 784 --hidden-layer-sizes 1000 1000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from _machine import (
    limit_threads,
    machine_info,
    print_load_average_end,
    print_machine_header,
)
from _report import write_json

from skaae import AAETransformer


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--n-rows", type=int, default=10000)
    parser.add_argument("--n-features", type=int, default=64)
    parser.add_argument("--n-components", type=int, default=2)
    parser.add_argument("--hidden-layer-sizes", type=int, nargs="+", default=[256, 256])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", type=Path, default=None)
    return parser.parse_args()


def main() -> None:
    import onnxruntime as ort

    args = parse_args()
    limit_threads(args.threads)
    machine = machine_info("cpu", {"onnxruntime": ort.__version__})
    print_machine_header(
        "skaae serving benchmark (transform vs onnxruntime)",
        machine,
        args.threads,
        versions=["onnxruntime"],
    )
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(args.n_rows, args.n_features)).astype(np.float32)
    aae = AAETransformer(
        n_components=args.n_components,
        hidden_layer_sizes=tuple(args.hidden_layer_sizes),
        max_iter=2,
        random_state=0,
        device="cpu",
    ).fit(X[:2000])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "encoder.onnx"
        exporter = aae.export_onnx(path)
        options = ort.SessionOptions()
        if args.threads is not None:
            options.intra_op_num_threads = args.threads
        session = ort.InferenceSession(str(path), options)
    print("data")
    print(
        f"  {args.n_rows} random rows x {args.n_features} features (float32); "
        f"encoder hidden_layer_sizes={tuple(args.hidden_layer_sizes)}, "
        f"n_components={args.n_components}; ONNX exporter: {exporter}"
    )
    print()

    def estimator():
        return aae.transform(X)

    def onnx():
        return session.run(None, {"X": X})[0]

    timings = {
        "AAETransformer.transform (float32, torch)": [],
        "onnxruntime (float32)": [],
    }
    runs = list(zip(timings, (estimator, onnx), strict=True))
    for fn in (estimator, onnx):
        fn()  # warm-up
    for _ in range(args.repeats):
        for name, fn in runs:
            start = time.perf_counter()
            fn()
            timings[name].append(time.perf_counter() - start)
    difference = float(np.abs(onnx() - estimator()).max())
    print("| path | median time (ms) | rows/s |")
    print("|---|---:|---:|")
    medians = {}
    for name, values in timings.items():
        medians[name] = float(np.median(values))
        print(
            f"| {name} | {1000 * medians[name]:.1f} | "
            f"{args.n_rows / medians[name]:,.0f} |"
        )
    names = list(medians)
    print()
    print(
        f"onnxruntime / transform speed: {medians[names[0]] / medians[names[1]]:.2f}x; "
        f"largest output difference {difference:.2e}"
    )
    print_load_average_end(machine)
    write_json(
        args.json,
        machine=machine,
        args=vars(args),
        exporter=exporter,
        median_seconds=medians,
        max_abs_difference=difference,
    )


if __name__ == "__main__":
    main()
