"""The Lambda Runtime API (version 2018-06-01) for one local instance, served to AWS's own runtime
interface client (awslambdaric), as Lambda serves it inside an execution environment.

The instance asks for work with `GET /runtime/invocation/next` (which blocks until an event comes,
its headers carrying the request id, deadline and function ARN), answers with `POST
/runtime/invocation/{id}/response` or `/error`, and reports a failed init with `POST
/runtime/init/error`. The pool hands events in with `send` and waits for the outcome with `outcome`.

It answers only connections from the instance's own user: Lambda's Runtime API is reachable only
inside the execution environment, while a loopback port is open to every local user (who could
read a stakeholder's inputs and forge the answer). The peer's user is the owner of its socket in
/proc/net/tcp; awslambdaric speaks to AWS_LAMBDA_RUNTIME_API as host:port over TCP only, so a Unix
socket is not an option.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import re
import socket
import threading
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from devstack.lambda_http import BadBody, BodyTooLarge, read_body

log = logging.getLogger("devstack.lambda")

API = "/2018-06-01/runtime"
_NEXT = f"{API}/invocation/next"
_ANSWER = re.compile(rf"^{API}/invocation/([^/]+)/(response|error)$")
_INIT_ERROR = f"{API}/init/error"
# Lambda accepts up to 6 MB of response; take a little more and let the pool refuse it with Lambda's error.
_MAX_ANSWER_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Event:
    """One invocation handed to the instance."""

    request_id: str
    payload: bytes
    deadline_ms: int
    function_arn: str


@dataclass(frozen=True)
class Outcome:
    """What the instance did: `kind` is ready, response, error, init_error or exited."""

    kind: str
    request_id: str | None = None
    body: bytes = b""
    error_type: str | None = None
    exit_status: int | None = None

    def error(self) -> dict[str, Any]:
        """The error body the runtime posted (an object), whatever it sent."""
        try:
            parsed = json.loads(self.body)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            return parsed
        return {"errorType": self.error_type or "Runtime.Unknown", "errorMessage": self.body.decode("utf-8", "replace")}


def peer_uid(client: tuple[str, int], server: tuple[str, int], table: Path = Path("/proc/net/tcp")) -> int | None:
    """The uid that owns the IPv4 TCP socket at `client` connected to `server`, read from the
    kernel's socket table (None if it is not there)."""
    local, remote = _kernel_address(client), _kernel_address(server)
    try:
        lines = table.read_text().splitlines()[1:]
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        if len(fields) > 7 and fields[1] == local and fields[2] == remote:
            return int(fields[7])
    return None


def _kernel_address(address: tuple[str, int]) -> str:
    """host:port as /proc/net/tcp writes it: the IPv4 address as a little-endian hex word, the port in hex."""
    host, port = address[:2]
    return f"{int.from_bytes(socket.inet_aton(host), 'little'):08X}:{port:04X}"


class RuntimeApi:
    """One instance's Runtime API on 127.0.0.1 (a port of its own: AWS_LAMBDA_RUNTIME_API), answering
    only connections owned by `allowed_uid` (the instance's user; None: this process's)."""

    def __init__(self, allowed_uid: int | None = None) -> None:
        self._events: queue.Queue[Event | None] = queue.Queue()
        self.outcomes: queue.Queue[Outcome] = queue.Queue()
        self.current: str | None = None
        self._ready = False
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.api = self
        self._httpd.allowed_uid = os.geteuid() if allowed_uid is None else allowed_uid
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="lambda-runtime-api", daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        """host:port, the value of AWS_LAMBDA_RUNTIME_API."""
        host, port = self._httpd.server_address[:2]
        return f"{host}:{port}"

    def send(self, event: Event) -> None:
        self._events.put(event)

    def outcome(self, timeout: float) -> Outcome:
        """The next thing the instance did; queue.Empty after `timeout` seconds of silence."""
        return self.outcomes.get(timeout=max(timeout, 0.0))

    def exited(self, status: int | None) -> None:
        self.outcomes.put(Outcome("exited", exit_status=status))

    def close(self) -> None:
        self._events.put(None)
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # --- called by the HTTP handler -------------------------------------------------------

    def _next_event(self) -> Event | None:
        with self._lock:
            if not self._ready:
                self._ready = True
                self.outcomes.put(Outcome("ready"))
        event = self._events.get()
        if event is None:
            self._events.put(None)  # every waiting /next sees the end
            return None
        self.current = event.request_id
        return event


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    api: RuntimeApi
    allowed_uid: int

    def verify_request(self, request: Any, client_address: Any) -> bool:
        """Only the instance's user is served; any other connection is closed unanswered."""
        uid = peer_uid(client_address, self.server_address)
        if uid == self.allowed_uid:
            return True
        log.warning("runtime API connection refused: not the instance's user",
                    extra={"peer_uid": uid, "instance_uid": self.allowed_uid})
        return False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass

    def _send(self, status: int, body: dict[str, Any] | bytes, headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        if self.path != _NEXT:
            self._send(HTTPStatus.NOT_FOUND, {"errorMessage": "Unknown path", "errorType": "InvalidRequest"})
            return
        event = self.server.api._next_event()
        if event is None:
            self.close_connection = True
            self._send(HTTPStatus.GONE, {"errorMessage": "The instance is stopping", "errorType": "Shutdown"})
            return
        self._send(HTTPStatus.OK, event.payload, {
            "Lambda-Runtime-Aws-Request-Id": event.request_id,
            "Lambda-Runtime-Deadline-Ms": str(event.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": event.function_arn,
            "Lambda-Runtime-Trace-Id": f"Root=1-00000000-{event.request_id.replace('-', '')[:24]};Sampled=0",
        })

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        api = self.server.api
        try:
            body = read_body(self.rfile, self.headers, _MAX_ANSWER_BYTES)
        except (BadBody, BodyTooLarge, OSError) as error:
            self.close_connection = True
            self._send(HTTPStatus.BAD_REQUEST, {"errorMessage": str(error), "errorType": "InvalidRequest"})
            return
        error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
        if self.path == _INIT_ERROR:
            api.outcomes.put(Outcome("init_error", body=body, error_type=error_type))
            self._send(HTTPStatus.ACCEPTED, {"status": "OK"})
            return
        match = _ANSWER.match(self.path)
        if not match:
            self._send(HTTPStatus.NOT_FOUND, {"errorMessage": "Unknown path", "errorType": "InvalidRequest"})
            return
        request_id, kind = match.groups()
        if request_id != api.current:
            self._send(HTTPStatus.BAD_REQUEST, {"errorMessage": f"Invalid request ID: {request_id[:64]}",
                                                "errorType": "InvalidRequestID"})
            return
        api.current = None
        api.outcomes.put(Outcome(kind, request_id=request_id, body=body, error_type=error_type))
        self._send(HTTPStatus.ACCEPTED, {"status": "OK"})
