"""Benchmark 2: the framework's overhead per job, draining with 1, 2 and 4 worker processes.

The algorithm is trivial (bench/trivial_algorithm.py), so what is measured is the queue: claim,
read input, write result and summary, complete. AWS calls are counted by the local AWS itself,
across every worker process.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid

from jobkit import JobStatus, JobStore, StoreSettings
from jobkit.records import parse_iso

from bench.faults import worker_env
from devstack.local_aws import LocalAws, bootstrap
from devstack.settings import REPO_ROOT

CSV = b"id,x,y\n1,0.5,1.5\n2,0.7,1.1\n"


def _submit_all(store: JobStore, jobs: int) -> None:
    for n in range(jobs):
        store.submit(owner="bench", client_token=f"t{n}", input_bytes=CSV)


def run_one(aws: LocalAws, jobs: int, workers: int, timeout: float = 600.0) -> dict[str, float]:
    """Drain `jobs` trivial jobs with `workers` processes; one result row."""
    name = f"bench-drain-{uuid.uuid4().hex[:8]}"
    bootstrap(aws.url, "us-east-1", name, name)
    settings = StoreSettings(table=name, bucket=name, region="us-east-1")
    store = JobStore(settings)
    _submit_all(store, jobs)
    env = worker_env(
        settings,
        aws.url,
        {
            "PYTHONPATH": f"{REPO_ROOT / 'apps'}:{REPO_ROOT}",
            "WORKER_ALGORITHM": "bench.trivial_algorithm",
            "WORKER_IDLE_SECONDS": "1",
            "WORKER_POLL_SECONDS": "0.2",
            "LOG_LEVEL": "WARNING",
        },
    )
    calls_before = aws.traffic.calls.copy()
    started_wall = time.time()
    processes = [
        subprocess.Popen([sys.executable, "-m", "worker", "--drain"], env=env, stderr=subprocess.DEVNULL)
        for _ in range(workers)
    ]
    for process in processes:
        process.wait(timeout=timeout)
    calls = aws.traffic.calls - calls_before
    finished = []
    token = None
    while True:
        page = store.list_recent(limit=200, page_token=token)
        finished += [job for job in page.items if job.status is JobStatus.SUCCEEDED]
        if not (token := page.next_token):
            break
    last = max(parse_iso(job.finished_at).timestamp() for job in finished) if finished else started_wall
    seconds = last - started_wall
    return {
        "workers": workers,
        "jobs": jobs,
        "succeeded": len(finished),
        "seconds": seconds,
        "jobs_per_s": len(finished) / seconds if seconds > 0 else 0.0,
        "calls_per_job": sum(calls.values()) / jobs,
        "claim_calls_per_job": (calls["dynamodb.Query"] + calls["dynamodb.UpdateItem"]) / jobs,
    }


def run(aws: LocalAws, jobs: int = 500, worker_counts: tuple[int, ...] = (1, 2, 4)) -> list[dict[str, float]]:
    rows = [run_one(aws, jobs, workers) for workers in worker_counts]
    for row in rows:
        row["speedup"] = row["jobs_per_s"] / rows[0]["jobs_per_s"] if rows[0]["jobs_per_s"] else 0.0
    return rows
