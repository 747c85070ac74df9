"""Where an algorithm computes: the first CUDA GPU when there is one, else the CPU -- and the log says which.

Contract: `device(wanted=1) -> Device`. It never raises for a missing GPU: without torch, or with torch
but no CUDA device (a laptop, a Fargate task), the job runs on the CPU and one JSON log line says
"no GPU found, running on CPU" with the reason (the job id comes from the worker's log context).
With CUDA it logs "GPU found" with the device name and count. `Device.name` is "cuda" or "cpu",
what `torch.tensor(..., device=...)` takes; `Device.torch` is the torch module, or None without torch.
An algorithm that declares RESOURCES.gpus >= 1 calls this once per job; nothing else in the worker needs it.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from types import ModuleType

log = logging.getLogger("worker.gpu")


@dataclass(frozen=True)
class Device:
    """The device a job computes on: "cuda" (with `count` GPUs visible) or "cpu" (count 0)."""

    name: str
    count: int
    torch: ModuleType | None
    reason: str

    @property
    def is_gpu(self) -> bool:
        return self.name == "cuda"


def _torch() -> ModuleType | None:
    try:
        return importlib.import_module("torch")
    except ImportError:
        return None


def device(wanted: int = 1) -> Device:
    """The first CUDA device if torch sees one, else the CPU; logs which, and why when it is the CPU."""
    torch = _torch()
    if torch is None:
        found = Device("cpu", 0, None, "torch is not installed")
    elif not torch.cuda.is_available():
        found = Device("cpu", 0, torch, "torch sees no CUDA device")
    else:
        count = int(torch.cuda.device_count())
        found = Device("cuda", count, torch, f"{count} CUDA device(s)")
    if found.is_gpu:
        log.info("GPU found", extra={"device": "cuda", "gpus": found.count, "gpus_wanted": wanted,
                                     "gpu_name": torch.cuda.get_device_name(0)})  # type: ignore[union-attr]
    else:
        log.warning("no GPU found, running on CPU", extra={"device": "cpu", "gpus_wanted": wanted,
                                                           "reason": found.reason})
    return found
