"""The local Lambda endpoint: one function, its Invoke API (devstack.lambda_invoke_api) over a pool
of warm instances run as Lambda runs them (devstack.lambda_pool).

`boto3.client("lambda", endpoint_url=server.url).invoke(...)` works unchanged. For fault-injection
tests, `faults` (a devstack.faults.FaultInjector) can make a share of invokes answer 429 or 500,
or reset the connection before the handler runs or after it answered.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from devstack.faults import FaultInjector
from devstack.lambda_image import code_fingerprint as _fingerprint
from devstack.lambda_invoke_api import LOCAL_ACCOUNT, InvokeHandler, InvokeHttpServer, parse_function_name
from devstack.lambda_pool import InstancePool

__all__ = ["LambdaServer", "code_fingerprint", "parse_function_name"]

log = logging.getLogger("devstack.lambda")

WATCHED_PACKAGES = ("predictor", "jobkit")  # what the predictor's Dockerfile copies into the image
BUILD_MODULES = ("predictor.artifact",)  # what its Dockerfile runs at build time (RUN python -m ...)
DEFAULT_TIMEOUT_SECONDS = 30.0  # Pulumi.yaml's predictorTimeoutSeconds default
DEFAULT_MEMORY_MB = 1024  # ... and predictorMemoryMb's


def code_fingerprint(apps_dir: Path, packages: tuple[str, ...] = WATCHED_PACKAGES) -> tuple[Any, ...]:
    """(path, mtime, size) of every .py file in the function's packages: changes when code does."""
    return _fingerprint(apps_dir, packages)


class LambdaServer:
    """A local Lambda function `function_name` running `handler` from the packages in `apps_dir`.

    `build_cache` keeps build outputs (the trained model) across images and restarts; `prewarm`
    builds and starts an instance as soon as the code changes instead of on the next invoke."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        apps_dir: Path,
        function_name: str,
        env: Mapping[str, str],
        instances: int = 2,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        memory_mb: int = DEFAULT_MEMORY_MB,
        handler: str = "predictor.handler.handler",
        packages: tuple[str, ...] = WATCHED_PACKAGES,
        build_modules: tuple[str, ...] = BUILD_MODULES,
        log_path: Path | None = None,
        body_timeout_seconds: float = 10.0,
        build_cache: Path | None = None,
        prewarm: bool = False,
        on_function_error: Callable[[bytes, str, str], None] | None = None,
    ) -> None:
        if instances < 1:
            raise ValueError("instances must be at least 1")
        self.host = host
        self.port = port
        self.apps_dir = Path(apps_dir).resolve()
        self.function_name = function_name
        self.env = dict(env)
        self.instances = instances
        self.timeout_seconds = float(timeout_seconds)
        self.memory_mb = memory_mb
        self.handler = handler
        self.packages = packages
        self.build_modules = build_modules
        self.log_path = log_path
        self.body_timeout_seconds = body_timeout_seconds
        self.build_cache = build_cache
        self.prewarm = prewarm
        self.on_function_error = on_function_error  # (payload, request id, action): the terminal line
        self.region = self.env.get("AWS_REGION") or self.env.get("AWS_DEFAULT_REGION") or "us-east-1"
        self.faults = FaultInjector()
        self._pool: InstancePool | None = None
        self._log_file: IO[bytes] | None = None
        self._httpd: InvokeHttpServer | None = None
        self._thread: threading.Thread | None = None
        self._background: set[threading.Thread] = set()
        # start() and stop() may come from two threads at once (a supervisor restarting what a
        # caller is still stopping): one at a time, or one closes the other's log file.
        self._lifecycle = threading.Lock()

    @property
    def url(self) -> str:
        """http://host:port (the bound port, if 0 was asked for)."""
        port = self._httpd.server_address[1] if self._httpd else self.port
        return f"http://{self.host}:{port}"

    @property
    def function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{LOCAL_ACCOUNT}:function:{self.function_name}"

    @property
    def pool(self) -> InstancePool:
        """The running instances (pids, sandbox); only while started."""
        assert self._pool is not None, "start() the server first"
        return self._pool

    def start(self) -> None:
        """Listen; returns once connections are accepted. The image is built and instances
        started on first use (at once, with `prewarm`)."""
        with self._lifecycle:
            self._start()

    def _start(self) -> None:
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log_file = open(self.log_path, "ab")  # noqa: SIM115 - shared by every instance
        self._pool = InstancePool(
            apps_dir=self.apps_dir, packages=self.packages, handler=self.handler, env=self.env,
            size=self.instances, timeout_seconds=self.timeout_seconds, memory_mb=self.memory_mb,
            function_arn=self.function_arn, build_modules=self.build_modules, log_file=self._log_file,
            build_cache=self.build_cache,
        )
        if self.prewarm:
            self._pool.prewarm()
        httpd = InvokeHttpServer((self.host, self.port), InvokeHandler)
        httpd.function = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="lambda-http", daemon=True
        )
        self._thread.start()
        log.info("local Lambda listening", extra={"url": self.url, "function": self.function_name,
                                                  "instance_uid": self._pool.sandbox.uid})

    def stop(self) -> None:
        """Stop the HTTP server and every instance; no process is left behind."""
        with self._lifecycle:
            self._stop()

    def _stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._pool is not None:
            self._pool.stop()
        for thread in list(self._background):
            thread.join(timeout=5)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        self._httpd = None
        self._thread = None

    def __enter__(self) -> LambdaServer:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def invoke(self, payload: bytes, request_id: str) -> tuple[str | None, bytes]:
        """Run the handler on `payload` (JSON): (function error or None, response body)."""
        error, body = self.pool.invoke(payload, request_id)
        if error and self.on_function_error is not None:
            try:
                self.on_function_error(body, request_id, _action(payload))
            except Exception:  # a report must never change the answer
                log.exception("could not report a function error")
        return error, body

    def configuration(self) -> dict[str, Any]:
        """GetFunctionConfiguration's answer, in the fields the twin knows: LastUpdateStatus is
        InProgress while an edit's image is built (its model retrained) and the old code answers."""
        pool = self._pool
        return {
            "FunctionName": self.function_name, "FunctionArn": self.function_arn, "PackageType": "Image",
            "MemorySize": self.memory_mb, "Timeout": int(self.timeout_seconds), "Version": "$LATEST",
            "State": "Active" if pool is not None else "Inactive",
            "LastUpdateStatus": pool.update_status() if pool is not None else "Successful",
        }

    def invoke_in_background(self, payload: bytes, request_id: str) -> None:
        """An Event invocation: answered 202 at once, run on a thread of its own."""

        def run() -> None:
            try:
                self.invoke(payload, request_id)
            finally:
                self._background.discard(threading.current_thread())

        thread = threading.Thread(target=run, name=f"lambda-event-{request_id[:8]}", daemon=True)
        self._background.add(thread)
        thread.start()


def _action(payload: bytes) -> str:
    """The event's action ("describe", "predict"), or "" when it is not the predictor's event."""
    try:
        event = json.loads(payload)
    except ValueError:
        return ""
    return str(event.get("action", ""))[:40] if isinstance(event, dict) else ""
