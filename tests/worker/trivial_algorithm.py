"""A trivial batch algorithm for the worker's tests (WORKER_ALGORITHM=tests.worker.trivial_algorithm).

It is fast, records every run (one line per run: the input's first line and the pid) to the
file named by TRIVIAL_ALGORITHM_LOG, and behaves as the job's params say:
  ok (default)  result = the input plus a line "done"
  raise         always raises RuntimeError (a poison job)
  invalid       raises InvalidInput
  busy          reports progress `steps` times, `step` seconds apart
  silent        one long step of `seconds` without any progress call
  block_once    the first run anywhere (no `marker` file yet) creates the marker and then
                blocks for `seconds` without progress; later runs succeed at once
  bad_result    returns something that is not a Result
  numpy         a summary holding numpy values
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

from worker.interface import InvalidInput, Progress, Result

MODEL_VERSION = "trivial-1"

log = logging.getLogger("trivial")


def _record(input_csv: bytes) -> None:
    path = os.environ.get("TRIVIAL_ALGORITHM_LOG")
    if path:
        first = input_csv.splitlines()[0].decode() if input_csv else ""
        line = f"{first} {os.getpid()}\n".encode()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)  # one O_APPEND write: lines from several workers never interleave
        finally:
            os.close(fd)


def run(input_csv: bytes, params: dict[str, Any], progress: Progress) -> Any:
    _record(input_csv)
    log.info("trivial algorithm running")
    behaviour = params.get("behaviour", "ok")
    if behaviour == "raise":
        raise RuntimeError("poison: this job always fails")
    if behaviour == "invalid":
        raise InvalidInput("Column 'x' has a non-numeric value 'abc' in row 7.")
    if behaviour == "busy":
        steps = int(params.get("steps", 10))
        for step in range(steps):
            progress(step / steps, f"step {step + 1} of {steps}")
            time.sleep(float(params.get("step", 0.05)))
    if behaviour == "silent":
        time.sleep(float(params["seconds"]))
    if behaviour == "block_once":
        marker = Path(params["marker"])
        if not marker.exists():
            marker.write_text(str(os.getpid()))
            time.sleep(float(params.get("seconds", 60)))
    if behaviour == "bad_result":
        return "not a result"
    summary: dict[str, Any] = {"rows": input_csv.count(b"\n"), "metrics": {}, "charts": []}
    if behaviour == "numpy":
        import numpy as np

        summary["metrics"] = {"mean": np.float64(1.5), "count": np.int64(3)}
        summary["charts"] = [{"data": [{"type": "bar", "y": np.arange(3)}], "layout": {}}]
    return Result(csv=input_csv + b"done\n", summary=summary)
