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
`free` failures a key waits `base_seconds`, doubling with each further failure up to `max_seconds`.
A success takes back what its attempt counted: on a name's key every failure up to and including its
own, on an address's only its own count. Both are atomic ADDs of a negative number, so attempts
counted meanwhile by other requests stay counted. The keys of one attempt are written at once, in
parallel, so a sign-in waits for one round trip before the password check and one after.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
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
        """Count one attempt on every key (in parallel); refused (wait > 0) when any key is locked,
        and then nothing of it stays counted."""
        limits = list(limits)
        result = Attempt(limits=limits)
        outcomes = self._each(self._count, limits)
        for limit, (count, wait) in zip(limits, outcomes, strict=True):
            if wait > 0:
                result.wait = max(result.wait, wait)
            else:
                result.counts[limit.key] = count
        if result.wait > 0:  # a refused attempt checks no password: it is no failure
            self._each(lambda limit: self._add(limit.key, -1), [lm for lm in limits if lm.key in result.counts])
            result.counts.clear()
        return result

    def _count(self, limit: Limit) -> tuple[int, float]:
        """Count one attempt on one key: (the key's failures, this one included; 0) or (0, wait) when locked."""
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
            return 0, max(float(item["locked_until"]["N"]) - now, 1.0) if item else 1.0
        stale = int(old["failures"]["N"]) if old else 0
        if old and float(old["expires_at"]["N"]) < now and stale:
            # A forgotten counter: subtract what it held (not SET to one, which would also drop
            # the attempts counted since by concurrent requests).
            self._add(limit.key, -stale)
            stale = 0
        return stale + 1, 0.0

    def failed(self, attempt: Attempt) -> float:
        """The password was wrong: the attempt's counts stand; lock each key that reached its limit.
        Returns the lockout this failure caused (0 for none)."""
        now = self.clock()
        waits = {limit.key: self.wait_after(attempt.counts.get(limit.key, 0), limit.free) for limit in attempt.limits}
        self._each(lambda key: self._call(
            "UpdateItem", Key=counter_key(key), UpdateExpression="SET locked_until = :until",
            ExpressionAttributeValues={":until": {"N": repr(now + waits[key])}}),
            [key for key, wait in waits.items() if wait > 0])
        return max(waits.values(), default=0.0)

    def succeeded(self, attempt: Attempt) -> None:
        """The password was right: take back a name's failures up to this attempt, and this
        attempt's own count from an address's."""
        def take_back(limit: Limit) -> None:
            count = attempt.counts[limit.key]
            self._add(limit.key, -count if limit.reset_on_success else -1)
        self._each(take_back, [limit for limit in attempt.limits if limit.key in attempt.counts])

    def _add(self, key: str, amount: int) -> None:
        self._call("UpdateItem", Key=counter_key(key), UpdateExpression="ADD failures :amount",
                   ExpressionAttributeValues={":amount": {"N": str(amount)}})

    def _each(self, call: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        """`call(item)` for every item, in parallel (each in a copy of this request's log context);
        the first failure raises once all have finished."""
        if len(items) <= 1:
            return [call(item) for item in items]
        futures = [_POOL.submit(contextvars.copy_context().run, call, item) for item in items]
        errors = [future.exception() for future in futures]
        for error in errors:
            if error is not None:
                raise error
        return [future.result() for future in futures]

    def _read(self, key: str) -> dict[str, Any] | None:
        return self._call("GetItem", Key=counter_key(key), ConsistentRead=True).get("Item")

    def _call(self, operation: str, **kwargs: Any) -> Any:
        """One DynamoDB call on the job table; failures raise StoreUnavailable, a failed condition ConditionFailed."""
        method = getattr(self.store.dynamodb, _METHODS[operation])
        return aws.call(method, f"dynamodb.{operation}", {"counter": "login"},
                        TableName=self.store.settings.table, **kwargs)


_METHODS = {"GetItem": "get_item", "UpdateItem": "update_item"}  # all the dashboard's IAM role allows it
# Shared by every throttle of the process: a sign-in writes two keys at once.
_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="login-throttle")
