"""Sign-in counters in the job table, so every dashboard process and task sees the same counts,
with every decision taken by one atomic conditional write, so concurrent attempts cannot slip past
the limit.

One counter item per key (the dashboard keys by user name and client address): `pk=throttle#<sha256
of the key>`, `sk=throttle`, holding `failures`, `last_failure`, `locked_until`, `held_until` and
`expires_at` (the table's TTL attribute). DynamoDB deletes expired items late and moto never does,
so an item whose `expires_at` has passed counts as absent.

The password is checked first (a constant-time compare); what the caller may be *told* is decided
by the counters. A wrong password is counted with one conditional atomic ADD per key, and only an
ADD the condition let through is answered "wrong": the ADDs are serialised per item, so of 40
concurrent wrong guesses exactly `free - 1` are told so, and the rest hear "wait". A right
password reads every key at once (one strongly consistent BatchGetItem) and is refused when a key
is locked or held: a strongly consistent read sees every write acknowledged before it, so a right
guess among many is refused once the wrong ones reached the limit, and concurrency gains a guesser
nothing. A name key that holds failures is then set back to zero by the same conditional write as
before (refused if the key was locked in between). Right passwords never hold a key, so one shared
login can sign in from any number of browsers at once, and most sign-ins cost one read.

The condition lets an attempt through while the key has fewer than its `free` failures, or once
its lockout (`locked_until`) has passed and no other attempt holds it: every counted failure holds
the key for `hold_seconds` (`held_until`), so after a lockout exactly one attempt is decided before
the next lockout is written. After `free` failures a key waits `base_seconds`, doubling with each
further failure up to `max_seconds`. The condition is written twice, once for DynamoDB (`_MAY_TRY`)
and once in Python (`may_try`, for what a read found); tests hold them to the same answers. A
failure's keys are written at once, in parallel: it waits for one round trip to the table.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
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
    locking (`reset_on_success`: a right password sets the count back to zero; an address's
    count is only forgotten after the hour, so one user's success cannot clear another's guesses)."""

    key: str
    free: int
    reset_on_success: bool = True


