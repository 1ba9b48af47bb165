"""Training precision: float32 against bfloat16 mixed precision.

Two parts, each run for every ``--precisions`` value, alternated inside each
repeat so that machine drift hits all alike:

* ``speed``: ``AAETransformer.fit`` at the paper's MNIST architecture
  (784-1000-1000-8, binary cross-entropy, batch 100) on Fashion-MNIST
  training images; samples per second of the training epochs (timed by the
  ``on_epoch_end`` callback, first epoch left out as warm-up) and of the
  whole fit.
* ``quality``: on digits (the fixed stratified 70/30 split), several seeds:
  ``AAETransformer(n_components=2)`` (5-NN accuracy of the test rows' codes,
  prior match), ``AAEClassifier`` with 10% of the training labels (test
  accuracy) and ``AAEClusterer(n_clusters=10)`` (Hungarian accuracy, NMI);
  and whether two fits with the same ``random_state`` and precision give
  identical codes.

Run ``python benchmarks/bench_precision.py --help`` for the options.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
from _data import labelled_subset, load_dataset, stratified_split
from _machine import (
    limit_threads,
    machine_info,
    print_load_average_end,
    print_machine_header,
)
from _report import mean_std, pm, timed, write_json
from sklearn.metrics import normalized_mutual_info_score
from sklearn.neighbors import KNeighborsClassifier

from skaae import AAEClassifier, AAEClusterer, AAETransformer
from skaae.metrics import clustering_accuracy

PAPER_MNIST = dict(
    n_components=8, hidden_layer_sizes=(1000, 1000), loss="bce", batch_size=100
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--precisions", nargs="+", default=["float32", "bfloat16"])
    parser.add_argument("--parts", nargs="+", default=["speed", "quality"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--speed-rows", type=int, default=20_000)
    parser.add_argument("--speed-epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-iter", type=int, default=100, help="quality fits")
    parser.add_argument("--data", default=None, help="Fashion-MNIST folder or .npz")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", type=Path, default=None)
    return parser.parse_args()


def native_bfloat16() -> str:
    """The bfloat16 instructions that /proc/cpuinfo lists (Linux), or why not."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = set(f.read().split())
    except OSError:
        return "unknown (no /proc/cpuinfo)"
    found = sorted(flags & {"avx512_bf16", "amx_bf16"})
    return ", ".join(found) if found else "none (no avx512_bf16 or amx_bf16)"


def speed(args, X) -> dict:
    runs = {p: [] for p in args.precisions}
    for repeat in range(args.repeats):
        for precision in args.precisions:
            stamps = []
            model = AAETransformer(
                **PAPER_MNIST,
                max_iter=args.speed_epochs,
                precision=precision,
                device=args.device,
                random_state=repeat,
                on_epoch_end=lambda info, stamps=stamps: stamps.append(
                    time.perf_counter()
                ),
            )
            _, seconds, _ = timed(model.fit, X)
            epochs = np.diff(stamps)
            runs[precision].append(
                {
                    "fit_seconds": seconds,
                    "epoch_seconds": epochs.tolist(),
                    "epoch_samples_per_s": len(X) / float(np.median(epochs)),
                    "fit_samples_per_s": len(X) * args.speed_epochs / seconds,
                }
            )
            print(
                f"  repeat {repeat} {precision}: fit {seconds:.2f} s, "
                f"{runs[precision][-1]['epoch_samples_per_s']:.0f} samples/s "
                "in the epochs",
                flush=True,
            )
    return runs


