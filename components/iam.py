"""IAM building blocks: policy statements as data, roles a service can assume, inline policies.

Every permission this program grants is written as a `Statement` with explicit actions and
resources; the infra tests read the resulting JSON documents and refuse wildcards.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
from jobkit import schema


@dataclass(frozen=True)
class Statement:
    """One Allow statement: exact actions on exact resources, with optional conditions."""

    sid: str
    actions: Sequence[str]
    resources: Sequence[pulumi.Input[str]]
    conditions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "Sid": self.sid,
            "Effect": "Allow",
            "Action": sorted(self.actions),
            "Resource": list(self.resources),
        }
        if self.conditions:
            body["Condition"] = dict(self.conditions)
        return body


def policy_document(statements: Sequence[Statement | Mapping[str, Any]]) -> pulumi.Output[str]:
    """A policy JSON document (an Output, since ARNs are outputs)."""
    rendered = [s.as_dict() if isinstance(s, Statement) else dict(s) for s in statements]
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": rendered})


def assume_role_policy(service: str) -> str:
    """Trust policy letting one AWS service principal assume the role."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
            ],
        }
    )


def service_role(
    name: str,
    service: str,
    statements: Sequence[Statement],
    parent: pulumi.Resource,
    description: str,
) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
    """A role `service` assumes, with exactly `statements` as its one inline policy."""
    role = aws.iam.Role(
        name,
        assume_role_policy=assume_role_policy(service),
        description=description,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    policy = aws.iam.RolePolicy(
        f"{name}-policy",
        role=role.id,
        policy=policy_document(statements),
        opts=pulumi.ResourceOptions(parent=role),
    )
    return role, policy


# --- statements several roles share --------------------------------------------------------

@dataclass(frozen=True)
class StoreAccess:
    """Which jobkit operations a role performs, as DynamoDB item actions and S3 object actions;
    with `owned_keys`, its UpdateItem only on items whose partition key matches one of them."""

    table: tuple[str, ...]
    objects: tuple[str, ...]
    owned_keys: tuple[str, ...] = ()


# Dashboard: submit (PutObject, PutItem), list and read (Query, GetItem, GetObject), cancel/retry
# and record predictions and feedback (UpdateItem, PutItem), read a sign-in's counters (BatchGetItem).
DASHBOARD_STORE = StoreAccess(("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                               "dynamodb:Query"),
                              ("s3:GetObject", "s3:PutObject"))
# Worker: claim, heartbeat, complete, fail, release (Query, UpdateItem, GetItem); input and results.
# It writes only job items and the batch description (schema.job_key, schema.DESCRIPTION_KEY), so
# a worker's credentials cannot rewrite sessions, throttles, predictions or the feedback counts.
# (A job's votes share its partition: LeadingKeys cannot tell them apart, the sort key is not in it.)
WORKER_STORE = StoreAccess(("dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Query"),
                           ("s3:GetObject", "s3:PutObject"),
                           owned_keys=("job#*", schema.DESCRIPTION_KEY["pk"]))


def leading_keys_condition(patterns: Sequence[str]) -> dict[str, dict[str, list[str]]]:
    """Only items whose partition key matches a pattern. AWS: dynamodb:LeadingKeys is the request's
    partition key values and must be used with ForAllValues (DynamoDB developer guide, "Using IAM
    policy conditions for fine-grained access control")."""
    return {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": list(patterns)}}


def job_store_statements(table_arn: pulumi.Input[str], bucket_arn: pulumi.Input[str],
                         prefix: str, access: StoreAccess) -> list[Statement]:
    """`access` on the job table and its indexes, and on the objects under `prefix`."""
    index_arn = pulumi.Output.concat(table_arn, "/index/*")
    objects_arn = pulumi.Output.concat(bucket_arn, "/", prefix, "*")
    owned = ("dynamodb:UpdateItem",) if access.owned_keys else ()
    table = [Statement("JobTable", [a for a in access.table if a not in owned], [table_arn, index_arn])]
    if owned:
        table.append(Statement("JobTableOwnedWrites", [a for a in access.table if a in owned], [table_arn, index_arn],
                               leading_keys_condition(access.owned_keys)))
    return [
        *table,
        Statement("JobObjects", access.objects, [objects_arn]),
        # ListBucket lets a missing object answer 404 (NoSuchKey) rather than 403 (AccessDenied).
        # AWS does not say whether a grant under an s3:prefix condition counts for that, so the
        # worker treats both answers alike and the local twin answers 403 (devstack/strict_aws.py).
        Statement("JobListing", ["s3:ListBucket"], [bucket_arn],
                  {"StringLike": {"s3:prefix": [f"{prefix}*"]}}),
    ]


def log_statement(log_group_arn: pulumi.Input[str]) -> Statement:
    """Write log events to one log group (the group itself is created by Pulumi)."""
    return Statement("Logs", ["logs:CreateLogStream", "logs:PutLogEvents"],
                     [pulumi.Output.concat(log_group_arn, ":*")])


def image_pull_statements(repository_arn: pulumi.Input[str]) -> list[Statement]:
    """Pull one ECR repository's images (what an ECS execution role needs)."""
    return [
        # GetAuthorizationToken has no resource-level permissions: AWS requires "*".
        Statement("EcrLogin", ["ecr:GetAuthorizationToken"], ["*"]),
        Statement("EcrPull", ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                              "ecr:GetDownloadUrlForLayer"], [repository_arn]),
    ]