class LoginThrottle:
    """Per-key sign-in counters in the job table (thread- and process-safe: conditional atomic writes)."""

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

    def failed(self, limits: Iterable[Limit]) -> float:
        """A wrong password: count it on every key. Returns 0 when it may be answered "wrong", else
        the wait to tell instead (a key was locked or held, or this failure reached a limit)."""
        limits = list(limits)
        outcomes = self._each(self._count, limits)
        refused = max((wait for _, wait in outcomes), default=0.0)
        counted = [(limit, count) for limit, (count, wait) in zip(limits, outcomes, strict=True) if wait == 0]
        if refused > 0:  # not decided (a key was locked): it counts nowhere
            self._each(lambda pair: self._add(pair[0].key, -1), counted)
            return refused
        now = self.clock()
        waits = {limit.key: self.wait_after(count, limit.free) for limit, count in counted}
        self._each(lambda key: self._call(
            "UpdateItem", Key=counter_key(key), UpdateExpression="SET locked_until = :until",
            ExpressionAttributeValues={":until": {"N": repr(now + waits[key])}}),
            [key for key, wait in waits.items() if wait > 0])
        return max(waits.values(), default=0.0)

    def succeeded(self, limits: Iterable[Limit]) -> float:
        """A right password: let it in unless a key is locked or held. Returns 0 to let it in (a
        name's failures are forgotten at the same time), else the wait to tell instead."""
        limits = list(limits)
        now = self.clock()
        items = self._read_all([limit.key for limit in limits])
        refused = [self._wait_of(items.get(limit.key), now) for limit in limits
                   if not may_try(items.get(limit.key), limit.free, now)]
        if refused:
            return max(refused)
        forget = [limit for limit in limits if limit.reset_on_success and _failures(items.get(limit.key)) > 0]
        return max(self._each(self._let_in, forget), default=0.0)

    def _count(self, limit: Limit) -> tuple[int, float]:
        """Count one failure on one key: (the key's failures, this one included; 0), or (0, the wait)
        when the key was locked or held (then nothing was counted)."""
        now = self.clock()
        try:
            old = self._call(
                "UpdateItem", Key=counter_key(limit.key), ReturnValues="ALL_OLD",
                UpdateExpression="ADD failures :one SET last_failure = :now, expires_at = :expires, "
                                 "held_until = :hold",
                ConditionExpression=_MAY_TRY, ReturnValuesOnConditionCheckFailure="ALL_OLD",
                ExpressionAttributeValues={**self._values(limit, now), ":one": {"N": "1"},
                                           ":hold": {"N": repr(now + self.hold)}},
            ).get("Attributes") or {}
        except ConditionFailed as refused:
            return 0, self._wait_of(refused.item or self._read(limit.key), now)
        stale, expires = _failures(old), _number(old, "expires_at")  # no failures attribute: 0
        if stale and expires is not None and expires < now:
            # A forgotten counter: subtract what it held (not SET to one, which would also drop
            # the failures counted since by concurrent requests).
            self._add(limit.key, -stale)
            stale = 0
        return stale + 1, 0.0

    def _let_in(self, limit: Limit) -> float:
        """Forget a name key's failures on a right password: 0, or the wait when the key was locked
        or held since it was read."""
        now = self.clock()
        try:
            self._call("UpdateItem", Key=counter_key(limit.key), UpdateExpression="SET failures = :zero, "
                       "expires_at = :expires", ConditionExpression=_MAY_TRY,
                       ReturnValuesOnConditionCheckFailure="ALL_OLD",
                       ExpressionAttributeValues={**self._values(limit, now), ":zero": {"N": "0"}})
        except ConditionFailed as refused:
            return self._wait_of(refused.item or self._read(limit.key), now)
        return 0.0

    def _values(self, limit: Limit, now: float) -> dict[str, dict[str, str]]:
        return {":now": {"N": repr(now)}, ":free": {"N": str(limit.free)},
                ":expires": {"N": str(int(now + self.forget))}}

    @staticmethod
    def _wait_of(item: dict[str, Any] | None, now: float) -> float:
        until = max(_number(item, name) or 0.0 for name in ("locked_until", "held_until"))
        return max(until - now, 1.0)

    def _add(self, key: str, amount: int) -> None:
        """Add `amount` to a key's count, never taking it below zero (a reset may have come first)."""
        with contextlib.suppress(ConditionFailed):
            self._call("UpdateItem", Key=counter_key(key), UpdateExpression="ADD failures :amount",
                       ConditionExpression="failures >= :least",
                       ExpressionAttributeValues={":amount": {"N": str(amount)}, ":least": {"N": str(-amount)}})

    def _each(self, call: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        """`call(item)` for every item, in parallel (each in a copy of this request's context, so
        its log lines and timings stay the request's); the first failure raises once all finished."""
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

    def _read_all(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The counters of `keys` that exist, by key: one strongly consistent BatchGetItem (a key
        DynamoDB leaves unprocessed, as it may under load, is read on its own)."""
        counters = {key: counter_key(key) for key in keys}
        by_pk = {counter["pk"]["S"]: key for key, counter in counters.items()}
        table = self.store.settings.table
        answer = aws.call(self.store.dynamodb.batch_get_item, "dynamodb.BatchGetItem", {"counter": "login"},
                          RequestItems={table: {"Keys": list(counters.values()), "ConsistentRead": True}})
        found = {by_pk[item["pk"]["S"]]: item for item in answer.get("Responses", {}).get(table, [])}
        for missed in answer.get("UnprocessedKeys", {}).get(table, {}).get("Keys", []):
            key = by_pk[missed["pk"]["S"]]
            item = self._read(key)
            if item is not None:
                found[key] = item
        return found

    def _call(self, operation: str, **kwargs: Any) -> Any:
        """One DynamoDB call on the job table; failures raise StoreUnavailable, a failed condition ConditionFailed."""
        method = getattr(self.store.dynamodb, _METHODS[operation])
        return aws.call(method, f"dynamodb.{operation}", {"counter": "login"},
                        TableName=self.store.settings.table, **kwargs)


def _number(item: dict[str, Any] | None, name: str) -> float | None:
    value = (item or {}).get(name, {}).get("N")
    return float(value) if value is not None else None


def _failures(item: dict[str, Any] | None) -> int:
    return int(_number(item, "failures") or 0)


def may_try(item: dict[str, Any] | None, free: int, now: float) -> bool:
    """`_MAY_TRY` for an item already read (as DynamoDB's JSON): whether an attempt may be decided.
    A comparison with a missing attribute is false in DynamoDB, and so here."""
    if item is None:
        return True
    expires, failures = _number(item, "expires_at"), _number(item, "failures")
    if (expires is not None and expires < now) or (failures is not None and failures < free):
        return True
    return all(until is None or until <= now for until in (_number(item, "locked_until"), _number(item, "held_until")))


# An attempt may be decided when the counter is new or forgotten, has fewer failures than its
# limit, or is neither locked out nor held by a failure being decided.
_MAY_TRY = ("attribute_not_exists(pk) OR expires_at < :now OR failures < :free OR "
            "((attribute_not_exists(locked_until) OR locked_until <= :now) AND "
            "(attribute_not_exists(held_until) OR held_until <= :now))")
_METHODS = {"GetItem": "get_item", "UpdateItem": "update_item"}
# Shared by every throttle of the process: a failed sign-in counts on two keys at once.
_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="login-throttle")
