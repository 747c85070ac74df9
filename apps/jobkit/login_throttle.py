"""Sign-in attempts counted in the job table before the password is checked, so every dashboard
process and task sees the same counts and concurrent guesses cannot slip past the limit.

One counter item per key (the dashboard keys by user name and client address): `pk=throttle#<sha256
of the key>`, `sk=throttle`, holding `failures`, `last_failure`, `locked_until`, `held_until` and `expires_at` (the
table's TTL attribute). DynamoDB deletes expired items late and moto never does, so an item whose
`expires_at` has passed counts as absent.

Every attempt is counted first, with one conditional atomic ADD per key, and only an attempt that
was counted may check the password; `failures` therefore counts failed attempts and those still in
flight. The condition lets an attempt through while the key has fewer than its `free`, or once its
lockout (`locked_until`) has passed; each counted attempt also holds the key (`held_until`, for at
most `hold_seconds`), so of many concurrent attempts past the limit exactly one gets through. An
attempt that finds the key only held waits briefly for the attempts in flight, which are mostly
right passwords (one shared login signing in from many browsers at once) and take their count
back. After `free` failures a key waits `base_seconds`, doubling with each further failure up to
`max_seconds`.

A success sets a name's count to zero (forgetting its earlier failures) and takes only its own
count back from an address's; take-backs never go below zero. The bound this leaves: a success also
forgets the counts of that name's attempts still in flight from the same address, so a guesser
sharing the user's address gets at most the attempts in flight at each of the user's sign-ins extra.

The keys of one attempt are written at once, in parallel, so a sign-in waits for one round trip
before the password check and one after.
"""

from __future__ import annotations

import contextlib
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
        contention_seconds: float = 3.0,
        contention_poll: float = 0.05,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if hold_seconds >= base_seconds:
            raise ValueError("hold_seconds must be shorter than base_seconds (a hold is not a lockout)")
        self.store, self.clock = store, clock
        self.base, self.max, self.forget, self.hold = base_seconds, max_seconds, forget_seconds, hold_seconds
        self.contention_seconds, self.contention_poll = contention_seconds, contention_poll

    def wait_after(self, failures: int, free: int) -> float:
        """The lockout that `failures` consecutive failures earn on a key allowing `free` (0 below)."""
        if failures < free:
            return 0.0
        return min(self.base * 2 ** min(failures - free, 32), self.max)

    def attempt(self, limits: Iterable[Limit]) -> Attempt:
        """Count one attempt on every key (in parallel); refused (wait > 0) when any key is locked,
        and then nothing of it stays counted. A key only held by attempts still in flight is tried
        again, with growing pauses, for up to `contention_seconds`: those attempts are mostly right
        passwords (one shared login signing in from many browsers at once) that give their count back."""
        limits = list(limits)
        result = Attempt(limits=limits)
        pending, pause = limits, self.contention_poll
        deadline = time.monotonic() + self.contention_seconds
        while pending:
            held = []
            for limit, (count, locked, hold) in zip(pending, self._each(self._try, pending), strict=True):
                if locked > 0:
                    result.wait = max(result.wait, locked)
                elif hold > 0:
                    held.append((limit, hold))
                else:
                    result.counts[limit.key] = count
            if result.wait > 0 or not held:
                break
            if time.monotonic() >= deadline:
                result.wait = max(hold for _, hold in held)
                break
            # Waits here, in the request's own thread: the pool stays free for the writes that end a hold.
            time.sleep(min(pause, max(deadline - time.monotonic(), 0.0)))
            pause *= 2  # many waiting attempts must not turn into a flood of store calls
            pending = [limit for limit, _ in held]
        if result.wait > 0:  # a refused attempt checks no password: it is no failure
            self._each(lambda limit: self._add(limit.key, -1), [lm for lm in limits if lm.key in result.counts])
            result.counts.clear()
        return result

    def _try(self, limit: Limit) -> tuple[int, float, float]:
        """Count one attempt on one key: (the key's failures, this one included; 0; 0), or (0, the
        lockout left, 0) when locked, or (0, 0, the hold left) when held by attempts in flight."""
        now = self.clock()
        try:
            old = self._call(
                "UpdateItem", Key=counter_key(limit.key), ReturnValues="ALL_OLD",
                UpdateExpression="ADD failures :one SET last_failure = :now, expires_at = :expires, "
                                 "held_until = :hold",
                ConditionExpression=_MAY_TRY, ReturnValuesOnConditionCheckFailure="ALL_OLD",
                ExpressionAttributeValues={
                    ":one": {"N": "1"}, ":now": {"N": repr(now)}, ":free": {"N": str(limit.free)},
                    ":expires": {"N": str(int(now + self.forget))}, ":hold": {"N": repr(now + self.hold)},
                },
            ).get("Attributes") or {}
        except ConditionFailed as refused:
            item = refused.item or self._read(limit.key) or {}
            locked = float(item.get("locked_until", {}).get("N", 0)) - now
            held = float(item.get("held_until", {}).get("N", 0)) - now
            return (0, locked, 0.0) if locked > 0 else (0, 0.0, max(held, 1.0))
        stale = int(old["failures"]["N"]) if old else 0
        if old and float(old["expires_at"]["N"]) < now and stale:
            # A forgotten counter: subtract what it held (not SET to one, which would also drop
            # the attempts counted since by concurrent requests).
            self._add(limit.key, -stale)
            stale = 0
        return stale + 1, 0.0, 0.0

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
        """The password was right: forget a name's failures (its count to zero), and take this
        attempt's own count back from an address's."""
        def take_back(limit: Limit) -> None:
            if limit.reset_on_success:
                self._call("UpdateItem", Key=counter_key(limit.key), UpdateExpression="SET failures = :zero",
                           ExpressionAttributeValues={":zero": {"N": "0"}})
            else:
                self._add(limit.key, -1)
        self._each(take_back, [limit for limit in attempt.limits if limit.key in attempt.counts])

    def _add(self, key: str, amount: int) -> None:
        """Add `amount` to a key's count, never taking it below zero (a reset may have come first)."""
        with contextlib.suppress(ConditionFailed):
            self._call("UpdateItem", Key=counter_key(key), UpdateExpression="ADD failures :amount",
                       ConditionExpression="failures >= :least",
                       ExpressionAttributeValues={":amount": {"N": str(amount)}, ":least": {"N": str(-amount)}})

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


# An attempt may be counted when the counter is new or forgotten, has fewer failures (counted
# attempts) than its limit, or is neither locked out nor held by a counted attempt in flight.
_MAY_TRY = ("attribute_not_exists(pk) OR expires_at < :now OR failures < :free OR "
            "((attribute_not_exists(locked_until) OR locked_until <= :now) AND "
            "(attribute_not_exists(held_until) OR held_until <= :now))")
_METHODS = {"GetItem": "get_item", "UpdateItem": "update_item"}  # all the dashboard's IAM role allows it
# Shared by every throttle of the process: a sign-in writes two keys at once.
_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="login-throttle")
