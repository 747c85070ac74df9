"""The DynamoDB table and S3 layout, defined once as data.

The Pulumi JobStore component and the local bootstrap both build the table from `TABLE`,
so the cloud and the laptop cannot drift apart.

One table holds three kinds of item, each keyed by `pk`/`sk`:

  job         pk=job#<id>         sk=job
  prediction  pk=prediction#<id>  sk=prediction
  feedback    pk=<target's pk>    sk=feedback#<user>        one vote per user per target
  vote count  pk=feedback-summary sk=version#<model version>  up/down counters over every vote
  algorithm   pk=algorithm#batch  sk=description    what the batch job does (the worker publishes it)

Two sparse global secondary indexes serve every read on a request path (nothing Scans):

  active  queue / available_at   only PENDING and RUNNING jobs, by the time they may be claimed
  recent  kind / created_at      every item by kind, newest first, for paginated listings
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from jobkit.errors import InvalidRequest


@dataclass(frozen=True)
class Index:
    """A global secondary index projecting all attributes."""

    name: str
    hash_key: str
    range_key: str


@dataclass(frozen=True)
class TableSchema:
    """Keys, attribute types, indexes and TTL attribute of the jobs table."""

    hash_key: str
    range_key: str
    attributes: dict[str, str]
    indexes: tuple[Index, ...]
    ttl_attribute: str

    def create_table_kwargs(self, table_name: str) -> dict[str, Any]:
        """Arguments for boto3's `create_table` (on-demand billing), as the local stack uses."""
        return {
            "TableName": table_name,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [
                {"AttributeName": name, "AttributeType": kind}
                for name, kind in self.attributes.items()
            ],
            "KeySchema": [
                {"AttributeName": self.hash_key, "KeyType": "HASH"},
                {"AttributeName": self.range_key, "KeyType": "RANGE"},
            ],
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": index.name,
                    "KeySchema": [
                        {"AttributeName": index.hash_key, "KeyType": "HASH"},
                        {"AttributeName": index.range_key, "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
                for index in self.indexes
            ],
        }


ACTIVE_INDEX = Index(name="active", hash_key="queue", range_key="available_at")
RECENT_INDEX = Index(name="recent", hash_key="kind", range_key="created_at")

TABLE = TableSchema(
    hash_key="pk",
    range_key="sk",
    attributes={
        "pk": "S",
        "sk": "S",
        "queue": "S",
        "available_at": "N",
        "kind": "S",
        "created_at": "S",
    },
    indexes=(ACTIVE_INDEX, RECENT_INDEX),
    ttl_attribute="expires_at",
)

# Every active job shares one `queue` partition: plenty at prototype scale (a partition takes
# 1,000 writes/s). To shard, write queue=jobs#<n> with n = hash(job_id) % N and query all N.
QUEUE = "jobs"

# The batch algorithm's self-description (docs/contracts.md): one item the worker writes when it
# starts and the dashboard reads. A DynamoDB item, not an S3 object: the roles' S3 grants cover
# only jobs/ and the worker already may UpdateItem anywhere in the table.
DESCRIPTION_KEY = {"pk": "algorithm#batch", "sk": "description"}

# --- S3 layout: everything about one job lives under jobs/<job_id>/ -------------------------

JOB_ID_PATTERN = re.compile(r"^[0-9a-f]{32}$")
JOBS_PREFIX = "jobs/"
INPUT_NAME = "input.csv"
RESULT_NAME = "result.csv"
SUMMARY_NAME = "summary.json"


def job_prefix(job_id: str) -> str:
    """The S3 prefix that holds one job's files; refuses anything that is not a job id."""
    if not isinstance(job_id, str) or not JOB_ID_PATTERN.match(job_id):
        raise InvalidRequest(f"Not a job id: {job_id!r}")
    return f"{JOBS_PREFIX}{job_id}/"


def input_key(job_id: str) -> str:
    return job_prefix(job_id) + INPUT_NAME


def result_key(job_id: str) -> str:
    return job_prefix(job_id) + RESULT_NAME


def summary_key(job_id: str) -> str:
    return job_prefix(job_id) + SUMMARY_NAME
