"""The GPU instances a GPU worker may run on, from deploy/prices.json, and the one ECS would pick first.

Contract: `catalogue(prices) -> list[GpuInstance]`; `cheapest(needs, prices) -> GpuInstance` is the
lowest-priced catalogue instance with at least `needs.vcpu` vCPUs and `needs.memory_mib` MiB and exactly
`needs.gpus` GPUs (what the capacity provider's instance requirements allow; ECS Managed Instances
chooses cost-optimised types). Raises `NoGpuInstance` naming the needs when none fits.
Pre-flight sizes the quota check with it, and `make cost` prices a GPU job with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from components.gpu_worker import GpuNeeds


class NoGpuInstance(LookupError):
    """No catalogued GPU instance meets a worker's needs."""


@dataclass(frozen=True)
class GpuInstance:
    """One EC2 GPU instance type: its size and its us-east-1 On-Demand price per hour."""

    type: str
    vcpu: int
    memory_gib: int
    gpus: int
    gpu: str
    on_demand_hour: float


def catalogue(prices: Mapping[str, Any]) -> list[GpuInstance]:
    return [GpuInstance(**row) for row in prices["gpu_instances"]]


def cheapest(needs: GpuNeeds, prices: Mapping[str, Any]) -> GpuInstance:
    """The cheapest instance meeting `needs` (vCPU and memory minimums, exact GPU count)."""
    fits = [i for i in catalogue(prices)
            if i.vcpu >= needs.vcpu and i.memory_gib * 1024 >= needs.memory_mib and i.gpus == needs.gpus]
    if not fits:
        raise NoGpuInstance(f"no G instance (g4dn, g5, g6) has {needs.gpus} GPU(s), {needs.vcpu}+ vCPUs and "
                            f"{needs.memory_mib}+ MiB; lower the worker's size or its GPU count")
    return min(fits, key=lambda i: i.on_demand_hour)
