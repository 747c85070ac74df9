"""Raw HTTP against the dashboard as the local stack runs it (gunicorn, the local stack's own
dashboard variables): what no browser sends, sent byte by byte.

- a 150 MB callback body is answered 413 before it is read (chunked: once the limit is read), and
  the worker's memory stays put;
- a forged X-Forwarded-For changes neither the address the access log records nor the one the
  sign-in lockout counts (locally nothing stands in front, DASHBOARD_PROXY_HOPS=0).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from bench import dash_calls
from devstack.local_aws import app_env, bootstrap
from devstack.settings import REPO_ROOT
from devstack.stack import DevStack
from tests.support import free_port, stack_settings, wait_until

ATTACK_BYTES = 150 * 1024 * 1024


class Dashboard:
    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path, login: tuple[str, str],
                 store: Any = None) -> None:
        self.process, self.port, self.log, self.login, self.store = process, port, log, login, store
        self.url = f"http://127.0.0.1:{port}"

    def worker_pid(self) -> int:
        """gunicorn's one worker process (the master's child)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        assert len(children) == 1, children
        return int(children[0])

    def access_lines(self) -> list[dict[str, Any]]:
        lines = []
        for line in self.log.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("logger") == "gunicorn.access":
                lines.append(entry)
        return lines


def rss_kb(pid: int) -> int:
    """The process's resident memory (VmRSS in /proc/<pid>/status), in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def serve_dashboard(aws_endpoint: str, folder: Path, prefix: str,
                    extra_env: dict[str, str] | None = None) -> Iterator[Dashboard]:
    """The dashboard as the local stack runs it (gunicorn, one worker, the stack's own DASHBOARD_
    variables: logins, session key file, no trusted proxy) over a fresh table and bucket, until closed."""
    from jobkit import StoreSettings

    stack = DevStack(stack_settings(folder))
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    bootstrap(aws_endpoint, "us-east-1", name, name)
    port = free_port()
    env = {
        **os.environ,
        **app_env(StoreSettings(table=name, bucket=name, region="us-east-1"), aws_endpoint),
        **{k: v for k, v in stack.app_env("dashboard").items() if k.startswith("DASHBOARD_")},
        "PYTHONPATH": str(REPO_ROOT / "apps"),
        "PREDICTOR_FUNCTION": "never-called",
        "MAX_WORKERS": "0",
        "GUNICORN_WORKERS": "1",
        "LOG_LEVEL": "INFO",
        **(extra_env or {}),
    }
    log = folder / "dashboard.log"
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "python:dashboard.gunicorn_conf",
             "--bind", f"127.0.0.1:{port}", "dashboard.app:server"],
            env=env, stdout=output, stderr=subprocess.STDOUT, cwd=folder,
        )
    served = Dashboard(process, port, log, stack.login, StoreSettings(table=name, bucket=name, region="us-east-1"))

    def healthy() -> bool:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            return requests.get(f"{served.url}/health", timeout=5).ok
        except requests.RequestException:  # not listening yet, or still importing
            return False

    try:
        wait_until(healthy, timeout=90, interval=0.2, what="gunicorn to answer /health")
        yield served
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def dashboard(aws_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    yield from serve_dashboard(aws_endpoint, tmp_path_factory.mktemp("raw-http"), "raw")


def signed_in(dashboard: Dashboard) -> requests.Session:
    session = requests.Session()
    answer = dash_calls.sign_in(session, dashboard.url, *dashboard.login, allow_redirects=False)
    assert answer.status_code == 302
    return session


def send_oversized_callback(dashboard: Dashboard, cookie: str, chunked: bool = False) -> tuple[bytes, int]:
    """POST a callback of ATTACK_BYTES (declared, or chunked with no length), sending until the server
    answers or hangs up; (the answer's status line, how many body bytes the server took)."""
    length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {ATTACK_BYTES}"
    head = (f"POST /_dash-update-component HTTP/1.1\r\nHost: 127.0.0.1:{dashboard.port}\r\n"
            f"Cookie: ml_proto_session={cookie}\r\nContent-Type: application/json\r\n"
            f"{length}\r\n\r\n").encode()
    chunk = b'{"pad": "' + b"x" * (1024 * 1024 - 9)
    if chunked:
        chunk = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    with socket.create_connection(("127.0.0.1", dashboard.port), timeout=30) as sock:
        sock.sendall(head)
        sock.setblocking(False)
        answer = b""
        deadline = time.monotonic() + 60
        pending = b""
        while time.monotonic() < deadline and (sent < ATTACK_BYTES or pending):
            try:
                answer += sock.recv(4096)
                if answer:
                    break
            except BlockingIOError:
                pass
            if not pending:
                pending = chunk
            try:
                done = sock.send(pending)
            except BlockingIOError:
                time.sleep(0.001)
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
            pending, sent = pending[done:], sent + done
            if chunked and sent >= ATTACK_BYTES and not pending:
                pending = b"0\r\n\r\n"
        sock.setblocking(True)
        sock.settimeout(10)
        try:
            while b"\r\n" not in answer:
                data = sock.recv(4096)
                if not data:
                    break
                answer += data
        except (TimeoutError, ConnectionResetError):
            pass
    return answer.split(b"\r\n", 1)[0], sent


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_150_mb_callback_is_refused_413_without_the_worker_growing(dashboard, chunked):
    session = signed_in(dashboard)
    cookie = session.cookies["ml_proto_session"]
    page = session.post(f"{dashboard.url}/_dash-update-component", json=dash_calls.open_page("/jobs"), timeout=30)
    assert page.status_code == 200  # the worker has served a real callback: its memory is warm
    worker = dashboard.worker_pid()
    before = rss_kb(worker)
    status, sent = send_oversized_callback(dashboard, cookie, chunked)
    after = rss_kb(worker)
    kind = "chunked" if chunked else "Content-Length"
    print(f"\n150 MB callback ({kind}): answered {status.decode()!r} after {sent / 1024 / 1024:.1f} MB sent; "
          f"gunicorn worker {worker} VmRSS {before} kB before, {after} kB after ({(after - before) / 1024:+.1f} MB)")
    assert status.startswith(b"HTTP/1.1 413")
    # With a Content-Length nothing is read; a chunked body is read up to the limit (6.7 MB) only.
    assert after - before < (5 if not chunked else 12) * 1024
    assert dashboard.worker_pid() == worker  # the same worker, still serving
    assert session.get(f"{dashboard.url}/health", timeout=10).ok


def test_a_forged_forwarded_for_is_neither_logged_nor_counted(dashboard):
    forged = [f"203.0.113.{n}" for n in range(6)]
    codes = []
    for address in forged:
        session = requests.Session()
        page = session.get(f"{dashboard.url}/login", timeout=10).text
        answer = session.post(f"{dashboard.url}/login", data=dash_calls.login_form(page, "mallory", "guess"),
                              headers={"X-Forwarded-For": address}, timeout=10)
        codes.append(answer.status_code)
    assert codes == [401] * 4 + [429, 429]  # one address, whatever the header claims
    logged = {entry["client"] for entry in dashboard.access_lines() if entry["path"] == "/login"}
    assert logged == {"127.0.0.1"}
