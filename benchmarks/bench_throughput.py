"""Training throughput of skaae against a plain PyTorch AAE loop.

Times full training steps (reconstruction update, discriminator update,
generator update) in samples per second at the MNIST architecture of
Makhzani et al. (2015): encoder 784-1000-1000-8 (ReLU), mirrored decoder with a
sigmoid output (binary cross-entropy), discriminator 8-1000-1000-1, batch 100,
Adam. The data are random uniform [0, 1] float32: the cost of a step does not
depend on the values, only on the shapes.

Variants, alternated inside each repeat so that machine drift hits all alike:

* ``plain``: a hand-written loop the way most public AAE code is written
  (default Adam, separate discriminator forwards for prior and codes, sigmoid +
  ``nn.BCELoss``, an encoder forward per phase, ``.item()`` every batch);
* ``skaae train loop``: ``skaae._training.train``, the backend loop that every
  estimator calls, on a model built by ``skaae._model``;
* ``skaae AAETransformer.fit``: the estimator end to end, which also validates
  ``X``, builds the model, encodes the whole training set and computes an
  energy distance on up to 2,000 codes after training.

Run ``python benchmarks/bench_throughput.py --help`` for the options.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch
from _machine import cpu_model
from torch import nn

import skaae
from skaae import AAETransformer
from skaae._model import AdversarialAutoencoder
from skaae._training import TrainingConfig, train
from skaae.priors import GaussianPrior

N_FEATURES = 784
HIDDEN = (1000, 1000)
BATCH_SIZE = 100
LR = 1e-3
REG_LR = 2e-4
WARMUP_SAMPLES = 5 * BATCH_SIZE

PLAIN = "plain"
TRAIN_LOOP = "skaae train loop"
FIT = "skaae AAETransformer.fit"
VARIANTS = (PLAIN, TRAIN_LOOP, FIT)


# -- machine -----------------------------------------------------------------
def machine_info(device: torch.device) -> dict:
    info = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_model": cpu_model(),
        "os_cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "skaae_version": getattr(skaae, "__version__", "unknown"),
        "device": str(device),
        "gpu": None,
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    try:
        info["load_average"] = list(os.getloadavg())
    except OSError:
        pass
    return info


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# -- FLOP count ----------------------------------------------------------------
def _weights(sizes: Sequence[int]) -> list[int]:
    """Weight-matrix sizes (fan_in * fan_out) of an MLP with layer ``sizes``."""
    return [a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True)]


def flop_counts(n_components: int) -> dict:
    """Matmul MFLOP per training sample of the plain and the lean step.

    A linear layer with a weight of ``W = fan_in * fan_out`` entries costs, per
    sample, ``2W`` forward, ``2W`` for the gradient of its weight and ``2W`` for
    the gradient of its input. The input gradient is skipped when nothing before
    the layer needs it (first encoder layer: ``x`` has no grad; first critic
    layer when its input is detached or a prior draw), the weight gradient when
    the weight is frozen. Biases, activations and losses are not counted.
    """
    enc = _weights([N_FEATURES, *HIDDEN, n_components])
    dec = _weights([n_components, *HIDDEN[::-1], N_FEATURES])
    crit = _weights([n_components, *HIDDEN, 1])

    def fwd(w):
        return 2 * sum(w)

    def bwd(w, weight_grad=True, first_input_grad=True):
        total = 2 * sum(w) if weight_grad else 0
        total += 2 * sum(w if first_input_grad else w[1:])
        return total

    # Reconstruction phase (same in both loops).
    rec = fwd(enc) + fwd(dec) + bwd(enc, first_input_grad=False) + bwd(dec)
    # Plain: encoder forward under no_grad; critic forward+backward on prior
    # draws and on the codes separately (input grads not needed at layer 1).
    plain_disc = fwd(enc) + 2 * (fwd(crit) + bwd(crit, first_input_grad=False))
    # Plain generator: fresh encoder forward; critic backward computes weight
    # gradients too (its parameters are not frozen); encoder backward.
    plain_gen = fwd(enc) + fwd(crit) + bwd(crit) + bwd(enc, first_input_grad=False)
    # Lean: one encoder forward for both phases; prior and codes in one critic
    # forward (2 rows per training sample); frozen critic in the generator.
    lean_reg = (
        fwd(enc)
        + 2 * (fwd(crit) + bwd(crit, first_input_grad=False))
        + fwd(crit)
        + bwd(crit, weight_grad=False)
        + bwd(enc, first_input_grad=False)
    )
    return {
        "plain_mflop_per_sample": (rec + plain_disc + plain_gen) / 1e6,
        "lean_mflop_per_sample": (rec + lean_reg) / 1e6,
        "reconstruction_mflop_per_sample": rec / 1e6,
        "counting": (
            "matmuls only; per linear layer with W weights and per sample: 2W "
            "forward, 2W weight gradient, 2W input gradient (skipped at the "
            "first encoder layer, at the first critic layer when its input is "
            "detached or a prior draw, and the weight gradient skipped for a "
            "frozen critic); plain = recon + (no_grad enc fwd + critic on "
            "prior and codes separately) + (fresh enc fwd + unfrozen critic "
            "fwd/bwd + enc bwd); lean (skaae) = recon + one shared enc fwd + "
            "critic on 2m rows + frozen critic fwd/bwd + enc bwd"
        ),
    }


def matmul_peak(device: torch.device, reps: int = 10) -> dict:
    """GFLOP/s of (1000 x 1000) @ (1000 x 1000) float32."""
    a = torch.rand(1000, 1000, device=device)
    b = torch.rand(1000, 1000, device=device)
    for _ in range(3):
        a @ b
    sync(device)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        sync(device)
        times.append(time.perf_counter() - t0)
    flop = 2 * 1000**3
    return {
        "best_gflops": flop / min(times) / 1e9,
        "median_gflops": flop / statistics.median(times) / 1e9,
        "reps": reps,
    }


# -- the plain loop ------------------------------------------------------------
def plain_networks(n_components: int) -> tuple[nn.Module, nn.Module, nn.Module]:
    enc = nn.Sequential(
        nn.Linear(N_FEATURES, HIDDEN[0]),
        nn.ReLU(),
        nn.Linear(HIDDEN[0], HIDDEN[1]),
        nn.ReLU(),
        nn.Linear(HIDDEN[1], n_components),
    )
    dec = nn.Sequential(
        nn.Linear(n_components, HIDDEN[1]),
        nn.ReLU(),
        nn.Linear(HIDDEN[1], HIDDEN[0]),
        nn.ReLU(),
        nn.Linear(HIDDEN[0], N_FEATURES),
        nn.Sigmoid(),
    )
    disc = nn.Sequential(
        nn.Linear(n_components, HIDDEN[0]),
        nn.ReLU(),
        nn.Linear(HIDDEN[0], HIDDEN[1]),
        nn.ReLU(),
        nn.Linear(HIDDEN[1], 1),
        nn.Sigmoid(),
    )
    return enc, dec, disc


def plain_train(nets, X: torch.Tensor, epochs: int, n_components: int) -> list:
    """The AAE loop as most public code writes it."""
    enc, dec, disc = nets
    device = X.device
    opt_ae = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=LR)
    opt_d = torch.optim.Adam(disc.parameters(), lr=REG_LR, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(enc.parameters(), lr=REG_LR, betas=(0.5, 0.999))
    bce = nn.BCELoss()
    n = X.shape[0]
    log = []
    for _ in range(epochs):
        order = torch.randperm(n, device=device)
        for start in range(0, n, BATCH_SIZE):
            x = X[order[start : start + BATCH_SIZE]]
            m = x.shape[0]
            ones = torch.ones(m, 1, device=device)
            zeros = torch.zeros(m, 1, device=device)

            # Reconstruction.
            opt_ae.zero_grad()
            loss_rec = bce(dec(enc(x)), x)
            loss_rec.backward()
            opt_ae.step()

            # Discriminator.
            with torch.no_grad():
                z_fake = enc(x)
            z_real = torch.randn(m, n_components, device=device)
            opt_d.zero_grad()
            loss_d = bce(disc(z_real), ones) + bce(disc(z_fake), zeros)
            loss_d.backward()
            opt_d.step()

            # Generator.
            opt_g.zero_grad()
            loss_g = bce(disc(enc(x)), ones)
            loss_g.backward()
            opt_g.step()

            log.append((loss_rec.item(), loss_d.item(), loss_g.item()))
    return log


# -- runners -------------------------------------------------------------------
def make_runner(
    variant: str, args, device: torch.device
) -> Callable[[torch.Tensor | np.ndarray, int], float]:
    """A function ``run(data, epochs) -> seconds`` (set-up outside the timer
    except for ``fit``, whose set-up is part of what it measures)."""
    k = args.n_components

    if variant == PLAIN:

        def run(data, epochs):
            torch.manual_seed(0)
            nets = [net.to(device) for net in plain_networks(k)]
            sync(device)
            t0 = time.perf_counter()
            plain_train(nets, data, epochs, k)
            sync(device)
            return time.perf_counter() - t0

        return run

    if variant == TRAIN_LOOP:

        def run(data, epochs):
            torch.manual_seed(0)
            model = AdversarialAutoencoder(
                N_FEATURES, k, HIDDEN, HIDDEN, output="logits"
            ).to(device)
            config = TrainingConfig(
                max_iter=epochs,
                batch_size=BATCH_SIZE,
                learning_rate=LR,
                regularization_learning_rate=REG_LR,
                loss="bce",
            )
            sync(device)
            t0 = time.perf_counter()
            train(
                model,
                data,
                prior=GaussianPrior(k),
                prior_labels=None,
                conditions=None,
                config=config,
                rng=np.random.RandomState(0),
            )
            sync(device)
            return time.perf_counter() - t0

        return run

    def run(data, epochs):
        est = AAETransformer(
            n_components=k,
            hidden_layer_sizes=HIDDEN,
            loss="bce",
            batch_size=BATCH_SIZE,
            max_iter=epochs,
            random_state=0,
            device=args.device,
        )
        sync(device)
        t0 = time.perf_counter()
        est.fit(data)
        sync(device)
        return time.perf_counter() - t0

    return run


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        description="Training throughput (samples/s of full AAE training steps) "
        "of skaae against a plain PyTorch loop, at the paper's MNIST architecture."
    )
    parser.add_argument("--device", default="cpu", help="'cpu' or 'cuda[:i]'")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument(
        "--n-samples", type=int, default=20000, help="samples per epoch"
    )
    parser.add_argument("--n-components", type=int, default=8, help="code size")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--variants",
        nargs="+",
        default=list(VARIANTS),
        choices=list(VARIANTS),
        help="which variants to run (plain is the reference of the ratios)",
    )
    parser.add_argument("--json", metavar="PATH", help="write the results here")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda was given but CUDA is not available")
    variants = [v for v in VARIANTS if v in args.variants]

    rng = np.random.RandomState(0)
    X_np = rng.uniform(0, 1, size=(args.n_samples, N_FEATURES)).astype(np.float32)
    X_t = torch.from_numpy(X_np).to(device)
    n_trained = args.n_samples * args.epochs

    info = machine_info(device)
    flops = flop_counts(args.n_components)
    peak_before = matmul_peak(device)

    print("Training throughput: samples/s of full AAE training steps")
    print(
        f"machine : {info['platform']}; CPU {info['cpu_model']}; "
        f"os.cpu_count()={info['os_cpu_count']}; torch threads "
        f"{info['torch_threads']}; torch {info['torch_version']}; "
        f"device {info['device']}" + (f" ({info['gpu']})" if info["gpu"] else "")
    )
    if "load_average" in info:
        la = ", ".join(f"{v:.2f}" for v in info["load_average"])
        print(f"load    : {la} (1/5/15 min, at start)")
    print(
        f"data    : random uniform [0, 1] float32, {args.n_samples} x {N_FEATURES} "
        f"(timing only; values do not matter), {args.epochs} epoch(s), "
        f"batch {BATCH_SIZE}"
    )
    print(
        f"model   : encoder {N_FEATURES}-{HIDDEN[0]}-{HIDDEN[1]}-{args.n_components} "
        f"ReLU, decoder mirrored + sigmoid (BCE), discriminator "
        f"{args.n_components}-{HIDDEN[0]}-{HIDDEN[1]}-1, Adam "
        f"(lr {LR}, regularisation lr {REG_LR})"
    )
    print("peers   :")
    print(
        "  plain                   hand-written torch loop as in public AAE code: "
        "default Adam x3, zero_grad(),\n"
        "                          no_grad enc(x) for the critic, separate critic "
        "forwards for prior/codes,\n"
        "                          sigmoid + nn.BCELoss, fresh enc(x) for the "
        "generator, .item() x3 per batch"
    )
    print(
        "  skaae train loop        skaae._training.train on "
        "skaae._model.AdversarialAutoencoder (training steps only)"
    )
    print(
        "  skaae AAETransformer.fit  estimator end to end: validation, model "
        "set-up, training, encoding\n"
        "                          all training data, energy distance on <= 2000 "
        "codes"
    )
    print(
        f"flops   : plain step {flops['plain_mflop_per_sample']:.1f} MFLOP/sample, "
        f"skaae (lean) step {flops['lean_mflop_per_sample']:.1f} MFLOP/sample "
        "(matmuls only; see flop_counts)"
    )
    print(
        f"matmul  : (1000x1000)@(1000x1000) float32: best "
        f"{peak_before['best_gflops']:.0f} GFLOP/s, median "
        f"{peak_before['median_gflops']:.0f} GFLOP/s (before)"
    )

    runners = {v: make_runner(v, args, device) for v in variants}
    data = {PLAIN: X_t, TRAIN_LOOP: X_t, FIT: X_np}
    warm = {PLAIN: X_t[:WARMUP_SAMPLES], TRAIN_LOOP: X_t[:WARMUP_SAMPLES]}
    warm[FIT] = X_np[:WARMUP_SAMPLES]
    for v in variants:  # warm-up: a few batches each
        runners[v](warm[v], 1)

    mflop = {
        PLAIN: flops["plain_mflop_per_sample"],
        TRAIN_LOOP: flops["lean_mflop_per_sample"],
        FIT: flops["lean_mflop_per_sample"],
    }
    runs = {v: [] for v in variants}
    for r in range(args.repeats):
        order = variants if r % 2 == 0 else variants[::-1]
        for v in order:
            seconds = runners[v](data[v], args.epochs)
            runs[v].append(
                {
                    "repeat": r,
                    "seconds": seconds,
                    "samples_per_s": n_trained / seconds,
                    "gflops": mflop[v] * n_trained / seconds / 1e3,
                }
            )
    peak_after = matmul_peak(device)
    try:
        info["load_average_end"] = list(os.getloadavg())
    except OSError:
        pass

    print(
        f"matmul  : best {peak_after['best_gflops']:.0f} GFLOP/s, median "
        f"{peak_after['median_gflops']:.0f} GFLOP/s (after)"
    )
    if "load_average_end" in info:
        la = ", ".join(f"{v:.2f}" for v in info["load_average_end"])
        print(f"load    : {la} (1/5/15 min, at end; > --threads means contention)")
    print()
    header = (
        f"{'variant':<26}{'repeat':>7}{'seconds':>9}{'samples/s':>11}"
        f"{'vs plain':>10}{'GFLOP/s':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in range(args.repeats):
        for v in variants:
            run = runs[v][r]
            ratio = (
                run["samples_per_s"] / runs[PLAIN][r]["samples_per_s"]
                if PLAIN in runs
                else float("nan")
            )
            run["ratio_to_plain"] = ratio
            print(
                f"{v:<26}{r:>7}{run['seconds']:>9.2f}{run['samples_per_s']:>11.0f}"
                f"{ratio:>10.2f}{run['gflops']:>9.1f}"
            )
    print("-" * len(header))
    summary = {}
    for v in variants:
        med = statistics.median(run["samples_per_s"] for run in runs[v])
        summary[v] = {
            "median_samples_per_s": med,
            "median_ratio_to_plain": statistics.median(
                run["ratio_to_plain"] for run in runs[v]
            ),
            "median_gflops": mflop[v] * med / 1e3,
            "mflop_per_sample": mflop[v],
        }
        s = summary[v]
        print(
            f"{v:<26}{'median':>7}{'':>9}{med:>11.0f}"
            f"{s['median_ratio_to_plain']:>10.2f}{s['median_gflops']:>9.1f}"
        )
    for v in variants:
        best = max(run["samples_per_s"] for run in runs[v])
        summary[v]["best_samples_per_s"] = best
        ratio = (
            best / max(run["samples_per_s"] for run in runs[PLAIN])
            if PLAIN in runs
            else float("nan")
        )
        summary[v]["best_ratio_to_plain"] = ratio
        print(
            f"{v:<26}{'best':>7}{'':>9}{best:>11.0f}"
            f"{ratio:>10.2f}{mflop[v] * best / 1e3:>9.1f}"
        )
    print()
    peak = max(peak_before["best_gflops"], peak_after["best_gflops"])
    for v in variants:
        frac = summary[v]["median_gflops"] / peak
        print(f"{v}: {frac:.0%} of the best measured matmul rate ({peak:.0f} GFLOP/s)")
    print(
        "ratio = samples/s / plain samples/s in the same repeat; the median "
        "ratio is the median of the per-repeat ratios; best = fastest repeat "
        "(the least disturbed one on a shared machine), its ratio = best / best "
        "plain."
    )

    results = {
        "machine": info,
        "config": {
            "n_samples": args.n_samples,
            "n_features": N_FEATURES,
            "epochs": args.epochs,
            "batch_size": BATCH_SIZE,
            "n_components": args.n_components,
            "hidden_layer_sizes": list(HIDDEN),
            "repeats": args.repeats,
            "threads": args.threads,
            "data": "random uniform [0, 1] float32",
        },
        "flops": flops,
        "matmul_peak": {"before": peak_before, "after": peak_after},
        "runs": runs,
        "summary": summary,
    }
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
        print(f"results written to {args.json}")
    return results


if __name__ == "__main__":
    main()
