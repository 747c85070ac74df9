"""Failed sign-ins counted in the job table, so every dashboard process and task sees the same counts.

One counter item per key (the dashboard keys by user name and client address): `pk=throttle#<sha256 of
the key>`, `sk=throttle`, holding `failures`, `last_failure` and `expires_at` (the table's TTL
attribute). DynamoDB deletes expired items late and moto never does, so readers ignore an item
whose `expires_at` has passed. After `free` failures the key waits `base_seconds`, doubling with
each further failure up to `max_seconds`; a success sets the count back to zero.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from typing import Any

from jobkit import aws, schema
from jobkit.codec import serialize
from jobkit.errors import ConditionFailed
from jobkit.store import JobStore


def counter_key(key: str) -> dict[str, dict[str, str]]:
    """The counter item's key; the raw key (which holds a user name) is never stored."""
    return serialize(schema.throttle_key(key))


class LoginThrottle:
    """Per-key failed sign-in counters in the job table (thread- and process-safe: atomic ADDs)."""

    def __init__(
        self,
        store: JobStore,
        *,
        free: int = 5,
        base_seconds: float = 30.0,
        max_seconds: float = 900.0,
        forget_seconds: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store, self.clock = store, clock
        self.free, self.base, self.max, self.forget = free, base_seconds, max_seconds, forget_seconds

    def wait_after(self, failures: int) -> float:
        """The lockout that `failures` consecutive failures earn (0 below `free`)."""
        if failures < self.free:
            return 0.0
        return min(self.base * 2 ** min(failures - self.free, 32), self.max)

    def retry_after(self, keys: Iterable[str]) -> float:
        """Seconds until every one of `keys` may try again (0 when none is locked)."""
        now = self.clock()
        waits = [0.0]
        for key in keys:
            item = self._call("GetItem", Key=counter_key(key), ConsistentRead=True).get("Item")
            if item and float(item["expires_at"]["N"]) >= now:
                last = float(item["last_failure"]["N"])
                waits.append(last + self.wait_after(int(item["failures"]["N"])) - now)
        return max(waits)

    def failed(self, keys: Iterable[str]) -> float:
        """Record one failure on every key; the lockout it caused (0 for none)."""
        now = self.clock()
        values = {":one": {"N": "1"}, ":now": {"N": repr(now)}, ":expires": {"N": str(int(now + self.forget))}}
        lockout = 0.0
        for key in keys:
            try:  # count on, unless the counter has expired...
                item = self._call(
                    "UpdateItem", Key=counter_key(key), ReturnValues="ALL_NEW",
                    UpdateExpression="ADD failures :one SET last_failure = :now, expires_at = :expires",
                    ConditionExpression="attribute_not_exists(pk) OR expires_at >= :now",
                    ExpressionAttributeValues=values,
                )["Attributes"]
            except ConditionFailed:  # ...then start again at one
                item = self._call(
                    "UpdateItem", Key=counter_key(key), ReturnValues="ALL_NEW",
                    UpdateExpression="SET failures = :one, last_failure = :now, expires_at = :expires",
                    ExpressionAttributeValues=values,
                )["Attributes"]
            lockout = max(lockout, self.wait_after(int(item["failures"]["N"])))
        return lockout

    def succeeded(self, keys: Iterable[str]) -> None:
        """Forget the failures of `keys` (an UpdateItem, as the dashboard may not DeleteItem)."""
        for key in keys:
            with contextlib.suppress(ConditionFailed):  # no counter: nothing to forget
                self._call("UpdateItem", Key=counter_key(key), UpdateExpression="SET failures = :zero",
                           ConditionExpression="attribute_exists(pk)", ExpressionAttributeValues={":zero": {"N": "0"}})

    def _call(self, operation: str, **kwargs: Any) -> Any:
        """One DynamoDB call on the job table; failures raise StoreUnavailable, a failed condition ConditionFailed."""
        method = getattr(self.store.dynamodb, _METHODS[operation])
        return aws.call(method, f"dynamodb.{operation}", {"counter": "login"},
                        TableName=self.store.settings.table, **kwargs)


_METHODS = {"GetItem": "get_item", "UpdateItem": "update_item"}  # all the dashboard's IAM role allows it
