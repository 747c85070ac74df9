"""The DynamoDB table and S3 layout, defined once as data.

The Pulumi JobStore component and the local bootstrap both build the table from `TABLE`,
so the cloud and the laptop cannot drift apart.

One table holds three kinds of item, each keyed by `pk`/`sk`:

  job         pk=job#<id>         sk=job
  prediction  pk=prediction#<id>  sk=prediction
  feedback    pk=<target's pk>    sk=feedback#<user>        one vote per user per target
  vote count  pk=feedback-summary sk=version#<model version>  up/down counters over every vote
  voter       pk=feedback-voters  sk=version#<version>#user#<user>  targets one user voted on
  algorithm   pk=algorithm#batch  sk=description    what the batch job does (the worker publishes it)
  throttle    pk=throttle#<sha256 of the key>  sk=throttle   failed logins per user name or address
  session     pk=session#<sha256 of the user>  sk=session    the user's session generation

Every key is built by a function below; ids are checked there.

Two sparse global secondary indexes serve every read on a request path (nothing Scans):

  active  queue / available_at   only PENDING and RUNNING jobs, by the time they may be claimed
  recent  kind / created_at      every item by kind, newest first, for paginated listings
"""

from __future__ import annotations

import hashlib
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
ATTEMPTS_FOLDER = "attempts/"
ATTEMPT_PATTERN = re.compile(r"^[0-9]{1,6}-[0-9a-f]{16}$")


def job_prefix(job_id: str) -> str:
    """The S3 prefix that holds one job's files; refuses anything that is not a job id."""
    if not isinstance(job_id, str) or not JOB_ID_PATTERN.match(job_id):
        raise InvalidRequest(f"Not a job id: {job_id!r}")
    return f"{JOBS_PREFIX}{job_id}/"


def input_key(job_id: str) -> str:
    return job_prefix(job_id) + INPUT_NAME


def attempt_name(attempts: int, worker_id: str) -> str:
    """The folder name of one claim's result: its attempt number and a digest of its worker id.

    Each claim writes its result under a name of its own and `complete` (conditional on the claim
    still holding the job) makes it the job's current one, so a worker whose lease was taken over
    can never put its result beside another claim's summary, nor overwrite one that is served.
    """
    digest = hashlib.sha256(str(worker_id).encode()).hexdigest()[:16]
    return f"{int(attempts)}-{digest}"


def result_key(job_id: str, attempt: str = "") -> str:
    """Where one attempt's result CSV lives (without `attempt`: where jobs finished before results
    were kept per attempt have theirs)."""
    return _attempt_prefix(job_id, attempt) + RESULT_NAME


def summary_key(job_id: str, attempt: str = "") -> str:
    return _attempt_prefix(job_id, attempt) + SUMMARY_NAME


def _attempt_prefix(job_id: str, attempt: str) -> str:
    if attempt and not ATTEMPT_PATTERN.match(attempt):
        raise InvalidRequest(f"Not an attempt name: {attempt!r}")
    return job_prefix(job_id) + (f"{ATTEMPTS_FOLDER}{attempt}/" if attempt else "")


# --- item keys: the only place they are built ------------------------------------------------

FEEDBACK_SUMMARY = "feedback-summary"
TARGET_KINDS = ("job", "prediction")


def check_id(item_id: str) -> str:
    """`item_id` if it is a job or prediction id (32 hex digits), else InvalidRequest."""
    job_prefix(item_id)
    return item_id


def job_key(job_id: str) -> dict[str, str]:
    return {"pk": f"job#{check_id(job_id)}", "sk": "job"}


def prediction_key(prediction_id: str) -> dict[str, str]:
    return {"pk": f"prediction#{check_id(prediction_id)}", "sk": "prediction"}


def target_pk(target_kind: str, target_id: str) -> str:
    """The partition of a job or prediction, where its votes live too."""
    return f"{target_kind}#{check_id(target_id)}"


VOTE_PREFIX = "feedback#"


def vote_key(target_kind: str, target_id: str, user: str) -> dict[str, str]:
    return {"pk": target_pk(target_kind, target_id), "sk": f"{VOTE_PREFIX}{user}"}


def vote_count_key(model_version: str) -> dict[str, str]:
    return {"pk": FEEDBACK_SUMMARY, "sk": f"version#{model_version}"}


FEEDBACK_VOTERS = "feedback-voters"


def voter_key(model_version: str, user: str) -> dict[str, str]:
    """How many targets one user voted on for one model version (the summary counts voters by it)."""
    return {"pk": FEEDBACK_VOTERS, "sk": f"version#{model_version}#user#{user}"}


def throttle_key(key: str) -> dict[str, str]:
    """A login-failure counter's key; the raw key (which holds a user name) is never stored."""
    return {"pk": "throttle#" + hashlib.sha256(key.encode()).hexdigest(), "sk": "throttle"}


def session_key(user: str) -> dict[str, str]:
    return {"pk": "session#" + hashlib.sha256(user.encode()).hexdigest(), "sk": "session"}
