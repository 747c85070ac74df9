"""A batch algorithm that does no work, so benchmarks measure the framework's own overhead."""

from __future__ import annotations

from typing import Any

from worker.interface import Progress, Result

MODEL_VERSION = "trivial-1"


def run(input_csv: bytes, params: dict[str, Any], progress: Progress) -> Result:
    """Echo the input as the result, with an empty summary."""
    summary = {"model_version": MODEL_VERSION, "rows": input_csv.count(b"\n") - 1, "metrics": {}, "charts": []}
    return Result(csv=input_csv, summary=summary)
