"""Sleep and wake on the laptop (`DEVSTACK_SLEEP_AFTER=120s make dev`), through the cloud's own decisions.

The twin of the load balancer, the waker and the sleeper: a front on the dashboard's port pipes
each connection to gunicorn (on a port behind it) while the route points there, and answers with
components.sleepwake's pages while it points at the waker. A thread looks every few seconds. The
moves (components.sleepwake.moves), the decisions and the ledger in the job table are the cloud's;
only the parts differ: the service is the gunicorn process devstack starts and stops, the route
is a flag of the front, and the job table is moto's.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import boto3

from components.sleepwake import moves
from components.sleepwake.decision import is_a_visit
from components.sleepwake.ledger import Ledger
from components.sleepwake.page import alb_response
from devstack import target_file
from devstack.local_aws import LOCAL_CREDENTIALS

log = logging.getLogger("devstack.sleep")
_DURATION = re.compile(r"^\s*(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>s|m|min)?\s*$")
MAX_HEAD = 64 * 1024
MAX_BODY = 4096  # the one-click form is a few bytes; nothing larger is a visit


class SleepSettingError(ValueError):
    """DEVSTACK_SLEEP_AFTER (or _LOOK) is not a duration; the message names it."""


def _seconds(name: str, raw: str) -> float:
    match = _DURATION.match(raw)
    if not match or float(match["n"]) <= 0:
        raise SleepSettingError(f"{name}={raw!r} is not a duration such as 120s or 2m")
    return float(match["n"]) * (60 if match["unit"] in ("m", "min") else 1)


@dataclass(frozen=True)
class LocalSleepSettings:
    """How long the local dashboard may be idle, how often the local sleeper looks, and gunicorn's own port."""

    sleep_after_seconds: float
    look_seconds: float
    back_port: int

    @classmethod
    def from_env(cls, env: Mapping[str, str], dashboard_port: int) -> LocalSleepSettings | None:
        """None unless DEVSTACK_SLEEP_AFTER is set; DEVSTACK_SLEEP_LOOK defaults to a quarter of it (5-60 s)."""
        raw = env.get("DEVSTACK_SLEEP_AFTER", "").strip()
        if not raw:
            return None
        after = _seconds("DEVSTACK_SLEEP_AFTER", raw)
        look = env.get("DEVSTACK_SLEEP_LOOK", "").strip()
        return cls(sleep_after_seconds=after,
                   look_seconds=_seconds("DEVSTACK_SLEEP_LOOK", look) if look else min(60.0, max(5.0, after / 4)),
                   back_port=int(env.get("DEVSTACK_DASHBOARD_BACK_PORT", dashboard_port + 1000)))


class ProcessService:
    """The dashboard as devstack runs it: one gunicorn (desired 1) or none (desired 0)."""

    def __init__(self, stack: Any, host: str, back_port: int) -> None:
        self.stack, self.host, self.back_port = stack, host, back_port
        self._desired, self._changed = 1, dt.datetime.now(dt.UTC)

    def desired(self) -> int:
        return self._desired

    def changed_at(self) -> dt.datetime | None:
        return self._changed

    def healthy(self) -> int:
        if self._desired == 0:
            return 0
        try:
            with urllib.request.urlopen(f"http://{self.host}:{self.back_port}/health", timeout=2) as answer:
                up = answer.status == 200
        except OSError:
            return 0
        if up:
            self.stack.resting.discard("dashboard")  # it answers: the supervisor watches it again
        return int(up)

    def workers(self) -> int:
        """Batch workers the dashboard started: `python -m worker` processes in its process group."""
        leader = self.stack.dashboard_pid()
        if leader is None:
            return 0
        listing = subprocess.run(["ps", "-A", "-o", "pgid=,args="], capture_output=True, text=True, check=False)
        return sum(1 for line in listing.stdout.splitlines()
                   if line.split(None, 1)[0] == str(leader) and " -m worker" in line)

    def scale(self, count: int) -> None:
        if count == self._desired:
            return
        self._desired, self._changed = (1 if count else 0), dt.datetime.now(dt.UTC)
        if count:
            self.stack.start_dashboard()  # returns at once; healthy() says when it answers
        else:
            self.stack.stop_dashboard()


class FrontRoute:
    """Where the front sends a new connection: gunicorn, or the waking pages."""

    def __init__(self) -> None:
        self._to_waker = False
        self._lock = threading.Lock()

    def to_waker(self) -> bool:
        with self._lock:
            return self._to_waker

    def send(self, to_waker: bool) -> None:
        with self._lock:
            self._to_waker = to_waker
        log.info("route", extra={"to": "waker" if to_waker else "dashboard"})


def _read_head(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < MAX_HEAD:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)


