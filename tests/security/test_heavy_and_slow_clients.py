"""The dashboard as gunicorn serves it (one worker, the local stack's variables) under the two
attacks of issue 23 that took it down: four concurrent 5.2 MB uploads (memory), and 40 slow
anonymous connections (threads).

Each test prints its figures (the worker's peak RSS growth; /health latencies) for BENCHMARKS.md.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from jobkit import JobStore

from bench import dash_calls
from tests.security.test_raw_http import Dashboard, rss_kb, serve_dashboard, signed_in

pytestmark = pytest.mark.timeout(600)

# The attack's file: a header and 1.3 million two-column rows, 5.2 MB (under the 5 MiB limit).
BIG_CSV = b"a,b\n" + b"1,2\n" * 1_300_000
UPLOADS = 4
SLOW = 20  # connections of each kind
REQUEST_SECONDS = 15


@pytest.fixture(scope="module")
def served(aws_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    dashboards = serve_dashboard(aws_endpoint, tmp_path_factory.mktemp("heavy-slow"), "heavy",
                                 {"GUNICORN_REQUEST_TIMEOUT": str(REQUEST_SECONDS)})  # short, for the trickled body
    dashboard = next(dashboards)
    # A published description, as a running stack has: the upload is checked against its rules.
    JobStore(dashboard.store).publish_description({
        "title": "Fixture job", "model_version": "f-1", "description": "",
        "input": {"format": "csv", "min_rows": 1, "max_rows": 100_000, "max_columns": 100,
                  "min_numeric_columns": 1, "columns": [], "help": ""}, "params": [], "samples": []})
    yield dashboard
    dashboards.close()


def upload_body(data: bytes, token: str) -> dict:
    body = dash_calls.submit_sample("", token)
    body["inputs"][0]["value"] = "data:text/csv;base64," + base64.b64encode(data).decode()
    body["inputs"][1]["value"] = 0
    body["changedPropIds"] = ["job-upload.contents"]
    body["state"][0]["value"] = "big.csv"
    body["state"][1]["value"] = None
    return body


class PeakRss:
    """Samples a process's VmRSS every 10 ms while the block runs."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, rss_kb(pid), threading.Event()

    def __enter__(self) -> PeakRss:
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_kb(self.pid))
            time.sleep(0.01)

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def test_four_concurrent_big_uploads_leave_the_worker_small(served):
    session = signed_in(served)
    assert session.post(f"{served.url}/_dash-update-component", json=dash_calls.open_page("/jobs"),
                        timeout=60).status_code == 200  # a warm worker
    worker = served.worker_pid()
    before = rss_kb(worker)
    answers: list[str] = []

    def send(n: int) -> None:
        answer = session.post(f"{served.url}/_dash-update-component", json=upload_body(BIG_CSV, f"big-{n}"),
                              timeout=300)
        answers.append(f"{answer.status_code} {answer.text[:2000]}")

    with PeakRss(worker) as rss:
        started = time.monotonic()
        threads = [threading.Thread(target=send, args=(n,)) for n in range(UPLOADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        took = time.monotonic() - started
    grown_mb = (rss.peak - before) / 1024
    print(f"\n{UPLOADS} concurrent {len(BIG_CSV) / 1e6:.1f} MB uploads: gunicorn worker VmRSS {before / 1024:.0f} MB "
          f"before, peak {rss.peak / 1024:.0f} MB ({grown_mb:+.0f} MB), answered in {took:.1f} s")
    assert len(answers) == UPLOADS and all(a.startswith("200 ") for a in answers), answers
    assert all("at most 100,000" in a for a in answers), [a[:300] for a in answers]  # refused, with the reason
    assert grown_mb < 150


def _unfinished_headers(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
    return sock


def _chunked_post(port: int, cookie: str = "") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    signed = f"Cookie: ml_proto_session={cookie}\r\n".encode() if cookie else b""
    sock.sendall(b"POST /_dash-update-component HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 + signed + b"Transfer-Encoding: chunked\r\n\r\n")
    return sock


def test_forty_slow_anonymous_connections_leave_health_fast(served):
    slow = [_unfinished_headers(served.port) for _ in range(SLOW)] + [_chunked_post(served.port) for _ in range(SLOW)]
    stop = threading.Event()

    def trickle() -> None:  # a byte every 4 s on each, as the attack did
        while not stop.wait(4):
            for n, sock in enumerate(slow):
                with contextlib.suppress(OSError):  # the server hung up: what it should do
                    sock.sendall(b"X" if n < SLOW else b"1\r\nx\r\n")

    trickler = threading.Thread(target=trickle, daemon=True)
    trickler.start()
    latencies = []
    try:
        end = time.monotonic() + 30
        while time.monotonic() < end:
            started = time.monotonic()
            try:
                ok = requests.get(f"{served.url}/health", timeout=10).ok
            except requests.RequestException:
                ok = False
            latencies.append((time.monotonic() - started) if ok else float("inf"))
            time.sleep(1)
    finally:
        stop.set()
        trickler.join()
        closed = 0
        for sock in slow:
            sock.settimeout(0.5)
            try:
                closed += sock.recv(64) != b"X"  # an answer (408, 401) or a hang-up end the attack's hold
            except TimeoutError:
                pass  # still held open
            except OSError:
                closed += 1
            sock.close()
    worst = max(latencies)
    print(f"\n{SLOW} unfinished-header connections and {SLOW} chunked POSTs trickling a byte every 4 s: "
          f"{len(latencies)} /health requests over 30 s, "
          f"median {sorted(latencies)[len(latencies) // 2] * 1000:.0f} ms, "
          f"worst {worst * 1000:.0f} ms; {closed} of {len(slow)} slow connections ended by the server")
    assert worst < 2.0, json.dumps(latencies)
    assert served.process.poll() is None


def test_a_signed_in_body_trickled_past_the_request_deadline_is_cut_off(served):
    session = signed_in(served)
    cookie = session.cookies["ml_proto_session"]
    sock = _chunked_post(served.port, cookie)
    started, answer = time.monotonic(), b""
    sock.settimeout(1)
    while time.monotonic() - started < REQUEST_SECONDS + 20 and b"\r\n" not in answer:
        with contextlib.suppress(OSError):
            sock.sendall(b"1\r\n{\r\n")  # a byte of body every second: never idle, never done
        try:
            data = sock.recv(4096)
        except TimeoutError:
            continue
        except OSError:
            break
        if not data:
            break
        answer += data
    took = time.monotonic() - started
    sock.close()
    print(f"\na signed-in chunked body trickled a byte a second: answered {answer[:30]!r} after {took:.1f} s "
          f"(deadline {REQUEST_SECONDS} s)")
    assert answer.startswith(b"HTTP/1.1 400") and took < REQUEST_SECONDS + 10
    assert requests.get(f"{served.url}/health", timeout=5).ok


def test_slow_clients_leave_no_stack_trace_in_the_log(served):
    text = Path(served.log).read_text(errors="replace")
    assert "Traceback" not in text and "slow client refused" in text
