"""The task sizes Fargate runs: which memory sizes (MiB) go with each task cpu size (cpu units)."""

from __future__ import annotations

GB = 1024
MEMORY_BY_CPU: dict[int, tuple[int, ...]] = {
    256: (512, 1 * GB, 2 * GB),
    512: tuple(range(1 * GB, 4 * GB + 1, GB)),
    1024: tuple(range(2 * GB, 8 * GB + 1, GB)),
    2048: tuple(range(4 * GB, 16 * GB + 1, GB)),
    4096: tuple(range(8 * GB, 30 * GB + 1, GB)),
    8192: tuple(range(16 * GB, 60 * GB + 1, 4 * GB)),
    16384: tuple(range(32 * GB, 120 * GB + 1, 8 * GB)),
}


def fargate_memory_choices(cpu: int) -> tuple[int, ...]:
    """The task memory sizes (MiB) Fargate accepts for a task cpu size; empty for an unknown cpu."""
    return MEMORY_BY_CPU.get(cpu, ())
