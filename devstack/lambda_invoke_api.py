"""Lambda's Invoke API over HTTP: parse a request, map every refusal to Lambda's error once.

`POST /2015-03-31/functions/{name}/invocations` as boto3's Lambda client sends it:
- the function is named by name, `name:qualifier`, full or partial ARN; another name is 404
  ResourceNotFoundException;
- a body over 6,291,456 bytes is 413 RequestEntityTooLargeException; a body that is not JSON
  (nested too deep for the parser included) is 400 InvalidRequestContentException;
- a body framed by Content-Length or chunked Transfer-Encoding is read exactly, never as the next
  request; a body not all there `body_timeout_seconds` after it began is answered 408 and the
  connection closed, and headers not all there that long after the request's first byte close
  it (one deadline each, however slowly the bytes trickle); an idle keep-alive connection is
  closed after IDLE_SECONDS, or at once while another connection waits for a thread (a new
  connection that sends nothing for `body_timeout_seconds` is closed too);
- at most MAX_CONNECTIONS connections are served at once, each by a thread; more wait in the
  listen queue for a free one (and are answered 429 TooManyRequestsException after QUEUE_SECONDS);
- InvocationType RequestResponse (200 with the handler's JSON), Event (202, runs in the
  background) and DryRun (204); a function error is 200 with `X-Amz-Function-Error: Unhandled`.
Injected faults (devstack.faults) answer 429 / 500 or reset the connection before or after.
`GET /2015-03-31/functions/{name}/configuration` is GetFunctionConfiguration: the function's
configuration as `Function.configuration()` gives it (its LastUpdateStatus says whether an edit
is still being built), or 404 ResourceNotFoundException for another name.
"""

from __future__ import annotations

import json
import logging
import re
import select
import socket
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from devstack.faults import FaultInjector, reset_connection
from devstack.lambda_http import BadBody, BodyTooLarge, DeadlineReader, read_body

log = logging.getLogger("devstack.lambda")

MAX_REQUEST_BYTES = 6_291_456  # Lambda's synchronous Invoke request limit
# An oversized body is read and dropped up to this size (so the client sees the 413), then cut.
DRAIN_LIMIT = 64 * 1024 * 1024
IDLE_SECONDS = 120.0  # an idle keep-alive connection is closed after this long
MAX_CONNECTIONS = 32  # served at once (one thread each); a prototype's few instances need far fewer
QUEUE_SECONDS = 30.0  # how long a connection may wait for a thread before it is refused
_IDLE_POLL = 0.5  # how often an idle keep-alive connection looks whether another waits for its thread
LOCAL_ACCOUNT = "000000000000"
INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")
_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations/?$")
_CONFIGURATION_PATH = re.compile(r"^/2015-03-31/functions/([^/]+)/configuration/?$")


class Function(Protocol):
    """What the Invoke API needs from the function it serves (devstack.lambda_server.LambdaServer)."""

    function_name: str
    region: str
    faults: FaultInjector
    body_timeout_seconds: float

    def invoke(self, payload: bytes, request_id: str) -> tuple[str | None, bytes]: ...

    def invoke_in_background(self, payload: bytes, request_id: str) -> None: ...

    def configuration(self) -> dict[str, Any]: ...


class InvokeError(Exception):
    """A refusal, as Lambda answers it: status, x-amzn-ErrorType and message."""

    def __init__(self, status: int, error_type: str, message: str, *, key: str = "message", close: bool = False):
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.key = key
        self.close = close


@dataclass(frozen=True)
class InvokeRequest:
    """A parsed, valid Invoke request."""

    invocation_type: str
    payload: bytes


def parse_function_name(raw: str) -> tuple[str, str | None]:
    """(name, qualifier) from a name, `name:qualifier`, a full ARN or a partial ARN."""
    parts = unquote(raw).split(":")
    if parts[0] == "arn" and len(parts) >= 7:  # arn:aws:lambda:region:account:function:name[:q]
        return parts[6], (parts[7] if len(parts) > 7 else None)
    if len(parts) >= 3 and parts[1] == "function":  # account:function:name[:q]
        return parts[2], (parts[3] if len(parts) > 3 else None)
    return parts[0], (parts[1] if len(parts) > 1 else None)


def _not_json(detail: str) -> InvokeError:
    return InvokeError(HTTPStatus.BAD_REQUEST, "InvalidRequestContentException",
                       f"Could not parse request body into json: Could not parse payload into json: {detail}")


def check_payload(body: bytes) -> bytes:
    """The payload to hand the function (`{}` for an empty body); InvokeError if it is not JSON."""
    if not body.strip():
        return b"{}"
    try:
        json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise _not_json(f"Invalid UTF-8: {error.reason}") from None
    except RecursionError:
        raise _not_json("Document nesting depth exceeds the maximum allowed") from None
    except ValueError as error:
        raise _not_json(str(error)) from None
    return body


