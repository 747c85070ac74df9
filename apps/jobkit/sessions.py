"""Each user's session generation in the job table: signing out bumps it, which ends every session
of that user in every dashboard process and task (a session carries the generation it began in).

One item per user: `pk=session#<sha256 of the user name>`, `sk=session`, holding `generation`.

Each process caches what it read for `cache_seconds`, so a signed-in request costs no store call
while the cache holds. The bound this gives, stated once: a sign-out ends the user's sessions in
the process that served it at once (it writes the new generation into its own cache), and in every
other process within `cache_seconds` (the age of that process's cached read).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from jobkit import aws, schema
from jobkit.codec import serialize
from jobkit.errors import StoreUnavailable
from jobkit.store import JobStore


def generation_key(user: str) -> dict[str, dict[str, str]]:
    return serialize(schema.session_key(user))


class SessionGenerations:
    """Reads (cached for `cache_seconds` per process, refreshed ahead by one request, one read at a
    time per user) and bumps users' session generations."""

    def __init__(self, store: JobStore, cache_seconds: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store, self.cache_seconds, self.clock = store, cache_seconds, clock
        self._cache: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()
        self._reading: dict[str, threading.Lock] = {}

    def _cached(self, user: str) -> tuple[tuple[int, float] | None, float]:
        """The cached (generation, read at) and its age (infinite when none)."""
        with self._lock:
            cached = self._cache.get(user)
        return cached, (self.clock() - cached[1]) if cached is not None else float("inf")

    def current(self, user: str) -> int:
        """The user's generation (0 before the first sign-out); a stale cached value when AWS fails."""
        cached, age = self._cached(user)
        with self._lock:
            reading = self._reading.setdefault(user, threading.Lock())
        if cached is not None and age < self.cache_seconds:
            # Past half its life, one request refreshes it while the others go on with it, so under
            # steady traffic nobody waits for a read and the bound still holds.
            if age >= self.cache_seconds / 2 and reading.acquire(blocking=False):
                try:
                    return self._read(user, cached)
                finally:
                    reading.release()
            return cached[0]
        # Expired: one thread reads; the others wait for its answer rather than each sending it.
        with reading:
            cached, age = self._cached(user)
            if cached is not None and age < self.cache_seconds:
                return cached[0]
            return self._read(user, cached)

    def _read(self, user: str, cached: tuple[int, float] | None) -> int:
        started = self.clock()
        try:
            item = aws.call(self.store.dynamodb.get_item, "dynamodb.GetItem", {"counter": "session"},
                            TableName=self.store.settings.table, Key=generation_key(user),
                            ConsistentRead=True).get("Item")
        except StoreUnavailable:
            if cached is None:
                raise
            return cached[0]
        generation = int(item["generation"]["N"]) if item else 0
        # Aged from when the read was sent: a sign-out elsewhere after that is seen in time.
        self._remember(user, generation, started)
        return max(generation, self._cached(user)[0][0])

    def bump(self, user: str) -> int:
        """End every current session of `user`; returns the new generation."""
        item = aws.call(self.store.dynamodb.update_item, "dynamodb.UpdateItem", {"counter": "session"},
                        TableName=self.store.settings.table, Key=generation_key(user),
                        UpdateExpression="ADD generation :one", ExpressionAttributeValues={":one": {"N": "1"}},
                        ReturnValues="ALL_NEW")["Attributes"]
        generation = int(item["generation"]["N"])
        self._remember(user, generation, self.clock())
        return generation

    def _remember(self, user: str, generation: int, read_at: float) -> None:
        with self._lock:
            cached = self._cache.get(user)
            if cached is None or generation >= cached[0]:  # never step back past a bump seen here
                self._cache[user] = (generation, read_at)
