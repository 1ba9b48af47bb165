"""Facts about the machine a benchmark runs on, and the header that prints them.

- ``cpu_model``, ``usable_cores``, ``load_average``, ``device_description``:
  single facts.
- ``machine_info``: the dict of facts that the benchmark scripts print in
  their header and write under ``"machine"`` in their JSON.
- ``limit_threads``: cap torch and the BLAS/OpenMP pools.
- ``print_machine_header``: the title and the ``machine`` block of a header.
- ``print_load_average_end``: record and print the load average at the end.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping, Sequence

import numpy as np
import sklearn
import torch
from threadpoolctl import threadpool_limits

import skaae


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, else what platform knows."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def usable_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def load_average() -> str:
    """The 1/5/15-minute load averages, to spot a disturbed run."""
    try:
        return ", ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def device_description(device: str) -> str:
    """The torch device ``device`` resolves to, with the GPU's name."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    resolved = torch.device(device)
    if resolved.type == "cuda":
        return f"{resolved} ({torch.cuda.get_device_name(resolved)})"
    return str(resolved)


def limit_threads(threads: int | None) -> None:
    """Limit torch and the BLAS/OpenMP pools to ``threads`` (None: no limit)."""
    if threads is None:
        return
    torch.set_num_threads(threads)
    threadpool_limits(threads)


def machine_info(device: str, versions: Mapping[str, str | None] | None = None) -> dict:
    """Platform, CPU, library versions, torch threads and device, load average.

    Parameters
    ----------
    device : str
        The estimators' ``device`` option (``"auto"``, ``"cpu"``, ``"cuda"``...).
    versions : mapping of str to str or None, optional
        Further library versions (``None``: not installed), listed after
        scikit-learn and skaae, before the load average.

    Returns
    -------
    dict
        ``platform``, ``cpu``, ``cores``, ``python``, ``torch``,
        ``torch_threads``, ``device``, ``numpy``, ``scikit-learn``, ``skaae``,
        the ``versions``, then ``load_average_start``, in this order (the
        order of the JSON output).
    """
    return {
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cores": usable_cores(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "device": device_description(device),
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "skaae": skaae.__version__,
        **(versions or {}),
        "load_average_start": load_average(),
    }


def print_machine_header(
    title: str,
    machine: Mapping[str, object],
    threads: int | None,
    versions: Sequence[str] = (),
) -> None:
    """Print the title, a blank line, the ``machine`` block and a blank line.

    Parameters
    ----------
    title : str
        The first line of the output.
    machine : mapping
        From ``machine_info``.
    threads : int or None
        The thread limit (None: printed as ``default``).
    versions : sequence of str
        Keys of ``machine`` (the ``versions`` given to ``machine_info``) to
        print between scikit-learn and skaae (a key ``machine`` lacks is
        left out: the library was not used); a ``None`` value is printed as
        ``not installed``.
    """
    print(title)
    print()
    print("machine")
    print(f"  platform: {machine['platform']}, Python {machine['python']}")
    print(f"  CPU: {machine['cpu']}, {machine['cores']} usable cores")
    print(
        f"  torch {machine['torch']} ({machine['torch_threads']} intra-op threads), "
        f"device {machine['device']}"
    )
    libraries = [
        f"numpy {machine['numpy']}",
        f"scikit-learn {machine['scikit-learn']}",
        *(
            f"{name} {machine[name] or 'not installed'}"
            for name in versions
            if name in machine
        ),
        f"skaae {machine['skaae']}",
    ]
    print("  " + ", ".join(libraries))
    limit = "default" if threads is None else str(threads)
    print(
        f"  thread limit: {limit}; load average at start: "
        f"{machine['load_average_start']}"
    )
    print()


def print_load_average_end(machine: dict, before: str = "") -> None:
    """Store ``load_average_end`` in ``machine`` and print it after a blank line.

    ``before`` is printed at the start of the same line.
    """
    machine["load_average_end"] = load_average()
    print()
    print(f"{before}load average at end: {machine['load_average_end']}")