class LocalSleep:
    """The front, the waker and the sleeper of one local dashboard; `start()` binds the front, `stop()` ends them."""

    def __init__(self, stack: Any, host: str, port: int, settings: LocalSleepSettings, aws_url: str, region: str,
                 table: str, awake_count: int = 1) -> None:
        self.host, self.port, self.settings = host, port, settings
        dynamodb = boto3.client("dynamodb", endpoint_url=aws_url, region_name=region,
                                aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                                aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
        self.service = ProcessService(stack, host, settings.back_port)
        self.route = FrontRoute()
        self.dashboard = moves.Dashboard(service=self.service, route=self.route, record=Ledger(dynamodb, table),
                                         awake_count=awake_count,
                                         sleep_after_minutes=settings.sleep_after_seconds / 60)
        self._stop = threading.Event()
        self._server: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._visits = 0

    def start(self) -> None:
        server = socket.create_server((self.host, self.port), reuse_port=False)
        server.settimeout(0.5)
        self._server = server
        for target, name in ((self._accept, "front"), (self._look, "sleeper")):
            thread = threading.Thread(target=target, name=f"devstack-sleep-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("local sleep on", extra={"sleep_after_seconds": self.settings.sleep_after_seconds,
                                          "look_seconds": self.settings.look_seconds, "front_port": self.port,
                                          "dashboard_port": self.settings.back_port})

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.close()
        for thread in self._threads:
            thread.join(5)

    # --- the sleeper ----------------------------------------------------------------------

    def look_once(self, now: dt.datetime | None = None) -> moves.Action:
        action, seen = moves.look(self.dashboard, "devstack-sleeper", now or dt.datetime.now(dt.UTC))
        fields: dict[str, Any] = {"action": action.value}
        if seen is not None:
            fields.update(desired=seen.desired, healthy=seen.healthy, workers=seen.workers,
                          last_activity=seen.last_activity and seen.last_activity.isoformat(timespec="seconds"),
                          quiet_look_at=seen.quiet_look_at and seen.quiet_look_at.isoformat(timespec="seconds"))
        log.info("look", extra=fields)
        return action

    def _look(self) -> None:
        while not self._stop.wait(self.settings.look_seconds):
            try:
                self.look_once()
            except Exception:  # noqa: BLE001 - one failed look must not end the sleeper
                log.exception("look failed")

    # --- the front and the waker ----------------------------------------------------------

    def _accept(self) -> None:
        assert self._server is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(30)
        try:
            head = _read_head(conn)
            if not head:
                conn.close()
                return
            if not self.route.to_waker():
                try:
                    back = socket.create_connection((self.host, self.settings.back_port), timeout=5)
                except OSError:
                    self._answer_as_waker(conn, head)  # gunicorn gone mid-sleep: what the waker would say
                    return
                back.settimeout(None)
                conn.settimeout(None)
                back.sendall(head)
                answers = threading.Thread(target=_pipe, args=(back, conn), daemon=True)
                answers.start()
                _pipe(conn, back)
                answers.join()
                back.close()
                conn.close()
                return
            self._answer_as_waker(conn, head)
        except OSError:
            conn.close()

    def _answer_as_waker(self, conn: socket.socket, head: bytes) -> None:
        """The ALB Lambda target's job: the same decision and pages as components/sleepwake/handler.py."""
        text, _, rest = head.partition(b"\r\n\r\n")
        request_line, *header_lines = text.decode("latin-1").split("\r\n")
        method, path = (request_line.split(" ") + ["", ""])[:2]
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = min(int(headers.get("content-length", "0") or 0), MAX_BODY)
        while len(rest) < length:
            chunk = conn.recv(length - len(rest))
            if not chunk:
                break
            rest += chunk
        visit = is_a_visit(method, headers, rest[:length].decode("utf-8", "replace"))
        ready = False
        if visit:
            self._visits += 1
            ready = moves.wake(self.dashboard, f"devstack-visit-{self._visits}", dt.datetime.now(dt.UTC))
        log.info("request while asleep", extra={"visit": visit, "ready": ready, "method": method,
                                                "path": path.split("?", 1)[0][:200]})
        answer = alb_response(method, visit, ready, path.split("?", 1)[0])
        body = answer["body"].encode()
        lines = [f"HTTP/1.1 {answer['statusDescription']}", *(f"{k}: {v}" for k, v in answer["headers"].items()),
                 f"Content-Length: {len(body)}", "Connection: close", "", ""]
        conn.sendall("\r\n".join(lines).encode("latin-1") + (b"" if method.upper() == "HEAD" else body))
        conn.close()


def attach(stack: Any, settings: Any, sleep: LocalSleepSettings) -> LocalSleep:
    """Put the front on `settings.dashboard_port` in front of the started `stack` (whose dashboard listens on
    `sleep.back_port`), log its moves to logs/sleep.log as JSON lines, and point scripted clients at the front."""
    from jobkit.logs import JsonFormatter

    handler = logging.FileHandler(settings.log_dir / "sleep.log")
    handler.setFormatter(JsonFormatter("devstack"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False  # `make dev`'s console shows warnings only; the moves go to the file
    front = LocalSleep(stack, settings.host, settings.dashboard_port, sleep, settings.aws_url, settings.region,
                       settings.table)
    front.start()
    target_file.write(settings.state_dir, {**stack.client_target(), "dashboard_url": settings.dashboard_url})
    return front


def wait_until(condition: Any, timeout: float, interval: float = 0.2) -> bool:
    """Poll `condition()` until it is true or `timeout` seconds pass (for tests and the stack's start)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())
