"""The lines the `make dev` terminal gets when the data scientist's code breaks: a model that
cannot answer or start (from the local Lambda's function errors) and a batch algorithm that
cannot start or fails every job (from the start failure its worker publishes to the job table).

One line each, naming the file, the error and the fix; a repeat of the same line within
`quiet_seconds` is not printed again (every invoke of a model whose init fails reports it).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dashboard.function_errors import classify
from worker.start_failure import PACKAGE_NAMES

_MISSING = re.compile(r"No module named '([^']+)'")


def _fix_for_model(message: str, where: str) -> str:
    missing = _MISSING.search(message)
    if missing:
        top = missing.group(1).split(".")[0]
        return f"add {PACKAGE_NAMES.get(top, top)} to apps/predictor/requirements.in, then make lock"
    return f"fix apps/{where.split(' in ')[0]}" if where else "see the traceback in predictor.log"


class TerminalReports:
    """Turns what broke into terminal lines for `report` (thread-safe: invokes run on many threads)."""

    def __init__(self, report: Callable[[str], None], log_dir: Path, quiet_seconds: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.report, self.log_dir, self.quiet_seconds, self.clock = report, log_dir, quiet_seconds, clock
        self._said: dict[str, float] = {}
        self._lock = threading.Lock()
        self._start_failure: tuple[Any, ...] | None = None

    def _say(self, line: str, key: str | None = None) -> None:
        now = self.clock()
        with self._lock:
            last = self._said.get(key or line)
            if last is not None and now - last < self.quiet_seconds:
                return
            self._said[key or line] = now
        self.report(line)

    # --- the predictor --------------------------------------------------------------------

    def function_error(self, body: bytes, request_id: str, action: str) -> None:
        """One function error of the local Lambda (its Invoke answer's payload)."""
        failure = classify(body, action)
        log = self.log_dir / "predictor.log"
        where = f"apps/{failure.where}" if failure.where else ""
        if failure.kind == "timeout":
            self._say(f"The model did not answer in time (request {request_id}): {failure.message}",
                      key="model-timeout")
        elif failure.kind == "cannot_start":
            self._say(f"The model cannot start: {failure.error_type}: {failure.message}"
                      + (f" ({where})" if where else "")
                      + f". Fix: {_fix_for_model(failure.message, failure.where)}. Traceback in {log}.",
                      key=f"model-start:{failure.error_type}:{failure.message}")
        elif failure.kind == "code":
            self._say(f"The model could not answer a request: {failure.error_type}: {failure.message}"
                      + (f" at {where}" if where else "")
                      + f" (request {request_id}; traceback in {log}).",
                      key=f"model-code:{failure.error_type}:{failure.where}")

    # --- the batch worker -----------------------------------------------------------------

    def start_failure(self, failure: dict[str, Any] | None) -> None:
        """What the job table says about the batch algorithm now (polled by the supervisor)."""
        if failure is None:
            if self._start_failure is not None:
                self._start_failure = None
                self.report("The batch algorithm starts again.")
            return
        same = (failure.get("kind"), failure.get("file"), failure.get("line"), failure.get("error"))
        count = int(failure.get("failures", 1))
        if self._start_failure is not None and self._start_failure[0] == same:
            if count != self._start_failure[1]:
                self._start_failure = (same, count)
                self.report(f"The batch algorithm still cannot start (tried {count} times in a row; each retry "
                            "waits longer, an edit retries at once).")
            return
        self._start_failure = (same, count)
        head = ("The batch algorithm fails every job" if failure.get("kind") == "every_job"
                else "The batch algorithm cannot start")
        where = f"{failure.get('file')} line {failure['line']}" if failure.get("line") else failure.get("file")
        self.report(f"{head}: {failure.get('error')} ({where}). Fix: {failure.get('fix')}. "
                    f"Jobs wait until then; traceback in {self.log_dir / 'worker.log'}.")
