"""Small helpers the tests share: free ports, polling, and counting AWS calls."""

from __future__ import annotations

import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from devstack.settings import DevSettings

T = TypeVar("T")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], T], timeout: float = 30.0, interval: float = 0.05, what: str = "") -> T:
    """Poll `condition` until it returns something truthy; fail the test after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
        time.sleep(interval)


@contextmanager
def count_aws_calls(*clients: Any) -> Iterator[Counter[str]]:
    """Count the API calls made through these boto3 clients, by 'service.Operation'."""
    calls: Counter[str] = Counter()

    def record(event_name: str, **_: Any) -> None:
        # event_name looks like 'before-call.dynamodb.UpdateItem'
        _, service, operation = event_name.split(".", 2)
        calls[f"{service}.{operation}"] += 1

    for client in clients:
        client.meta.events.register("before-call.*.*", record)
    try:
        yield calls
    finally:
        for client in clients:
            client.meta.events.unregister("before-call.*.*", record)


def stack_settings(state_dir: Path, **overrides: Any) -> DevSettings:
    """Settings for a DevStack in a test: free ports, and a table, bucket and function of its own
    (moto keeps one set of resources per process, so two stacks in one run would share a table)."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    return DevSettings(
        **{
            "dashboard_port": free_port(),
            "aws_port": free_port(),
            "lambda_port": free_port(),
            "state_dir": state_dir,
            "table": name,
            "bucket": name,
            "function_name": name,
            **overrides,
        }
    )
