"""Data-parallel training over ``torch.distributed``: what the ranks agree on.

Each rank trains the same networks on its own shard of the rows. The ranks
start from rank 0's weights, average every phase's gradients before its
optimiser steps (so every rank takes the same step and the weights stay
identical), run the same number of mini-batches an epoch, and agree on the
per-epoch records, the early-stopping scores and any request to stop.

The gradients are averaged by hand, one flat ``all_reduce`` per optimiser
step, rather than through ``DistributedDataParallel``: an AAE step runs
three or four forward/backward phases over overlapping sets of parameters
(the encoder takes part in all of them, the critics are frozen during the
generator's), which DDP's reducer, built around one forward and one backward
per module and step, does not allow without marking parameters unused and
paying for it. The collective is the same (``all_reduce`` over gloo or NCCL).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable

import numpy as np
import torch
import torch.distributed as dist


def rank_device(device: torch.device) -> torch.device:
    """A rank's GPU for ``"cuda"`` without an index: its local rank's."""
    if device.type != "cuda" or device.index is not None:
        return device
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    return torch.device("cuda", local_rank % torch.cuda.device_count())


class DataParallel:
    """The collectives of one data-parallel fit, over the default group.

    Parameters
    ----------
    device : torch.device
        The model's device; NCCL needs the reduced tensors there.
    """

    def __init__(self, device: torch.device) -> None:
        if not (dist.is_available() and dist.is_initialized()):
            raise RuntimeError(
                "Data-parallel training needs an initialised torch.distributed "
                "process group; see skaae.distributed."
            )
        self.rank = dist.get_rank()
        self.world_size = dist.get_world_size()
        self.device = torch.device(device)

    def broadcast_module(self, module: torch.nn.Module) -> None:
        """Copy rank 0's parameters and buffers to every rank."""
        with torch.no_grad():
            for tensor in list(module.parameters()) + list(module.buffers()):
                dist.broadcast(tensor.data, src=0)

    def average_gradients(self, params: Iterable[torch.Tensor]) -> None:
        """Replace each gradient by its mean over the ranks, in one reduce.

        Parameters without a gradient keep none (they are the same on every
        rank, since every rank runs the same graph).
        """
        self._average_in_place([p.grad for p in params if p.grad is not None])

    def average_optimizer_gradients(self, optimizer: torch.optim.Optimizer) -> None:
        self.average_gradients(p for g in optimizer.param_groups for p in g["params"])

    def average_buffers(self, module: torch.nn.Module) -> None:
        """Mean of the floating buffers (batch-norm statistics) over ranks."""
        self._average_in_place([b for b in module.buffers() if b.is_floating_point()])

    def _average_in_place(self, tensors: list[torch.Tensor]) -> None:
        if not tensors:
            return
        flat = torch.cat([t.reshape(-1) for t in tensors])
        dist.all_reduce(flat)
        flat /= self.world_size
        offset = 0
        for t in tensors:
            n = t.numel()
            t.copy_(flat[offset : offset + n].view_as(t))
            offset += n

    def mean(self, values: np.ndarray) -> np.ndarray:
        """Mean over the ranks of a vector of floats (NaN where any is NaN)."""
        t = torch.as_tensor(np.asarray(values, dtype=np.float64), device=self.device)
        dist.all_reduce(t)
        return (t / self.world_size).cpu().numpy()

    def sum_int(self, value: int) -> int:
        return int(self._reduce_int(value, dist.ReduceOp.SUM))

    def max_int(self, value: int) -> int:
        return int(self._reduce_int(value, dist.ReduceOp.MAX))

    def any(self, flag: bool) -> bool:
        return self.max_int(int(bool(flag))) > 0

    def union(self, values: np.ndarray) -> np.ndarray:
        """Sorted union of every rank's values (e.g. the class labels)."""
        gathered: list = [None] * self.world_size
        dist.all_gather_object(gathered, np.unique(values).tolist())
        return np.unique(np.concatenate([np.asarray(g) for g in gathered]))

    def _reduce_int(self, value: int, op) -> int:
        t = torch.tensor([value], dtype=torch.int64, device=self.device)
        dist.all_reduce(t, op=op)
        return t.item()

    def batches_per_epoch(self, n_samples: int, batch_size: int) -> int:
        """The most mini-batches any rank's shard needs: every rank runs it."""
        return self.max_int(math.ceil(n_samples / batch_size))
