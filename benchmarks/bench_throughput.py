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
* ``lean``: the same maths written with no wasted work, by hand, as the
  reference file ``shared/reference/performance.md`` describes it (fused Adam,
  one encoder forward shared by the critic and generator updates, prior draws
  and codes in one critic forward, a frozen critic in the generator update,
  the sigmoid folded into the logits loss);
* ``skaae train loop``: ``skaae._training.train``, the backend loop that every
  estimator calls, on a model built by ``skaae._model``;
* ``skaae AAETransformer.fit``: the estimator end to end with the paper's
  model (``neighbor_weight=0``), which also validates ``X``, builds the model
  and computes an energy distance on up to 2,000 codes after training;
* the same two with ``precision="bfloat16"`` (autocast of the training step);
* ``plain semi-supervised``: the paper's semi-supervised model (style 10,
  10 classes) trained the straightforward way in three phases per batch
  (reconstruction; the two critics, then the generator; cross-entropy on a
  batch of labelled rows), default Adam, ``.item()`` every batch;
* ``skaae AAEClassifier.fit`` (and its bfloat16 row): the estimator on the
  same model, data and labels, with ``dropout=0`` as in the plain loop.

The supervised rows compare with ``plain semi-supervised``, the others with
``plain``.

Run ``python benchmarks/bench_throughput.py --help`` for the options.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from _machine import cpu_model
from sklearn.exceptions import ConvergenceWarning
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import skaae
from skaae import AAEClassifier, AAETransformer
from skaae._model import AdversarialAutoencoder
from skaae._training import TrainingConfig, train
from skaae.priors import GaussianPrior

N_FEATURES = 784
HIDDEN = (1000, 1000)
BATCH_SIZE = 100
LR = 1e-3
REG_LR = 2e-4
WARMUP_SAMPLES = 5 * BATCH_SIZE

N_CLASSES = 10
SEMI_COMPONENTS = 10
CLASSIFICATION_LR = 3e-3

PLAIN = "plain"
LEAN = "lean"
TRAIN_LOOP = "skaae train loop"
FIT = "skaae AAETransformer.fit"
TRAIN_LOOP_BF16 = "skaae train loop bf16"
FIT_BF16 = "skaae AAETransformer.fit bf16"
PLAIN_SEMI = "plain semi-supervised"
CLASSIFIER_FIT = "skaae AAEClassifier.fit"
CLASSIFIER_FIT_BF16 = "skaae AAEClassifier.fit bf16"
VARIANTS = (
    PLAIN,
    LEAN,
    TRAIN_LOOP,
    FIT,
    TRAIN_LOOP_BF16,
    FIT_BF16,
    PLAIN_SEMI,
    CLASSIFIER_FIT,
    CLASSIFIER_FIT_BF16,
)
SEMI_VARIANTS = (PLAIN_SEMI, CLASSIFIER_FIT, CLASSIFIER_FIT_BF16)
BF16_VARIANTS = (TRAIN_LOOP_BF16, FIT_BF16, CLASSIFIER_FIT_BF16)


def reference_of(variant: str) -> str:
    """The plain loop a variant's ratio is taken against."""
    return PLAIN_SEMI if variant in SEMI_VARIANTS else PLAIN


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


# -- FLOP count and matmul ceilings -------------------------------------------
def count_mflop_per_sample(run: Callable[[torch.Tensor, int], float], X) -> float:
    """Matmul MFLOP per training sample of one epoch of ``run`` on ``X``.

    Counted by ``torch.utils.flop_counter.FlopCounterMode`` on what the step
    really executes, forward and backward (matrix products only): an input
    gradient nothing needs, or the weight gradient of a frozen critic, is not
    computed and so not counted.
    """
    counter = FlopCounterMode(display=False)
    with counter:
        run(X, 1)
    return counter.get_total_flops() / X.shape[0] / 1e6


