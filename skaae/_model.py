"""The adversarial autoencoder as one torch module: encoder, decoder, critic."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ._networks import Encoder, make_mlp


class AdversarialAutoencoder(nn.Module):
    """Encoder, decoder and discriminator of one adversarial autoencoder.

    Parameters
    ----------
    n_features : int
        Input dimension.
    n_components : int
        Code dimension.
    hidden_layer_sizes : sequence of int
        Encoder hidden layers; the decoder uses them in reverse order.
    discriminator_hidden_layer_sizes : sequence of int
        Discriminator hidden layers.
    encoder : {"deterministic", "gaussian", "universal"}
        Kind of posterior (see :class:`~skaae._networks.Encoder`).
    n_conditions : int
        Width of the one-hot label the discriminator receives next to the
        code (number of classes plus one "unlabeled" slot), or 0 for none.
    n_categories : int
        Width of the categorical head ``y`` (0 for none). With it the decoder
        reconstructs from ``[y, z]`` and a second discriminator matches ``y``
        to a categorical prior (the paper's sections 5 and 6).
    cluster_heads : bool
        With a categorical head, represent a sample by ``W_C y + z`` (the
        paper's section 7): ``W_C`` holds one learned vector per category (a
        cluster head) in code space, and the decoder reads that
        ``n_components``-wide representation instead of ``[y, z]``.
    output : {"linear", "logits"}
        ``"logits"``: the decoder's raw output goes through a sigmoid when
        decoding for use (the training loss takes the logits directly).
    activation, dropout, batch_norm
        Hidden-layer options of :func:`~skaae._networks.make_mlp`.
    """

    def __init__(
        self,
        n_features: int,
        n_components: int,
        hidden_layer_sizes: Sequence[int],
        discriminator_hidden_layer_sizes: Sequence[int],
        *,
        encoder: str = "deterministic",
        n_conditions: int = 0,
        n_categories: int = 0,
        output: str = "linear",
        cluster_heads: bool = False,
        activation: str = "relu",
        dropout: float = 0.0,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        # Plain values that rebuild the same networks (what a pickle stores
        # next to the weights, instead of torch objects).
        self.init_kwargs = dict(
            n_features=int(n_features),
            n_components=int(n_components),
            hidden_layer_sizes=[int(s) for s in hidden_layer_sizes],
            discriminator_hidden_layer_sizes=[
                int(s) for s in discriminator_hidden_layer_sizes
            ],
            encoder=encoder,
            n_conditions=int(n_conditions),
            n_categories=int(n_categories),
            output=output,
            cluster_heads=bool(cluster_heads),
            activation=activation,
            dropout=float(dropout),
            batch_norm=bool(batch_norm),
        )
        mlp = dict(activation=activation, dropout=dropout, batch_norm=batch_norm)
        self.n_conditions = n_conditions
        self.n_categories = n_categories
        self.output = output
        self.encoder = Encoder(
            n_features,
            n_components,
            hidden_layer_sizes,
            kind=encoder,
            n_categories=n_categories,
            **mlp,
        )
        if cluster_heads and not n_categories:
            raise ValueError("cluster_heads needs a categorical head.")
        # Spread at initialisation so that categories start apart.
        self.cluster_heads = (
            nn.Parameter(torch.randn(n_categories, n_components))
            if cluster_heads
            else None
        )
        self.decoder = make_mlp(
            n_components if cluster_heads else n_categories + n_components,
            list(hidden_layer_sizes)[::-1],
            n_features,
            **mlp,
        )
        # No batch norm in the critic: it sees prior and fake codes in one
        # batch, and shared batch statistics would let it tell them apart.
        self.discriminator = make_mlp(
            n_components + n_conditions,
            discriminator_hidden_layer_sizes,
            1,
            activation=activation,
            dropout=dropout,
        )
        self.category_discriminator = (
            make_mlp(
                n_categories,
                discriminator_hidden_layer_sizes,
                1,
                activation=activation,
                dropout=dropout,
            )
            if n_categories
            else None
        )

    def decoder_input(self, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        """What the decoder reads: ``z``, ``[y, z]``, or ``W_C y + z``."""
        if y is None:
            return z
        if self.cluster_heads is not None:
            return z + y @ self.cluster_heads
        return torch.cat([y, z], dim=1)

    @torch.no_grad()
    def reparametrize_codes(self, matrix: torch.Tensor, offset: torch.Tensor) -> None:
        """Change the code space to ``z' = matrix @ z + offset``, exactly.

        The encoder's last layer then outputs ``z'`` (the means of a
        ``"gaussian"`` encoder), and the first layers of the decoder and the
        discriminator read ``z'`` as they read ``z``: reconstructions,
        decodings and judgements are unchanged. Only for a model without a
        categorical head; ``matrix`` must be invertible.
        """
        if self.n_categories:
            raise ValueError("reparametrize_codes needs a model without categories.")
        n = matrix.shape[0]
        last = [m for m in self.encoder.net.modules() if isinstance(m, nn.Linear)][-1]
        last.weight[:n] = matrix @ last.weight[:n]
        last.bias[:n] = matrix @ last.bias[:n] + offset
        inverse = torch.linalg.inv(matrix)
        for net in (self.decoder, self.discriminator):
            first = next(m for m in net.modules() if isinstance(m, nn.Linear))
            # z = inverse @ (z' - offset) enters through the first n columns.
            reads = first.weight[:, :n].clone()
            first.weight[:, :n] = reads @ inverse
            first.bias -= reads @ (inverse @ offset)

    @torch.no_grad()
    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Representation of ``x``: ``W_C y + z`` with cluster heads, else ``z``."""
        z, logits = self.encoder.encode(x)
        if self.cluster_heads is None:
            return z
        return self.decoder_input(z, torch.softmax(logits, dim=1))

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Deterministic codes (style ``z``) of ``x``."""
        return self.encoder.encode(x)[0]

    @torch.no_grad()
    def predict_proba(self, x: torch.Tensor) -> torch.Tensor:
        """Softmax of the categorical head, in float64 (rows sum to 1)."""
        return torch.softmax(self.encoder.encode(x)[1].double(), dim=1)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Raw decoder output (logits for ``"logits"``) of encoded ``x``."""
        z, logits = self.encoder.encode(x)
        y = None if logits is None else torch.softmax(logits, dim=1)
        return self.decoder(self.decoder_input(z, y))

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Reconstructions in input space (sigmoid applied for ``"logits"``)."""
        out = self.decoder(z)
        return torch.sigmoid(out) if self.output == "logits" else out
