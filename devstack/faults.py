"""Injected faults for the local AWS and the local Lambda endpoint, drawn at a set rate.

Both servers ask a `FaultInjector` before serving a call; it answers with a fault kind (or
None) per its current `FaultPlan` and counts what it injected. Each server turns a kind into
the answer its real AWS service gives: a throttling error, a 5xx, or a reset connection, before
the call ran or after it took effect (so the client retries a call that already happened).
"""

from __future__ import annotations

import random
import socket
import threading
from collections import Counter
from dataclasses import dataclass

FAULT_KINDS = ("throttle", "server_error", "reset_before", "reset_after")


@dataclass(frozen=True)
class FaultPlan:
    """Fail `rate` of the calls, with kinds drawn evenly from `kinds`.

    `operations` narrows the calls that may fail ("dynamodb.UpdateItem", "s3.PUT",
    "lambda.Invoke"...; empty means all), and `limit` caps how many faults are injected.
    """

    rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    seed: int | None = None
    operations: tuple[str, ...] = ()
    limit: int | None = None


class FaultInjector:
    """Draws the fault (if any) for each call under the current plan; thread-safe."""

    def __init__(self) -> None:
        self.injected: Counter[str] = Counter()
        self._plan = FaultPlan()
        self._random = random.Random()
        self._count = 0
        self._lock = threading.Lock()

    def set_plan(self, plan: FaultPlan) -> None:
        with self._lock:
            self._plan = plan
            self._random = random.Random(plan.seed)
            self._count = 0

    def draw(self, operation: str) -> str | None:
        """The fault kind for this call of `operation`, or None to serve it normally."""
        with self._lock:
            plan = self._plan
            if not plan.rate or (plan.operations and operation not in plan.operations):
                return None
            if plan.limit is not None and self._count >= plan.limit:
                return None
            if self._random.random() >= plan.rate:
                return None
            kind = self._random.choice(plan.kinds)
            self._count += 1
            self.injected[kind] += 1
            return kind


def reset_connection(sock: socket.socket | None) -> None:
    """Abort the connection with a TCP RST, as a dropped network path looks to the client."""
    if sock is None:
        return
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
