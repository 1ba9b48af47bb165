"""ONNX export of a fitted estimator's encoder or decoder, for serving.

The graphs are the prediction paths of the model in float32 (the precision
the networks trained in), with a dynamic batch dimension. ``torch.onnx`` is
tried with its dynamo exporter first (which needs ``onnxscript``), then with
the TorchScript one.
"""

from __future__ import annotations

import copy
import logging
import os
import warnings
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from ._model import AdversarialAutoencoder

ONNX_PARTS = ("encoder", "decoder")


class _EncoderGraph(nn.Module):
    """``X -> codes`` (what ``transform`` returns) and, with a category head,
    ``proba`` (what ``predict_proba`` returns)."""

    def __init__(
        self, model: AdversarialAutoencoder, proba_map: torch.Tensor | None
    ) -> None:
        super().__init__()
        self.model = model
        self.proba_map = proba_map

    def forward(self, x: torch.Tensor):
        z, logits = self.model.encoder.encode(x)
        if logits is None:
            return z
        proba = torch.softmax(logits, dim=1)
        heads = self.model.cluster_heads
        codes = z if heads is None else z + proba @ heads
        if self.proba_map is not None:
            # Merged sub-clusters (AAEClusterer): their probabilities add up.
            # Only the proba output is merged; the codes read the units.
            proba = proba @ self.proba_map
        return codes, proba


class _DecoderGraph(nn.Module):
    """``decoder_input -> X`` (``inverse_transform`` / ``decode``)."""

    def __init__(self, model: AdversarialAutoencoder) -> None:
        super().__init__()
        self.model = model

    def forward(self, rep: torch.Tensor) -> torch.Tensor:
        out = self.model.decoder(rep)
        return torch.sigmoid(out) if self.model.output == "logits" else out


@contextmanager
def _quiet():
    """Silence the exporters' warnings and log lines (e.g. about torchvision)."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def write_onnx(
    model: AdversarialAutoencoder,
    path: str | os.PathLike,
    part: str,
    *,
    proba_map: np.ndarray | None = None,
) -> str:
    """Write ``part`` of ``model`` to ``path``; return the exporter used.

    ``proba_map``: a matrix the head's softmax is multiplied by to give the
    ``proba`` output (the merge of an over-clustered head), or None.
    """
    try:
        import onnx  # noqa: F401 - both exporters need it
    except ImportError:
        raise ImportError(
            "export_onnx needs the onnx package (and onnxscript for the dynamo "
            "exporter): pip install 'skaae[onnx]'."
        ) from None
    model = copy.deepcopy(model).float().cpu().eval()
    kwargs = model.init_kwargs
    if part == "encoder":
        graph = _EncoderGraph(
            model,
            None
            if proba_map is None
            else torch.as_tensor(proba_map, dtype=torch.float32),
        )
        width = kwargs["n_features"]
        inputs = ["X"]
        outputs = ["codes", "proba"] if kwargs["n_categories"] else ["codes"]
    else:
        graph = _DecoderGraph(model)
        width = kwargs["n_components"] + (
            0 if kwargs["cluster_heads"] else kwargs["n_categories"]
        )
        inputs = ["decoder_input"]
        outputs = ["X"]
    options = {
        "dynamo": dict(
            dynamo=True,
            dynamic_shapes=({0: torch.export.Dim("batch")},),
            verbose=False,
        ),
        "torchscript": dict(
            dynamo=False,
            dynamic_axes={name: {0: "batch"} for name in inputs + outputs},
        ),
    }
    example = (torch.zeros(3, width),)

    def export(exporter: str) -> str:
        with _quiet():
            torch.onnx.export(
                graph,
                example,
                os.fspath(path),
                input_names=inputs,
                output_names=outputs,
                **options[exporter],
            )
        return exporter

    try:
        return export("dynamo")
    except Exception:  # noqa: BLE001 - any dynamo failure falls back
        return export("torchscript")
