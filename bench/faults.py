"""The fault drill: jobs submitted and drained by real worker processes while the local AWS
fails a share of every DynamoDB and S3 call (throttles, 5xx, connection resets before and after
the call took effect). Used by tests/faults and by `make bench` (issue: nothing lost).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from jobkit import JobNotFound, JobStatus, JobStore, StoreSettings

from devstack.faults import FaultPlan
from devstack.local_aws import LocalAws, app_env, bootstrap
from devstack.settings import REPO_ROOT


@dataclass
class DrillResult:
    """What happened: calls made and injected, and the fate of every job."""

    rate: float
    calls: int
    injected: dict[str, int]
    submitted: int
    succeeded: int
    failed: int
    lost: int
    duplicated: int  # extra job records, completions, result objects and algorithm runs
    runs: int  # executions of the algorithm, as it recorded them
    seconds: float

    def row(self) -> dict[str, object]:
        return {**vars(self), "injected_total": sum(self.injected.values()),
                "injected": ", ".join(f"{k} {v}" for k, v in sorted(self.injected.items()))}


def sample_csv(rows: int = 40, tag: str = "r") -> bytes:
    """A small numeric CSV with two obvious groups, fine for the example segmentation; `tag`
    prefixes the row ids, so each job's input (and its recorded run) is its own."""
    lines = ["id,x,y,z"]
    for n in range(rows):
        offset = 0.0 if n % 2 else 10.0
        lines.append(f"{tag}{n},{offset + (n % 7) * 0.1:.2f},{offset + (n % 5) * 0.2:.2f},{(n % 3) * 0.3:.2f}")
    return ("\n".join(lines) + "\n").encode()


def worker_env(settings: StoreSettings, endpoint: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """A worker process's environment: this machine's, plus the store's, plus `extra`."""
    return {
        **os.environ,
        **app_env(settings, endpoint),
        "PYTHONPATH": str(REPO_ROOT / "apps"),
        "WORKER_IDLE_SECONDS": "3",
        **(extra or {}),
    }


def run_drill(
    aws: LocalAws,
    *,
    jobs: int = 30,
    workers: int = 3,
    rate: float = 0.2,
    seed: int = 1,
    timeout: float = 240.0,
    log_dir: Path | None = None,
) -> DrillResult:
    """Submit `jobs` and drain them with `workers` processes while `rate` of calls fail."""
    name = f"drill-{uuid.uuid4().hex[:8]}"
    bootstrap(aws.url, "us-east-1", name, name)
    # The lease outlasts a job's slowest retried calls (nine attempts with backoff can take several
    # seconds): with a 5 s lease a loaded machine let a lease lapse mid-run and a second worker ran
    # the job again -- at-least-once, as designed, but not what this drill measures.
    settings = StoreSettings(
        table=name, bucket=name, region="us-east-1", lease_seconds=30, max_attempts=5,
        retry_backoff_seconds=0.2, aws_max_attempts=9,
    )
    store = JobStore(settings)
    calls_before = sum(aws.traffic.calls.values())
    injected_before = Counter(aws.traffic.faults.injected)
    started = time.monotonic()
    aws.traffic.faults.set_plan(FaultPlan(rate=rate, seed=seed))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        ids = [
            store.submit(owner="drill", client_token=f"t{n}", input_bytes=sample_csv(tag=f"j{n}-"),
                         input_name=f"d{n}.csv").job_id
            for n in range(jobs)
        ]
        # A submit whose answer was lost is repeated by the client with the same token: same job.
        ids += [store.submit(owner="drill", client_token="t0", input_bytes=sample_csv(tag="j0-")).job_id]
        folder = Path(log_dir or tempfile.mkdtemp(prefix="drill-"))
        log_path = folder / f"{name}-workers.log"
        runs_path = folder / f"{name}-runs.log"
        runs_path.touch()
        log = open(log_path, "ab")  # noqa: SIM115 - shared by the worker processes
        # Every execution of the algorithm is recorded, so a job run twice is seen even when its
        # second run's completion was refused.
        env = worker_env(settings, aws.url, {
            "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "apps"), str(REPO_ROOT)]),
            "WORKER_ALGORITHM": "bench.recording_algorithm", "DRILL_RUNS_LOG": str(runs_path)})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            processes = [p for p in processes if p.poll() is None]
            if _all_settled(store, set(ids)):
                break
            while len(processes) < workers:  # as the dashboard's reconciler does
                processes.append(
                    subprocess.Popen([sys.executable, "-m", "worker", "--drain"], env=env, stdout=log, stderr=log)
                )
            time.sleep(0.5)
    finally:
        aws.traffic.faults.set_plan(FaultPlan())
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        if "log" in locals():
            log.close()
    seconds = time.monotonic() - started
    statuses: Counter[JobStatus] = Counter()
    missing = 0
    for job_id in set(ids):
        try:
            statuses[store.get(job_id).status] += 1
        except JobNotFound:
            missing += 1
    results = _result_objects(store)
    records = _job_records(store)
    completions = _completions(log_path)
    executions = Counter(runs_path.read_text().split())
    return DrillResult(
        rate=rate,
        calls=sum(aws.traffic.calls.values()) - calls_before,
        injected=dict(Counter(aws.traffic.faults.injected) - injected_before),
        submitted=len(set(ids)),
        succeeded=statuses[JobStatus.SUCCEEDED],
        failed=statuses[JobStatus.FAILED],
        lost=missing + statuses[JobStatus.PENDING] + statuses[JobStatus.RUNNING],
        duplicated=(records - len(set(ids)))
        + sum(count - 1 for count in completions.values() if count > 1)
        + max(0, sum(results.values()) - statuses[JobStatus.SUCCEEDED])
        + sum(count - 1 for count in executions.values() if count > 1),
        runs=sum(executions.values()),
        seconds=seconds,
    )


def _job_records(store: JobStore) -> int:
    """Job records in the table, counted through the paginated listing."""
    total, token = 0, None
    while True:
        page = store.list_recent(limit=100, page_token=token)
        total += len(page.items)
        if not (token := page.next_token):
            return total


def _completions(log_path: Path) -> Counter[str]:
    """'job succeeded' log lines per job id: a job completed twice would show here."""
    counts: Counter[str] = Counter()
    for line in log_path.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("message") == "job succeeded":
            counts[entry.get("job_id", "")] += 1
    return counts


def _all_settled(store: JobStore, ids: set[str]) -> bool:
    try:
        return all(not store.get(job_id).status.is_active for job_id in ids)
    except Exception:  # noqa: BLE001 - a faulted read just means "ask again"
        return False


def _result_objects(store: JobStore) -> Counter[str]:
    """How many result objects each job has (one expected; S3 keys are per job)."""
    counts: Counter[str] = Counter()
    paginator = store.s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=store.settings.bucket, Prefix="jobs/"):
        for obj in page.get("Contents", []):
            if obj["Key"].endswith("/result.csv"):
                counts[obj["Key"].split("/")[1]] += 1
    return counts


