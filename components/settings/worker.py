"""The batch worker's settings: its size defaults from the algorithm's RESOURCES, and any stack key overrides it.

workerCpu and workerMemoryMb of 0, and workerGpus of -1 (Pulumi.yaml's defaults), mean "what
apps/worker/algorithm.py declares as RESOURCES"; any other value is the stack's own choice.
RESOURCES is read with `ast` (worker.resources.declared), so the program never imports the algorithm.
"""

from __future__ import annotations

from pathlib import Path

from worker.resources import MAX_GPUS, Resources, ResourcesError, declared

from components.settings.groups import WorkerSettings
from components.settings.limits import CAPACITY_PROVIDERS, GPU_SCALE_IN_SECONDS, NAMESPACE, WORKER_COMPUTE
from components.settings.reader import ConfigError, Reader

ALGORITHM = Path(__file__).resolve().parents[2] / "apps" / "worker" / "algorithm.py"
FROM_ALGORITHM_SIZE = 0  # workerCpu / workerMemoryMb
FROM_ALGORITHM_GPUS = -1  # workerGpus


def algorithm_resources(path: Path = ALGORITHM) -> Resources:
    """What the algorithm at `path` declares (ConfigError naming the file when RESOURCES is unreadable)."""
    try:
        return declared(path)
    except (ResourcesError, SyntaxError) as error:
        raise ConfigError(f"{NAMESPACE}:workerCpu: cannot read RESOURCES from {path}: {error}") from None


def worker_settings(read: Reader, algorithm: Path = ALGORITHM) -> WorkerSettings:
    """The worker's group: stack keys where set, else the algorithm's RESOURCES; GPU keys checked together."""
    resources = algorithm_resources(algorithm)
    cpu = read.integer("workerCpu", minimum=0, maximum=16384)
    memory = read.integer("workerMemoryMb", minimum=0, maximum=122880)
    gpus = read.integer("workerGpus", minimum=FROM_ALGORITHM_GPUS, maximum=MAX_GPUS)
    overridden = [key for key, value, unset in (("workerCpu", cpu, FROM_ALGORITHM_SIZE),
                                                 ("workerMemoryMb", memory, FROM_ALGORITHM_SIZE),
                                                 ("workerGpus", gpus, FROM_ALGORITHM_GPUS)) if value != unset]
    sized_by = (f"RESOURCES in {algorithm.name}" if not overridden
                else f"stack keys {', '.join(overridden)}" + ("" if len(overridden) == 3 else
                                                               f" (the rest from RESOURCES in {algorithm.name})"))
    settings = WorkerSettings(
        cpu=cpu if cpu != FROM_ALGORITHM_SIZE else resources.cpu_units,
        memory_mb=memory if memory != FROM_ALGORITHM_SIZE else resources.memory_mb,
        capacity_provider=read.choice("workerCapacityProvider", CAPACITY_PROVIDERS),
        max_workers=read.integer("maxWorkers", minimum=1, maximum=100),
        idle_seconds=read.integer("workerIdleSeconds", minimum=0, maximum=86400),
        heartbeat_seconds=read.integer("workerHeartbeatSeconds", minimum=1, maximum=3600),
        compute=read.choice("workerCompute", WORKER_COMPUTE),
        gpus=gpus if gpus != FROM_ALGORITHM_GPUS else resources.gpus,
        gpu_spot=read.boolean("workerGpuSpot"),
        gpu_scale_in_seconds=read.integer("workerGpuScaleInSeconds", *GPU_SCALE_IN_SECONDS),
        sized_by=sized_by,
    )
    if settings.on_gpu and settings.gpus < 1:
        raise ConfigError(f"{NAMESPACE}:workerGpus: workerCompute gpu needs one GPU or more, and {sized_by} "
                          f"give {settings.gpus}; set workerGpus: 1 (or gpus=1 in RESOURCES)")
    if not settings.on_gpu and settings.gpus > 0:
        raise ConfigError(f"{NAMESPACE}:workerCompute: {sized_by} ask for {settings.gpus} GPU(s) and Fargate has "
                          f"none; set workerCompute: gpu (an ECS Managed Instances GPU worker, docs/gpu.md), "
                          f"or workerGpus: 0 to run the algorithm on Fargate's CPUs")
    return settings
