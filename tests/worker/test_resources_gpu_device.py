"""worker.gpu.device(): the CUDA device when torch sees one, else the CPU, and one log line saying which.

This machine has no GPU; the CUDA branch is driven by a stand-in `torch` module (only the three
calls device() makes), the CPU branches by the real absence of torch and a torch without CUDA.
"""

from __future__ import annotations

import logging
import sys
import types

import pytest
from worker import gpu


def fake_torch(available: bool, count: int = 0, name: str = "") -> types.ModuleType:
    torch = types.ModuleType("torch")
    torch.cuda = types.SimpleNamespace(is_available=lambda: available, device_count=lambda: count,  # type: ignore[attr-defined]
                                       get_device_name=lambda index: name)
    return torch


def test_without_torch_the_job_runs_on_the_cpu_and_says_why(monkeypatch, caplog) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch raises ImportError
    with caplog.at_level(logging.INFO, logger="worker.gpu"):
        found = gpu.device(wanted=1)
    assert (found.name, found.count, found.torch, found.is_gpu) == ("cpu", 0, None, False)
    (record,) = caplog.records
    assert record.getMessage() == "no GPU found, running on CPU" and record.levelname == "WARNING"
    assert (record.reason, record.device, record.gpus_wanted) == ("torch is not installed", "cpu", 1)


def test_torch_without_cuda_runs_on_the_cpu_with_torch(monkeypatch, caplog) -> None:
    torch = fake_torch(available=False)
    monkeypatch.setitem(sys.modules, "torch", torch)
    with caplog.at_level(logging.INFO, logger="worker.gpu"):
        found = gpu.device()
    assert (found.name, found.torch) == ("cpu", torch)
    assert [r.reason for r in caplog.records] == ["torch sees no CUDA device"]


def test_a_visible_cuda_device_is_used_and_named(monkeypatch, caplog) -> None:
    monkeypatch.setitem(sys.modules, "torch", fake_torch(available=True, count=2, name="Tesla T4"))
    with caplog.at_level(logging.INFO, logger="worker.gpu"):
        found = gpu.device(wanted=2)
    assert (found.name, found.count, found.is_gpu) == ("cuda", 2, True)
    (record,) = caplog.records
    assert record.getMessage() == "GPU found" and record.levelname == "INFO"
    assert (record.gpu_name, record.gpus, record.gpus_wanted) == ("Tesla T4", 2, 2)


@pytest.mark.parametrize("available", [False, True])
def test_device_never_raises_for_what_the_machine_lacks(monkeypatch, available: bool) -> None:
    monkeypatch.setitem(sys.modules, "torch", fake_torch(available=available, count=int(available), name="x"))
    assert gpu.device().name == ("cuda" if available else "cpu")
