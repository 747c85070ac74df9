"""The local bootstrap builds the table from the contract's own definition object."""

from __future__ import annotations

import dataclasses
import socket
import threading
import uuid
from collections import Counter

import jobkit.schema
import pytest
from jobkit import JobStore, StoreUnavailable

import devstack.local_aws as local_aws
from devstack.faults import FaultPlan
from devstack.local_aws import bootstrap, local_client
from tests.conftest import REGION
from tests.support import free_port


def test_bootstrap_uses_the_contracts_table_object(aws_endpoint):
    assert local_aws.TABLE is jobkit.schema.TABLE
    name = f"t-{uuid.uuid4().hex[:8]}"
    used = bootstrap(aws_endpoint, REGION, name, name)
    assert used == jobkit.schema.TABLE.create_table_kwargs(name)

    dynamodb = local_client("dynamodb", aws_endpoint, REGION)
    table = dynamodb.describe_table(TableName=name)["Table"]
    assert {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]} == (
        jobkit.schema.TABLE.attributes
    )
    indexes = {i["IndexName"]: [k["AttributeName"] for k in i["KeySchema"]] for i in table["GlobalSecondaryIndexes"]}
    assert indexes == {i.name: [i.hash_key, i.range_key] for i in jobkit.schema.TABLE.indexes}
    ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == jobkit.schema.TABLE.ttl_attribute


def test_bootstrap_twice_is_harmless(aws_endpoint):
    name = f"t-{uuid.uuid4().hex[:8]}"
    bootstrap(aws_endpoint, REGION, name, name)
    bootstrap(aws_endpoint, REGION, name, name)
    s3 = local_client("s3", aws_endpoint, REGION)
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]


@pytest.mark.slow
def test_the_local_aws_counts_calls_and_injects_faults_that_retries_absorb(local_aws, store_settings):
    store = JobStore(dataclasses.replace(store_settings, aws_max_attempts=10))
    before = sum(local_aws.traffic.calls.values())
    injected_before = Counter(local_aws.traffic.faults.injected)  # the server is shared by the session
    local_aws.traffic.faults.set_plan(FaultPlan(rate=0.3, seed=7))
    try:
        jobs = [store.submit(owner="a", client_token=f"t{n}", input_bytes=b"x\n1\n") for n in range(10)]
    finally:
        local_aws.traffic.faults.set_plan(FaultPlan())
    assert len({job.job_id for job in jobs}) == 10
    assert len(store.list_recent().items) == 10
    injected = Counter(local_aws.traffic.faults.injected) - injected_before  # this test's faults only
    assert set(injected) == {"throttle", "server_error", "reset_before", "reset_after"}
    assert sum(local_aws.traffic.calls.values()) - before > 30  # 3 calls a submit, plus retries

    stubborn = JobStore(dataclasses.replace(store_settings, aws_max_attempts=2))
    gets_before = local_aws.traffic.calls["dynamodb.GetItem"]
    local_aws.traffic.faults.set_plan(FaultPlan(rate=1.0, kinds=("throttle",)))
    try:
        with pytest.raises(StoreUnavailable, match="Throttling"):
            stubborn.get(jobs[0].job_id)
    finally:
        local_aws.traffic.faults.set_plan(FaultPlan())
    assert local_aws.traffic.calls["dynamodb.GetItem"] - gets_before == 2  # AWS_MAX_ATTEMPTS counts them all


def test_a_stop_racing_a_restart_leaves_one_server_listening():
    # What the local stack's supervisor does when it sees the local AWS die while its stopper is
    # still closing it: without one-at-a-time start/stop, the late stop closed the new server.
    port = free_port()
    server = local_aws.LocalAws("127.0.0.1", port).start()
    try:
        for _ in range(20):
            stopper = threading.Thread(target=server.stop)
            stopper.start()
            server.stop()
            server.start()
            stopper.join()
            with socket.create_connection(("127.0.0.1", port), timeout=2):
                pass  # refused (an OSError) when the late stop closed the new server
    finally:
        server.stop()


def test_the_local_aws_works_out_each_hosts_backend_once(monkeypatch):
    """moto lists its package's folders and tries its URL patterns for every request; the local AWS
    asks it once per host, and requests to each service still reach that service."""
    import moto.backends

    asked: Counter[str] = Counter()
    listing = moto.backends.list_of_moto_modules
    monkeypatch.setattr(moto.backends, "list_of_moto_modules", lambda: (asked.update(["listed"]), listing())[1])
    aws = local_aws.LocalAws(port=free_port()).start()
    try:
        name = f"t-{uuid.uuid4().hex[:8]}"
        bootstrap(aws.url, REGION, name, name)
        dynamodb, s3 = local_client("dynamodb", aws.url, REGION), local_client("s3", aws.url, REGION)
        before = asked["listed"]
        for _ in range(5):  # moto keeps every test's tables in this process: ask for this one by name
            assert dynamodb.describe_table(TableName=name)["Table"]["TableName"] == name
            assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert asked["listed"] == before
    finally:
        aws.stop()
