"""`python -m worker [--drain | --watch | --once | --describe]`: the batch worker's entry point.

Every start publishes the algorithm's description to the job store first (docs/contracts.md), so
the dashboard's batch page shows what the code on disk does; `--describe` does only that.

Between jobs, a draining or watching worker restarts itself (os.execv) when a .py file of the
worker, jobkit or the algorithm changed, so local edits take effect without restarting anything
(in an image the code never changes). Exit codes: 0 after draining, a stop signal or `--once`;
2 when the settings or the algorithm module are wrong (the message says which variable or
module). An algorithm that cannot load is published to the job store as a start failure (the
batch page's banner, the `make dev` terminal: file, error and fix), then waited out: the worker
restarts as soon as the code changes or the package an import missed is installed; under
`--drain` it gives up after a wait that doubles with each failure in a row (WORKER_IDLE_SECONDS,
then twice that... at most START_RETRY_MAX_SECONDS), so a broken image is retried ever less often
instead of crash-looping, and says so.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from types import FrameType

from jobkit import JobStore
from jobkit.logs import configure

from worker.interface import load_algorithm
from worker.runner import Mode, Worker, restart_process
from worker.settings import SettingsError, WorkerSettings
from worker.start_failure import StartFailure, explain
from worker.watch import CodeWatcher, code_paths

log = logging.getLogger("worker")

START_RETRY_MAX_SECONDS = 900.0  # the longest a broken worker waits for a fix before it exits


def parse_args(argv: list[str] | None = None) -> Mode | str:
    parser = argparse.ArgumentParser(prog="python -m worker", description="Run batch jobs from the job store.")
    modes = parser.add_mutually_exclusive_group()
    modes.add_argument("--drain", dest="mode", action="store_const", const=Mode.DRAIN,
                       help="work until no job is claimable for WORKER_IDLE_SECONDS, then exit (default)")
    modes.add_argument("--watch", dest="mode", action="store_const", const=Mode.WATCH,
                       help="local development: never exit when idle (and restart when the code changes)")
    modes.add_argument("--once", dest="mode", action="store_const", const=Mode.ONCE,
                       help="claim at most one job, then exit")
    modes.add_argument("--describe", dest="mode", action="store_const", const="describe",
                       help="publish the algorithm's description to the job store, then exit")
    return parser.parse_args(argv).mode or Mode.DRAIN


def publish_description(store: JobStore, description: dict) -> bool:
    """Tell the dashboard what this algorithm does (a failure is logged: jobs still run)."""
    try:
        store.publish_description(description)
    except Exception as error:  # noqa: BLE001 - the store's or the description's fault; never fatal
        log.warning("could not publish the algorithm's description", extra={"error": str(error)})
        return False
    log.info("algorithm description published", extra={"model_version": description.get("model_version")})
    return True


def install_signal_handlers(worker: Worker) -> None:
    """SIGTERM (ECS stop, Spot interruption) and SIGINT stop the worker; a second one exits at once."""

    def handle(signum: int, _frame: FrameType | None) -> None:
        if worker.stopping:
            raise SystemExit(1)
        worker.request_stop(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


def configure_logging(settings: WorkerSettings) -> None:
    """JSON lines to LOCAL_LOG_DIR/worker.log when set (the laptop), else to stderr (CloudWatch)."""
    stream = None
    if settings.log_dir is not None:
        settings.log_dir.mkdir(parents=True, exist_ok=True)
        stream = open(settings.log_dir / "worker.log", "a", buffering=1, encoding="utf-8")  # noqa: SIM115
    configure("worker", settings.log_level, stream)
    logging.captureWarnings(True)  # library warnings (sklearn's, say) become JSON lines too


def installed(module: str | None) -> Callable[[], bool]:
    """Whether `module` (the one an import missed) can be found now: a `pip install` fixed it."""
    def check() -> bool:
        if not module:
            return False
        importlib.invalidate_caches()
        try:
            return importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            return False
    return check


def wait_for_code_change(settings: WorkerSettings, timeout: float | None = None,
                         fixed: Callable[[], bool] = lambda: False, watcher: CodeWatcher | None = None) -> None:
    """A broken algorithm is waited out: restart once the code changes again (since `watcher`
    looked) or `fixed()` says so (returns after `timeout` seconds without either; None waits for good)."""
    watcher = watcher or CodeWatcher(code_paths(settings.algorithm))
    log.info("waiting for the code to change", extra={"timeout_seconds": timeout})
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # no job is held: just go
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while not (changed := watcher.changed()):
            if fixed():
                changed = ["(the missing package is installed now)"]
                break
            if deadline is not None and time.monotonic() >= deadline:
                return
            time.sleep(settings.poll_seconds)
    except KeyboardInterrupt:
        return
    log.info("code changed; restarting", extra={"files": changed[:10]})
    restart_process()


def retry_wait(settings: WorkerSettings, failures: int) -> float:
    """How long a worker whose algorithm failed to load `failures` times in a row waits for a fix."""
    return min(settings.idle_seconds * 2 ** max(failures - 1, 0), max(START_RETRY_MAX_SECONDS, settings.idle_seconds))


def report_start_failure(settings: WorkerSettings, failure: StartFailure) -> int:
    """Log the failure and publish it for the dashboard; how many times in a row it happened
    (1 when the store cannot be reached: the log line still says it all)."""
    try:
        failures = JobStore(settings.store).publish_start_failure(failure.to_record())
    except Exception as error:  # noqa: BLE001 - the store's fault; the log line below is the record then
        log.warning("could not publish the start failure", extra={"error": str(error)})
        failures = 1
    log.error("the batch algorithm cannot start: " + failure.sentence(),
              extra={**failure.to_record(), "algorithm": settings.algorithm, "failures_in_a_row": failures})
    return failures


def lower_priority(niceness: int) -> int:
    """Run at nice `niceness` at least (never higher priority than now); returns the nice value.
    Absolute rather than added, so a worker that restarts itself (exec) does not sink further."""
    current = os.getpriority(os.PRIO_PROCESS, 0)
    if niceness > current:
        os.setpriority(os.PRIO_PROCESS, 0, niceness)  # on Linux, this thread's: threads started after inherit it
    return os.getpriority(os.PRIO_PROCESS, 0)


def main(argv: list[str] | None = None) -> int:
    mode = parse_args(argv)
    configure("worker")
    try:
        settings = WorkerSettings.from_env()
    except SettingsError as error:
        log.error("invalid worker settings", extra={"error": str(error)})
        return 2
    configure_logging(settings)
    lower_priority(settings.niceness)  # before any thread starts: threads inherit it
    # Looked at before the import: a fix saved while the failure is being published is still a change.
    watcher = CodeWatcher(code_paths(settings.algorithm)) if mode in (Mode.WATCH, Mode.DRAIN) else None
    try:
        algorithm = load_algorithm(settings.algorithm)
    except Exception as error:  # ImportError, SyntaxError, a missing run()...: whatever the edit broke
        log.exception("cannot load the algorithm module", extra={"algorithm": settings.algorithm, "error": str(error)})
        failures = report_start_failure(settings, explain(error, settings.algorithm))
        fixed = installed(error.name if isinstance(error, ModuleNotFoundError) else None)
        if mode is Mode.WATCH:
            wait_for_code_change(settings, fixed=fixed, watcher=watcher)
        elif mode is Mode.DRAIN:
            wait = retry_wait(settings, failures)
            log.warning("waiting for a fix before exiting", extra={"wait_seconds": wait, "failures_in_a_row": failures})
            wait_for_code_change(settings, timeout=wait, fixed=fixed, watcher=watcher)
        return 2
    store = JobStore(settings.store)
    published = publish_description(store, algorithm.description)
    if mode == "describe":
        return 0 if published else 1
    worker = Worker(store, algorithm, settings, mode=Mode(mode), watch_code=mode is not Mode.ONCE)
    install_signal_handlers(worker)
    code = worker.run()
    if worker.stray is not None and worker.stray.thread.is_alive():
        # The algorithm of a released job is still computing; don't wait for it.
        logging.shutdown()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
