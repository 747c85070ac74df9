"""Benchmark 9: the GPU fixture algorithm on this machine (its CPU unless a GPU and torch are there)."""

from __future__ import annotations

import statistics
import time
from typing import Any

from bench.report import Section

ROWS = (60, 5000)
ITERATIONS = 50


def run(repeats: int) -> list[dict[str, Any]]:
    """Median and max seconds of run() on a generated table of each size, and the device it used."""
    from tests.fixtures.algorithms import gpu_matmul
    from tests.fixtures.tables import table_for

    rows = []
    for size in ROWS:
        data, times, result = table_for(gpu_matmul, rows=size), [], None
        for _ in range(repeats):
            start = time.perf_counter()
            result = gpu_matmul.run(data, {"iterations": ITERATIONS}, lambda *_: None)
            times.append(time.perf_counter() - start)
        rows.append({"rows": size, "device": result.summary["metrics"]["device"],
                     "median_ms": round(1000 * statistics.median(times), 1), "max_ms": round(1000 * max(times), 1)})
    return rows


def section(aws: Any, quick: bool) -> Section:
    rows = run(repeats=3 if quick else 5)
    on_gpu = any(row["device"] != "cpu" for row in rows)
    return Section(
        title="9. GPU example algorithm",
        intro=(
            "The GPU fixture algorithm (tests/fixtures/algorithms/gpu_matmul.py, `RESOURCES = Resources(vcpu=2,\n"
            f"memory_gb=8, gpus=1)`) called in-process on a generated table, {ITERATIONS} power-iteration steps,\n"
            "on the device `worker.gpu.device()` finds: CUDA through torch when both are there, else the CPU\n"
            "(numpy when torch is absent; the log says \"no GPU found, running on CPU\")."
        ),
        columns=[("rows", "rows"), ("device", "device"), ("median_ms", "median ms"), ("max_ms", "max ms")],
        rows=rows,
        notes=[] if on_gpu else [
            "No GPU on this machine, so CPU time only. No accelerator machine was lent to the session that\n"
            "wrote this section (device status not_drawn): the same job on a GPU worker (workerCompute: gpu,\n"
            "torch with CUDA) is not measured here."
        ],
    )
