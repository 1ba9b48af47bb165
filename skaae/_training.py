"""The training loop shared by every estimator.

One mini-batch step runs the paper's phases in order:

1. reconstruction: encoder and decoder take one step on the reconstruction
   loss;
2. regularisation: the discriminator takes one step at telling prior draws
   from codes, then the encoder (as generator) takes one step at fooling it
   (for clustering, plus a penalty that keeps the categories balanced);
3. classification (models with a categorical head and some labels): the
   encoder takes one cross-entropy step on a mini-batch of labelled samples,
   drawn from their own stream so that a few labels among many samples still
   get a batch every step.

With a categorical head ``y`` (the paper's semi-supervised and clustering
models) the decoder reads ``[y, z]`` and a second discriminator matches ``y``
to a categorical prior; the generator step fools both.

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
from .priors import BasePrior, CategoricalPrior

HISTORY_KEYS = (
    "reconstruction",
    "discriminator",
    "generator",
    "discriminator_accuracy",
)
# Extra per-epoch records of models with a categorical head.
CATEGORY_HISTORY_KEYS = (
    "category_discriminator",
    "category_discriminator_accuracy",
)
CLASSIFICATION_KEY = "classification"
NEIGHBOR_KEY = "neighbor"


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
    classification_learning_rate: float | None = None
    decode_known_labels: bool = False
    category_balance: float = 0.0
    cluster_head_distance: float = 0.0
    neighbor_weight: float = 0.0
    category_neighbor_weight: float = 0.0
    neighbor_scale: float = 1.0
    n_neighbors: int = 15
    n_negatives: int = 5
    pretrain_iter: int = 0
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


def neighbor_map_loss(
    codes: torch.Tensor, neighbor_codes: torch.Tensor, scale: float, n_negatives: int
) -> torch.Tensor:
    """Cross-entropy of a heavy-tailed similarity on graph edges and non-edges.

    A row and a graph neighbour should be similar, ``q = 1 / (1 + (d / s)^2)``
    close to 1; a row and the other rows of the batch dissimilar. The loss of
    parametric UMAP with ``a = b = 1`` (parametric t-SNE's Student-t kernel),
    on codes divided by ``scale`` so that neighbourhoods stay small next to
    the prior's spread. Every other row of the batch is a negative, weighted
    as ``n_negatives`` per edge: measured on digits, all pairs converge about
    twice as fast as ``n_negatives`` sampled ones (5-NN accuracy 0.89 against
    0.72 after 50 epochs).
    """
    scaled = codes / scale
    d2 = (scaled - neighbor_codes / scale).pow(2).sum(1)
    attraction = torch.log1p(d2).mean()
    m = codes.shape[0]
    if m < 2:
        return attraction
    d2_all = torch.cdist(scaled, scaled).pow(2)
    off_diagonal = ~torch.eye(m, dtype=torch.bool, device=codes.device)
    # -log(1 - q) = log(1 + 1 / d^2); the floor keeps duplicates finite.
    repulsion = torch.log1p(1.0 / d2_all[off_diagonal].clamp(min=1e-4)).mean()
    return attraction + n_negatives * repulsion


def category_agreement_loss(
    proba: torch.Tensor, neighbor_proba: torch.Tensor
) -> torch.Tensor:
    """Minus the log-probability that a row and its neighbour share a category."""
    return -torch.log((proba * neighbor_proba).sum(1).clamp(min=1e-8)).mean()


def train(
    model: AdversarialAutoencoder,
    X: torch.Tensor,
    *,
    prior: BasePrior,
    prior_labels: np.ndarray | None,
    conditions: torch.Tensor | None,
    config: TrainingConfig,
    rng: np.random.RandomState,
    labels: torch.Tensor | None = None,
    neighbors: torch.Tensor | None = None,
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
    labels : int64 tensor of shape (n_samples,) or None
        Class index of each sample, ``-1`` for unlabeled, for a model with a
        categorical head: drives the classification phase, and with
        ``config.decode_known_labels`` the decoder reads the true one-hot
        label of labelled samples instead of ``y`` (the supervised AAE).

    Returns
    -------
    history : dict of str to ndarray of shape (n_epochs,)
        Per-epoch means of the losses and of the discriminators' accuracies.

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
    category_critic = model.category_discriminator
    n_categories = model.n_categories

    critics = [critic] if category_critic is None else [critic, category_critic]
    critic_params = [p for c in critics for p in c.parameters()]
    reg_lr, reg_beta = config.regularization_learning_rate, config.regularization_beta_1
    heads = model.cluster_heads
    ae_params = list(encoder.parameters()) + list(decoder.parameters())
    if heads is not None:
        # Adam moves a parameter by about the learning rate per step: heads
        # start and move at the scale of the distance between them.
        scale = max(config.cluster_head_distance, 1.0)
        with torch.no_grad():
            heads.mul_(scale)
        ae_params = [
            {"params": ae_params},
            {"params": [heads], "lr": config.learning_rate * scale},
        ]
    opt_ae = _make_optimizer(
        ae_params, config.learning_rate, config.beta_1, config, device
    )
    opt_critic = _make_optimizer(critic_params, reg_lr, reg_beta, config, device)
    opt_gen = _make_optimizer(encoder.parameters(), reg_lr, reg_beta, config, device)
    optimizers = [opt_ae, opt_critic, opt_gen]

    labelled = onehot = known = None
    if n_categories and labels is not None:
        known = labels >= 0
        labelled = torch.nonzero(known).flatten()
        onehot = F.one_hot(labels.clamp(min=0), n_categories).to(X.dtype)
    opt_cls = None
    if labelled is not None and labelled.numel() > 0:
        cls_lr = config.classification_learning_rate or config.learning_rate
        opt_cls = _make_optimizer(
            encoder.parameters(), cls_lr, config.beta_1, config, device
        )
        optimizers.append(opt_cls)
    decode_known = config.decode_known_labels and onehot is not None
    category_prior = CategoricalPrior(n_categories) if n_categories else None

    schedulers = []
    if config.lr_schedule == "cosine":
        schedulers = [
            torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.max_iter)
            for opt in optimizers
        ]
    has_batch_norm = any(isinstance(m, torch.nn.BatchNorm1d) for m in model.modules())

    def critic_target_for(m: int) -> torch.Tensor:
        # Prior draws first (label 1), then codes (label 0).
        return torch.cat([X.new_ones(m, 1), X.new_zeros(m, 1)])

    def critic_step_loss(net, real, fake):
        """Logits and loss of a critic on prior draws then codes, one forward."""
        logits = net(torch.cat([real, fake]))
        return logits, F.binary_cross_entropy_with_logits(logits, target)

    def accuracy_of(logits):
        return ((logits > 0).to(X.dtype) == target).to(X.dtype).mean()

    keys = list(HISTORY_KEYS)
    if n_categories:
        keys += CATEGORY_HISTORY_KEYS
    if opt_cls is not None:
        keys.append(CLASSIFICATION_KEY)
    map_weight = config.neighbor_weight if neighbors is not None else 0.0
    agree_weight = (
        config.category_neighbor_weight
        if neighbors is not None and n_categories
        else 0.0
    )
    use_neighbors = map_weight > 0 or agree_weight > 0
    if use_neighbors:
        keys.append(NEIGHBOR_KEY)
        n_neighbors = neighbors.shape[1]
    # Built once: on a GPU every small tensor op is a kernel launch.
    critic_target = critic_target_for(batch_size)
    history = {key: [] for key in keys}
    progress = tqdm(
        range(config.max_iter),
        disable=config.verbose < 1,
        desc=type(model).__name__,
        unit="epoch",
        leave=True,
    )
    skipped = torch.tensor(float("nan"), device=device)
    for epoch in progress:
        # Pretraining epochs run the reconstruction phase alone (with the map
        # term, without the category terms), so that the categorical game
        # starts from codes that already reflect the data.
        pretraining = epoch < config.pretrain_iter
        agree_now = 0.0 if pretraining else agree_weight
        # One host-to-device copy of the epoch's prior draws.
        prior_draws = torch.as_tensor(
            prior.sample(n_samples, y=prior_labels, random_state=rng),
            dtype=X.dtype,
        ).to(device, non_blocking=True)
        if category_prior is not None:
            category_draws = torch.as_tensor(
                category_prior.sample(n_samples, random_state=rng), dtype=X.dtype
            ).to(device, non_blocking=True)
        order = torch.randperm(n_samples, device=device)
        sums = torch.zeros(len(keys), device=device)
        n_batches = 0
        for start in range(0, n_samples, batch_size):
            idx = order[start : start + batch_size]
            if has_batch_norm and idx.shape[0] < 2:
                continue
            x = X[idx]
            m = idx.shape[0]
            target = critic_target if m == batch_size else critic_target_for(m)

            # Reconstruction phase (with the neighbourhood terms).
            opt_ae.zero_grad(set_to_none=True)
            if use_neighbors:
                # The batch and one random graph neighbour of each row, in
                # one encoder forward.
                pick = torch.randint(n_neighbors, (m,), device=device)
                x_nb = X[neighbors[idx, pick]]
                z_all, logits_all = encoder(torch.cat([x, x_nb]))
                z, z_nb = z_all[:m], z_all[m:]
                logits_y = None if logits_all is None else logits_all[:m]
            else:
                z, logits_y = encoder(x)
            y = None if logits_y is None else torch.softmax(logits_y, dim=1)
            if decode_known:
                y = torch.where(known[idx, None], onehot[idx], y)
            rep = model.decoder_input(z, y)
            output = decoder(rep)
            loss_rec = reconstruction_loss(output, x, config.loss)
            loss_ae = loss_rec
            if use_neighbors:
                y_nb = (
                    None if logits_all is None else torch.softmax(logits_all[m:], dim=1)
                )
                loss_nb = rep.new_zeros(())
                if map_weight > 0:
                    # On what transform returns: z, or W_C y + z.
                    rep_nb = model.decoder_input(z_nb, y_nb)
                    loss_nb = loss_nb + map_weight * neighbor_map_loss(
                        rep, rep_nb, config.neighbor_scale, config.n_negatives
                    )
                if agree_now > 0:
                    loss_nb = loss_nb + agree_now * category_agreement_loss(
                        torch.softmax(logits_y, dim=1), y_nb
                    )
                loss_ae = loss_ae + loss_nb
            if heads is not None and config.cluster_head_distance > 0:
                # The paper's section 7: push apart every two cluster heads
                # closer than the threshold.
                gaps = config.cluster_head_distance - torch.pdist(heads)
                loss_ae = loss_ae + torch.relu(gaps).sum()
            loss_ae.backward()
            opt_ae.step()
            if pretraining:
                stats = [loss_rec] + [skipped] * (len(keys) - 1 - use_neighbors)
                stats += [loss_nb] if use_neighbors else []
                with torch.no_grad():
                    sums += torch.stack([stat.detach() for stat in stats])
                n_batches += 1
                continue

            # Regularisation phase: one encoder forward for both updates.
            fake, logits_y = encoder(x)
            real = prior_draws[idx]
            gen_in = fake
            if conditions is not None:
                cond = conditions[idx]
                real = torch.cat([real, cond], 1)
                gen_in = torch.cat([fake, cond], 1)
            opt_critic.zero_grad(set_to_none=True)
            logits, loss_critic = critic_step_loss(critic, real, gen_in.detach())
            if category_critic is not None:
                fake_y = torch.softmax(logits_y, dim=1)
                logits_cat, loss_cat = critic_step_loss(
                    category_critic, category_draws[idx], fake_y.detach()
                )
                (loss_critic + loss_cat).backward()
            else:
                loss_critic.backward()
            opt_critic.step()

            for p in critic_params:
                p.requires_grad_(False)
            opt_gen.zero_grad(set_to_none=True)
            ones = target[:m]
            loss_gen = F.binary_cross_entropy_with_logits(critic(gen_in), ones)
            if category_critic is not None:
                loss_gen = loss_gen + F.binary_cross_entropy_with_logits(
                    category_critic(fake_y), ones
                )
                if config.category_balance:
                    # KL(batch mean of y || uniform): a per-sample critic
                    # cannot see that whole categories go unused, and without
                    # labels the codes collapse onto a few of them. (Its own
                    # Adam optimiser normalises the weight away and fails to
                    # balance: measured.)
                    mean_y = fake_y.mean(0)
                    loss_gen = loss_gen + config.category_balance * (
                        mean_y * torch.log(mean_y * n_categories + 1e-12)
                    ).sum(0)
            loss_gen.backward()
            opt_gen.step()
            for p in critic_params:
                p.requires_grad_(True)

            stats = [loss_rec, loss_critic, loss_gen, accuracy_of(logits)]
            if category_critic is not None:
                stats += [loss_cat, accuracy_of(logits_cat)]

            # Semi-supervised classification phase, on the labelled stream.
            if opt_cls is not None:
                pick = torch.randint(labelled.numel(), (m,), device=device)
                lab = labelled[pick]
                opt_cls.zero_grad(set_to_none=True)
                loss_cls = F.cross_entropy(encoder(X[lab])[1], labels[lab])
                loss_cls.backward()
                opt_cls.step()
                stats.append(loss_cls)
            if use_neighbors:
                stats.append(loss_nb)

            with torch.no_grad():
                sums += torch.stack([stat.detach() for stat in stats])
            n_batches += 1

        for scheduler in schedulers:
            scheduler.step()
        means = (sums / max(n_batches, 1)).cpu().numpy()  # one sync per epoch
        for key, value in zip(keys, means, strict=True):
            history[key].append(float(value))
        # NaN marks the phases a pretraining epoch skips; inf never is.
        computed = np.array(
            [not pretraining or k in ("reconstruction", NEIGHBOR_KEY) for k in keys]
        )
        if not np.all(np.isfinite(means[computed])):
            bad = [
                k
                for k, v, c in zip(keys, means, computed, strict=True)
                if c and not np.isfinite(v)
            ]
            progress.close()
            raise TrainingDivergedError(
                f"Training diverged at epoch {epoch + 1}: the {', '.join(bad)} "
                f"loss became {means[keys.index(bad[0])]}. Scale the "
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