def matmul_rate(
    device: torch.device, shape: tuple[int, int, int], dtype, reps: int = 20
) -> dict:
    """GFLOP/s of an ``(m x k) @ (k x n)`` product in ``dtype``."""
    m, k, n = shape
    a = torch.rand(m, k, device=device).to(dtype)
    b = torch.rand(k, n, device=device).to(dtype)
    for _ in range(3):
        a @ b
    sync(device)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        sync(device)
        times.append(time.perf_counter() - t0)
    flop = 2 * m * k * n
    return {
        "shape": list(shape),
        "dtype": str(dtype).removeprefix("torch."),
        "best_gflops": flop / min(times) / 1e9,
        "median_gflops": flop / statistics.median(times) / 1e9,
        "reps": reps,
    }


CEILING_SHAPES = {"1000^3": (1000, 1000, 1000), "batch 100": (100, 1000, 1000)}


def matmul_ceilings(device: torch.device) -> dict:
    """float32 and bfloat16 rates at a large square and a training shape."""
    return {
        f"{dtype} {name}": matmul_rate(device, shape, getattr(torch, dtype))
        for dtype in ("float32", "bfloat16")
        for name, shape in CEILING_SHAPES.items()
    }


# -- the hand-written loops ----------------------------------------------------
def _mlp(sizes: Sequence[int], sigmoid: bool) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    if sigmoid:
        layers.append(nn.Sigmoid())
    return nn.Sequential(*layers)


def _batches(X: torch.Tensor, epochs: int):
    """Shuffled mini-batches with the critic's targets, epoch after epoch."""
    for _ in range(epochs):
        order = torch.randperm(X.shape[0], device=X.device)
        for start in range(0, X.shape[0], BATCH_SIZE):
            x = X[order[start : start + BATCH_SIZE]]
            ones = torch.ones(x.shape[0], 1, device=X.device)
            yield x, ones, torch.zeros_like(ones)


def plain_networks(
    n_components: int, sigmoid: bool = True
) -> tuple[nn.Module, nn.Module, nn.Module]:
    """Encoder, decoder and critic; ``sigmoid=False`` leaves them as logits."""
    enc = _mlp([N_FEATURES, *HIDDEN, n_components], sigmoid=False)
    dec = _mlp([n_components, *HIDDEN[::-1], N_FEATURES], sigmoid)
    disc = _mlp([n_components, *HIDDEN, 1], sigmoid)
    return enc, dec, disc


