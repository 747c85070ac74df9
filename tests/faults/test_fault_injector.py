"""The fault injector does what each fault kind names: a reset after the call took effect really
wrote, a reset before it did not, and the counts are this test's own."""

from __future__ import annotations

import uuid
from collections import Counter

import boto3
import botocore.config
import pytest
from botocore.exceptions import BotoCoreError

from devstack.faults import FaultPlan
from devstack.local_aws import bootstrap
from tests.conftest import REGION

ONE_TRY = botocore.config.Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=10)


@pytest.fixture
def table(local_aws, aws_endpoint):
    name = f"faults-{uuid.uuid4().hex[:8]}"
    bootstrap(aws_endpoint, REGION, name, name)
    return name


def _clients(aws_endpoint):
    """Clients that try once, so a lost answer reaches the test instead of a retry."""
    return (boto3.client("dynamodb", endpoint_url=aws_endpoint, region_name=REGION, config=ONE_TRY),
            boto3.client("s3", endpoint_url=aws_endpoint, region_name=REGION, config=ONE_TRY))


@pytest.mark.parametrize(("kind", "written"), [("reset_after", True), ("reset_before", False)])
def test_a_reset_loses_the_answer_and_wrote_exactly_when_it_says(local_aws, aws_endpoint, table, kind, written):
    dynamodb, s3 = _clients(aws_endpoint)
    item = {"pk": {"S": f"probe#{kind}"}, "sk": {"S": "probe"}}
    before = Counter(local_aws.traffic.faults.injected)
    local_aws.traffic.faults.set_plan(FaultPlan(rate=1.0, kinds=(kind,), operations=("dynamodb.PutItem", "s3.PUT")))
    try:
        with pytest.raises(BotoCoreError):  # the client never hears the answer
            dynamodb.put_item(TableName=table, Item=item)
        with pytest.raises(BotoCoreError):
            s3.put_object(Bucket=table, Key="probe.txt", Body=b"probe")
    finally:
        local_aws.traffic.faults.set_plan(FaultPlan())
    assert Counter(local_aws.traffic.faults.injected) - before == Counter({kind: 2})
    stored = dynamodb.get_item(TableName=table, Key=item, ConsistentRead=True).get("Item")
    assert (stored == item) is written
    keys = [obj["Key"] for obj in s3.list_objects_v2(Bucket=table).get("Contents", [])]
    assert ("probe.txt" in keys) is written
