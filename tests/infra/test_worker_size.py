"""The worker's size: RESOURCES in the algorithm by default, any stack key over it; GPU keys checked together."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from worker.resources import declared

from components.settings import NAMESPACE, ConfigError, Settings
from deploy.mock_program import stack_config
from devstack.settings import REPO_ROOT

pytestmark = pytest.mark.timeout(60)


def values(stack: str = "dev", **overrides: Any) -> dict[str, Any]:
    found = {k.split(":", 1)[1]: v for k, v in stack_config(stack).items() if k.startswith(f"{NAMESPACE}:")}
    return {**found, **overrides}


def algorithm(tmp_path: Path, line: str) -> Path:
    path = tmp_path / "algorithm.py"
    path.write_text(f"from worker.resources import Resources\n{line}\n")
    return path


def test_dev_takes_the_shipped_algorithms_resources_and_demo_overrides_them() -> None:
    dev = Settings.from_values(values("dev")).worker
    shipped = declared(REPO_ROOT / "apps" / "worker" / "algorithm.py")  # whatever algorithm ships
    assert (dev.cpu, dev.memory_mb, dev.gpus, dev.compute) == (shipped.cpu_units, shipped.memory_mb, 0, "fargate")
    assert dev.sized_by == "RESOURCES in algorithm.py"
    demo = Settings.from_values(values("demo")).worker
    assert (demo.cpu, demo.memory_mb) == (2048, 8192)
    assert demo.sized_by == "stack keys workerCpu, workerMemoryMb (the rest from RESOURCES in algorithm.py)"


def test_an_algorithm_that_declares_more_gets_a_bigger_worker(tmp_path: Path) -> None:
    big = algorithm(tmp_path, "RESOURCES = Resources(vcpu=4, memory_gb=16)")
    worker = Settings.from_values(values("dev"), algorithm=big).worker
    assert (worker.cpu, worker.memory_mb, worker.gpus) == (4096, 16384, 0)
    # One stack key overrides one field; the other still comes from RESOURCES.
    worker = Settings.from_values(values("dev", workerMemoryMb=30720), algorithm=big).worker
    assert (worker.cpu, worker.memory_mb) == (4096, 30720)


def test_a_gpu_algorithm_needs_the_gpu_worker_or_an_explicit_cpu_override(tmp_path: Path) -> None:
    gpu = algorithm(tmp_path, "RESOURCES = Resources(vcpu=2, memory_gb=8, gpus=1)")
    with pytest.raises(ConfigError) as refused:
        Settings.from_values(values("dev"), algorithm=gpu)
    assert str(refused.value) == (
        f"{NAMESPACE}:workerCompute: RESOURCES in algorithm.py ask for 1 GPU(s) and Fargate has none; set "
        f"workerCompute: gpu (an ECS Managed Instances GPU worker, docs/gpu.md), or workerGpus: 0 to run the "
        f"algorithm on Fargate's CPUs")
    on_gpu = Settings.from_values(values("dev", workerCompute="gpu"), algorithm=gpu).worker
    assert (on_gpu.on_gpu, on_gpu.gpus, on_gpu.cpu, on_gpu.memory_mb) == (True, 1, 2048, 8192)
    on_cpu = Settings.from_values(values("dev", workerGpus=0), algorithm=gpu).worker
    assert (on_cpu.on_gpu, on_cpu.gpus) == (False, 0)


@pytest.mark.parametrize(("overrides", "key", "fragment"), [
    ({"workerCompute": "gpu"}, "workerGpus", "workerCompute gpu needs one GPU or more"),
    ({"workerCompute": "tpu"}, "workerCompute", "is not one of fargate, gpu"),
    ({"workerGpus": 9}, "workerGpus", "between -1 and 8"),
    ({"workerCompute": "gpu", "workerGpus": 1, "workerGpuScaleInSeconds": -1}, "workerGpuScaleInSeconds",
     "between 0 and 3600"),  # -1 would turn scale-in off: idle GPU instances billed forever
    ({"workerCompute": "gpu", "workerGpus": 1, "workerGpuSpot": "maybe"}, "workerGpuSpot", "true or false"),
    ({"workerCompute": "gpu", "workerGpus": 1, "arm64Apps": ["worker"]}, "workerCompute", "x86_64 NVIDIA"),
    ({"workerCpu": 1024, "workerMemoryMb": 16384}, "workerMemoryMb", "allowed: 2048"),
])
def test_bad_worker_keys_are_refused_by_name(overrides: dict[str, Any], key: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_values(values("dev", **overrides))
    assert str(refused.value).startswith(f"{NAMESPACE}:{key}") and fragment in str(refused.value), refused.value


def test_a_resources_size_fargate_cannot_run_names_where_it_came_from(tmp_path: Path) -> None:
    odd = algorithm(tmp_path, "RESOURCES = Resources(vcpu=1, memory_gb=16)")
    with pytest.raises(ConfigError, match=r"Fargate does not run 16384 MiB with workerCpu=1024 \(RESOURCES in "
                                          r"algorithm.py\)"):
        Settings.from_values(values("dev"), algorithm=odd)
    broken = algorithm(tmp_path, "RESOURCES = sizes()")
    with pytest.raises(ConfigError, match="cannot read RESOURCES from .*algorithm.py:2: RESOURCES must be written"):
        Settings.from_values(values("dev"), algorithm=broken)
