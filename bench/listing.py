"""Benchmark 1: what listing costs as history grows.

Fills a table with N finished jobs (plus a few claimable ones), then measures the two reads on
every request path: the 50 most recent jobs (dashboard) and the claimable jobs (worker). Items
read (ScannedCount) are what DynamoDB bills and what bounds its latency.
"""

from __future__ import annotations

import statistics
import time
import uuid
from typing import Any

from jobkit import JobStore, StoreSettings
from jobkit.codec import serialize
from jobkit.records import Job, JobStatus, utc_now_iso

from devstack.local_aws import bootstrap, local_client


def fill(store: JobStore, count: int, active: int = 5) -> None:
    """Write `count` finished jobs and `active` pending ones with BatchWriteItem."""
    dynamodb = store.dynamodb
    now = time.time()
    items = []
    for n in range(count):
        job_id = uuid.uuid4().hex
        pending = n >= count - active
        job = Job(
            job_id=job_id,
            status=JobStatus.PENDING if pending else JobStatus.SUCCEEDED,
            owner="bench",
            created_at=utc_now_iso(now - count + n),
            input_key=f"jobs/{job_id}/input.csv",
            available_at=now - 1 if pending else None,
        )
        item = {"pk": f"job#{job_id}", "sk": "job", "kind": "job", **vars(job)}
        if pending:
            item["queue"] = "jobs"
        items.append({"PutRequest": {"Item": serialize(item)}})
    for start in range(0, len(items), 25):
        batch = {store.settings.table: items[start : start + 25]}
        while batch:
            batch = dynamodb.batch_write_item(RequestItems=batch).get("UnprocessedItems") or None


def _timed(read: Any, repeats: int) -> tuple[float, int]:
    samples, scanned = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        scanned = read()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), scanned


def run(endpoint: str, region: str, sizes: tuple[int, ...] = (1_000, 100_000), repeats: int = 5) -> list[dict]:
    """One row per (history size, read): items read and median latency in ms."""
    rows = []
    for size in sizes:
        name = f"bench-listing-{size}-{uuid.uuid4().hex[:6]}"
        bootstrap(endpoint, region, name, name)
        store = JobStore(StoreSettings(table=name, bucket=name, region=region))
        started = time.perf_counter()
        fill(store, size)
        fill_seconds = time.perf_counter() - started
        reads = {
            "list 50 most recent jobs": lambda store=store: store.list_recent(limit=50).scanned_count,
            "find claimable jobs": lambda store=store: _claimable_scanned(store),
        }
        for label, read in reads.items():
            median_ms, scanned = _timed(read, repeats)
            rows.append({"jobs": size, "read": label, "items_read": scanned, "median_ms": median_ms,
                         "fill_s": fill_seconds})
        local_client("dynamodb", endpoint, region).delete_table(TableName=name)
    return rows


def _claimable_scanned(store: JobStore) -> int:
    """Items the worker's own claimable() query read, taken from its response as it passes."""
    seen: list[int] = []

    def record(parsed: dict[str, Any], **_: Any) -> None:
        seen.append(parsed.get("ScannedCount", 0))

    events = store.dynamodb.meta.events
    events.register("after-call.dynamodb.Query", record)
    try:
        store.claimable()
    finally:
        events.unregister("after-call.dynamodb.Query", record)
    return sum(seen)
