"""The job table in the cloud is built from the very schema object the local stack uses."""

from __future__ import annotations

import pytest
from jobkit import schema

from components import job_store
from tests.infra.stackview import Deployment

pytestmark = pytest.mark.timeout(120)


def test_the_component_uses_jobkits_table_object() -> None:
    assert job_store.TABLE is schema.TABLE
    assert job_store.JobStoreArgs(1, False, False).table_schema is schema.TABLE


def test_the_mocked_table_matches_the_local_bootstraps_table(deployment: Deployment) -> None:
    table = deployment.one("aws:dynamodb/table:Table")
    local = schema.TABLE.create_table_kwargs("any")  # what devstack creates in moto
    assert table.inputs["billingMode"] == local["BillingMode"] == "PAY_PER_REQUEST"
    keys = {k["KeyType"]: k["AttributeName"] for k in local["KeySchema"]}
    assert (table.inputs["hashKey"], table.inputs["rangeKey"]) == (keys["HASH"], keys["RANGE"])
    assert {a["name"]: a["type"] for a in table.inputs["attributes"]} == {
        a["AttributeName"]: a["AttributeType"] for a in local["AttributeDefinitions"]} == schema.TABLE.attributes
    cloud_indexes = {
        gsi["name"]: ({k["keyType"]: k["attributeName"] for k in gsi["keySchemas"]}, gsi["projectionType"])
        for gsi in table.inputs["globalSecondaryIndexes"]
    }
    local_indexes = {
        gsi["IndexName"]: ({k["KeyType"]: k["AttributeName"] for k in gsi["KeySchema"]},
                           gsi["Projection"]["ProjectionType"])
        for gsi in local["GlobalSecondaryIndexes"]
    }
    assert cloud_indexes == local_indexes
    assert set(cloud_indexes) == {index.name for index in schema.TABLE.indexes}
    assert table.inputs["ttl"] == {"attributeName": schema.TABLE.ttl_attribute, "enabled": True}


def test_backups_and_deletion_protection_follow_config(deployment: Deployment) -> None:
    table = deployment.one("aws:dynamodb/table:Table")
    assert table.inputs["pointInTimeRecovery"]["enabled"] is deployment.setting("pointInTimeRecovery")
    assert table.inputs["deletionProtectionEnabled"] is deployment.setting("deletionProtection")
    bucket = deployment.one("aws:s3/bucket:Bucket")
    assert bucket.inputs["forceDestroy"] is (not deployment.setting("deletionProtection"))
