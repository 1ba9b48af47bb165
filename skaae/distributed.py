"""One fit across processes or GPUs: data-parallel training on torch.distributed.

Each process (a *rank*) holds a shard of the rows and the same networks.
The ranks start from the same weights, average their gradients before every
optimiser step (gloo on CPUs, NCCL on GPUs), run the same number of
mini-batches per epoch, and agree on the per-epoch history, on early
stopping and on the best of several restarts, so every rank ends with the
same weights and a normal fitted estimator. ``batch_size`` stays the
mini-batch of the whole fit: each rank takes its share of it, so the same
parameters train the same way on one process or on many (only faster).

Launch it with ``torchrun``, either from the command line::

    torchrun --nproc_per_node=2 -m skaae.distributed \\
        --estimator AAETransformer --params '{"n_components": 2}' \\
        --data X.npy --output model.joblib

(each rank memory-maps ``X.npy`` and reads every ``world_size``-th row from
its rank on; rank 0 saves the fitted model), or from a script of your own
that calls :func:`fit` on every rank with that rank's rows::

    import skaae
    from skaae.distributed import fit, shard

    X_rank = shard(X)  # or read this rank's rows from storage
    model = fit(skaae.AAETransformer(n_components=2), X_rank)

What each rank sees of its own rows only: the neighbour graph of the map
terms (built on the rank's shard with ``n_neighbors`` scaled by the shard's
share of the rows, so that neighbourhoods keep their reach), the validation
split of early stopping (the score is the mean over the ranks), and
``labels_`` of :class:`~skaae.AAEClusterer` (its shard's).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.distributed as dist

from ._parallel import DataParallel, rank_device

__all__ = ["fit", "partial_fit", "shard", "main"]


def _backend_for(estimator) -> str:
    device = str(getattr(estimator, "device", "cpu"))
    wants_cuda = device.startswith("cuda") or (
        device == "auto" and torch.cuda.is_available()
    )
    return "nccl" if wants_cuda else "gloo"


def _ensure_process_group(estimator, backend: str | None) -> None:
    if not dist.is_available():
        raise RuntimeError("This build of torch has no torch.distributed.")
    if dist.is_initialized():
        return
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        raise RuntimeError(
            "No torch.distributed process group is initialised and RANK / "
            "WORLD_SIZE are not set: launch this script with torchrun (e.g. "
            "`torchrun --nproc_per_node=2 script.py`) or call "
            "torch.distributed.init_process_group first."
        )
    backend = backend or _backend_for(estimator)
    if backend == "nccl":
        # NCCL's collectives (barrier, all_gather_object) run on the current
        # GPU: make it this rank's.
        torch.cuda.set_device(rank_device(torch.device("cuda")))
    dist.init_process_group(backend=backend)


def shard(X, *, rank: int | None = None, world_size: int | None = None):
    """This rank's rows of ``X``: every ``world_size``-th row from ``rank`` on.

    Works on arrays, memory maps and sparse matrices without reading the
    other ranks' rows. Striding (rather than one block per rank) keeps the
    shards alike when the rows are sorted, e.g. by class.

    Parameters
    ----------
    X : array-like or sparse matrix of shape (n_samples, ...)
        All the rows; ``y`` shards the same way.
    rank, world_size : int or None
        Default to the process group's (or torchrun's ``RANK`` and
        ``WORLD_SIZE``).

    Returns
    -------
    X_rank : same type as ``X``
        The rank's rows.
    """
    if rank is None:
        rank = dist.get_rank() if dist.is_initialized() else int(os.environ["RANK"])
    if world_size is None:
        world_size = (
            dist.get_world_size()
            if dist.is_initialized()
            else int(os.environ["WORLD_SIZE"])
        )
    rows = np.arange(rank, X.shape[0], world_size)
    return X[rows]


def fit(estimator, X, y=None, *, backend: str | None = None):
    """Fit ``estimator`` as one rank of a data-parallel fit.

    Call it on every rank (e.g. in a script launched with ``torchrun``),
    with the same estimator parameters and that rank's rows. It initialises
    the default process group from torchrun's environment when none is
    (``backend``: ``"nccl"`` when the estimator's device is a GPU, else
    ``"gloo"``). With ``device="auto"`` or ``"cuda"`` each rank trains on
    the GPU of its ``LOCAL_RANK``.

    Parameters
    ----------
    estimator : AAETransformer, AAEClassifier or AAEClusterer
        Unfitted, or fitted with ``warm_start=True`` to continue.
    X : array-like or sparse matrix of shape (n_rank_samples, n_features)
        This rank's rows.
    y : array-like of shape (n_rank_samples,), default=None
        This rank's labels (``-1``: unlabelled), where the estimator takes
        them; the classes are those of all the ranks together.
    backend : {"gloo", "nccl"} or None, default=None
        Backend of the process group, when this call creates it.

    Returns
    -------
    estimator
        Fitted, with the same weights on every rank.
    """
    _ensure_process_group(estimator, backend)
    return estimator._fit(X, y, data_parallel=True)


def partial_fit(estimator, X, y=None, *, classes=None, backend: str | None = None):
    """One data-parallel pass over the ranks' rows, as ``partial_fit`` does.

    Parameters are those of :func:`fit`, plus ``classes`` (required on the
    first call of an :class:`~skaae.AAEClassifier`, as for its
    ``partial_fit``).

    Returns
    -------
    estimator
        Updated, with the same weights on every rank.
    """
    from ._classifier import AAEClassifier
    from ._clusterer import AAEClusterer

    if isinstance(estimator, AAEClassifier):
        if y is None:
            raise ValueError("AAEClassifier requires y to be passed, but it is None.")
        if classes is None and not estimator.__sklearn_is_fitted__():
            raise ValueError("classes must be passed on the first call to partial_fit.")
    if isinstance(estimator, AAEClusterer):
        y = classes = None
    _ensure_process_group(estimator, backend)
    return estimator._fit(X, y, incremental=True, classes=classes, data_parallel=True)


def _load(path: str):
    return np.load(path, mmap_mode="r", allow_pickle=False)


def main(argv: list[str] | None = None) -> int:
    """Command line of ``torchrun ... -m skaae.distributed``."""
    import skaae

    parser = argparse.ArgumentParser(
        prog="python -m skaae.distributed",
        description=(
            "Fit a skaae estimator data-parallel across the processes that "
            "torchrun starts; rank 0 saves it."
        ),
    )
    parser.add_argument(
        "--estimator",
        required=True,
        choices=["AAETransformer", "AAEClassifier", "AAEClusterer"],
    )
    parser.add_argument(
        "--params", default="{}", help="estimator parameters, as a JSON object"
    )
    parser.add_argument("--data", required=True, help="X as a .npy file")
    parser.add_argument("--target", help="y as a .npy file (-1: unlabelled)")
    parser.add_argument(
        "--output",
        required=True,
        help="where rank 0 saves the model: joblib, or skops for a .skops path",
    )
    parser.add_argument("--backend", choices=["gloo", "nccl"])
    args = parser.parse_args(argv)

    estimator = getattr(skaae, args.estimator)(**json.loads(args.params))
    _ensure_process_group(estimator, args.backend)
    rank, world_size = dist.get_rank(), dist.get_world_size()
    X = shard(_load(args.data), rank=rank, world_size=world_size)
    y = None
    if args.target:
        y = shard(_load(args.target), rank=rank, world_size=world_size)
    fit(estimator, np.asarray(X), None if y is None else np.asarray(y))
    n_rows = DataParallel(estimator.device_).sum_int(X.shape[0])
    if rank == 0:
        if args.output.endswith(".skops"):
            import skops.io

            skops.io.dump(estimator, args.output)
        else:
            import joblib

            joblib.dump(estimator, args.output)
        print(
            f"{args.estimator} fitted on {world_size} ranks "
            f"({n_rows} rows in all): {estimator.n_iter_} "
            f"epochs, reconstruction "
            f"{estimator.history_['reconstruction'][-1]:.4g}, prior_distance_ "
            f"{estimator.prior_distance_:.3g}; saved to {args.output}",
            flush=True,
        )
    dist.barrier()
    dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
