"""The local Lambda endpoint: the Lambda Invoke API over a pool of warm handler processes.

`POST /2015-03-31/functions/{name}/invocations` behaves like AWS Lambda for the cases a client
sees, so `boto3.client("lambda", endpoint_url=server.url).invoke(...)` works unchanged:

- the function is named by name, `name:qualifier`, full or partial ARN; another name is 404
  ResourceNotFoundException; a body over 6,291,456 bytes is 413 RequestEntityTooLargeException;
  a body that is not JSON is 400 InvalidRequestContentException;
- InvocationType RequestResponse (200 with the handler's JSON), Event (202, runs in the
  background) and DryRun (204);
- a handler exception is 200 with `X-Amz-Function-Error: Unhandled` and Lambda's
  `{"errorMessage", "errorType", "stackTrace"}`; so are a timeout ("Task timed out after X
  seconds"), a crashed process, an import error and a response over 6 MB.

For fault-injection tests, `faults` (a devstack.faults.FaultInjector) can make a share of
invokes answer 429 TooManyRequestsException or 500 ServiceException, or reset the connection
before the handler runs or after it answered, as a throttled or flaky Lambda service does.

Each instance is a separate `python -m devstack.lambda_runtime` process with the apps folder
first on sys.path, initialised on its first invoke (a cold start) and reused while warm. At
most `instances` run at once; further invokes wait for one to be free. An instance that timed
out or died is replaced. Before each invoke the .py files under apps/predictor and apps/jobkit
are checked (mtime and size): after an edit, every instance is recycled, so the next invoke
runs the new code.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, unquote, urlsplit

from devstack.faults import FaultInjector, reset_connection

log = logging.getLogger("devstack.lambda")

MAX_REQUEST_BYTES = 6_291_456  # Lambda's synchronous Invoke request limit
MAX_RESPONSE_BYTES = 6_291_556  # ... and its response limit
# Lambda gives init 10 s; locally the first init may train the model, so allow more.
INIT_TIMEOUT_SECONDS = 120.0
# An oversized body is read and dropped up to this size (so the client sees the 413), then cut.
_DRAIN_LIMIT = 64 * 1024 * 1024
WATCHED_PACKAGES = ("predictor", "jobkit")
LOCAL_ACCOUNT = "000000000000"
_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations/?$")
_PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")


class _Timeout(Exception):
    pass


class _Died(Exception):
    pass


def code_fingerprint(apps_dir: Path, packages: tuple[str, ...] = WATCHED_PACKAGES) -> tuple[Any, ...]:
    """(path, mtime, size) of every .py file in the watched packages: changes when code does."""
    entries = []
    for package in packages:
        for root, dirs, files in os.walk(apps_dir / package):
            dirs[:] = [d for d in dirs if d != "__pycache__" and not d.startswith(".")]
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(root, name)
                    with contextlib.suppress(FileNotFoundError):
                        stat = os.stat(path)
                        entries.append((path, stat.st_mtime_ns, stat.st_size))
    return tuple(sorted(entries))


def parse_function_name(raw: str) -> tuple[str, str | None]:
    """(name, qualifier) from a name, `name:qualifier`, a full ARN or a partial ARN."""
    parts = unquote(raw).split(":")
    if parts[0] == "arn" and len(parts) >= 7:  # arn:aws:lambda:region:account:function:name[:q]
        return parts[6], (parts[7] if len(parts) > 7 else None)
    if len(parts) >= 3 and parts[1] == "function":  # account:function:name[:q]
        return parts[2], (parts[3] if len(parts) > 3 else None)
    return parts[0], (parts[1] if len(parts) > 1 else None)


class _Instance:
    """One handler process and the thread that reads its replies."""

    def __init__(self, command: list[str], env: dict[str, str], cwd: Path, log_file: IO[bytes] | None,
                 fingerprint: tuple[Any, ...]) -> None:
        self.fingerprint = fingerprint
        self.ready = False
        self.invokes = 0
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log_file,
            env=env,
            cwd=cwd,
            start_new_session=True,  # its own group: kill() takes anything it started with it
        )
        self._replies: queue.Queue[bytes | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, name=f"lambda-reader-{self.pid}", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read(self) -> None:
        assert self.process.stdout is not None
        try:
            for line in self.process.stdout:
                self._replies.put(line)
        except (OSError, ValueError):
            pass
        self._replies.put(None)

    def _next(self, timeout: float) -> dict[str, Any]:
        try:
            line = self._replies.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            raise _Timeout from None
        if line is None:
            raise _Died
        return json.loads(line)

    def wait_ready(self, timeout: float) -> dict[str, Any] | None:
        """None once initialised, or the init error body; _Timeout or _Died otherwise."""
        message = self._next(timeout)
        if message.get("type") == "init_error":
            return message["error"]
        self.ready = True
        return None

    def call(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.invokes += 1
        try:
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise _Died from None
        return self._next(timeout)

    def exit_status(self) -> int | None:
        try:
            return self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                if pipe is not None:
                    pipe.close()
        self._reader.join(timeout=2)


def _error(error_type: str, message: str, request_id: str) -> dict[str, Any]:
    return {"errorType": error_type, "errorMessage": f"RequestId: {request_id} Error: {message}"}


class LambdaServer:
    """A local Lambda function `function_name` running `handler` from `apps_dir`."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        apps_dir: Path,
        function_name: str,
        env: Mapping[str, str],
        instances: int = 2,
        timeout_seconds: float = 30.0,
        handler: str = "predictor.handler.handler",
        log_path: Path | None = None,
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
        self.handler = handler
        self.log_path = log_path
        self.region = self.env.get("AWS_REGION") or self.env.get("AWS_DEFAULT_REGION") or "us-east-1"
        self._cond = threading.Condition()
        self._idle: list[_Instance] = []
        self._alive: set[_Instance] = set()
        self._starting = 0
        self._stopping = False
        self._fingerprint: tuple[Any, ...] = ()
        self._log_file: IO[bytes] | None = None
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._background: set[threading.Thread] = set()
        self.faults = FaultInjector()

    # --- lifecycle ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """http://host:port (the bound port, if 0 was asked for)."""
        port = self._httpd.server_address[1] if self._httpd else self.port
        return f"http://{self.host}:{port}"

    @property
    def function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{LOCAL_ACCOUNT}:function:{self.function_name}"

    def start(self) -> None:
        """Listen; returns once connections are accepted. Instances start on first use."""
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log_file = open(self.log_path, "ab")  # noqa: SIM115 - shared by every instance
        self._fingerprint = code_fingerprint(self.apps_dir)
        self._stopping = False
        httpd = _HttpServer((self.host, self.port), _InvokeHandler)
        httpd.lambda_server = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="lambda-http", daemon=True
        )
        self._thread.start()
        log.info("local Lambda listening", extra={"url": self.url, "function": self.function_name})

    def stop(self) -> None:
        """Stop the HTTP server and every instance; no process is left behind."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._cond:
            doomed = list(self._alive)
            self._alive.clear()
            self._idle.clear()
        for instance in doomed:
            instance.kill()
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

    # --- the instance pool ----------------------------------------------------------------

    def _child_env(self) -> dict[str, str]:
        base = {name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ}
        paths = [str(self.apps_dir), *filter(None, self.env.get("PYTHONPATH", "").split(os.pathsep))]
        return {
            **base,
            **self.env,
            "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths)),
            # No .pyc for edited code: a same-second, same-size edit must not run stale bytecode.
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "LAMBDA_TASK_ROOT": str(self.apps_dir),
            "AWS_LAMBDA_FUNCTION_NAME": self.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_TIMEOUT": f"{self.timeout_seconds:g}",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{self.function_name}",
        }

    def _recycle_if_code_changed(self) -> None:
        fingerprint = code_fingerprint(self.apps_dir)
        with self._cond:
            if fingerprint == self._fingerprint:
                return
            self._fingerprint = fingerprint
            stale, self._idle = self._idle, []
            for instance in stale:
                self._alive.discard(instance)
            self._cond.notify_all()
        if stale:
            log.info("code changed; recycling instances", extra={"instances": len(stale)})
        for instance in stale:
            instance.kill()

    def _acquire(self) -> _Instance:
        """A warm idle instance, else a new one while fewer than `instances` run, else wait."""
        while True:
            dead: list[_Instance] = []
            instance = self._acquire_or_spawn_slot(dead)
            for corpse in dead:
                corpse.kill()
            if instance is not None:
                return instance
            if not dead:
                return self._spawn()

    def _acquire_or_spawn_slot(self, dead: list[_Instance]) -> _Instance | None:
        """An idle live instance; or None with a start slot reserved (or with `dead` to reap)."""
        with self._cond:
            while True:
                if self._stopping:
                    raise _Died
                while self._idle:
                    instance = self._idle.pop()
                    if instance.process.poll() is None:
                        return instance
                    self._alive.discard(instance)  # died while idle: Lambda would start another
                    dead.append(instance)
                if dead:
                    return None  # reap them outside the lock, then look again
                if len(self._alive) + self._starting < self.instances:
                    self._starting += 1
                    return None
                self._cond.wait()

    def _spawn(self) -> _Instance:
        """Start an instance in the slot reserved by `_acquire_or_spawn_slot`."""
        fingerprint = self._fingerprint
        try:
            instance = _Instance(
                [sys.executable, "-m", "devstack.lambda_runtime", self.handler],
                self._child_env(),
                self.apps_dir,
                self._log_file,
                fingerprint,
            )
        except BaseException:
            with self._cond:
                self._starting -= 1
                self._cond.notify_all()
            raise
        with self._cond:
            self._starting -= 1
            if not self._stopping:
                self._alive.add(instance)
                return instance
        instance.kill()
        raise _Died

    def _release(self, instance: _Instance, healthy: bool) -> None:
        with self._cond:
            keep = healthy and not self._stopping and instance.fingerprint == self._fingerprint
            if keep:
                self._idle.append(instance)
            else:
                self._alive.discard(instance)
            self._cond.notify_all()
        if not keep:
            instance.kill()

    # --- one invoke -----------------------------------------------------------------------

    def invoke(self, payload: str, request_id: str) -> tuple[str | None, bytes]:
        """Run the handler on `payload` (JSON text): (function error or None, response body)."""
        self._recycle_if_code_changed()
        started = time.perf_counter()
        try:
            instance = self._acquire()
        except _Died:
            body = _error("Runtime.Unavailable", "The endpoint is stopping", request_id)
            return "Unhandled", json.dumps(body).encode()
        healthy = False
        cold = not instance.ready
        try:
            error, body, healthy = self._run(instance, payload, request_id)
        finally:
            self._release(instance, healthy)
        log.info(
            "invoke",
            extra={
                "request_id": request_id,
                "function_error": error,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "cold_start": cold,
                "instance_pid": instance.pid,
            },
        )
        return error, body

    def _run(self, instance: _Instance, payload: str, request_id: str) -> tuple[str | None, bytes, bool]:
        """(function error, body, whether the instance may serve again)."""
        try:
            if not instance.ready:
                init_error = instance.wait_ready(INIT_TIMEOUT_SECONDS)
                if init_error is not None:
                    log.warning("instance failed to initialise", extra={"request_id": request_id, **init_error})
                    return "Unhandled", json.dumps(init_error).encode(), False
            request = {
                "request_id": request_id,
                "payload": payload,
                "deadline": time.time() + self.timeout_seconds,
                "function_name": self.function_name,
                "function_arn": self.function_arn,
            }
            reply = instance.call(request, self.timeout_seconds)
        except _Timeout:
            phase = "Task" if instance.ready else "Init"
            seconds = self.timeout_seconds if instance.ready else INIT_TIMEOUT_SECONDS
            log.warning("invoke timed out; recycling the instance", extra={"request_id": request_id})
            message = f"{phase} timed out after {seconds:.2f} seconds"
            return "Unhandled", json.dumps(_error("Sandbox.Timedout", message, request_id)).encode(), False
        except _Died:
            status = instance.exit_status()
            log.warning("instance exited during an invoke", extra={"request_id": request_id, "exit_status": status})
            message = f"Runtime exited with error: exit status {status}"
            return "Unhandled", json.dumps(_error("Runtime.ExitError", message, request_id)).encode(), False
        if reply.get("type") == "error":
            return "Unhandled", json.dumps({**reply["error"], "requestId": request_id}).encode(), True
        body = reply["body"].encode()
        if len(body) > MAX_RESPONSE_BYTES:
            message = (
                f"Response payload size ({len(body)} bytes) exceeded maximum allowed payload size "
                f"({MAX_RESPONSE_BYTES} bytes)."
            )
            too_large = {"errorType": "Function.ResponseSizeTooLarge", "errorMessage": message}
            return "Unhandled", json.dumps(too_large).encode(), True
        return None, body, True

    def invoke_in_background(self, payload: str, request_id: str) -> None:
        """An Event invocation: answered 202 at once, run on a thread of its own."""

        def run() -> None:
            try:
                self.invoke(payload, request_id)
            finally:
                self._background.discard(threading.current_thread())

        thread = threading.Thread(target=run, name=f"lambda-event-{request_id[:8]}", daemon=True)
        self._background.add(thread)
        thread.start()


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    lambda_server: LambdaServer


class _InvokeHandler(BaseHTTPRequestHandler):
    """Lambda's Invoke API over HTTP/1.1 with keep-alive (boto3 reuses connections)."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK add ~40 ms to every keep-alive invoke.
    disable_nagle_algorithm = True
    server: _HttpServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        log.debug(format, *args)

    def _send(self, status: int, body: bytes = b"", headers: Mapping[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _fail(self, status: int, error_type: str, message: str, key: str = "message") -> None:
        body = json.dumps({"Type": "User", key: message}).encode()
        headers = {"Content-Type": "application/json", "x-amzn-ErrorType": error_type,
                   "x-amzn-RequestId": str(uuid.uuid4())}
        self._send(status, body, headers)

    def _reset(self) -> None:
        reset_connection(self.connection)
        self.close_connection = True

    def _read_body(self) -> bytes | None:
        """The request body, or None (after draining it) when it is over Lambda's limit."""
        length = int(self.headers.get("Content-Length") or 0)
        if length <= MAX_REQUEST_BYTES:
            return self.rfile.read(length)
        remaining = min(length, _DRAIN_LIMIT)
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 20))
            if not chunk:
                break
            remaining -= len(chunk)
        if length > _DRAIN_LIMIT:
            self.close_connection = True
        return None

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self._read_body()
        self._fail(HTTPStatus.NOT_FOUND, "UnknownOperationException", "Unknown operation")

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        lam = self.server.lambda_server
        try:
            length_ok = True
            body = self._read_body()
        except ValueError:
            length_ok, body = False, None
        url = urlsplit(self.path)
        match = _INVOKE_PATH.match(url.path)
        if not match:
            self._fail(HTTPStatus.NOT_FOUND, "UnknownOperationException", "Unknown operation")
            return
        name, qualifier = parse_function_name(match.group(1))
        qualifier = parse_qs(url.query).get("Qualifier", [qualifier])[0]
        if name != lam.function_name:
            arn = f"arn:aws:lambda:{lam.region}:{LOCAL_ACCOUNT}:function:{name}"
            arn += f":{qualifier}" if qualifier else ""
            self._fail(HTTPStatus.NOT_FOUND, "ResourceNotFoundException", f"Function not found: {arn}", key="Message")
            return
        if not length_ok:
            self._fail(HTTPStatus.BAD_REQUEST, "InvalidRequestContentException", "Invalid Content-Length")
            return
        if body is None:
            self._fail(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                "RequestEntityTooLargeException",
                f"Request must be smaller than {MAX_REQUEST_BYTES} bytes for the InvokeFunction operation",
            )
            return
        invocation_type = self.headers.get("X-Amz-Invocation-Type") or "RequestResponse"
        if invocation_type not in ("RequestResponse", "Event", "DryRun"):
            self._fail(
                HTTPStatus.BAD_REQUEST,
                "InvalidParameterValueException",
                f"Unsupported invocation type {invocation_type[:40]!r}: use RequestResponse, Event or DryRun",
            )
            return
        try:
            payload = body.decode("utf-8") if body.strip() else "{}"
            json.loads(payload)
        except (UnicodeDecodeError, ValueError) as error:
            self._fail(HTTPStatus.BAD_REQUEST, "InvalidRequestContentException",
                       f"Could not parse request body into json: {error}")
            return
        fault = lam.faults.draw("lambda.Invoke")
        if fault == "throttle":
            self._fail(HTTPStatus.TOO_MANY_REQUESTS, "TooManyRequestsException", "Rate Exceeded.")
            return
        if fault == "server_error":
            self._fail(HTTPStatus.INTERNAL_SERVER_ERROR, "ServiceException", "Injected service error")
            return
        if fault == "reset_before":
            self._reset()
            return
        request_id = str(uuid.uuid4())
        headers = {"x-amzn-RequestId": request_id, "X-Amz-Executed-Version": "$LATEST"}
        if invocation_type == "DryRun":
            self._send(HTTPStatus.NO_CONTENT, headers=headers)
            return
        if invocation_type == "Event":
            lam.invoke_in_background(payload, request_id)
            self._send(HTTPStatus.ACCEPTED, headers=headers)
            return
        function_error, response = lam.invoke(payload, request_id)
        if fault == "reset_after":  # the function ran; its answer is lost on the way back
            self._reset()
            return
        headers["Content-Type"] = "application/json"
        if function_error:
            headers["X-Amz-Function-Error"] = function_error
        self._send(HTTPStatus.OK, response, headers)
