"""Sign-in attempts counted in the job table before the password is checked, so every dashboard
process and task sees the same counts and concurrent guesses cannot slip past the limit.

One counter item per key (the dashboard keys by user name and client address): `pk=throttle#<sha256
of the key>`, `sk=throttle`, holding `failures`, `last_failure`, `locked_until` and `expires_at` (the
table's TTL attribute). DynamoDB deletes expired items late and moto never does, so an item whose
`expires_at` has passed counts as absent.

Every attempt is counted first, with one conditional atomic ADD per key, and only an attempt that
was counted may check the password. The condition lets an attempt through while the key has fewer
than its `free` failures, or once its lockout has passed; each counted attempt also holds the key
for `hold_seconds`, so of many concurrent attempts past the limit exactly one gets through. After
`free` failures a key waits `base_seconds`, doubling with each further failure up to `max_seconds`;
a success sets a name's count back to zero and takes back its own count from an address's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from jobkit import aws, schema
from jobkit.codec import serialize
from jobkit.errors import ConditionFailed
from jobkit.store import JobStore


def counter_key(key: str) -> dict[str, dict[str, str]]:
    """The counter item's key; the raw key (which holds a user name) is never stored."""
    return serialize(schema.throttle_key(key))


@dataclass(frozen=True)
class Limit:
    """One counter an attempt is counted on: its key, and how many failures it allows before
    locking (`reset_on_success`: a success forgets the key's failures instead of only its own count)."""

    key: str
    free: int
    reset_on_success: bool = True


@dataclass
class Attempt:
    """What counting one attempt found: `wait` > 0 means refused (locked), without a password check."""

    wait: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)  # key -> failures counted, this attempt included
    limits: Sequence[Limit] = ()


class LoginThrottle:
    """Per-key sign-in counters in the job table (thread- and process-safe: conditional atomic ADDs)."""

    def __init__(
        self,
        store: JobStore,
        *,
        base_seconds: float = 30.0,
        max_seconds: float = 900.0,
        forget_seconds: float = 3600.0,
        hold_seconds: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if hold_seconds >= base_seconds:
            raise ValueError("hold_seconds must be shorter than base_seconds (a hold is not a lockout)")
        self.store, self.clock = store, clock
        self.base, self.max, self.forget, self.hold = base_seconds, max_seconds, forget_seconds, hold_seconds

    def wait_after(self, failures: int, free: int) -> float:
        """The lockout that `failures` consecutive failures earn on a key allowing `free` (0 below)."""
        if failures < free:
            return 0.0
        return min(self.base * 2 ** min(failures - free, 32), self.max)

    def attempt(self, limits: Iterable[Limit]) -> Attempt:
        """Count one attempt on every key, in order; a refused key stops the counting (wait > 0)."""
        limits = list(limits)
        result = Attempt(limits=limits)
        for limit in limits:
            now = self.clock()
            try:
                old = self._call(
                    "UpdateItem", Key=counter_key(limit.key), ReturnValues="ALL_OLD",
                    UpdateExpression="ADD failures :one SET last_failure = :now, expires_at = :expires, "
                                     "locked_until = :hold",
                    ConditionExpression="attribute_not_exists(pk) OR expires_at < :now OR failures < :free "
                                        "OR locked_until <= :now",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                    ExpressionAttributeValues={
                        ":one": {"N": "1"}, ":now": {"N": repr(now)}, ":free": {"N": str(limit.free)},
                        ":expires": {"N": str(int(now + self.forget))}, ":hold": {"N": repr(now + self.hold)},
                    },
                ).get("Attributes") or {}
            except ConditionFailed as refused:
                item = refused.item or self._read(limit.key)
                result.wait = max(float(item["locked_until"]["N"]) - now, 1.0) if item else 1.0
                self._take_back(result)  # a refused attempt checks no password: it is no failure
                return result
            stale = int(old["failures"]["N"]) if old else 0
            if old and float(old["expires_at"]["N"]) < now and stale:
                # A forgotten counter: subtract what it held (not SET to one, which would also
                # drop the attempts counted since by concurrent requests).
                self._call("UpdateItem", Key=counter_key(limit.key), UpdateExpression="ADD failures :stale",
                           ExpressionAttributeValues={":stale": {"N": str(-stale)}})
                stale = 0
            result.counts[limit.key] = stale + 1
        return result

    def failed(self, attempt: Attempt) -> float:
        """The password was wrong: the attempt's counts stand; lock each key that reached its limit.
        Returns the lockout this failure caused (0 for none)."""
        now = self.clock()
        lockout = 0.0
        for limit in attempt.limits:
            wait = self.wait_after(attempt.counts.get(limit.key, 0), limit.free)
            if wait > 0:
                self._call("UpdateItem", Key=counter_key(limit.key), UpdateExpression="SET locked_until = :until",
                           ExpressionAttributeValues={":until": {"N": repr(now + wait)}})
                lockout = max(lockout, wait)
        return lockout

    def succeeded(self, attempt: Attempt) -> None:
        """The password was right: forget a name's failures; take this attempt back from an address's."""
        for limit in attempt.limits:
            if limit.reset_on_success:
                self._call("UpdateItem", Key=counter_key(limit.key),
                           UpdateExpression="SET failures = :zero, locked_until = :zero",
                           ExpressionAttributeValues={":zero": {"N": "0"}})
        self._take_back(attempt, only_kept=True)

    def _take_back(self, attempt: Attempt, only_kept: bool = False) -> None:
        """Undo this attempt's count on the keys it was counted on (an address's, after a success)."""
        for limit in attempt.limits:
            if limit.key in attempt.counts and not (only_kept and limit.reset_on_success):
                self._call("UpdateItem", Key=counter_key(limit.key), UpdateExpression="ADD failures :minus",
                           ExpressionAttributeValues={":minus": {"N": "-1"}})

    def _read(self, key: str) -> dict[str, Any] | None:
        return self._call("GetItem", Key=counter_key(key), ConsistentRead=True).get("Item")

    def _call(self, operation: str, **kwargs: Any) -> Any:
        """One DynamoDB call on the job table; failures raise StoreUnavailable, a failed condition ConditionFailed."""
        method = getattr(self.store.dynamodb, _METHODS[operation])
        return aws.call(method, f"dynamodb.{operation}", {"counter": "login"},
                        TableName=self.store.settings.table, **kwargs)


_METHODS = {"GetItem": "get_item", "UpdateItem": "update_item"}  # all the dashboard's IAM role allows it
