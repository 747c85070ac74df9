"""Where a loaded dashboard's time goes: the load benchmark run under py-spy, its samples sorted
into the parts of a request (`python -m bench.profile`, what `make profile` runs).

py-spy samples every process of the run (`--subprocesses`): gunicorn serving the dashboard, the
bench process holding the local AWS (moto, the strict layer, the recorder), locust and the rest.
Each sample of a thread that was running in the dashboard is put in the first part whose code is
on its stack (`PARTS`, in order), so a part's figure includes what it calls: the login throttle's
own DynamoDB calls count as the throttle's. In the local AWS, whose layers wrap one another, the
innermost frame decides: the strict layer's figure is its own checks, not the moto they wrap.
Milliseconds per request are CPU time: samples / rate / dashboard requests. Samples of threads
that were only waiting (select, socket reads, lock waits) are shown apart, as not CPU.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

# (process kind, part, substrings of a frame's file that mark it); first match wins.
PARTS: list[tuple[str, str, tuple[str, ...]]] = [
    ("dashboard", "CSRF check", ("flask_wtf/csrf.py",)),
    ("dashboard", "security headers", ("flask_talisman/",)),
    ("dashboard", "session-generation read", ("jobkit/sessions.py",)),
    ("dashboard", "login throttle", ("jobkit/login_throttle.py",)),
    ("dashboard", "callback guard", ("dashboard/callback_guard.py",)),
    ("dashboard", "request ids and JSON logs", ("dashboard/request_ids.py", "jobkit/logs.py", "logging/")),
    ("dashboard", "session cookie (sign, verify)", ("flask/sessions.py", "itsdangerous/")),
    ("dashboard", "store calls (jobkit, botocore client side)", ("jobkit/store.py", "jobkit/aws.py", "botocore/",
                                                                "urllib3/")),
    ("dashboard", "page layouts and callbacks", ("dashboard/pages/", "dashboard/app.py", "dashboard/services.py",
                                                 "dashboard/feedback_widget.py", "dashboard/ui.py")),
    ("dashboard", "Dash (dispatch, JSON, index page)", ("dash/", "plotly/", "dash_ag_grid/")),
    ("dashboard", "Flask, werkzeug, gunicorn", ("flask/", "werkzeug/", "gunicorn/", "jinja2/")),
    ("dashboard", "other (dashboard process)", ("",)),
    ("local AWS", "waiting for the one-DynamoDB-call-at-a-time lock", ("leaf:TrafficMiddleware._forward ",)),
    ("local AWS", "recorder", ("moto_api/_internal/recorder",)),
    ("local AWS", "strict layer (its own checks)", ("devstack/strict_aws.py",)),
    ("local AWS", "moto DynamoDB", ("moto/dynamodb",)),
    ("local AWS", "moto S3", ("moto/s3",)),
    ("local AWS", "moto response serialisation", ("moto/core/serialize.py",)),
    ("local AWS", "moto other, HTTP serving", ("moto/", "werkzeug/", "devstack/", "socketserver",
                                               "http/server.py")),
    ("local AWS", "other (bench process)", ("",)),
    ("locust", "locust", ("",)),
    ("other", "predictor, workers, image builds", ("",)),
]


INNERMOST = frozenset({"local AWS"})


def process_kind(frames: list[str]) -> str:
    """Which process a stack came from: py-spy puts a frame per process, parents first, so the
    last one is the process sampled (a worker the dashboard started is not the dashboard)."""
    processes = [frame for frame in frames if frame.startswith("process ")]
    command = processes[-1] if processes else ""
    if "gunicorn" in command:
        return "dashboard"
    if "locust" in command:
        return "locust"
    if "-m bench" in command:
        return "local AWS"
    return "other"


# Leaf frames of a thread that was waiting, not computing (py-spy's idle detection misses some
# under load): select, socket reads and writes, condition waits.
IDLE_LEAVES = ("selectors.py", "SocketIO.readinto", "_SocketWriter.write", "Condition.wait", "Event.wait",
               "socket.py", "Response.send_headers;write", "Thread._wait_for_tstate_lock", "time.sleep",
               "Queue.get", "Arbiter.sleep", "Arbiter.wait_for_signals")
# Python frames that, as the leaf, are blocked in a lock acquire (C code has no frame of its own).
LOCK_WAIT_LEAVES = ("SessionGenerations.current ",)
WAITING = "waiting (idle samples, not CPU)"


def part_of(frames: list[str]) -> tuple[str, str]:
    """The dashboard's parts include what they call (first part in PARTS on the stack); the local
    AWS's parts wrap one another (strict layer around moto), so there the innermost frame decides."""
    kind = process_kind(frames)
    leaf = frames[-1] if frames else ""
    parts = [(part, markers) for part_kind, part, markers in PARTS if part_kind == kind]
    for part, markers in parts:
        if any(marker.startswith("leaf:") and leaf.startswith(marker[5:]) for marker in markers):
            return kind, part
    if (any(marker in leaf for marker in IDLE_LEAVES) or "Response.send_headers" in ";".join(frames[-3:])
            or leaf.startswith(LOCK_WAIT_LEAVES) or leaf.startswith("process ")):  # the last: no Python frame
        return kind, WAITING
    if kind in INNERMOST:
        for frame in reversed(frames):
            for part, markers in parts:
                if any(marker and not marker.startswith("leaf:") and marker in frame for marker in markers):
                    return kind, part
        return kind, parts[-1][0]
    for part, markers in parts:
        if any(marker in frame for marker in markers for frame in frames):
            return kind, part
    return kind, "unknown"


