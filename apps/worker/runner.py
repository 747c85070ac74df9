"""The drain loop: claim a job, run the algorithm under a supervisor, record the outcome, repeat.

One job at a time. The algorithm runs in a thread of its own while this (main) thread heartbeats,
watches for a stop request (SIGTERM) and for the job being taken away (LeaseLost). On a stop it
hands the job back with `release` and returns at once, so the process exits within Fargate's
stop timeout even while the algorithm is deep inside a long computation.
"""

from __future__ import annotations

import contextvars
import enum
import json
import logging
import os
import secrets
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from jobkit import Job, JobStatus, JobStore, LeaseLost, StoreUnavailable
from jobkit.errors import ObjectMissing
from jobkit.logs import log_context

from worker.failure_streak import FailureStreak
from worker.heartbeat import Heartbeat
from worker.interface import Algorithm
from worker.settings import WorkerSettings
from worker.tabular import safe_csv
from worker.watch import CodeWatcher, code_paths

log = logging.getLogger("worker.runner")

_TICK = 0.1  # how often the supervisor looks at the algorithm, the stop flag and the heartbeat
_MAX_ERROR = 500


class Mode(str, enum.Enum):
    DRAIN = "drain"  # work until the queue stays empty for the idle grace period, then exit
    WATCH = "watch"  # local development: never exit when idle
    ONCE = "once"  # claim at most one job, then exit


