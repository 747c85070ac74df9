"""The local Invoke API's deadlines and thread bound, against raw sockets that trickle bytes as an
attacker does (a stand-in function: no instance needs to run for these)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from devstack import lambda_invoke_api
from devstack.faults import FaultInjector
from devstack.lambda_invoke_api import InvokeHandler, InvokeHttpServer
from tests.support import wait_until

FUNCTION = "fn"
PATH = f"/2015-03-31/functions/{FUNCTION}/invocations"


class EchoFunction:
    """The Function the Invoke API serves, answering every invoke with its payload."""

    function_name = FUNCTION
    region = "us-east-1"

    def __init__(self, body_timeout_seconds: float) -> None:
        self.faults = FaultInjector()
        self.body_timeout_seconds = body_timeout_seconds

    def invoke(self, payload: bytes, request_id: str) -> tuple[str | None, bytes]:
        return None, payload

    def invoke_in_background(self, payload: bytes, request_id: str) -> None:
        pass


class Endpoint:
    def __init__(self, max_connections: int, body_timeout_seconds: float) -> None:
        self.httpd = InvokeHttpServer(("127.0.0.1", 0), InvokeHandler, max_connections=max_connections)
        self.httpd.function = EchoFunction(body_timeout_seconds)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def connect(self) -> Raw:
        return Raw(socket.create_connection(("127.0.0.1", self.port), timeout=60))

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Raw:
    """A plain socket: bytes out, the answer's status line and body parsed by hand."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.file = sock.makefile("rb")

    def trickle(self, data: bytes, every: float) -> threading.Thread:
        """Send `data` a byte at a time, `every` seconds apart, in the background (until refused)."""
        def send() -> None:
            for byte in data:
                try:
                    self.sock.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(every)
        thread = threading.Thread(target=send, daemon=True)
        thread.start()
        return thread

    def response(self) -> tuple[int, dict[str, str], bytes]:
        line = self.file.readline()
        if not line:
            return 0, {}, b""  # closed without an answer
        headers = {}
        while (header := self.file.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = header.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        return int(line.split()[1]), headers, self.file.read(int(headers.get("content-length", 0)))

    def closed_by_server(self) -> bool:
        try:
            return self.file.read(1) == b""
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def head(length: int, invocation_type: str = "RequestResponse") -> bytes:
    return (f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Invocation-Type: {invocation_type}\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()


DRY_RUN = head(2, "DryRun") + b"{}"
BODY = b'{"a": 12.5}'  # 11 bytes, as in the attack


def connection_threads() -> int:
    return sum(thread.name == "lambda-invoke-connection" for thread in threading.enumerate())


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    server = Endpoint(max_connections=4, body_timeout_seconds=1.0)
    yield server
    server.close()


def test_a_body_trickled_a_byte_at_a_time_gets_408_at_the_body_deadline(endpoint):
    """Each byte comes well inside the 1 s timeout; the body as a whole does not (it needs 5.5 s)."""
    connection = endpoint.connect()
    try:
        connection.sock.sendall(head(len(BODY)))
        started = time.monotonic()
        connection.trickle(BODY, every=0.5)
        status, headers, _ = connection.response()
        took = time.monotonic() - started
        assert status == 408 and headers["x-amzn-errortype"] == "RequestTimeoutException"
        assert 0.9 < took < 4.0, took
        assert connection.closed_by_server()
    finally:
        connection.close()


def test_headers_trickled_a_byte_at_a_time_are_cut_off_at_the_deadline(endpoint):
    connection = endpoint.connect()
    try:
        started = time.monotonic()
        connection.trickle(DRY_RUN, every=0.2)  # about 24 s for the whole request
        assert connection.closed_by_server()
        assert time.monotonic() - started < 6.0
    finally:
        connection.close()


def test_a_connection_that_sends_nothing_is_closed_after_the_body_timeout(endpoint):
    connection = endpoint.connect()
    try:
        started = time.monotonic()
        assert connection.closed_by_server()
        assert 0.9 < time.monotonic() - started < 6.0
    finally:
        connection.close()


def test_many_trickling_connections_hold_at_most_the_pool_and_the_endpoint_still_answers(endpoint):
    tricklers = [endpoint.connect() for _ in range(12)]
    try:
        for connection in tricklers:
            connection.sock.sendall(head(len(BODY)))
            connection.trickle(BODY, every=0.5)
        peak = 0
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            peak = max(peak, connection_threads())
            time.sleep(0.05)
        assert 1 <= peak <= 4
        probe = endpoint.connect()
        try:
            probe.sock.sendall(DRY_RUN)
            assert probe.response()[0] == 204  # served once a trickler's deadline freed a thread
        finally:
            probe.close()
        answers = [connection.response()[0] for connection in tricklers]
        assert answers == [408] * len(tricklers)  # every trickler was cut off, none ran
    finally:
        for connection in tricklers:
            connection.close()
    wait_until(lambda: connection_threads() == 0, timeout=30, what="the pool to drain")


def test_an_idle_kept_alive_connection_gives_its_thread_to_a_waiting_one():
    server = Endpoint(max_connections=1, body_timeout_seconds=5.0)
    idle, waiting = server.connect(), server.connect()
    try:
        idle.sock.sendall(DRY_RUN)
        assert idle.response()[0] == 204  # now idle, kept alive, holding the only thread
        started = time.monotonic()
        waiting.sock.sendall(head(len(BODY)) + BODY)
        status, _, body = waiting.response()
        assert (status, json.loads(body)) == (200, {"a": 12.5})
        assert time.monotonic() - started < 4.0  # not IDLE_SECONDS
        assert idle.closed_by_server()
    finally:
        idle.close()
        waiting.close()
        server.close()


def test_a_connection_left_waiting_past_the_queue_limit_is_refused_like_a_throttled_lambda(monkeypatch):
    monkeypatch.setattr(lambda_invoke_api, "QUEUE_SECONDS", 0.5)
    server = Endpoint(max_connections=1, body_timeout_seconds=5.0)
    holder, refused = server.connect(), server.connect()
    try:
        holder.sock.sendall(head(len(BODY)))
        holder.trickle(BODY, every=1.0)  # holds the one thread for its 5 s body deadline
        wait_until(lambda: connection_threads() == 1, timeout=10, what="the holder to be served")
        refused.sock.sendall(DRY_RUN)
        status, headers, body = refused.response()
        assert status == 429 and headers["x-amzn-errortype"] == "TooManyRequestsException"
        assert json.loads(body)["message"] == "Rate Exceeded."
    finally:
        holder.close()
        refused.close()
        server.close()