def parse_raw(lines: Iterable[str]) -> Counter[tuple[str, str]]:
    """py-spy's raw (collapsed) output, `frame;frame;... count`, as samples per (process, part)."""
    samples: Counter[tuple[str, str]] = Counter()
    for line in lines:
        stack, _, count = line.rstrip().rpartition(" ")
        if stack and count.isdigit():
            samples[part_of(stack.split(";"))] += int(count)
    return samples


def breakdown(samples: Counter[tuple[str, str]], rate: int, requests: int) -> list[dict[str, Any]]:
    """Rows of CPU ms per dashboard request and share of all samples, per part, in PARTS' order."""
    total = sum(samples.values()) or 1
    rows = []
    kinds = list(dict.fromkeys(kind for kind, _, _ in PARTS))
    for kind, part in [(kind, part) for kind, part, _ in PARTS] + [(kind, WAITING) for kind in kinds]:
        count = samples.get((kind, part), 0)
        if count:
            rows.append({"process": kind, "part": part, "ms_per_request": count * 1000 / rate / max(requests, 1),
                         "share": count / total})
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| process | part | CPU ms per request | share of all samples |", "|---|---|---|---|"]
    lines += [f"| {r['process']} | {r['part']} | {r['ms_per_request']:.2f} | {r['share']:.1%} |" for r in rows]
    return "\n".join(lines)


def _run_load(args: argparse.Namespace) -> None:
    from bench import load

    rows = load.run(users=args.users, seconds=args.seconds, spawn_rate=args.spawn_rate,
                    apps_dir=Path(args.apps) if args.apps else None)
    Path(args.rows).write_text(json.dumps(rows))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--spawn-rate", type=int, default=20)
    parser.add_argument("--rate", type=int, default=50, help="py-spy samples per second")
    parser.add_argument("--apps", help="the apps/ folder to serve (default: this checkout's)")
    parser.add_argument("--output", type=Path, help="keep py-spy's raw samples here")
    parser.add_argument("--rows", help=argparse.SUPPRESS)  # inner run: where the load rows go
    args = parser.parse_args(argv)
    if args.rows:
        _run_load(args)
        return 0
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as work:
        raw, rows_file = args.output or Path(work) / "samples.txt", Path(work) / "rows.json"
        inner = [sys.executable, "-m", "bench.profile", "--users", str(args.users), "--seconds", str(args.seconds),
                 "--spawn-rate", str(args.spawn_rate), "--rows", str(rows_file),
                 *(["--apps", args.apps] if args.apps else [])]
        subprocess.run([py_spy, "record", "--subprocesses", "--nonblocking", "--format", "raw",
                        "--rate", str(args.rate), "--output", str(raw), "--", *inner], check=True)
        rows = json.loads(rows_file.read_text())
        samples = parse_raw(raw.read_text().splitlines())
    requests = next((row["requests"] for row in rows if row["name"] == "Aggregated"), 0)
    print(f"{args.users} users, {args.seconds} s, {requests} dashboard requests, py-spy at {args.rate} Hz\n")
    print(markdown(breakdown(samples, args.rate, requests)))
    print("\n" + "\n".join(f"{row['name']}: p50 {row.get('p50')} p95 {row.get('p95')} errors {row.get('errors')}"
                           for row in rows if "p50" in row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
