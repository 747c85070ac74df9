"""The sleep/wake ledger in the job table: the dashboard's activity record, the sleeper's quiet look, and a lock.

Two small items, outside every index (no `queue`, no `kind`):
  activity  pk=activity#dashboard  sk=activity   seen_at: the newest signed-in request (the dashboard writes it)
  state     pk=sleepwake#dashboard sk=state      quiet_look_at, and holder/lease_until while a move runs

The lock is a conditional write: a sleep, a close and a wake never interleave, whichever Lambda
invocations (or local threads) run them. A holder that dies loses it after LEASE_SECONDS.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

ACTIVITY_KEY = {"pk": "activity#dashboard", "sk": "activity"}
STATE_KEY = {"pk": "sleepwake#dashboard", "sk": "state"}
LEADING_KEYS = (ACTIVITY_KEY["pk"], STATE_KEY["pk"])  # for the IAM condition dynamodb:LeadingKeys
LEASE_SECONDS = 60  # longer than the function's timeout: a live holder always finishes first


def _key(key: dict[str, str]) -> dict[str, Any]:
    return {name: {"S": value} for name, value in key.items()}


def _when(item: dict[str, Any], name: str) -> dt.datetime | None:
    value = item.get(name, {}).get("N")
    return None if value is None else dt.datetime.fromtimestamp(float(value), dt.UTC)


class Ledger:
    """Reads and writes the two items with a boto3 DynamoDB client (AWS's, or the local twin's)."""

    def __init__(self, dynamodb: Any, table: str) -> None:
        self.dynamodb, self.table = dynamodb, table

    def last_activity(self) -> dt.datetime | None:
        item = self.dynamodb.get_item(TableName=self.table, Key=_key(ACTIVITY_KEY), ConsistentRead=True)
        return _when(item.get("Item", {}), "seen_at")

    def quiet_look_at(self) -> dt.datetime | None:
        item = self.dynamodb.get_item(TableName=self.table, Key=_key(STATE_KEY), ConsistentRead=True)
        return _when(item.get("Item", {}), "quiet_look_at")

    def remember_quiet_look(self, at: dt.datetime | None) -> None:
        """Keep `at` as the quiet look the next one compares with; None forgets it."""
        key = _key(STATE_KEY)
        if at is None:
            self.dynamodb.update_item(TableName=self.table, Key=key, UpdateExpression="REMOVE quiet_look_at")
        else:
            self.dynamodb.update_item(TableName=self.table, Key=key, UpdateExpression="SET quiet_look_at = :t",
                                      ExpressionAttributeValues={":t": {"N": f"{at.timestamp():.3f}"}})

    def hold(self, holder: str, now: dt.datetime) -> bool:
        """Take the lock for `holder`; False while another holds it."""
        try:
            self.dynamodb.update_item(
                TableName=self.table, Key=_key(STATE_KEY),
                UpdateExpression="SET holder = :h, lease_until = :until",
                ConditionExpression="attribute_not_exists(holder) OR lease_until < :now OR holder = :h",
                ExpressionAttributeValues={":h": {"S": holder}, ":now": {"N": f"{now.timestamp():.3f}"},
                                           ":until": {"N": f"{now.timestamp() + LEASE_SECONDS:.3f}"}})
        except self.dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def release(self, holder: str) -> None:
        # ConditionalCheckFailed: the lease ran out and another took it; theirs now.
        with contextlib.suppress(self.dynamodb.exceptions.ConditionalCheckFailedException):
            self.dynamodb.update_item(TableName=self.table, Key=_key(STATE_KEY),
                                      UpdateExpression="REMOVE holder, lease_until", ConditionExpression="holder = :h",
                                      ExpressionAttributeValues={":h": {"S": holder}})
