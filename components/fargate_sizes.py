"""The task sizes Fargate runs: which memory sizes (MiB) go with each task cpu size (cpu units).

The one table lives in apps/worker/resources.py (in vCPU and GB, as an algorithm's RESOURCES says it);
this is the same table in the units ECS task definitions take.
"""

from __future__ import annotations

from worker.resources import FARGATE_MEMORY_GB

GB = 1024
MEMORY_BY_CPU: dict[int, tuple[int, ...]] = {
    int(vcpu * 1024): tuple(int(gb * GB) for gb in memory) for vcpu, memory in FARGATE_MEMORY_GB.items()
}


def fargate_memory_choices(cpu: int) -> tuple[int, ...]:
    """The task memory sizes (MiB) Fargate accepts for a task cpu size; empty for an unknown cpu."""
    return MEMORY_BY_CPU.get(cpu, ())
