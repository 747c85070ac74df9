"""The local bootstrap builds the table from the contract's own definition object."""

from __future__ import annotations

import uuid

import jobkit.schema

import devstack.local_aws as local_aws
from devstack.local_aws import bootstrap, local_client
from tests.conftest import REGION


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
