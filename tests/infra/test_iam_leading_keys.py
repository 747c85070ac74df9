"""The worker role's UpdateItem is limited to the partition keys the worker owns, and every
UpdateItem the worker really makes (against moto) falls inside that limit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from fnmatch import fnmatchcase
from typing import Any

import pytest
from jobkit import JobStore

from components.iam import WORKER_STORE
from tests.infra.stackview import Deployment

pytestmark = pytest.mark.timeout(120)


@contextmanager
def updated_keys(store: JobStore) -> Iterator[list[str]]:
    """The partition key of every UpdateItem sent through the store's client inside the block."""
    keys: list[str] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        keys.append(params["Key"]["pk"]["S"] if isinstance(params["Key"]["pk"], dict) else params["Key"]["pk"])

    store.dynamodb.meta.events.register("provide-client-params.dynamodb.UpdateItem", record)
    try:
        yield keys
    finally:
        store.dynamodb.meta.events.unregister("provide-client-params.dynamodb.UpdateItem", record)


def test_the_worker_updates_only_items_its_role_may(store: JobStore) -> None:
    first = store.submit(owner="alice", client_token="t-1", input_bytes=b"a\n1\n")
    store.submit(owner="alice", client_token="t-2", input_bytes=b"a\n2\n")
    with updated_keys(store) as keys:
        store.publish_description({"title": "t", "params": []})
        claimed = store.claim("worker-1")
        store.heartbeat(claimed, 0.5, "half way")
        store.write_result(claimed, b"a\n1\n", {"model_version": "m1", "rows": 1, "metrics": {}, "charts": []})
        store.complete(claimed, "m1")
        other = store.claim("worker-1")
        store.release(other)
        store.fail(store.claim("worker-1"), "broken", retryable=False)
    assert first.job_id in "".join(keys) and len(keys) >= 6, keys
    outside = [k for k in keys if not any(fnmatchcase(k, p) for p in WORKER_STORE.owned_keys)]
    assert outside == []


def test_the_worker_role_grants_update_item_only_under_leading_keys(deployments: dict[str, Deployment]) -> None:
    for deployment in deployments.values():
        statements = deployment.role_statements()["worker-task-role"]
        updates = [s for s in statements if "dynamodb:UpdateItem" in s["Action"]]
        assert len(updates) == 1
        assert updates[0]["Condition"] == {
            "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["job#*", "algorithm#batch"]}}
        # the unconditioned table statement keeps the reads
        reads = next(s for s in statements if s["Sid"] == "JobTable")
        assert set(reads["Action"]) == {"dynamodb:GetItem", "dynamodb:Query"}
