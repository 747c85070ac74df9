"""RESOURCES: what a job needs, read from an algorithm file without importing it, and held to Fargate's sizes."""

from __future__ import annotations

from pathlib import Path

import pytest
from worker.resources import DEFAULT, FARGATE_MEMORY_GB, Resources, ResourcesError, declared, problems

from components.fargate_sizes import MEMORY_BY_CPU
from components.settings.worker import ALGORITHM
from tests.fixtures.apps import FIXTURES

GPU_MATMUL = FIXTURES / "algorithms" / "gpu_matmul.py"


@pytest.mark.parametrize("vcpu", list(FARGATE_MEMORY_GB))
def test_every_fargate_pair_passes(vcpu: float) -> None:
    for memory in FARGATE_MEMORY_GB[vcpu]:
        assert problems(Resources(vcpu, memory)) == [], (vcpu, memory)


def test_the_table_is_the_one_the_stack_checks_task_sizes_with() -> None:
    assert MEMORY_BY_CPU[256] == (512, 1024, 2048)
    assert MEMORY_BY_CPU[16384][-1] == 120 * 1024  # 16 vCPU / 120 GB is Fargate's largest task
    assert set(MEMORY_BY_CPU) == {int(v * 1024) for v in FARGATE_MEMORY_GB}


@pytest.mark.parametrize(("resources", "message"), [
    (Resources(vcpu=3, memory_gb=8), "RESOURCES.vcpu=3 is not a Fargate task size; use one of 0.25, 0.5, 1, 2, 4, "
                                     "8, 16 vCPU"),
    (Resources(vcpu=1, memory_gb=16), "RESOURCES.memory_gb=16 does not go with vcpu=1 on Fargate; with 1 vCPU use "
                                      "one of 2, 3, 4, 5, 6, 7, 8 GB"),
    (Resources(vcpu=16, memory_gb=128), "with 16 vCPU use one of 32, 40, 48"),  # over 120 GB
    (Resources(vcpu=8, memory_gb=18), "RESOURCES.memory_gb=18 does not go with vcpu=8"),  # 4 GB steps at 8 vCPU
    (Resources(gpus=-1), "RESOURCES.gpus=-1 is not a whole number of GPUs from 0 to 8"),
    (Resources(gpus=1.5), "RESOURCES.gpus=1.5 is not a whole number"),  # type: ignore[arg-type]
])
def test_a_size_the_stack_cannot_run_is_named_with_what_is_allowed(resources: Resources, message: str) -> None:
    found = problems(resources)
    assert len(found) == 1 and message in found[0], found


def test_units_are_what_ecs_takes() -> None:
    assert (Resources(0.25, 0.5).cpu_units, Resources(0.25, 0.5).memory_mb) == (256, 512)
    assert (Resources(16, 120).cpu_units, Resources(16, 120).memory_mb) == (16384, 122880)


def test_the_shipped_algorithm_and_the_gpu_fixture_declare_sizes_that_pass() -> None:
    shipped, gpu = declared(ALGORITHM), declared(GPU_MATMUL)
    assert problems(shipped) == []  # whatever the data scientist's algorithm declares (make check judges it too)
    assert gpu == Resources(vcpu=2, memory_gb=8, gpus=1) and problems(gpu) == []


def test_declared_reads_the_literal_without_importing_the_algorithm(tmp_path: Path) -> None:
    source = tmp_path / "algorithm.py"
    source.write_text("import module_that_does_not_exist\n"
                      "from worker.resources import Resources\n"
                      "RESOURCES = Resources(4, memory_gb=16, gpus=1)\n")
    assert declared(source) == Resources(vcpu=4, memory_gb=16, gpus=1)
    source.write_text("MODEL_VERSION = 'x'\n")
    assert declared(source) == DEFAULT  # no RESOURCES: 1 vCPU, 2 GB, no GPU


@pytest.mark.parametrize(("line", "message"), [
    ("RESOURCES = make_resources()", "RESOURCES must be written as Resources(vcpu=..., memory_gb=..., gpus=...)"),
    ("RESOURCES = Resources(vcpu=CPUS)", "Resources(vcpu=...) must be a plain number"),
    ("RESOURCES = Resources(vcpu='2')", "Resources(vcpu='2') must be a number"),
    ("RESOURCES = Resources(cores=2)", "Resources() takes vcpu, memory_gb and gpus, not cores"),
])
def test_an_unreadable_resources_line_is_refused_with_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    source = tmp_path / "algorithm.py"
    source.write_text(f"CPUS = 2\n{line}\n")
    with pytest.raises(ResourcesError) as refused:
        declared(source)
    assert str(refused.value) == f"{source}:2: {message}"
