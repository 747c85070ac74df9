"""DevStack: the whole prototype on one machine, no AWS account.

moto's server (in this process) is the local AWS; the predictor runs behind a local endpoint that
speaks the Lambda Invoke API; the dashboard runs under gunicorn exactly as in its container; the
dashboard's subprocess launcher starts `python -m worker --drain` processes on demand, as ECS
RunTask does in the cloud. Every app gets the same environment variables Pulumi sets in the cloud.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable

from dashboard.settings import SECRET_VARIABLES, DashboardSettings, ServerSettings
from jobkit import JobStore, StoreSettings
from jobkit.settings import merge_env
from predictor.settings import PredictorSettings
from worker.settings import WorkerSettings

from devstack import process_record, target_file
from devstack.lambda_server import LambdaServer
from devstack.local_aws import LOCAL_CREDENTIALS, LocalAws, bootstrap, local_client
from devstack.reports import TerminalReports
from devstack.settings import DevSettings

log = logging.getLogger("devstack")

DASHBOARD_COMMAND_MARK = "dashboard.app:server"  # how a recorded group's leader is recognised
HEALTH_TIMEOUT_SECONDS = 5.0  # one /health probe; the dashboard answers it without any AWS call
HUNG_AFTER_PROBES = 3  # consecutive unanswered probes before a running dashboard counts as hung


class DevStack:
    """Start with `start()` (returns once the dashboard's /health answers), stop with `stop()`."""

    def __init__(self, settings: DevSettings | None = None, report: Callable[[str], None] | None = None) -> None:
        """`report` gets the lines meant for the `make dev` terminal (default: the log)."""
        self.settings = settings or DevSettings()
        self.report = report or (lambda line: log.warning(line))
        self.reasons: dict[str, str] = {}  # why dead_parts() named each part
        self.reports = TerminalReports(self.report, self.settings.log_dir)
        self._unanswered_probes = 0
        self._aws: LocalAws | None = None
        self._lambda: LambdaServer | None = None
        self._dashboard: subprocess.Popen[bytes] | None = None
        self.resting: set[str] = set()  # parts stopped on purpose (the local sleep): not dead
        self._store: JobStore | None = None

    # --- what the apps see ----------------------------------------------------------------

    @property
    def login(self) -> tuple[str, str]:
        """The local dashboard login: (user, password)."""
        return self.settings.user, self.settings.login_password()

    def app_env(self, app: str | None = None) -> dict[str, str]:
        """The environment of one local app process -- "dashboard", "predictor" or "worker" -- as the
        app's own settings write it (`to_env()`, as in the cloud), plus boto3's local endpoints.

        The dashboard's includes the worker's (the workers it starts inherit it, less its logins).
        Without `app`: what every non-dashboard process may see, all apps' variables but no logins.
        """
        s = self.settings
        store = StoreSettings(table=s.table, bucket=s.bucket, region=s.region)
        worker = WorkerSettings(store=store, idle_seconds=s.worker_idle_seconds, log_level=s.log_level,
                                log_dir=s.log_dir, niceness=s.worker_niceness)
        # As on Lambda, the model artifact is built into the function's image: no MODEL_DIR.
        predictor = PredictorSettings(log_level=s.log_level)
        dashboard = DashboardSettings(
            store=store,
            logins={s.user: s.login_password()},
            predictor_function=s.function_name,
            region=s.region,
            launcher="subprocess",
            max_workers=s.max_workers,
            worker_command=(sys.executable, "-m", "worker", "--drain"),
            local_log_dir=s.log_dir,
            log_level=s.log_level,
            predictor_timeout_seconds=s.predictor_timeout_seconds + 5,  # as in the cloud: the function's, plus a margin
            proxy_hops=0,  # nothing stands in front locally: X-Forwarded-For is the caller's own
            session_key_file=s.state_dir / "session-key",
        )
        server = ServerSettings(bind=f"{s.host}:{s.dashboard_port}", workers=1, threads=16,
                                log_level=s.log_level.lower())
        envs = {
            "worker": [worker.to_env()],
            "predictor": [predictor.to_env()],
            "dashboard": [dashboard.to_env(), server.to_env(), worker.to_env()],
        }
        if app is None:
            written = {name: value for name, value in merge_env(*(e for group in envs.values() for e in group)).items()
                       if name not in SECRET_VARIABLES}
        else:
            written = merge_env(*envs[app])
        return {
            **LOCAL_CREDENTIALS,
            "PYTHONPATH": str(s.apps_dir),
            "PYTHONUNBUFFERED": "1",
            "AWS_REGION": s.region,  # Lambda sets it for the predictor; the others write it themselves
            "AWS_DEFAULT_REGION": s.region,
            "AWS_ENDPOINT_URL": s.aws_url,
            "AWS_ENDPOINT_URL_LAMBDA": s.lambda_url,
            **written,
            **s.extra_env,
        }

    @property
    def aws(self) -> LocalAws:
        """The embedded local AWS (call counts, fault injection); only while started."""
        assert self._aws is not None, "start() the stack first"
        return self._aws

    @property
    def lambda_server(self) -> LambdaServer:
        """The local Lambda endpoint (fault injection); only while started."""
        assert self._lambda is not None, "start() the stack first"
        return self._lambda

    @property
    def store(self) -> JobStore:
        """A JobStore on the local table and bucket (for tests and scripts)."""
        if self._store is None:
            s = self.settings
            self._store = JobStore(
                StoreSettings(table=s.table, bucket=s.bucket, region=s.region),
                dynamodb=local_client("dynamodb", s.aws_url, s.region),
                s3=local_client("s3", s.aws_url, s.region),
            )
        return self._store

    def client_target(self) -> dict[str, object]:
        """What `.devstack/target.json` holds for scripted clients (devstack/target_file.py)."""
        s = self.settings
        return {
            "aws_url": s.aws_url,
            "lambda_url": s.lambda_url,
            "dashboard_url": s.dashboard_url,
            "region": s.region,
            "table": s.table,
            "bucket": s.bucket,
            "function_name": s.function_name,
            "predictor_timeout_seconds": s.predictor_timeout_seconds,
            "worker": {
                "command": [sys.executable, "-m", "worker", "--drain"],
                "max_workers": s.max_workers,
                "log_dir": str(s.log_dir),
                "env": self.app_env("worker"),
            },
        }

    # --- lifecycle ------------------------------------------------------------------------

    def start(self, timeout: float = 90.0) -> None:
        s = self.settings
        s.prepare_state_dir()  # owner-only: the recording, logs and keys are nobody else's
        env = self.app_env("dashboard")
        ended = process_record.reap(s.state_dir)
        if ended:
            self.report(f"Ended what a killed `make dev` left running (process groups {', '.join(map(str, ended))}).")
        if _listening(s.host, s.dashboard_port):
            raise RuntimeError(f"Port {s.dashboard_port} is already in use by another program: stop it, "
                               "or set DASHBOARD_PORT to a free port")
        try:
            self._aws = LocalAws(s.host, s.aws_port).start()
            bootstrap(s.aws_url, s.region, s.table, s.bucket)
            self._lambda = LambdaServer(
                host=s.host,
                port=s.lambda_port,
                apps_dir=s.apps_dir,
                function_name=s.function_name,
                env=self.app_env("predictor"),
                instances=s.lambda_instances,
                timeout_seconds=s.predictor_timeout_seconds,
                memory_mb=s.predictor_memory_mb,
                log_path=s.log_dir / "predictor.log",
                build_cache=s.state_dir / "lambda-build-cache",
                prewarm=True,
                on_function_error=self.reports.function_error,
            )
            self._lambda.start()
            self._start_dashboard(env)
            self._wait_healthy(timeout)
            target_file.write(s.state_dir, self.client_target())
        except BaseException:
            self.stop()
            raise

    def _start_dashboard(self, env: dict[str, str]) -> None:
        s = self.settings
        log_file = open(s.log_dir / "dashboard.log", "ab")  # noqa: SIM115 - handed to the child
        command = [
            sys.executable, "-m", "gunicorn",
            "--config", "python:dashboard.gunicorn_conf",
            "--bind", f"{s.host}:{s.dashboard_port}",
            "dashboard.app:server",
        ]
        # A session of its own: stop() ends the dashboard and every worker it launched at once.
        self._dashboard = subprocess.Popen(
            command,
            env={**os.environ, **env},
            cwd=s.state_dir,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log_file.close()
        # Recorded so that the next start can end it if this process is killed (SIGKILL runs no cleanup).
        process_record.record(s.state_dir, [process_record.Group(self._dashboard.pid, DASHBOARD_COMMAND_MARK)])

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        url = f"{self.settings.dashboard_url}/health"
        while time.monotonic() < deadline:
            if self._dashboard and self._dashboard.poll() is not None:
                raise RuntimeError(
                    f"The dashboard exited with code {self._dashboard.returncode}; "
                    f"see {self.settings.log_dir / 'dashboard.log'}"
                )
            try:
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise TimeoutError(f"The dashboard did not answer {url} within {timeout:.0f}s")

    # --- supervision: what dies is reported and restarted ---------------------------------

    def dead_parts(self) -> list[str]:
        """The started parts that no longer serve: "local AWS", "Lambda endpoint", "dashboard"
        (exited, not listening, or not answering /health over HTTP: a hung one); `reasons` says which."""
        s = self.settings
        self.reasons = {}
        if self._aws is not None and not _listening(s.host, s.aws_port):
            self.reasons["local AWS"] = "stopped"
        if self._lambda is not None and not _listening(s.host, s.lambda_port):
            self.reasons["Lambda endpoint"] = "stopped"
        if self._dashboard is not None and "dashboard" not in self.resting:
            if self._dashboard.poll() is not None or not _listening(s.host, s.dashboard_port):
                self.reasons["dashboard"] = "stopped"
                self._unanswered_probes = 0
            elif _answers_health(f"{s.dashboard_url}/health", HEALTH_TIMEOUT_SECONDS):
                self._unanswered_probes = 0
            else:
                # The port accepts (the kernel does that for a stopped process too) but nothing answers.
                self._unanswered_probes += 1
                if self._unanswered_probes >= HUNG_AFTER_PROBES:
                    self.reasons["dashboard"] = (f"is not answering /health (hung: {self._unanswered_probes} probes "
                                                 f"of {HEALTH_TIMEOUT_SECONDS:.0f}s unanswered)")
                    self._unanswered_probes = 0
        return [part for part in self.reasons if part not in self.resting]

    # --- the local sleep (devstack/sleep.py) stops and starts the dashboard ---------------

    def stop_dashboard(self) -> None:
        """Stop the dashboard with its workers; the supervisor leaves it stopped until start_dashboard()."""
        self.resting.add("dashboard")
        if self._dashboard is not None:
            _stop_group(self._dashboard)
            self._dashboard.wait()

    def start_dashboard(self) -> None:
        """Start the dashboard again; returns at once. It stays `resting` (unsupervised) until the caller,
        having seen its /health answer, discards it from there."""
        self._start_dashboard(self.app_env("dashboard"))

    def dashboard_pid(self) -> int | None:
        """The dashboard's process (and process group) id while it runs."""
        return self._dashboard.pid if self._dashboard is not None and self._dashboard.poll() is None else None

    def restart(self, part: str, timeout: float = 90.0) -> None:
        """Start one dead part again (moto's state lives in this process, so the local AWS keeps it)."""
        if part == "local AWS":
            self.aws.stop()
            self.aws.start()
        elif part == "Lambda endpoint":
            self.lambda_server.stop()
            self.lambda_server.start()
        elif part == "dashboard":
            assert self._dashboard is not None
            _stop_group(self._dashboard)  # whatever is left of it: orphaned gunicorn workers
            self._dashboard.wait()
            self._start_dashboard(self.app_env("dashboard"))
            self._wait_healthy(timeout)
        else:
            raise ValueError(f"Not a part of the local stack: {part!r}")

    def supervise(self, stop: threading.Event, report: Callable[[str], None], interval: float = 1.0,
                  tick: Callable[[], object] | None = None) -> None:
        """Until `stop` is set: every `interval` seconds, run `tick` (make dev's requirements watch,
        whose restarts so never race these), then report each part that died and restart it."""
        failures: dict[str, int] = {}
        while not stop.wait(interval):
            self._report_start_failure()
            if tick is not None:
                tick()
            for part in self.dead_parts():
                failures[part] = failures.get(part, 0) + 1
                reason = self.reasons.get(part, "stopped")
                report(f"The {part} {reason} (failure {failures[part]}); restarting it...")
                try:
                    self.restart(part)
                except Exception as error:  # noqa: BLE001 - report it and try again on the next round
                    report(f"Could not restart the {part}: {error}")
                else:
                    report(f"The {part} is running again.")
                if stop.is_set():
                    return

    def _report_start_failure(self) -> None:
        """What the batch worker published about its algorithm, said in the terminal once."""
        if self._aws is None or not _listening(self.settings.host, self.settings.aws_port):
            return  # down: dead_parts() says so, without this read's retries in the way
        try:
            failure = self.store.read_start_failure()
        except Exception:  # noqa: BLE001 - the local AWS is down: dead_parts() says so
            return
        self.reports.start_failure(failure)

    def stop(self) -> None:
        """Stop the dashboard with its workers, then the predictor, then the local AWS."""
        target_file.remove(self.settings.state_dir)
        if self._dashboard is not None:
            _stop_group(self._dashboard)
            self._dashboard.wait()
            self._dashboard = None
            process_record.forget(self.settings.state_dir)
        if self._lambda is not None:
            self._lambda.stop()
            self._lambda = None
        if self._aws is not None:
            self._aws.stop()
            self._aws = None


def _stop_group(leader: subprocess.Popen[bytes], grace: float = 15.0) -> None:
    """SIGTERM the leader's process group (workers release their jobs), SIGKILL what is left."""
    pgid = leader.pid
    try:
        os.killpg(pgid, signal.SIGTERM)
        os.killpg(pgid, signal.SIGCONT)  # a stopped (hung) process handles its SIGTERM only once continued
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        leader.poll()  # reap the leader so the group empties
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def _listening(host: str, port: int, timeout: float = 2.0) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _answers_health(url: str, timeout: float) -> bool:
    """True when GET `url` answers 200 within `timeout` seconds."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False
