"""Lambda's Invoke API over HTTP: parse a request, map every refusal to Lambda's error once.

`POST /2015-03-31/functions/{name}/invocations` as boto3's Lambda client sends it:
- the function is named by name, `name:qualifier`, full or partial ARN; another name is 404
  ResourceNotFoundException;
- a body over 6,291,456 bytes is 413 RequestEntityTooLargeException; a body that is not JSON
  (nested too deep for the parser included) is 400 InvalidRequestContentException;
- a body framed by Content-Length or chunked Transfer-Encoding is read exactly, never as the next
  request; a body that stops arriving is answered 408 after `body_timeout_seconds` and the
  connection closed; an idle keep-alive connection is closed after IDLE_SECONDS;
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
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from devstack.faults import FaultInjector, reset_connection
from devstack.lambda_http import BadBody, BodyTooLarge, read_body

log = logging.getLogger("devstack.lambda")

MAX_REQUEST_BYTES = 6_291_456  # Lambda's synchronous Invoke request limit
# An oversized body is read and dropped up to this size (so the client sees the 413), then cut.
DRAIN_LIMIT = 64 * 1024 * 1024
IDLE_SECONDS = 120.0  # an idle keep-alive connection is closed after this long
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
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # many clients connecting at once are queued, not refused (the default is 5)
    function: Function


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
        """The body, read within the function's body timeout; InvokeError when it cannot be."""
        self.connection.settimeout(self.server.function.body_timeout_seconds)
        try:
            return read_body(self.rfile, self.headers, MAX_REQUEST_BYTES, DRAIN_LIMIT)
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
