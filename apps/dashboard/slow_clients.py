"""gunicorn's gthread worker with a deadline per request, so slow clients cannot hold its threads.

gthread reads a request's headers and body in a pool thread, blocking, with no deadline: 20
connections that never finish their headers (or trickle a body a byte every few seconds) held
all 16 threads and /health timed out. This worker

- collects a request's headers without a thread: it reads what has arrived (non-blocking),
  keeps it, and hands the connection back to gunicorn's poller until the blank line ending the
  headers is in; only then does a pool thread parse the request. A request whose headers are not
  complete `header_seconds` after its first byte is answered 408 and closed;
- gives the whole request `request_seconds` from its first byte: a body read after that raises
  `RequestDeadline` (Flask answers 400, gunicorn closes the connection quietly).

Bodies are read only for signed-in users (the app checks the session first), so this last limit
is for a slow insider, or a stakeholder's very slow upload. Settings: `ServerSettings`.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from gunicorn import util
from gunicorn.http.errors import NoMoreData
from gunicorn.workers import gthread
from werkzeug.exceptions import ClientDisconnected

log = logging.getLogger("dashboard.slow_clients")

HEAD_END = b"\r\n\r\n"
# Headers longer than this are left to gunicorn's own limits (limit_request_line/fields) to refuse.
MAX_HEAD_BYTES = 64 * 1024
DRAIN_SECONDS = 0.25  # how long a closing connection's unread bytes are drained, in a pool thread
TIMEOUT_ANSWER = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


class RequestDeadline(ClientDisconnected, NoMoreData):
    """The request's time is up. Flask treats it as a client gone (400, no stack trace); gunicorn
    as one too (NoMoreData: the connection is closed, one debug line)."""

    def __init__(self) -> None:
        ClientDisconnected.__init__(self, "The request took too long to arrive.")
        self.buf = None

    def __str__(self) -> str:
        return "The request took too long to arrive."


class DeadlineReads:
    """A socket stand-in for gunicorn's parser: every recv fails once `deadline` has passed and
    waits at most until then (or less, when the caller set a shorter timeout: gunicorn's drain)."""

    def __init__(self, sock: Any, deadline: float) -> None:
        self.sock, self.deadline = sock, deadline
        self.cap: float | None = None

    def settimeout(self, seconds: float | None) -> None:
        self.cap = seconds

    def gettimeout(self) -> float | None:
        return self.cap

    def recv(self, size: int) -> bytes:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise RequestDeadline
        wait = left if self.cap is None else min(left, self.cap)
        self.sock.settimeout(wait)
        try:
            return self.sock.recv(size)
        except TimeoutError:
            if wait < left:
                raise  # the caller's own, shorter timeout
            raise RequestDeadline from None
        finally:
            self.sock.setblocking(True)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)


class _Head:
    """A request's header bytes as they arrive on one connection, and when its first byte came."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.since: float | None = None


class DeadlineThreadWorker(gthread.ThreadWorker):
    """gthread, with the deadlines above (read from the `header_seconds`/`request_seconds` of the
    worker's config, set in gunicorn_conf)."""

    header_seconds = 10.0
    request_seconds = 120.0

    def handle(self, conn: Any) -> Any:
        if getattr(conn, "is_http2", False):
            return super().handle(conn)
        result = self._handle(conn)
        if result is False:
            self._close_here(conn)
        return result

    def _handle(self, conn: Any) -> Any:
        head = conn.__dict__.setdefault("ml_head", _Head())
        if conn.initialized and not head.data:  # bytes of this request a body drain read ahead
            head.data += conn.parser.unreader.take_buffered()
            head.since = time.monotonic() if head.data else None
        if not self._collect(conn, head):
            return False  # closed by the client, or answered 408
        if HEAD_END not in head.data and len(head.data) < MAX_HEAD_BYTES:
            conn.data_ready = False
            return gthread._DEFER  # back to the poller, no thread held, until more arrives
        conn.data_ready = True
        conn.sock.setblocking(True)
        conn.init()  # the parser (a no-op on a kept-alive connection)
        conn.parser.unreader.unread(bytes(head.data))
        conn.parser.unreader.sock = DeadlineReads(conn.sock, (head.since or time.monotonic()) + self.request_seconds)
        conn.ml_head = _Head()  # the next request on this connection starts afresh
        return super().handle(conn)

    def _keepalive_after(self, conn: Any, keepalive: bool) -> bool:
        # gthread drains a body the app did not read (a refused request) for up to 5 s in this
        # thread; a client trickling it holds the thread all that time. Drain what is already
        # here, else close: only a refused request's connection is lost, never an answer.
        if not keepalive:
            return False
        return bool(conn.parser.finish_body(deadline=time.monotonic() + DRAIN_SECONDS))

    def _close_here(self, conn: Any) -> None:
        """Close in this pool thread: gunicorn would linger up to 2 s for the client's FIN on its main
        thread (util.close_graceful), and 20 slow clients stalled it, accepts and all, for 40 s."""
        util.close_graceful(conn.sock, timeout=DRAIN_SECONDS)
        conn.close = lambda graceful=False: None  # already closed: the main thread's close is a no-op

    def _collect(self, conn: Any, head: _Head) -> bool:
        """Read whatever has arrived (without waiting); False when the connection is to close."""
        conn.sock.setblocking(False)
        try:
            while len(head.data) < MAX_HEAD_BYTES and HEAD_END not in head.data:
                try:
                    data = conn.sock.recv(8192)
                except BlockingIOError:
                    break
                if not data:
                    return bool(head.data) and HEAD_END in head.data
                head.since = head.since or time.monotonic()
                head.data += data
        except OSError:
            return False
        if head.since is not None and HEAD_END not in head.data and len(head.data) < MAX_HEAD_BYTES \
                and time.monotonic() - head.since > self.header_seconds:
            log.warning("slow client refused", extra={"phase": "headers", "client": _client(conn),
                                                      "seconds": round(time.monotonic() - head.since, 1)})
            try:
                conn.sock.setblocking(True)
                conn.sock.settimeout(1)
                conn.sock.sendall(TIMEOUT_ANSWER)
            except OSError:
                pass
            return False
        return True


def _client(conn: Any) -> str:
    client = getattr(conn, "client", None)
    return str(client[0]) if isinstance(client, tuple) and client else ""
