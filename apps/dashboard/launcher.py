"""Start batch workers: ECS RunTask in the cloud, a subprocess on a laptop.

After a submit the dashboard calls `ensure_worker()`; a `Reconciler` thread (one per process)
does the same every few seconds while claimable jobs exist, so a failed launch or a dead
worker never leaves a job waiting forever. Workers drain the queue and exit on their own.
A launcher that cannot start workers says so loudly: an error log line with the AWS error, and
`launch_health(launcher)` for the jobs page's banner.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from jobkit import aws
from jobkit.errors import AwsRefused

from dashboard.settings import SECRET_VARIABLES, DashboardSettings, EcsWorkerSettings

log = logging.getLogger("dashboard.launcher")

STARTED_BY = "ml-proto-dashboard"
# The dashboard's own secrets (and where the local one is kept): a worker never needs them, so a
# worker's environment never has them.
DASHBOARD_SECRETS = SECRET_VARIABLES | {"DASHBOARD_SESSION_KEY_FILE"}


def worker_environment(environ: dict[str, str]) -> dict[str, str]:
    """The dashboard's environment less its secrets, for a local worker process."""
    return {name: value for name, value in environ.items() if name not in DASHBOARD_SECRETS}


class Launcher(Protocol):
    max_workers: int

    def running(self) -> int:
        """How many workers are running now."""

    def launch(self) -> None:
        """Start one worker (raises on failure)."""


@dataclass(frozen=True)
class LaunchFailure:
    """Why the last attempt to start a worker failed, and when (time.time())."""

    at: float
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.code else self.message


class LaunchHealth:
    """The last failure to start a worker through one launcher, until a later attempt succeeds.

    One per launcher, so one per dashboard process; each process's reconciler finds a failure on
    its own within one interval. Thread-safe: request threads and the reconciler share it.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._failure: LaunchFailure | None = None
        self._lock = threading.Lock()

    def failed(self, code: str, message: str) -> None:
        with self._lock:
            self._failure = LaunchFailure(self.clock(), code, message)

    def succeeded(self) -> None:
        with self._lock:
            self._failure = None

    def recent_failure(self, within: float = 300.0) -> LaunchFailure | None:
        """The last failure if it happened in the last `within` seconds (stale ones mean nobody
        has tried since: no job was waiting)."""
        with self._lock:
            failure = self._failure
        return failure if failure is not None and self.clock() - failure.at <= within else None


_health: weakref.WeakKeyDictionary[Any, LaunchHealth] = weakref.WeakKeyDictionary()
_health_lock = threading.Lock()


def launch_health(launcher: Launcher) -> LaunchHealth:
    """The LaunchHealth of this launcher object (made on first use)."""
    with _health_lock:
        health = _health.get(launcher)
        if health is None:
            health = _health[launcher] = LaunchHealth()
        return health


def describe_error(error: BaseException) -> tuple[str, str]:
    """(code, message) of a launch failure: AWS's error code and message when AWS refused."""
    if isinstance(error, AwsRefused):
        return error.code or "ClientError", error.message
    if isinstance(error, LaunchRefused):
        return error.code, error.message
    return type(error).__name__, str(error)


def ensure_worker(launcher: Launcher) -> bool:
    """Start a worker unless `max_workers` already run; True when one was started.

    Never raises: a failure is logged as an error with AWS's error code and message, and kept in
    `launch_health(launcher)` until an attempt succeeds. The reconciler tries again.
    """
    health = launch_health(launcher)
    try:
        running = launcher.running()
        if running < launcher.max_workers:
            launcher.launch()
            log.info("worker launched", extra={"running_before": running})
    except Exception as error:  # a stakeholder's submit must not fail because of this
        code, message = describe_error(error)
        health.failed(code, message)
        log.error("workers cannot be started", exc_info=not isinstance(error, (AwsRefused, LaunchRefused)),
                  extra={"error_code": code, "error_message": message,
                         "operation": getattr(error, "operation_name", None)})
        return False
    health.succeeded()
    return running < launcher.max_workers


class SubprocessLauncher:
    """Runs WORKER_COMMAND as a child of this process, in the same process group, so stopping
    the local stack (which signals the group) stops the workers too.

    Every worker it starts carries the marker variable ML_PROTO_LOCAL_WORKER (one value per
    table and log folder), and `running()` counts the live processes of this user that run the
    worker command and carry it: a restarted gunicorn worker, or a second one, sees the workers the
    others started, and another user cannot fake workers (the marker is predictable).
    """

    MARKER = "ML_PROTO_LOCAL_WORKER"

    def __init__(self, command: tuple[str, ...], max_workers: int, log_dir: Path | None,
                 env: dict[str, str] | None = None) -> None:
        self.command, self.max_workers, self.log_dir, self.env = command, max_workers, log_dir, env
        base = self.env if self.env is not None else os.environ
        self.marker = hashlib.sha256(f"{base.get('JOBS_TABLE', '')}|{log_dir}".encode()).hexdigest()[:16]
        self._children: list[subprocess.Popen[bytes]] = []
        self._lock = threading.Lock()

    def running(self) -> int:
        """Live worker processes of this stack, whoever started them."""
        with self._lock:  # reap our own finished children, so they do not linger as zombies
            self._children = [child for child in self._children if child.poll() is None]
            own = {child.pid for child in self._children}
        # Our own live children count even before /proc shows the worker command: between fork and
        # exec a child still reads as this process.
        return len(own | set(worker_processes(self.command, self.MARKER, self.marker)))

    def launch(self) -> None:
        output: Any = subprocess.DEVNULL
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            output = open(self.log_dir / "worker.log", "ab")  # noqa: SIM115 - the child keeps it
        env = worker_environment(self.env if self.env is not None else dict(os.environ))
        try:
            child = subprocess.Popen(  # same process group on purpose: no start_new_session
                list(self.command),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                env={**env, self.MARKER: self.marker},
            )
        finally:
            if output is not subprocess.DEVNULL:
                output.close()
        with self._lock:
            self._children.append(child)
        log.info("worker subprocess started", extra={"pid": child.pid})

    def stop_all(self, timeout: float = 10.0) -> None:
        """Terminate the children this launcher started (tests and shutdown)."""
        with self._lock:
            children, self._children = self._children, []
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def worker_processes(command: tuple[str, ...], name: str, value: str, proc: Path = Path("/proc"),
                     uid: int | None = None) -> list[int]:
    """Pids of live processes owned by `uid` (this process's) that run `command` (its arguments
    after the interpreter, which a worker restarting itself names by its full path) and whose
    environment holds `name=value`. A root dashboard can read everyone's environment: without the
    owner check any local user could start processes with the marker and stop workers starting."""
    owner = os.geteuid() if uid is None else uid
    wanted = f"{name}={value}".encode()
    arguments = [part.encode() for part in command[1:]]
    pids = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid != owner:
                continue
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            environ = (entry / "environ").read_bytes()  # empty for a zombie: it no longer runs
        except OSError:
            continue
        if cmdline[-1:] == [b""]:
            cmdline.pop()
        if cmdline[1:] == arguments and wanted in environ.split(b"\0"):
            pids.append(int(entry.name))
    return pids


