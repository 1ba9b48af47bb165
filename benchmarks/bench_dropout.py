"""Epoch time with torch's CPU dropout against skaae's (issue 12).

skaae's hidden layers use ``skaae._networks.Dropout``, which on the CPU draws
its masks 16 bits an element from 64-bit random words, where torch's
``nn.Dropout`` draws one double-precision uniform number per element. This
script fits the same models both ways in one process, alternated within each
repeat (torch's layer swapped in by patching the class ``make_mlp`` builds),
and prints the median epoch time of each (epochs timed between the
``on_epoch_end`` calls of ``max_iter``-epoch fits):

- ``AAETransformer`` at the paper's MNIST architecture (784-1000-1000-8,
  binary cross-entropy, batch 100) with the default map term, whose
  ``dropout="auto"`` is 0.1 there, on 20,000 Fashion-MNIST images;
- ``AAEClassifier`` with the same networks and its default dropout 0.2 on
  the same images, 1,000 of them labelled;
- ``AAEClassifier`` and ``AAEClusterer(n_clusters=26)`` with their defaults
  on a 14,000 x 16 ``make_classification`` table (20 classes, standardised;
  the classifier gets 10 % of the labels).

``--models tables`` skips the images (no Fashion-MNIST needed).

    python benchmarks/bench_dropout.py --threads 2
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from _data import load_dataset, make_table14k
from _machine import (
    limit_threads,
    machine_info,
    print_load_average_end,
    print_machine_header,
)
from _report import write_json

import skaae._networks as networks
from skaae import AAEClassifier, AAEClusterer, AAETransformer

PAPER_MNIST = dict(hidden_layer_sizes=(1000, 1000), batch_size=100)
LAYERS = {"torch nn.Dropout": torch.nn.Dropout, "skaae Dropout": networks.Dropout}


def image_models(data):
    X = data.X_train[:20_000]
    y = np.full(len(X), -1)
    y[:1000] = data.y_train[:1000]
    return {
        "AAETransformer, paper's networks, map term, 20,000 images": (
            lambda **kw: AAETransformer(
                n_components=8, loss="bce", **PAPER_MNIST, **kw
            ),
            X,
            None,
        ),
        "AAEClassifier, paper's networks, 1,000 of 20,000 images labelled": (
            lambda **kw: AAEClassifier(n_components=10, **PAPER_MNIST, **kw),
            X,
            y,
        ),
    }


def table_models():
    X, y = make_table14k(n_classes=20)
    y_partial = np.where(np.random.RandomState(0).rand(len(y)) < 0.1, y, -1)
    return {
        "AAEClassifier, defaults, 14,000 x 16 table, 10 % labelled": (
            AAEClassifier,
            X,
            y_partial,
        ),
        "AAEClusterer(n_clusters=26), defaults, the same table": (
            lambda **kw: AAEClusterer(n_clusters=26, n_init=1, **kw),
            X,
            None,
        ),
    }


def epoch_seconds(make, X, y, layer, epochs: int, seed: int) -> float:
    stamps: list[float] = []
    networks_dropout = networks.Dropout
    networks.Dropout = layer
    try:
        model = make(
            max_iter=epochs,
            random_state=seed,
            on_epoch_end=lambda info: stamps.append(time.perf_counter()),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X) if y is None else model.fit(X, y)
    finally:
        networks.Dropout = networks_dropout
    # The first stamp closes the set-up and the first epoch: time later ones.
    return float(np.median(np.diff(stamps)))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--models", choices=("all", "tables"), default="all")
    parser.add_argument("--epochs", type=int, default=3, help="at least 2")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--data", default=None, help="Fashion-MNIST folder or .npz")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    limit_threads(args.threads)
    machine = machine_info("cpu")
    print_machine_header(
        "skaae epoch time: torch's CPU dropout against skaae's", machine, args.threads
    )
    models = {}
    if args.models == "all":
        data = load_dataset("fashion-mnist", args.data)
        print(f"images: Fashion-MNIST ({data.source})")
        models.update(image_models(data))
    models.update(table_models())
    print(f"{args.epochs}-epoch fits, {args.repeats} repeats, variants alternated\n")
    # One small fit pays torch's one-off start-up costs.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        AAETransformer(max_iter=1).fit(np.random.RandomState(0).rand(200, 16))
    runs = {model: {name: [] for name in LAYERS} for model in models}
    for repeat in range(args.repeats):
        for model, (make, X, y) in models.items():
            for name, layer in LAYERS.items():
                seconds = epoch_seconds(make, X, y, layer, args.epochs, repeat)
                runs[model][name].append(seconds)
                print(f"repeat {repeat}, {model}, {name}: {seconds:.2f} s an epoch")
    print("\nmedian epoch (s)")
    print("| model | torch nn.Dropout | skaae Dropout | speed-up |")
    print("|---|---:|---:|---:|")
    for model, by_layer in runs.items():
        before, after = (statistics.median(by_layer[name]) for name in LAYERS)
        print(f"| {model} | {before:.2f} | {after:.2f} | {before / after:.2f}x |")
    print_load_average_end(machine)
    write_json(args.json, machine=machine, args=vars(args), runs=runs)


if __name__ == "__main__":
    main()