class InvokeHttpServer(ThreadingHTTPServer):
    """The Invoke API's listener: a thread per connection, at most `max_connections` of them."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # many clients connecting at once are queued, not refused (the default is 5)
    function: Function

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], *,
                 max_connections: int = MAX_CONNECTIONS) -> None:
        super().__init__(address, handler)
        self.max_connections = max_connections
        self._slots = threading.BoundedSemaphore(max_connections)
        self._waiting = threading.Event()  # set while a connection waits for a thread
        self._closing = threading.Event()

    @property
    def crowded(self) -> bool:
        """True while an accepted connection waits for a thread: idle keep-alives give theirs up."""
        return self._waiting.is_set()

    def process_request(self, request: Any, client_address: Any) -> None:
        # The accept loop itself waits for a free thread, so what waits beyond it stays in the
        # kernel's listen queue; a bounded wait keeps shutdown() and a stuck pool from hanging it.
        deadline = time.monotonic() + QUEUE_SECONDS
        while not self._slots.acquire(timeout=0.05):
            self._waiting.set()
            if self._closing.is_set() or time.monotonic() > deadline:
                self._waiting.clear()
                _refuse_busy(request)
                self.shutdown_request(request)
                return
        self._waiting.clear()
        thread = threading.Thread(target=self._serve, args=(request, client_address), daemon=True,
                                  name="lambda-invoke-connection")
        thread.start()

    def _serve(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def server_close(self) -> None:
        self._closing.set()
        super().server_close()


def _refuse_busy(request: socket.socket) -> None:
    """Lambda's answer when its concurrency is used up (TooManyRequestsException), sent without
    reading the request; what the client sent is read off briefly so the close is not a reset."""
    body = json.dumps({"Type": "User", "message": "Rate Exceeded.", "Reason": "ConcurrentInvocationLimitExceeded"})
    head = (f"HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\n"
            f"x-amzn-ErrorType: TooManyRequestsException\r\nConnection: close\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    try:
        request.settimeout(1.0)
        request.sendall((head + body).encode())
        request.shutdown(socket.SHUT_WR)
        request.settimeout(0.2)
        while request.recv(65536):
            pass
    except OSError:
        pass
    log.warning("invoke connection refused: every thread is busy", extra={"max_connections": MAX_CONNECTIONS})


class InvokeHandler(BaseHTTPRequestHandler):
    """Lambda's Invoke API over HTTP/1.1 with keep-alive (boto3 reuses connections)."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK add ~40 ms to every keep-alive invoke.
    disable_nagle_algorithm = True
    timeout = IDLE_SECONDS  # the socket timeout for every read: no connection holds a thread forever
    server: InvokeHttpServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        log.debug(format, *args)

    def setup(self) -> None:
        super().setup()
        self._buffered = self.rfile
        self._requests = 0

    def handle_one_request(self) -> None:
        """One request: wait idle for its first byte, then read it under deadlines (the stdlib's
        reads, each under a per-recv socket timeout only, go through a DeadlineReader)."""
        if not self._wait_for_request():
            self.close_connection = True
            return
        self._requests += 1
        self.rfile = DeadlineReader(self._buffered, self.connection, self.server.function.body_timeout_seconds)
        try:
            super().handle_one_request()
        finally:
            self.rfile = self._buffered
            self.connection.settimeout(self.timeout)

    def _wait_for_request(self) -> bool:
        """True once a request's first byte is here; False on close, when a new connection sends
        nothing for the body timeout, when a kept-alive one idles IDLE_SECONDS, or at once when
        another connection waits for this thread (a kept-alive client reconnects)."""
        kept_alive = self._requests > 0
        deadline = time.monotonic() + (IDLE_SECONDS if kept_alive else self.server.function.body_timeout_seconds)
        while True:
            self.connection.settimeout(0)  # peek what is buffered or already arrived, without waiting
            try:
                if self._buffered.peek(1):
                    return True
            except OSError:
                return False
            finally:
                self.connection.settimeout(self.timeout)
            if (kept_alive and self.server.crowded) or time.monotonic() > deadline:
                return False
            try:
                readable, _, _ = select.select([self.connection], [], [], _IDLE_POLL)
            except (OSError, ValueError):
                return False
            if readable:
                try:
                    return bool(self._buffered.peek(1))  # empty: the client closed
                except OSError:
                    return False

    def _send(self, status: int, body: bytes = b"", headers: Mapping[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True

    def _fail(self, error: InvokeError) -> None:
        if error.close:
            self.close_connection = True
        body = json.dumps({"Type": "User", error.key: error.message}).encode()
        headers = {"Content-Type": "application/json", "x-amzn-ErrorType": error.error_type,
                   "x-amzn-RequestId": str(uuid.uuid4())}
        self._send(error.status, body, headers)

    def _read_body(self) -> bytes:
        """The body, all of it within the function's body timeout; InvokeError when it cannot be."""
        body = DeadlineReader(self._buffered, self.connection, self.server.function.body_timeout_seconds)
        try:
            return read_body(body, self.headers, MAX_REQUEST_BYTES, DRAIN_LIMIT)
        except BodyTooLarge as error:
            raise InvokeError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "RequestEntityTooLargeException",
                f"Request must be smaller than {MAX_REQUEST_BYTES} bytes for the InvokeFunction operation",
                close=not error.drained,
            ) from None
        except BadBody as error:
            raise InvokeError(HTTPStatus.BAD_REQUEST, "InvalidRequestContentException", str(error),
                              close=True) from None
        except TimeoutError:
            raise InvokeError(HTTPStatus.REQUEST_TIMEOUT, "RequestTimeoutException",
                              "The request body did not arrive in time", close=True) from None
        finally:
            self.connection.settimeout(self.timeout)

    def _parse(self) -> InvokeRequest:
        """The request, checked in Lambda's order: path, function, body size, type, JSON."""
        function = self.server.function
        try:
            body: bytes | None = self._read_body()
            body_error = None
        except InvokeError as error:
            body, body_error = None, error
        url = urlsplit(self.path)
        match = _INVOKE_PATH.match(url.path)
        if not match:
            raise InvokeError(HTTPStatus.NOT_FOUND, "UnknownOperationException", "Unknown operation",
                              close=body_error is not None)
        name, qualifier = parse_function_name(match.group(1))
        qualifier = parse_qs(url.query).get("Qualifier", [qualifier])[0]
        if name != function.function_name:
            arn = f"arn:aws:lambda:{function.region}:{LOCAL_ACCOUNT}:function:{name}"
            arn += f":{qualifier}" if qualifier else ""
            raise InvokeError(HTTPStatus.NOT_FOUND, "ResourceNotFoundException", f"Function not found: {arn}",
                              key="Message", close=body_error is not None)
        if body_error is not None:
            raise body_error
        assert body is not None
        invocation_type = self.headers.get("X-Amz-Invocation-Type") or "RequestResponse"
        if invocation_type not in INVOCATION_TYPES:
            raise InvokeError(
                HTTPStatus.BAD_REQUEST, "InvalidParameterValueException",
                f"Unsupported invocation type {invocation_type[:40]!r}: use RequestResponse, Event or DryRun",
            )
        return InvokeRequest(invocation_type, check_payload(body))

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        try:
            self._read_body()
        except InvokeError as error:
            self.close_connection = self.close_connection or error.close
        match = _CONFIGURATION_PATH.match(urlsplit(self.path).path)
        if not match:
            self._fail(InvokeError(HTTPStatus.NOT_FOUND, "UnknownOperationException", "Unknown operation"))
            return
        function = self.server.function
        name, _ = parse_function_name(match.group(1))
        if name != function.function_name:
            arn = f"arn:aws:lambda:{function.region}:{LOCAL_ACCOUNT}:function:{name}"
            self._fail(InvokeError(HTTPStatus.NOT_FOUND, "ResourceNotFoundException", f"Function not found: {arn}",
                                   key="Message"))
            return
        body = json.dumps(function.configuration()).encode()
        self._send(HTTPStatus.OK, body, {"Content-Type": "application/json", "x-amzn-RequestId": str(uuid.uuid4())})

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        function = self.server.function
        try:
            request = self._parse()
        except InvokeError as error:
            self._fail(error)
            return
        fault = function.faults.draw("lambda.Invoke")
        if fault == "throttle":
            self._fail(InvokeError(HTTPStatus.TOO_MANY_REQUESTS, "TooManyRequestsException", "Rate Exceeded."))
            return
        if fault == "server_error":
            self._fail(InvokeError(HTTPStatus.INTERNAL_SERVER_ERROR, "ServiceException", "Injected service error"))
            return
        if fault == "reset_before":
            self._reset()
            return
        request_id = str(uuid.uuid4())
        headers = {"x-amzn-RequestId": request_id, "X-Amz-Executed-Version": "$LATEST"}
        if request.invocation_type == "DryRun":
            self._send(HTTPStatus.NO_CONTENT, headers=headers)
            return
        if request.invocation_type == "Event":
            function.invoke_in_background(request.payload, request_id)
            self._send(HTTPStatus.ACCEPTED, headers=headers)
            return
        function_error, response = function.invoke(request.payload, request_id)
        if fault == "reset_after":  # the function ran; its answer is lost on the way back
            self._reset()
            return
        headers["Content-Type"] = "application/json"
        if function_error:
            headers["X-Amz-Function-Error"] = function_error
        self._send(HTTPStatus.OK, response, headers)

    def _reset(self) -> None:
        reset_connection(self.connection)
        self.close_connection = True
