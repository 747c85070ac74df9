"""Progress from the algorithm, turned into throttled heartbeats that also keep the job's lease.

The algorithm reports progress from its own thread as often as it likes; the supervising thread
calls `beat_if_due()` a few times a second. A heartbeat goes out when there is new progress and
`interval` seconds have passed since the last one, or when `keepalive` seconds have passed
whatever the news (a long step that reports nothing must not lose the lease). A job shorter than
both makes no heartbeat at all: the claim itself set the first lease.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

from jobkit import Job, JobStore, StoreUnavailable

log = logging.getLogger("worker.heartbeat")

_RETRY_AFTER_FAILURE = 1.0


class JobInterrupted(BaseException):  # noqa: N818 - not an error: the worker gave the job up
    """Raised inside the algorithm by `progress()` once the worker has given the job up.

    A BaseException so that an algorithm's own `except Exception` does not swallow it.
    """


class Heartbeat:
    """The latest progress of one job and the rule for when to send it (see module docstring)."""

    def __init__(
        self,
        store: JobStore,
        job: Job,
        *,
        interval: float,
        keepalive: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.job = job
        self.interval = interval
        self.keepalive = keepalive
        self.clock = clock
        self.sent = 0
        self._lock = threading.Lock()
        self._fraction = 0.0
        self._message = ""
        self._news = False
        self._last_sent = clock()
        self._next_try = self._last_sent
        self._interrupted = False

    def progress(self, fraction: float, message: str = "") -> None:
        """The algorithm's callback: record `fraction` (0..1) done and a short message."""
        if self._interrupted:
            raise JobInterrupted("the worker gave this job up")
        value = float(fraction)
        if not math.isfinite(value):
            raise ValueError(f"progress fraction must be a finite number, got {fraction!r}")
        with self._lock:
            self._fraction = min(max(value, 0.0), 1.0)
            self._message = str(message)[:300]
            self._news = True

    def interrupt(self) -> None:
        """Make the algorithm's next `progress()` call raise JobInterrupted."""
        self._interrupted = True

    def due(self) -> bool:
        now = self.clock()
        if now < self._next_try:
            return False
        elapsed = now - self._last_sent
        return elapsed >= self.keepalive or (self._news and elapsed >= self.interval)

    def beat_if_due(self) -> bool:
        """Send a heartbeat if one is due; True if one was sent. Raises LeaseLost if the job
        was cancelled or taken over. An unreachable store is logged and retried shortly."""
        if not self.due():
            return False
        now = self.clock()
        with self._lock:
            fraction, message, self._news = self._fraction, self._message, False
        try:
            self.store.heartbeat(self.job, fraction, message)
        except StoreUnavailable as error:
            log.warning("heartbeat failed; retrying", extra={"error": str(error)})
            self._news = True
            self._next_try = now + _RETRY_AFTER_FAILURE
            return False
        self._last_sent = self._next_try = now
        self.sent += 1
        log.debug("heartbeat", extra={"progress": fraction, "progress_message": message})
        return True
