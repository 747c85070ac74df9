"""How `ml-proto submit --wait` shows a job's progress: a bar on a terminal, plain lines elsewhere."""

from __future__ import annotations

import shutil
from typing import IO

from jobkit import Job


class ProgressView:
    """Call with each new state of the job; `close()` ends the bar's line. Writes to `stream`."""

    def __init__(self, stream: IO[str], tty: bool | None = None) -> None:
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self._last_line = ""
        self._open = False

    def __call__(self, job: Job) -> None:
        status = job.status.value
        message = job.message or job.error or ""
        if self.tty:
            width = max(10, min(30, shutil.get_terminal_size((80, 20)).columns - 50))
            filled = int(round(job.progress * width))
            line = f"\r{job.job_id[:8]} [{'#' * filled}{'.' * (width - filled)}] {job.progress:4.0%} {status:<9} " \
                   f"{message}"[:200]
            pad = max(0, len(self._last_line) - len(line))
            self.stream.write(line + " " * pad)
            self._last_line, self._open = line, True
        else:
            line = f"{job.job_id} {status} {job.progress:.0%} {message}".rstrip()
            if line == self._last_line:
                return
            self.stream.write(line + "\n")
            self._last_line = line
        self.stream.flush()

    def close(self) -> None:
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False