def quality(args, X_train, X_test, y_train, y_test) -> dict:
    n_labels = 10 * (len(y_train) // 100)
    runs = {p: [] for p in args.precisions}
    for seed in args.seeds:
        keep = labelled_subset(y_train, n_labels, seed)
        y_partial = np.full_like(y_train, -1)
        y_partial[keep] = y_train[keep]
        for precision in args.precisions:
            common = dict(
                random_state=seed,
                precision=precision,
                device=args.device,
                max_iter=args.max_iter,
            )
            aae, t_aae, w_aae = timed(
                AAETransformer(n_components=2, **common).fit, X_train
            )
            knn = KNeighborsClassifier(5).fit(aae.transform(X_train), y_train)
            clf, t_clf, w_clf = timed(AAEClassifier(**common).fit, X_train, y_partial)
            clu, t_clu, w_clu = timed(
                AAEClusterer(n_clusters=10, **common).fit, X_train
            )
            labels = clu.predict(X_test)
            run = {
                "seed": seed,
                "transformer_knn": float(knn.score(aae.transform(X_test), y_test)),
                "transformer_prior_ratio": float(
                    aae.prior_distance_ / aae.prior_distance_reference_
                ),
                "transformer_seconds": t_aae,
                "classifier_accuracy": float(clf.score(X_test, y_test)),
                "classifier_seconds": t_clf,
                "clusterer_accuracy": float(clustering_accuracy(y_test, labels)),
                "clusterer_nmi": float(normalized_mutual_info_score(y_test, labels)),
                "clusterer_seconds": t_clu,
                "warnings": w_aae + w_clf + w_clu,
            }
            if seed == args.seeds[0]:
                again = AAETransformer(n_components=2, **common).fit(X_train)
                run["identical_refit"] = bool(
                    np.array_equal(again.transform(X_test), aae.transform(X_test))
                )
            runs[precision].append(run)
            print(
                f"  seed {seed} {precision}: 5-NN {run['transformer_knn']:.3f}, "
                f"classifier {run['classifier_accuracy']:.3f}, clusterer "
                f"{run['clusterer_accuracy']:.3f}",
                flush=True,
            )
    return runs


def main() -> None:
    args = parse_args()
    limit_threads(args.threads)
    machine = machine_info(args.device)
    print_machine_header("skaae precision benchmark", machine, args.threads)
    machine["cpu_bfloat16"] = native_bfloat16()
    print(f"CPU bfloat16 instructions: {machine['cpu_bfloat16']}")
    results = {}
    if "speed" in args.parts:
        data = load_dataset("fashion-mnist", args.data)
        X = data.X_train[: args.speed_rows]
        print(
            f"speed: AAETransformer({PAPER_MNIST}) on {len(X)} Fashion-MNIST "
            f"images ({data.source}), {args.speed_epochs} epochs, "
            f"{args.repeats} repeats",
            flush=True,
        )
        results["speed"] = speed(args, X)
    if "quality" in args.parts:
        data = load_dataset("digits")
        split = stratified_split(data.X_train, data.y_train)
        print(
            f"quality: digits ({data.source}), 70/30 split, seeds {args.seeds}, "
            f"max_iter={args.max_iter}; classifier with 10% of the labels",
            flush=True,
        )
        results["quality"] = quality(args, *split)

    print()
    print("summary (medians of the repeats for speed; mean ± std over seeds)")
    reference = args.precisions[0]
    if "speed" in results:
        base = statistics.median(
            r["epoch_samples_per_s"] for r in results["speed"][reference]
        )
        for precision, runs in results["speed"].items():
            epoch = statistics.median(r["epoch_samples_per_s"] for r in runs)
            fit = statistics.median(r["fit_samples_per_s"] for r in runs)
            print(
                f"  speed {precision:9s} epochs {epoch:8.0f} samples/s "
                f"({epoch / base:.2f}x {reference}), whole fit {fit:8.0f} samples/s"
            )
    if "quality" in results:
        keys = (
            "transformer_knn",
            "transformer_prior_ratio",
            "classifier_accuracy",
            "clusterer_accuracy",
            "clusterer_nmi",
            "transformer_seconds",
            "classifier_seconds",
            "clusterer_seconds",
        )
        for precision, runs in results["quality"].items():
            figures = ", ".join(
                f"{key} {pm(*mean_std(r[key] for r in runs), n=len(runs))}"
                for key in keys
            )
            print(f"  quality {precision}: {figures}")
            print(f"    identical refit: {runs[0].get('identical_refit')}")
            warned = sorted({w for r in runs for w in r["warnings"]})
            if warned:
                print(f"    warnings: {warned}")
    print_load_average_end(machine)
    write_json(args.json, machine=machine, args=vars(args), results=results)


if __name__ == "__main__":
    main()
