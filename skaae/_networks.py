"""Torch networks of the adversarial autoencoder: MLP builders and encoders."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

_ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "gelu": nn.GELU,
}

ENCODERS = ("deterministic", "gaussian", "universal")
# Dropout masks on the CPU are drawn 16 bits an element: a mask element is
# kept when its 16 random bits, read as a signed integer, reach this offset
# plus the dropped share of 2**16.
_MASK_LEVELS = 2**16
_MASK_OFFSET = -(2**15)


class Dropout(nn.Dropout):
    """``nn.Dropout`` with masks drawn four elements per random word on the CPU.

    torch's CPU dropout draws one double-precision uniform number per element,
    which took a fifth of a training epoch at the paper's MNIST architecture
    with the map term (2.7 s of 13.8 s, 2 threads). Here one 64-bit random
    word gives the masks of four elements, 16 bits each, so ``p`` is rounded
    to a multiple of 2**-16. On other devices (and with ``p`` 0 or 1) it is
    torch's dropout. The masks come from torch's default generator, as
    ``nn.Dropout``'s do, so seeded fits stay reproducible.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dropped = round(self.p * _MASK_LEVELS)
        if (
            not self.training
            or x.device.type != "cpu"
            or not 0 < dropped < _MASK_LEVELS
            or self.inplace
        ):
            return super().forward(x)
        n = x.numel()
        words = torch.empty((n + 3) // 4, dtype=torch.int64).random_(-(2**63), None)
        bits = words.view(torch.int16)[:n].view(x.shape)
        scale = _MASK_LEVELS / (_MASK_LEVELS - dropped)
        mask = (bits >= _MASK_OFFSET + dropped).to(x.dtype).mul_(scale)
        return x * mask


def make_mlp(
    n_inputs: int,
    hidden_layer_sizes: Sequence[int],
    n_outputs: int,
    *,
    activation: str = "relu",
    dropout: float = 0.0,
    batch_norm: bool = False,
) -> nn.Sequential:
    """Multi-layer perceptron with a linear output layer.

    Each hidden layer is ``Linear -> [BatchNorm] -> activation -> [Dropout]``.
    """
    layers: list[nn.Module] = []
    width = n_inputs
    for size in hidden_layer_sizes:
        layers.append(nn.Linear(width, size))
        if batch_norm:
            layers.append(nn.BatchNorm1d(size))
        layers.append(_ACTIVATIONS[activation]())
        if dropout > 0:
            layers.append(Dropout(dropout))
        width = size
    layers.append(nn.Linear(width, n_outputs))
    return nn.Sequential(*layers)


class Encoder(nn.Module):
    """Maps inputs to codes; the three posteriors of the paper's section 2.

    ``kind="deterministic"``: ``z = f(x)``.
    ``kind="gaussian"``: ``z = mu(x) + exp(log_var(x) / 2) * eps`` while
    training (reparametrisation trick); ``mu(x)`` when encoding for use.
    ``kind="universal"``: ``z = f(x, eta)`` with ``eta ~ N(0, I)`` fed with the
    input; for use, the average of ``f(x, eta_k)`` over ``n_eval_draws`` fixed
    noise vectors ``eta_k`` shared by every sample (so a sample's code does not
    depend on the other samples in the batch).

    With ``n_categories > 0`` the last layer also outputs the logits of a
    categorical head ``y`` (the semi-supervised model of the paper's section
    5); ``forward`` and ``encode`` return ``(z, logits)``, with ``logits``
    ``None`` when there is no such head.
    """

    def __init__(
        self,
        n_inputs: int,
        n_outputs: int,
        hidden_layer_sizes: Sequence[int],
        *,
        kind: str = "deterministic",
        n_noise: int | None = None,
        n_eval_draws: int = 16,
        n_categories: int = 0,
        **mlp_kwargs,
    ) -> None:
        super().__init__()
        self.kind = kind
        self.n_outputs = n_outputs
        self.n_categories = n_categories
        self.n_noise = (n_noise or n_outputs) if kind == "universal" else 0
        self.n_eval_draws = n_eval_draws
        self.n_code_params = 2 * n_outputs if kind == "gaussian" else n_outputs
        self.net = make_mlp(
            n_inputs + self.n_noise,
            hidden_layer_sizes,
            self.n_code_params + n_categories,
            **mlp_kwargs,
        )
        if kind == "universal":
            # Fixed evaluation noise: transform is deterministic and batch-free.
            gen = torch.Generator().manual_seed(0)
            self.register_buffer(
                "eval_noise", torch.randn(n_eval_draws, self.n_noise, generator=gen)
            )

    def _split(self, out: torch.Tensor):
        if self.n_categories == 0:
            return out, None
        return out[:, : self.n_code_params], out[:, self.n_code_params :]

    def forward(self, x: torch.Tensor):
        """Stochastic ``(code, category logits)`` used in training."""
        if self.kind == "universal":
            eta = torch.randn(x.shape[0], self.n_noise, device=x.device, dtype=x.dtype)
            x = torch.cat([x, eta], dim=1)
        params, logits = self._split(self.net(x))
        if self.kind == "gaussian":
            mean, log_var = params.chunk(2, dim=1)
            return mean + torch.exp(0.5 * log_var) * torch.randn_like(mean), logits
        return params, logits

    @torch.no_grad()
    def encode(self, x: torch.Tensor):
        """Deterministic ``(code, category logits)`` used for prediction."""
        if self.kind == "universal":
            # Average over the fixed noise vectors.
            outs = [
                self.net(torch.cat([x, eta.expand(x.shape[0], -1)], dim=1))
                for eta in self.eval_noise
            ]
            out = torch.stack(outs).mean(dim=0)
        else:
            out = self.net(x)
        params, logits = self._split(out)
        if self.kind == "gaussian":
            params = params.chunk(2, dim=1)[0]
        return params, logits
