"""A tiny thread-safe time-to-live cache, so many viewers share one upstream call."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any


class TtlCache:
    """Remembers `load(key)` results for `ttl` seconds (failures are not remembered).

    One load per key at a time: while one thread refreshes an expired entry, the others keep
    answering with it (so a value is at most `ttl` plus one load old), and with no entry they wait
    for that load instead of sending their own. An entry is aged from when its load began, and
    `clear()` discards every entry and every load already under way, so what is read after a
    `clear()` was loaded after it."""

    def __init__(self, ttl: float, max_entries: int = 256, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.max_entries, self.clock = ttl, max_entries, clock
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        self._loading: dict[Hashable, threading.Lock] = {}
        self._generation = 0  # clear() counts up: a load begun before it is not kept
        self._lock = threading.Lock()

    def _fresh(self, key: Hashable) -> tuple[tuple[float, Any] | None, bool]:
        """(the entry, whether it is still fresh); call with the lock held."""
        hit = self._entries.get(key)
        return hit, hit is not None and self.clock() - hit[0] < self.ttl

    def get(self, key: Hashable, load: Callable[[], Any]) -> Any:
        with self._lock:
            hit, fresh = self._fresh(key)
            if fresh:
                return hit[1]
            loading = self._loading.setdefault(key, threading.Lock())
        if not loading.acquire(blocking=hit is None):
            return hit[1]  # another thread is refreshing it
        try:
            with self._lock:
                hit, fresh = self._fresh(key)
                if fresh:  # loaded while this thread waited
                    return hit[1]
                started, generation = self.clock(), self._generation
            value = load()
            with self._lock:
                if generation == self._generation:
                    if len(self._entries) >= self.max_entries:
                        self._entries.clear()
                        self._loading = {k: lock for k, lock in self._loading.items() if lock.locked()}
                    self._entries[key] = (started, value)
            return value
        finally:
            loading.release()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._generation += 1
