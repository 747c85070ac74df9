"""What one batch job needs: vCPUs, memory and GPUs, declared as `RESOURCES` beside `INPUT` in algorithm.py.

Contract:
- `Resources(vcpu, memory_gb, gpus)` is a frozen value; `cpu_units` and `memory_mb` are what ECS takes.
- `problems(resources) -> list[str]`: empty when the size is one the stack can run, else one message per
  problem, each naming the field and the values allowed. A CPU-only worker (gpus == 0) runs on Fargate,
  so only Fargate's cpu/memory pairs pass (0.25 to 16 vCPU, up to 120 GB). A GPU worker (gpus >= 1)
  runs on an ECS Managed Instances GPU instance; its vcpu/memory are still held to Fargate's pairs so one
  algorithm keeps one size whichever worker runs it (and the instance requirements follow from them).
- `declared(path) -> Resources`: the `RESOURCES = Resources(...)` literal of an algorithm file, read with
  `ast` -- the stack program and `make check` learn the size without importing the algorithm's own
  dependencies (numpy, scikit-learn, torch...). A file without RESOURCES gets `DEFAULT`.
  A RESOURCES that is not a literal call with number arguments raises `ResourcesError`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

# Fargate task sizes: vCPU -> the memory sizes (GB) it runs with (AWS Fargate task CPU and memory table).
FARGATE_MEMORY_GB: dict[float, tuple[float, ...]] = {
    0.25: (0.5, 1, 2),
    0.5: (1, 2, 3, 4),
    1: tuple(range(2, 9)),
    2: tuple(range(4, 17)),
    4: tuple(range(8, 31)),
    8: tuple(range(16, 61, 4)),
    16: tuple(range(32, 121, 8)),
}
MAX_GPUS = 8  # the most NVIDIA GPUs one EC2 instance carries (p4d/p5/g5.48xlarge)


class ResourcesError(ValueError):
    """RESOURCES in an algorithm file could not be read; the message names the file and line."""


@dataclass(frozen=True)
class Resources:
    """One job's needs: `vcpu` virtual CPUs, `memory_gb` GB of memory, `gpus` NVIDIA GPUs (0: CPU only)."""

    vcpu: float = 1
    memory_gb: float = 2
    gpus: int = 0

    @property
    def cpu_units(self) -> int:
        """ECS task cpu (1024 units per vCPU)."""
        return int(round(self.vcpu * 1024))

    @property
    def memory_mb(self) -> int:
        """ECS task memory in MiB."""
        return int(round(self.memory_gb * 1024))


DEFAULT = Resources()


def _number(value: float) -> str:
    return f"{value:g}"


def problems(resources: Resources) -> list[str]:
    """Why the stack cannot run a worker of this size; empty when it can."""
    found: list[str] = []
    r = resources
    if isinstance(r.gpus, bool) or not isinstance(r.gpus, int) or not 0 <= r.gpus <= MAX_GPUS:
        found.append(f"RESOURCES.gpus={r.gpus!r} is not a whole number of GPUs from 0 to {MAX_GPUS}")
    sizes = ", ".join(_number(v) for v in FARGATE_MEMORY_GB)
    if r.vcpu not in FARGATE_MEMORY_GB:
        found.append(f"RESOURCES.vcpu={r.vcpu!r} is not a Fargate task size; use one of {sizes} vCPU")
        return found
    allowed = FARGATE_MEMORY_GB[r.vcpu]
    if r.memory_gb not in allowed:
        found.append(f"RESOURCES.memory_gb={r.memory_gb!r} does not go with vcpu={_number(r.vcpu)} on Fargate; "
                     f"with {_number(r.vcpu)} vCPU use one of {', '.join(map(_number, allowed))} GB "
                     f"(more memory needs more vCPU: up to 120 GB with 16 vCPU)")
    return found


def declared(path: Path) -> Resources:
    """The RESOURCES literal of the algorithm file at `path` (DEFAULT when it declares none)."""
    path = Path(path)
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in tree.body:
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, ast.AnnAssign) and node.value is not None else [])
        if not any(isinstance(t, ast.Name) and t.id == "RESOURCES" for t in targets):
            continue
        value = node.value
        where = f"{path}:{node.lineno}"
        if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "Resources"):
            raise ResourcesError(f"{where}: RESOURCES must be written as Resources(vcpu=..., memory_gb=..., gpus=...)")
        fields = ("vcpu", "memory_gb", "gpus")
        given: dict[str, float] = {}
        for name, arg in [*zip(fields, value.args, strict=False), *((k.arg, k.value) for k in value.keywords)]:
            if name not in fields:
                raise ResourcesError(f"{where}: Resources() takes vcpu, memory_gb and gpus, not {name}")
            try:
                number = ast.literal_eval(arg)
            except ValueError:
                raise ResourcesError(f"{where}: Resources({name}=...) must be a plain number") from None
            if isinstance(number, bool) or not isinstance(number, (int, float)):
                raise ResourcesError(f"{where}: Resources({name}={number!r}) must be a number")
            given[name] = number
        return Resources(**given)  # type: ignore[arg-type]
    return DEFAULT