def plain_train(nets, X: torch.Tensor, epochs: int, n_components: int) -> list:
    """The AAE loop as most public code writes it."""
    enc, dec, disc = nets
    device = X.device
    opt_ae = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=LR)
    opt_d = torch.optim.Adam(disc.parameters(), lr=REG_LR, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(enc.parameters(), lr=REG_LR, betas=(0.5, 0.999))
    bce = nn.BCELoss()
    log = []
    for x, ones, zeros in _batches(X, epochs):
        m = x.shape[0]

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


def lean_train(nets, X: torch.Tensor, epochs: int, n_components: int) -> None:
    """The same maths with no wasted work (``performance.md``, second row)."""
    enc, dec, disc = nets
    device = X.device
    fused = device.type in ("cpu", "cuda")
    opt_ae = torch.optim.Adam(
        list(enc.parameters()) + list(dec.parameters()), lr=LR, fused=fused
    )
    opt_d = torch.optim.Adam(
        disc.parameters(), lr=REG_LR, betas=(0.5, 0.999), fused=fused
    )
    opt_g = torch.optim.Adam(
        enc.parameters(), lr=REG_LR, betas=(0.5, 0.999), fused=fused
    )
    for x, ones, zeros in _batches(X, epochs):
        m = x.shape[0]
        target = torch.cat([ones, zeros])

        opt_ae.zero_grad(set_to_none=True)
        F.binary_cross_entropy_with_logits(dec(enc(x)), x).backward()
        opt_ae.step()

        # One encoder forward serves both updates: the critic's update
        # does not change the encoder.
        fake = enc(x)
        real = torch.randn(m, n_components, device=device)
        opt_d.zero_grad(set_to_none=True)
        logits = disc(torch.cat([real, fake.detach()]))
        F.binary_cross_entropy_with_logits(logits, target).backward()
        opt_d.step()

        disc.requires_grad_(False)
        opt_g.zero_grad(set_to_none=True)
        F.binary_cross_entropy_with_logits(disc(fake), ones).backward()
        opt_g.step()
        disc.requires_grad_(True)


def plain_semi_networks() -> tuple[nn.Module, ...]:
    """The paper's semi-supervised model: the encoder's last layer gives the
    style code and the class logits; the decoder reads ``[y, z]``."""
    k, c = SEMI_COMPONENTS, N_CLASSES
    enc = _mlp([N_FEATURES, *HIDDEN, k + c], sigmoid=False)
    dec = _mlp([k + c, *HIDDEN[::-1], N_FEATURES], sigmoid=True)
    disc_z = _mlp([k, *HIDDEN, 1], sigmoid=True)
    disc_y = _mlp([c, *HIDDEN, 1], sigmoid=True)
    return enc, dec, disc_z, disc_y


def plain_semi_train(nets, X: torch.Tensor, labels: torch.Tensor, epochs: int):
    """Three phases per batch, written the straightforward way."""
    enc, dec, disc_z, disc_y = nets
    device = X.device
    k, c = SEMI_COMPONENTS, N_CLASSES
    opt_ae = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=LR)
    opt_dz = torch.optim.Adam(disc_z.parameters(), lr=REG_LR, betas=(0.5, 0.999))
    opt_dy = torch.optim.Adam(disc_y.parameters(), lr=REG_LR, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(enc.parameters(), lr=REG_LR, betas=(0.5, 0.999))
    opt_c = torch.optim.Adam(enc.parameters(), lr=CLASSIFICATION_LR)
    bce = nn.BCELoss()
    labelled = torch.nonzero(labels >= 0).flatten()

    def encode(x):
        out = enc(x)
        return out[:, :k], torch.softmax(out[:, k:], dim=1)

    log = []
    for x, ones, zeros in _batches(X, epochs):
        m = x.shape[0]

        # Reconstruction.
        opt_ae.zero_grad()
        z, y = encode(x)
        loss_rec = bce(dec(torch.cat([y, z], dim=1)), x)
        loss_rec.backward()
        opt_ae.step()

        # The two critics.
        with torch.no_grad():
            z_fake, y_fake = encode(x)
        z_real = torch.randn(m, k, device=device)
        y_real = F.one_hot(torch.randint(c, (m,), device=device), c).float()
        opt_dz.zero_grad()
        loss_dz = bce(disc_z(z_real), ones) + bce(disc_z(z_fake), zeros)
        loss_dz.backward()
        opt_dz.step()
        opt_dy.zero_grad()
        loss_dy = bce(disc_y(y_real), ones) + bce(disc_y(y_fake), zeros)
        loss_dy.backward()
        opt_dy.step()

        # Generator.
        opt_g.zero_grad()
        z, y = encode(x)
        loss_g = bce(disc_z(z), ones) + bce(disc_y(y), ones)
        loss_g.backward()
        opt_g.step()

        # Classification, on a batch of labelled rows.
        pick = labelled[torch.randint(labelled.numel(), (m,), device=device)]
        opt_c.zero_grad()
        loss_c = F.cross_entropy(enc(X[pick])[:, k:], labels[pick])
        loss_c.backward()
        opt_c.step()

        log.append(
            (
                loss_rec.item(),
                loss_dz.item(),
                loss_dy.item(),
                loss_g.item(),
                loss_c.item(),
            )
        )
    return log


def backend_train(model, X, epochs: int, n_components: int, labels=None, **config):
    """``skaae._training.train`` at the benchmark's settings."""
    config = TrainingConfig(
        max_iter=epochs,
        batch_size=BATCH_SIZE,
        learning_rate=LR,
        regularization_learning_rate=REG_LR,
        loss="bce",
        **config,
    )
    train(
        model,
        X,
        prior=GaussianPrior(n_components),
        prior_labels=None,
        conditions=None,
        config=config,
        rng=np.random.RandomState(0),
        labels=labels,
    )


# -- runners -------------------------------------------------------------------
def make_runner(
    variant: str, args, device: torch.device, labels: np.ndarray
) -> Callable[[torch.Tensor | np.ndarray, int], float]:
    """A function ``run(data, epochs) -> seconds`` (set-up outside the timer
    except for the estimators, whose set-up is part of what they measure).
    ``labels`` (-1: unlabelled) serve the semi-supervised variants; a run on
    fewer rows uses the first ones."""
    k = args.n_components
    labels_t = torch.as_tensor(labels, device=device)
    precision = "bfloat16" if variant in BF16_VARIANTS else "float32"

    def timed(train_fn):
        sync(device)
        t0 = time.perf_counter()
        train_fn()
        sync(device)
        return time.perf_counter() - t0

    if variant in (PLAIN, LEAN):
        loop = plain_train if variant == PLAIN else lean_train

        def run(data, epochs):
            torch.manual_seed(0)
            nets = plain_networks(k, sigmoid=variant == PLAIN)
            nets = [net.to(device) for net in nets]
            return timed(lambda: loop(nets, data, epochs, k))

        return run

    if variant == PLAIN_SEMI:

        def run(data, epochs):
            torch.manual_seed(0)
            nets = [net.to(device) for net in plain_semi_networks()]
            y = labels_t[: data.shape[0]]
            return timed(lambda: plain_semi_train(nets, data, y, epochs))

        return run

    if variant in (TRAIN_LOOP, TRAIN_LOOP_BF16):

        def run(data, epochs):
            torch.manual_seed(0)
            model = AdversarialAutoencoder(
                N_FEATURES, k, HIDDEN, HIDDEN, output="logits"
            ).to(device)
            return timed(
                lambda: backend_train(model, data, epochs, k, precision=precision)
            )

        return run

    if variant in (CLASSIFIER_FIT, CLASSIFIER_FIT_BF16):

        def run(data, epochs):
            est = AAEClassifier(
                n_components=SEMI_COMPONENTS,
                hidden_layer_sizes=HIDDEN,
                loss="bce",
                dropout=0.0,
                batch_size=BATCH_SIZE,
                max_iter=epochs,
                random_state=0,
                device=args.device,
                precision=precision,
            )
            y = labels[: data.shape[0]]
            return timed(lambda: est.fit(data, y))

        return run

    def run(data, epochs):
        est = AAETransformer(
            n_components=k,
            hidden_layer_sizes=HIDDEN,
            loss="bce",
            batch_size=BATCH_SIZE,
            neighbor_weight=0.0,
            max_iter=epochs,
            random_state=0,
            device=args.device,
            precision=precision,
        )
        return timed(lambda: est.fit(data))

    return run


def semi_flop_runner(device: torch.device, labels: np.ndarray):
    """The backend's semi-supervised step, for counting its FLOPs."""
    labels_t = torch.as_tensor(labels, device=device)

    def run(data, epochs):
        model = AdversarialAutoencoder(
            N_FEATURES,
            SEMI_COMPONENTS,
            HIDDEN,
            HIDDEN,
            n_categories=N_CLASSES,
            output="logits",
        ).to(device)
        backend_train(
            model,
            data,
            epochs,
            SEMI_COMPONENTS,
            labels=labels_t[: data.shape[0]],
            classification_learning_rate=CLASSIFICATION_LR,
            decode_known_labels=True,
        )
        return 0.0

    return run


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        description="Training throughput (samples/s of full AAE training steps) "
        "of skaae against plain PyTorch loops, at the paper's MNIST architecture."
    )
    parser.add_argument("--device", default="cpu", help="'cpu' or 'cuda[:i]'")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument(
        "--n-samples", type=int, default=20000, help="samples per epoch"
    )
    parser.add_argument(
        "--n-labeled",
        type=int,
        default=1000,
        help="labelled rows of the semi-supervised variants (the rest are -1)",
    )
    parser.add_argument("--n-components", type=int, default=8, help="code size")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--variants",
        nargs="+",
        default=list(VARIANTS),
        choices=list(VARIANTS),
        help="which variants to run (plain and plain semi-supervised are the "
        "references of the ratios)",
    )
    parser.add_argument("--json", metavar="PATH", help="write the results here")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda was given but CUDA is not available")
    # One epoch of random data never matches the prior; the estimators say so
    # on every fit, and only the timing matters here.
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    variants = [v for v in VARIANTS if v in args.variants]
    for v in variants:
        if reference_of(v) not in variants:
            parser.error(f"{v!r} needs its reference {reference_of(v)!r}")

    rng = np.random.RandomState(0)
    X_np = rng.uniform(0, 1, size=(args.n_samples, N_FEATURES)).astype(np.float32)
    X_t = torch.from_numpy(X_np).to(device)
    labels = np.full(args.n_samples, -1, dtype=np.int64)
    # Every class among the first rows, so that a short warm-up run has them.
    labelled = rng.permutation(args.n_samples)[: args.n_labeled]
    labelled[: 2 * N_CLASSES] = np.arange(2 * N_CLASSES)
    labels[labelled] = rng.randint(N_CLASSES, size=labelled.size)
    labels[: 2 * N_CLASSES] = np.arange(2 * N_CLASSES) % N_CLASSES
    n_trained = args.n_samples * args.epochs

    info = machine_info(device)
    ceilings_before = matmul_ceilings(device)
    runners = {v: make_runner(v, args, device, labels) for v in variants}

    # FLOPs of one batch, counted on what each step executes.
    one_batch = X_t[:BATCH_SIZE]
    mflop = {}
    for v in variants:
        if v in (FIT, TRAIN_LOOP_BF16, FIT_BF16):
            run = runners[TRAIN_LOOP] if TRAIN_LOOP in runners else None
            run = run or make_runner(TRAIN_LOOP, args, device, labels)
        elif v in (CLASSIFIER_FIT, CLASSIFIER_FIT_BF16):
            run = semi_flop_runner(device, labels)
        else:
            run = runners[v]
        mflop[v] = count_mflop_per_sample(run, one_batch)

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
        f"batch {BATCH_SIZE}; semi-supervised: {args.n_labeled} rows labelled "
        f"at random with {N_CLASSES} classes"
    )
    print(
        f"model   : encoder {N_FEATURES}-{HIDDEN[0]}-{HIDDEN[1]}-{args.n_components} "
        f"ReLU, decoder mirrored + sigmoid (BCE), discriminator "
        f"{args.n_components}-{HIDDEN[0]}-{HIDDEN[1]}-1, Adam "
        f"(lr {LR}, regularisation lr {REG_LR}); semi-supervised: style "
        f"{SEMI_COMPONENTS} + {N_CLASSES} classes, decoder reads [y, z], a "
        f"critic on each, classification lr {CLASSIFICATION_LR}"
    )
    print("peers   : (see the module docstring)")
    for v in variants:
        print(f"  {v:<30} {mflop[v]:6.1f} MFLOP/sample (matmuls, counted)")
    for name, rate in ceilings_before.items():
        print(
            f"matmul  : {name:<20} best {rate['best_gflops']:5.0f} GFLOP/s, "
            f"median {rate['median_gflops']:5.0f} (before)"
        )

    data = {v: X_np if "fit" in v else X_t for v in variants}
    for v in variants:  # warm-up: a few batches each
        runners[v](data[v][:WARMUP_SAMPLES], 1)

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
    ceilings_after = matmul_ceilings(device)
    try:
        info["load_average_end"] = list(os.getloadavg())
    except OSError:
        pass

    for name, rate in ceilings_after.items():
        print(
            f"matmul  : {name:<20} best {rate['best_gflops']:5.0f} GFLOP/s, "
            f"median {rate['median_gflops']:5.0f} (after)"
        )
    if "load_average_end" in info:
        la = ", ".join(f"{v:.2f}" for v in info["load_average_end"])
        print(f"load    : {la} (1/5/15 min, at end; > --threads means contention)")
    print()
    header = (
        f"{'variant':<30}{'repeat':>7}{'seconds':>9}{'samples/s':>11}"
        f"{'vs plain':>10}{'GFLOP/s':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in range(args.repeats):
        for v in variants:
            run = runs[v][r]
            reference = runs[reference_of(v)][r]
            run["ratio_to_plain"] = run["samples_per_s"] / reference["samples_per_s"]
            print(
                f"{v:<30}{r:>7}{run['seconds']:>9.2f}{run['samples_per_s']:>11.0f}"
                f"{run['ratio_to_plain']:>10.2f}{run['gflops']:>9.1f}"
            )
    print("-" * len(header))
    summary = {}
    for v in variants:
        med = statistics.median(run["samples_per_s"] for run in runs[v])
        summary[v] = {
            "reference": reference_of(v),
            "median_samples_per_s": med,
            "median_ratio_to_plain": statistics.median(
                run["ratio_to_plain"] for run in runs[v]
            ),
            "median_gflops": mflop[v] * med / 1e3,
            "mflop_per_sample": mflop[v],
        }
        s = summary[v]
        print(
            f"{v:<30}{'median':>7}{'':>9}{med:>11.0f}"
            f"{s['median_ratio_to_plain']:>10.2f}{s['median_gflops']:>9.1f}"
        )
    for v in variants:
        best = max(run["samples_per_s"] for run in runs[v])
        best_reference = max(run["samples_per_s"] for run in runs[reference_of(v)])
        summary[v]["best_samples_per_s"] = best
        summary[v]["best_ratio_to_plain"] = best / best_reference
        print(
            f"{v:<30}{'best':>7}{'':>9}{best:>11.0f}"
            f"{best / best_reference:>10.2f}{mflop[v] * best / 1e3:>9.1f}"
        )
    print()
    for v in variants:
        dtype = "bfloat16" if v in BF16_VARIANTS else "float32"
        ceiling = max(
            rates[f"{dtype} batch 100"]["best_gflops"]
            for rates in (ceilings_before, ceilings_after)
        )
        frac = summary[v]["median_gflops"] / ceiling
        summary[v]["fraction_of_ceiling"] = frac
        print(
            f"{v}: {frac:.0%} of the {dtype} matmul ceiling at the batch's "
            f"shape ({ceiling:.0f} GFLOP/s)"
        )
    print(
        "ratio = samples/s / the reference's samples/s in the same repeat (plain "
        "semi-supervised for the AAEClassifier rows, plain for the others); the "
        "median ratio is the median of the per-repeat ratios; best = fastest "
        "repeat (the least disturbed one on a shared machine), its ratio = best "
        "/ the reference's best."
    )

    results = {
        "machine": info,
        "config": {
            "n_samples": args.n_samples,
            "n_labeled": args.n_labeled,
            "n_features": N_FEATURES,
            "epochs": args.epochs,
            "batch_size": BATCH_SIZE,
            "n_components": args.n_components,
            "semi_supervised_components": SEMI_COMPONENTS,
            "n_classes": N_CLASSES,
            "hidden_layer_sizes": list(HIDDEN),
            "repeats": args.repeats,
            "threads": args.threads,
            "data": "random uniform [0, 1] float32",
        },
        "mflop_per_sample": mflop,
        "matmul_ceilings": {"before": ceilings_before, "after": ceilings_after},
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
