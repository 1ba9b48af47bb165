"""The training loop shared by every estimator.

One mini-batch step runs the paper's phases in order:

1. reconstruction: encoder and decoder take one step on the reconstruction
   loss;
2. regularisation: the discriminator takes one step at telling prior draws
   from codes, then the encoder (as generator) takes one step at fooling it.

The step is kept lean (``../shared/reference/performance.md``): data and prior
draws live on the device for the whole fit, one encoder forward serves both
regularisation updates (exact, since the discriminator step does not touch the
encoder), prior and fake codes go through the discriminator in one forward,
the sigmoid is folded into the logits loss, the discriminator is frozen during
the generator step, optimisers are fused where torch offers it, and losses are
accumulated on the device and read back once per epoch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ._model import AdversarialAutoencoder
from .priors import BasePrior

HISTORY_KEYS = (
    "reconstruction",
    "discriminator",
    "generator",
    "discriminator_accuracy",
)


@dataclass
class TrainingConfig:
    """Settings of the training loop (validated by the estimator)."""

    max_iter: int
    batch_size: int
    learning_rate: float
    regularization_learning_rate: float
    solver: str = "adam"
    momentum: float = 0.9
    beta_1: float = 0.9
    regularization_beta_1: float = 0.5
    loss: str = "mse"
    lr_schedule: str = "constant"
    verbose: int = 0


class TrainingDivergedError(FloatingPointError):
    """A loss became NaN or infinite during training."""


def _make_optimizer(params, lr: float, beta_1: float, config: TrainingConfig, device):
    params = list(params)
    if config.solver == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=config.momentum, nesterov=True)
    # The fused kernel is several times faster than the per-tensor loop.
    fused = device.type in ("cpu", "cuda")
    return torch.optim.Adam(params, lr=lr, betas=(beta_1, 0.999), fused=fused)


def reconstruction_loss(output: torch.Tensor, x: torch.Tensor, loss: str):
    """Mean reconstruction loss per input feature."""
    if loss == "bce":
        return F.binary_cross_entropy_with_logits(output, x)
    return F.mse_loss(output, x)


def train(
    model: AdversarialAutoencoder,
    X: torch.Tensor,
    *,
    prior: BasePrior,
    prior_labels: np.ndarray | None,
    conditions: torch.Tensor | None,
    config: TrainingConfig,
    rng: np.random.RandomState,
) -> dict[str, np.ndarray]:
    """Train ``model`` on ``X`` (already on the model's device).

    Parameters
    ----------
    prior_labels : ndarray of shape (n_samples,) or None
        Mode index of each sample for the prior draws (``-1``: whole prior).
    conditions : tensor of shape (n_samples, n_conditions) or None
        One-hot labels (with the "unlabeled" slot) shown to the discriminator.
    rng : RandomState
        Draws the prior samples; torch's generator (seeded by the caller)
        draws batches, noise and initial weights.

    Returns
    -------
    history : dict of str to ndarray of shape (n_epochs,)
        Per-epoch means of the losses and of the discriminator's accuracy.

    Raises
    ------
    TrainingDivergedError
        When a loss becomes NaN or infinite; the message names the epoch.
    """
    device = X.device
    n_samples = X.shape[0]
    batch_size = min(config.batch_size, n_samples)
    model.train()
    encoder, decoder, critic = model.encoder, model.decoder, model.discriminator
    opt_ae = _make_optimizer(
        list(encoder.parameters()) + list(decoder.parameters()),
        config.learning_rate,
        config.beta_1,
        config,
        device,
    )
    opt_critic = _make_optimizer(
        critic.parameters(),
        config.regularization_learning_rate,
        config.regularization_beta_1,
        config,
        device,
    )
    opt_gen = _make_optimizer(
        encoder.parameters(),
        config.regularization_learning_rate,
        config.regularization_beta_1,
        config,
        device,
    )
    optimizers = (opt_ae, opt_critic, opt_gen)
    schedulers = []
    if config.lr_schedule == "cosine":
        schedulers = [
            torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.max_iter)
            for opt in optimizers
        ]
    critic_params = list(critic.parameters())
    has_batch_norm = any(isinstance(m, torch.nn.BatchNorm1d) for m in model.modules())

    def critic_target_for(m: int) -> torch.Tensor:
        # Prior draws first (label 1), then codes (label 0).
        return torch.cat([X.new_ones(m, 1), X.new_zeros(m, 1)])

    # Built once: on a GPU every small tensor op is a kernel launch.
    critic_target = critic_target_for(batch_size)
    history = {key: [] for key in HISTORY_KEYS}
    progress = tqdm(
        range(config.max_iter),
        disable=config.verbose < 1,
        desc=type(model).__name__,
        unit="epoch",
        leave=True,
    )
    for epoch in progress:
        # One host-to-device copy of the epoch's prior draws.
        prior_draws = torch.as_tensor(
            prior.sample(n_samples, y=prior_labels, random_state=rng),
            dtype=X.dtype,
        ).to(device, non_blocking=True)
        order = torch.randperm(n_samples, device=device)
        sums = torch.zeros(len(HISTORY_KEYS), device=device)
        n_batches = 0
        for start in range(0, n_samples, batch_size):
            idx = order[start : start + batch_size]
            if has_batch_norm and idx.shape[0] < 2:
                continue
            x = X[idx]
            m = idx.shape[0]

            # Reconstruction phase.
            opt_ae.zero_grad(set_to_none=True)
            loss_rec = reconstruction_loss(decoder(encoder(x)), x, config.loss)
            loss_rec.backward()
            opt_ae.step()

            # Regularisation phase: one encoder forward for both updates.
            fake = encoder(x)
            real = prior_draws[idx]
            if conditions is not None:
                cond = conditions[idx]
                critic_in = torch.cat(
                    [torch.cat([real, cond], 1), torch.cat([fake.detach(), cond], 1)]
                )
                gen_in = torch.cat([fake, cond], 1)
            else:
                critic_in = torch.cat([real, fake.detach()])
                gen_in = fake
            target = critic_target if m == batch_size else critic_target_for(m)
            opt_critic.zero_grad(set_to_none=True)
            logits = critic(critic_in)
            loss_critic = F.binary_cross_entropy_with_logits(logits, target)
            loss_critic.backward()
            opt_critic.step()

            for p in critic_params:
                p.requires_grad_(False)
            opt_gen.zero_grad(set_to_none=True)
            loss_gen = F.binary_cross_entropy_with_logits(critic(gen_in), target[:m])
            loss_gen.backward()
            opt_gen.step()
            for p in critic_params:
                p.requires_grad_(True)

            with torch.no_grad():
                accuracy = ((logits > 0).to(X.dtype) == target).to(X.dtype).mean()
                sums += torch.stack(
                    [
                        loss_rec.detach(),
                        loss_critic.detach(),
                        loss_gen.detach(),
                        accuracy,
                    ]
                )
            n_batches += 1

        for scheduler in schedulers:
            scheduler.step()
        means = (sums / max(n_batches, 1)).cpu().numpy()  # one sync per epoch
        for key, value in zip(HISTORY_KEYS, means, strict=True):
            history[key].append(float(value))
        if not np.all(np.isfinite(means[:3])):
            bad = [
                k
                for k, v in zip(HISTORY_KEYS, means, strict=False)
                if not np.isfinite(v)
            ]
            progress.close()
            raise TrainingDivergedError(
                f"Training diverged at epoch {epoch + 1}: the {', '.join(bad)} "
                f"loss became {means[HISTORY_KEYS.index(bad[0])]}. Scale the "
                "input features or lower learning_rate_init."
            )
        progress.set_postfix(
            rec=f"{means[0]:.4f}",
            disc=f"{means[1]:.3f}",
            gen=f"{means[2]:.3f}",
            acc=f"{means[3]:.2f}",
        )
    progress.close()
    model.eval()
    return {key: np.asarray(values) for key, values in history.items()}