class LaunchRefused(RuntimeError):
    """RunTask answered without starting a task (its `failures` say why)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


class EcsLauncher:
    """RunTask of the worker's task definition on Fargate (or Fargate Spot), or on the GPU capacity provider."""

    def __init__(self, ecs: Any, settings: EcsWorkerSettings, max_workers: int) -> None:
        self.ecs, self.settings, self.max_workers = ecs, settings, max_workers

    def running(self) -> int:
        """Workers this dashboard started that are neither stopped nor stopping.

        ListTasks: "When you specify startedBy as the filter, it must be the only filter", so no
        desiredStatus here. It "might" also list recently stopped tasks (moto lists every stopped
        one), so DescribeTasks (up to 100 a call) tells which still run: one extra call at most
        while fewer than 100 workers exist, none when no worker does.
        """
        arns, token = [], None
        while True:
            kwargs: dict[str, Any] = {"cluster": self.settings.cluster, "startedBy": STARTED_BY}
            if token:
                kwargs["nextToken"] = token
            page = aws.answer(self.ecs.list_tasks, **kwargs)
            arns += page.get("taskArns", [])
            token = page.get("nextToken")
            if not token:
                break
        count = 0
        for start in range(0, len(arns), 100):
            tasks = aws.answer(self.ecs.describe_tasks, cluster=self.settings.cluster,
                                tasks=arns[start:start + 100])["tasks"]
            count += sum(1 for task in tasks if "STOPPED" not in (task.get("lastStatus"), task.get("desiredStatus")))
            if count >= self.max_workers:
                break
        return count

    def run_task_kwargs(self) -> dict[str, Any]:
        s = self.settings
        kwargs: dict[str, Any] = {
            "cluster": s.cluster,
            "taskDefinition": s.task_definition,
            "count": 1,
            "startedBy": STARTED_BY,
        }
        # A host-network task (the GPU worker) takes its instance's network: RunTask refuses
        # awsvpcConfiguration for it, and the capacity provider holds the subnets and security group.
        if s.network_mode == "awsvpc":
            vpc: dict[str, Any] = {"subnets": list(s.subnets),
                                   "assignPublicIp": "ENABLED" if s.assign_public_ip else "DISABLED"}
            if s.security_groups:
                vpc["securityGroups"] = list(s.security_groups)
            kwargs["networkConfiguration"] = {"awsvpcConfiguration": vpc}
        if s.capacity_provider == "FARGATE":
            kwargs["launchType"] = "FARGATE"
        else:  # FARGATE_SPOT and the GPU workers' provider take a capacity provider strategy instead
            kwargs["capacityProviderStrategy"] = [{"capacityProvider": s.capacity_provider, "weight": 1}]
        return kwargs

    def launch(self) -> None:
        response = aws.answer(self.ecs.run_task, **self.run_task_kwargs())
        failures = response.get("failures") or []
        if failures or not response.get("tasks"):
            first = failures[0] if failures else {}
            reason = " ".join(filter(None, (first.get("reason"), first.get("detail")))) or "no reason given"
            raise LaunchRefused("RunTaskFailure", f"RunTask started no task: {reason}")
        log.info("worker task started", extra={"task_arn": response["tasks"][0].get("taskArn")})


def make_launcher(settings: DashboardSettings) -> Launcher:
    if settings.launcher == "ecs":
        assert settings.ecs is not None
        return EcsLauncher(aws.client("ecs", settings.region), settings.ecs, settings.max_workers)
    return SubprocessLauncher(settings.worker_command, settings.max_workers, settings.local_log_dir)


class Reconciler:
    """Every `interval` seconds: if a job is claimable and fewer than max workers run, start one."""

    def __init__(self, store: Any, launcher: Launcher, interval: float = 15.0) -> None:
        self.store, self.launcher, self.interval = store, launcher, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> bool:
        """One reconciliation; True when it started a worker."""
        try:
            if not self.store.claimable(limit=1):
                return False
        except Exception:
            log.exception("reconciler could not read the queue")
            return False
        return ensure_worker(self.launcher)

    def start(self) -> Reconciler:
        self._thread = threading.Thread(target=self._run, name="worker-reconciler", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.tick()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
