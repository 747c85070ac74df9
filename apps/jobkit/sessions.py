"""Each user's session generation in the job table: signing out bumps it, which ends every session
of that user in every dashboard process and task (a session carries the generation it began in).

One item per user: `pk=session#<sha256 of the user name>`, `sk=session`, holding `generation`.
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
    """Reads (cached for `cache_seconds` per process) and bumps users' session generations."""

    def __init__(self, store: JobStore, cache_seconds: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store, self.cache_seconds, self.clock = store, cache_seconds, clock
        self._cache: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def current(self, user: str) -> int:
        """The user's generation (0 before the first sign-out); a stale cached value when AWS fails."""
        now = self.clock()
        with self._lock:
            cached = self._cache.get(user)
        if cached is not None and now - cached[1] < self.cache_seconds:
            return cached[0]
        try:
            item = aws.call(self.store.dynamodb.get_item, "dynamodb.GetItem", {"counter": "session"},
                            TableName=self.store.settings.table, Key=generation_key(user),
                            ConsistentRead=True).get("Item")
        except StoreUnavailable:
            if cached is None:
                raise
            return cached[0]
        generation = int(item["generation"]["N"]) if item else 0
        self._remember(user, generation)
        return generation

    def bump(self, user: str) -> int:
        """End every current session of `user`; returns the new generation."""
        item = aws.call(self.store.dynamodb.update_item, "dynamodb.UpdateItem", {"counter": "session"},
                        TableName=self.store.settings.table, Key=generation_key(user),
                        UpdateExpression="ADD generation :one", ExpressionAttributeValues={":one": {"N": "1"}},
                        ReturnValues="ALL_NEW")["Attributes"]
        generation = int(item["generation"]["N"])
        self._remember(user, generation)
        return generation

    def _remember(self, user: str, generation: int) -> None:
        with self._lock:
            self._cache[user] = (generation, self.clock())
