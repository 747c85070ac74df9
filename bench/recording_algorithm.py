"""The example batch algorithm, recording every run: the fault drill counts executions with it.

Each run appends one line (the SHA-256 of its input) to the file named by DRILL_RUNS_LOG before
it computes anything, so a job run twice shows twice, whether or not its second run completed.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from worker import algorithm
from worker.interface import Progress, Result

from contractkit.tables import column_params

MODEL_VERSION = algorithm.MODEL_VERSION


def run(input_csv: bytes, params: dict[str, Any], progress: Progress) -> Result:
    line = hashlib.sha256(input_csv).hexdigest() + "\n"
    # One O_APPEND write per run: lines from concurrent workers never interleave.
    descriptor = os.open(os.environ["DRILL_RUNS_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, line.encode())
    finally:
        os.close(descriptor)
    # Column parameters (whatever algorithm is there) picked from the table's header, as a stakeholder would.
    return algorithm.run(input_csv, {**column_params(getattr(algorithm, "PARAMS", ()), input_csv), **params},
                         progress)