class Outcome(str, enum.Enum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    RETRY = "retry"  # failed an attempt; the job store will offer it again later
    RELEASED = "released"  # handed back because the worker is stopping
    ABANDONED = "abandoned"  # cancelled or taken over: someone else owns it now
    LEFT = "left"  # the job store was unreachable; the lease will expire and it will be retried


def make_worker_id() -> str:
    """hostname-pid-random: unique per process, and readable in the job table and the logs."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


def restart_process() -> None:
    """Replace this process with a fresh run of the same command line (picks up code edits)."""
    for handler in logging.getLogger().handlers:
        handler.flush()
    os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])  # noqa: S606 - our own command


class AlgorithmRun:
    """The algorithm running on one job's input in a daemon thread (logs keep the job id)."""

    def __init__(self, algorithm: Algorithm, data: bytes, params: dict[str, Any], progress: Any) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        context = contextvars.copy_context()
        self.thread = threading.Thread(
            target=context.run,
            args=(self._main, algorithm, data, params, progress),
            name="algorithm",
            daemon=True,
        )
        self.thread.start()

    def _main(self, algorithm: Algorithm, data: bytes, params: dict[str, Any], progress: Any) -> None:
        try:
            self.result = algorithm.run(data, params, progress)
        except BaseException as error:  # noqa: BLE001 - handed to the supervisor, which decides
            self.error = error

    def wait(self, timeout: float) -> bool:
        """True once the algorithm has returned or raised."""
        self.thread.join(timeout)
        return not self.thread.is_alive()


class Worker:
    """Claims and runs jobs until told to stop or, in drain mode, until idle for long enough."""

    def __init__(
        self,
        store: JobStore,
        algorithm: Algorithm,
        settings: WorkerSettings,
        *,
        mode: Mode = Mode.DRAIN,
        worker_id: str | None = None,
        watch_code: bool = False,
        restart: Callable[[], None] = restart_process,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.algorithm = algorithm
        self.settings = settings
        self.mode = mode
        self.worker_id = worker_id or make_worker_id()
        self.watch_code = watch_code
        self.restart = restart
        self.clock = clock
        self.stopping = False
        self.stop_reason = ""
        self.outcomes: list[Outcome] = []
        self.stray: AlgorithmRun | None = None  # an algorithm still running after we gave up its job
        self._watcher: CodeWatcher | None = None
        self.streak = FailureStreak(store, algorithm.name)  # fails every job: said on the batch page

    # --- lifecycle -------------------------------------------------------------------------

    def request_stop(self, reason: str = "stop requested") -> None:
        """Stop claiming; a running job is released. Safe to call from a signal handler."""
        self.stop_reason = reason
        self.stopping = True

    def run(self) -> int:
        """Work according to the mode; returns the process exit code (0)."""
        if self.watch_code:
            self._watcher = CodeWatcher(code_paths(self.algorithm.name))
        log.info(
            "worker started",
            extra={
                "worker_id": self.worker_id,
                "mode": self.mode.value,
                "algorithm": self.algorithm.name,
                "model_version": self.algorithm.model_version,
                "idle_seconds": self.settings.idle_seconds,
                "lease_seconds": self.settings.store.lease_seconds,
            },
        )
        idle_since = self.clock()
        while not self.stopping:
            self._restart_if_code_changed()
            job = self._claim()
            if job is not None:
                self.outcomes.append(self.process(job))
                idle_since = self.clock()
                if self.mode is Mode.ONCE:
                    break
                continue
            if self.mode is Mode.ONCE:
                break
            idle = self.clock() - idle_since
            if self.mode is Mode.DRAIN and idle >= self.settings.idle_seconds:
                log.info("no claimable job for the idle grace period; exiting", extra={"idle_seconds": round(idle, 1)})
                break
            self._pause(self.settings.poll_seconds)
        if self.stopping:
            log.info("worker stopping", extra={"reason": self.stop_reason})
        outcomes = [outcome.value for outcome in self.outcomes]
        log.info("worker exiting", extra={"worker_id": self.worker_id, "jobs": len(outcomes), "outcomes": outcomes})
        return 0

    def _claim(self) -> Job | None:
        try:
            return self.store.claim(self.worker_id)
        except StoreUnavailable as error:
            log.error("cannot reach the job store to claim a job", extra={"error": str(error)})
            return None

    def _pause(self, seconds: float) -> None:
        # Short sleeps, not an Event: a signal handler may not take a lock the main thread holds.
        deadline = self.clock() + seconds
        while not self.stopping and (left := deadline - self.clock()) > 0:
            time.sleep(min(_TICK, left))

    def _restart_if_code_changed(self) -> None:
        if self._watcher is None:
            return
        changed = self._watcher.changed()
        if changed:
            log.info("code changed; restarting", extra={"files": changed[:10]})
            self.restart()

    # --- one job -------------------------------------------------------------------------

    def process(self, job: Job) -> Outcome:
        """Run one claimed job to an outcome; never raises for anything the job or AWS does."""
        with log_context(job_id=job.job_id):
            started = self.clock()
            log.info("job started", extra={"attempt": job.attempts, "max_attempts": job.max_attempts})
            try:
                outcome = self._execute(job)
            except LeaseLost:
                log.info("job abandoned: it was cancelled or another worker holds it now")
                outcome = Outcome.ABANDONED
            except StoreUnavailable as error:
                log.error(
                    "job left to be retried: the job store is unavailable; its lease will expire",
                    extra={"error": str(error)},
                )
                outcome = Outcome.LEFT
            except Exception:  # a bug here must not take the worker down: the lease will expire
                log.exception("unexpected error while running the job; it will be retried after its lease")
                outcome = Outcome.LEFT
            log.info("job finished", extra={"outcome": outcome.value, "seconds": round(self.clock() - started, 3)})
            if outcome is Outcome.SUCCEEDED:
                self.streak.succeeded()
            return outcome

    def _execute(self, job: Job) -> Outcome:
        if not isinstance(job.params, dict):
            self.store.fail(job, "The job's parameters must be a JSON object.", retryable=False)
            return Outcome.FAILED
        try:
            data = self.store.read_input(job)
        except ObjectMissing as error:  # NoSuchKey, or AccessDenied without s3:ListBucket: trying again cannot help
            log.error("the job's input cannot be read", extra={"error_code": error.code, "key": job.input_key})
            self.store.fail(job, "The job's input file is missing; submit it again.", retryable=False)
            return Outcome.FAILED
        beat = Heartbeat(
            self.store,
            job,
            interval=self.settings.heartbeat_seconds,
            keepalive=self.settings.keepalive_seconds,
            clock=self.clock,
        )
        run = AlgorithmRun(self.algorithm, data, dict(job.params), beat.progress)
        while not run.wait(_TICK):
            if self.stopping:
                beat.interrupt()
                self.stray = run
                self.store.release(job)
                return Outcome.RELEASED
            try:
                beat.beat_if_due()
            except LeaseLost:
                beat.interrupt()
                self._wait_for_interrupted(run)
                raise
        if run.error is not None:
            return self._failed(job, run.error)
        try:
            csv_bytes, summary = checked_result(run.result, self.algorithm.model_version)
        except (TypeError, ValueError) as error:
            return self._failed(job, error)
        self.store.write_result(job, csv_bytes, summary)
        self.store.complete(job, self.algorithm.model_version)
        return Outcome.SUCCEEDED

    def _wait_for_interrupted(self, run: AlgorithmRun) -> None:
        """Let the algorithm reach its next progress call (and stop) before the next job starts."""
        log.info("job taken away; waiting for the algorithm to stop")
        while not run.wait(_TICK):
            if self.stopping:
                self.stray = run
                return

    def _failed(self, job: Job, error: BaseException) -> Outcome:
        if isinstance(error, self.algorithm.invalid_input):
            message = str(error) or "The input is not valid."
            log.warning("job input is invalid", extra={"error": message})
            self.store.fail(job, message, retryable=False)
            return Outcome.FAILED
        log.error(
            "the algorithm raised an exception",
            exc_info=(type(error), error, error.__traceback__),
            extra={"attempt": job.attempts},
        )
        self.streak.failed(job.job_id, error)
        message = f"The algorithm failed: {type(error).__name__}: {error}"
        if len(message) > _MAX_ERROR:
            message = message[: _MAX_ERROR - 1] + "…"
        updated = self.store.fail(job, message)
        return Outcome.RETRY if updated.status is JobStatus.PENDING else Outcome.FAILED


def checked_result(result: Any, model_version: str) -> tuple[bytes, dict[str, Any]]:
    """What the worker stores for a `run()` result: its CSV with every formula-like text cell
    neutralised (whoever wrote the CSV: `write_csv` or the algorithm by hand) and a plain-JSON copy
    of its summary; TypeError or ValueError saying what is wrong with the result."""
    csv_bytes, summary = getattr(result, "csv", None), getattr(result, "summary", None)
    if not isinstance(csv_bytes, bytes) or not isinstance(summary, dict):
        raise TypeError(f"run() returned {type(result).__name__}; it must return Result(csv=bytes, summary=dict)")
    plain = json.loads(json.dumps(summary, default=_plain))
    plain.setdefault("model_version", model_version)
    return safe_csv(csv_bytes), plain


def _plain(value: Any) -> Any:
    """numpy scalars and arrays (and anything else with item()/tolist()) as plain JSON values."""
    for method in ("tolist", "item"):
        if hasattr(value, method):
            return getattr(value, method)()
    raise TypeError(f"the summary holds a {type(value).__name__}, which is not JSON")
