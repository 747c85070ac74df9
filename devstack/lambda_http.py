"""Reading an HTTP request body safely, for the local Lambda's two HTTP APIs (Invoke and Runtime).

A body is framed by Content-Length or by chunked Transfer-Encoding (never both); anything else is
refused, so no byte of a body is ever read as the next request. Reads are bounded in size and, by
the socket timeout the caller sets, in time.
"""

from __future__ import annotations

import io
import socket
import time
from email.message import Message
from typing import BinaryIO

_CHUNK_LINE_LIMIT = 1024


class BadBody(Exception):
    """The body's framing is invalid (bad Content-Length or chunk); the connection must close."""


class BodyTooLarge(Exception):
    """The body is larger than the limit; `drained` says whether it was read to its end."""

    def __init__(self, drained: bool) -> None:
        super().__init__("request body too large")
        self.drained = drained


def read_body(rfile: BinaryIO, headers: Message, limit: int, drain_limit: int = 0) -> bytes:
    """The request body (at most `limit` bytes). A longer body is read and dropped up to
    `drain_limit` bytes so the client can read the refusal, then BodyTooLarge is raised."""
    encoding = (headers.get("Transfer-Encoding") or "").strip().lower()
    length_header = headers.get("Content-Length")
    if encoding:
        if encoding != "chunked" or length_header is not None:
            raise BadBody(f"Unsupported Transfer-Encoding {encoding[:40]!r}")
        return _read_chunked(rfile, limit, drain_limit)
    if length_header is None:
        return b""
    if not length_header.strip().isdigit():
        raise BadBody("Invalid Content-Length")
    length = int(length_header)
    if length > limit:
        drained = length <= drain_limit and _drain(rfile, length)
        raise BodyTooLarge(drained)
    body = rfile.read(length)
    if len(body) != length:
        raise BadBody("The body ended before its Content-Length")
    return body


def _drain(rfile: BinaryIO, length: int) -> bool:
    remaining = length
    while remaining > 0:
        chunk = rfile.read(min(remaining, 1 << 20))
        if not chunk:
            return False
        remaining -= len(chunk)
    return True


def _read_chunked(rfile: BinaryIO, limit: int, drain_limit: int) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        line = rfile.readline(_CHUNK_LINE_LIMIT)
        if not line.endswith(b"\n"):
            raise BadBody("Invalid chunk size line")
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise BadBody("Invalid chunk size") from None
        if size < 0:
            raise BadBody("Invalid chunk size")
        if size == 0:
            break
        total += size
        if total > max(limit, drain_limit):
            raise BodyTooLarge(drained=False)
        data = rfile.read(size)
        if len(data) != size or rfile.read(2) != b"\r\n":
            raise BadBody("A chunk ended early")
        if total <= limit:
            parts.append(data)
    while True:  # trailer fields, up to the blank line that ends the body
        line = rfile.readline(_CHUNK_LINE_LIMIT)
        if not line.endswith(b"\n"):
            raise BadBody("Invalid chunked trailer")
        if line in (b"\r\n", b"\n"):
            break
    if total > limit:
        raise BodyTooLarge(drained=True)
    return b"".join(parts)


class DeadlineReader:
    """A socket's buffered reader whose reads all end by one deadline, however slowly bytes come.

    A socket timeout bounds each recv, so a client sending one byte just inside it keeps a read
    going for ever; this sets the timeout to what is left before the deadline ahead of every recv
    and raises TimeoutError once it has passed. It reads only what it is asked for (lines via
    peek), so bytes of a next, pipelined request stay in the buffer.
    """

    def __init__(self, rfile: io.BufferedReader, sock: socket.socket, seconds: float) -> None:
        self._rfile = rfile
        self._sock = sock
        self.deadline = time.monotonic() + seconds

    def _arm(self) -> None:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the deadline for this read passed")
        self._sock.settimeout(left)

    def read(self, size: int = -1) -> bytes:
        out = bytearray()
        while size < 0 or len(out) < size:
            self._arm()
            chunk = self._rfile.read1(1 << 16 if size < 0 else min(size - len(out), 1 << 16))
            if not chunk:
                break
            out += chunk
        return bytes(out)

    def readline(self, limit: int = -1) -> bytes:
        out = bytearray()
        while limit < 0 or len(out) < limit:
            self._arm()
            data = self._rfile.peek(1)
            if not data:
                break
            if limit >= 0:
                data = data[: limit - len(out)]
            end = data.find(b"\n")
            out += self._rfile.read(len(data) if end < 0 else end + 1)
            if end >= 0:
                break
        return bytes(out)
