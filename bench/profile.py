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

ROOT = Path(__file__).resolve().parent.parent

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
    # Told apart by the process's own command (the last process frame of the stack).
    ("other", "batch workers (the jobs' own computing, at nice 10)", ("-m worker",)),
    ("other", "predictor instances (the model)", ("awslambdaric",)),
    ("other", "Lambda image builds", ("lambda_build_worker", "lambda_sandbox")),
    ("other", "other processes", ("",)),
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
    if len(processes) <= 1 or "-m bench" in command:  # the root process py-spy started: the bench
        return "local AWS"
    return "other"


# Leaf frames of a thread that was waiting, not computing (py-spy's idle detection misses some
# under load): select, socket reads and writes, condition waits.
IDLE_LEAVES = ("selectors.py", "SocketIO.readinto", "_SocketWriter.write", "Condition.wait", "Event.wait",
               "socket.py", "Response.send_headers;write", "Thread._wait_for_tstate_lock", "time.sleep",
               "Queue.get", "Arbiter.sleep", "Arbiter.wait_for_signals",
               # An idle pool thread (gunicorn's gthread pool, the login throttle's) in SimpleQueue.get,
               # which is C code: the pool's loop is the leaf.
               "_worker (concurrent/futures/thread.py")
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


def side_by_side(reference: list[dict[str, Any]], ours: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per part: ms per request in both runs, and the part's share of its process's CPU
    (comparable between runs on a machine whose load changes; the ms are not, quite)."""
    def cpu(rows: list[dict[str, Any]], kind: str) -> float:
        return sum(r["ms_per_request"] for r in rows
                   if r["process"] == kind and not r["part"].startswith("waiting")) or 1.0

    def find(rows: list[dict[str, Any]], kind: str, part: str) -> dict[str, Any]:
        return next((r for r in rows if r["process"] == kind and r["part"] == part), {})

    merged = []
    for kind, part in dict.fromkeys((r["process"], r["part"]) for r in [*reference, *ours]):
        before, after = find(reference, kind, part), find(ours, kind, part)
        row = {"process": kind, "part": part, "before_ms": before.get("ms_per_request", 0.0),
               "after_ms": after.get("ms_per_request", 0.0)}
        if not part.startswith("waiting"):  # waits are not CPU: no share of it
            row["before_share"] = f"{row['before_ms'] / cpu(reference, kind):.1%}"
            row["after_share"] = f"{row['after_ms'] / cpu(ours, kind):.1%}"
        merged.append(row)
    return merged


def profile_once(args: argparse.Namespace, apps: str | None, raw: Path) -> tuple[list[dict[str, Any]], Counter]:
    """One load run under py-spy: locust's rows and the samples per (process, part)."""
    rows_file = raw.with_suffix(".rows.json")
    if args.samples:
        return json.loads(rows_file.read_text()), parse_raw(raw.read_text().splitlines())
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    inner = [sys.executable, "-m", "bench.profile", "--users", str(args.users), "--seconds", str(args.seconds),
             "--spawn-rate", str(args.spawn_rate), "--rows", str(rows_file), *(["--apps", apps] if apps else [])]
    subprocess.run([py_spy, "record", "--subprocesses", "--nonblocking", "--format", "raw",
                    "--rate", str(args.rate), "--output", str(raw), "--", *inner], check=True)
    return json.loads(rows_file.read_text()), parse_raw(raw.read_text().splitlines())


def _requests(rows: list[dict[str, Any]]) -> int:
    return next((row["requests"] for row in rows if row["name"] == "Aggregated"), 0)


def _latency(rows: list[dict[str, Any]]) -> str:
    return "; ".join(f"{row['name']} p50 {row.get('p50', 0):,.0f} / p95 {row.get('p95', 0):,.0f}"
                     for row in rows if row["name"] in ("log in", "open predict page", "poll jobs table", "Aggregated"))


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
    parser.add_argument("--rate", type=int, default=25, help="py-spy samples per second")
    parser.add_argument("--apps", help="the apps/ folder to serve (default: this checkout's)")
    parser.add_argument("--reference", metavar="COMMIT", help="profile this commit's apps/ first, for a before/after")
    parser.add_argument("--write", type=Path, metavar="BENCHMARKS_MD", help="write the breakdown into this file")
    parser.add_argument("--output", type=Path, help="keep py-spy's raw samples in this folder")
    parser.add_argument("--samples", type=Path, metavar="FOLDER",
                        help="sort the samples an earlier run kept (--output) instead of running again")
    parser.add_argument("--rows", help=argparse.SUPPRESS)  # inner run: where the load rows go
    args = parser.parse_args(argv)
    if args.rows:
        _run_load(args)
        return 0
    from bench import regression
    from bench.report import Section, commit, write

    with tempfile.TemporaryDirectory(prefix="bench-profile-") as work:
        folder = args.samples or args.output or Path(work)
        folder.mkdir(parents=True, exist_ok=True)
        reference = None
        if args.reference:
            reference = regression.short_commit(args.reference, ROOT)
            reference_apps = None if args.samples else regression.export_apps(reference, Path(work), ROOT)
            before_rows, before_samples = profile_once(args, str(reference_apps), folder / "reference.txt")
        after_rows, after_samples = profile_once(args, args.apps, folder / "this.txt")
    ours = breakdown(after_samples, args.rate, _requests(after_rows))
    print(f"{args.users} users, {args.seconds} s, {_requests(after_rows)} dashboard requests, py-spy at {args.rate} Hz")
    print(markdown(ours) + "\n\n" + _latency(after_rows))
    if reference is None:
        return 0
    theirs = breakdown(before_samples, args.rate, _requests(before_rows))
    rows = side_by_side(theirs, ours)
    section = Section(
        title="11. Where a loaded request's time goes",
        intro=(
            f"`make profile`: the load of section 4 ({args.users} users, {args.seconds} s) under py-spy at\n"
            f"{args.rate} Hz (bench/profile.py), first for {reference} (before), then for {commit()} (this commit),\n"
            "one after the other on the same machine. CPU ms per dashboard request = samples / rate /\n"
            "requests, per part of a request (a part includes the calls it makes: the login throttle's\n"
            "DynamoDB calls are the throttle's); the local AWS's parts are its own code only. On a loaded\n"
            "machine the sampled ms include time a thread was runnable but not running, so the shares of\n"
            "each process's CPU are the figures to compare; idle samples py-spy still caught are shown\n"
            "apart.\n\n"
            f"Before: {_requests(before_rows):,} requests; {_latency(before_rows)} ms.\n"
            f"After: {_requests(after_rows):,} requests; {_latency(after_rows)} ms."
        ),
        columns=[("process", "process"), ("part", "part"), ("before_ms", "before ms/request"),
                 ("after_ms", "after ms/request"), ("before_share", "before share of process CPU"),
                 ("after_share", "after share of process CPU")],
        rows=rows,
    )
    print("\n" + section.markdown())
    if args.write:
        write(args.write, "make profile", [section])
    return 0


if __name__ == "__main__":
    sys.exit(main())
