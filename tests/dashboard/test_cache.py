"""The time-to-live cache many viewers share: one load per key at a time, nothing kept past a clear()."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from dashboard.cache import TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class GatedLoad:
    """A load that counts its calls and, once `gate` is set up, waits for it before answering."""

    def __init__(self) -> None:
        self.calls = 0
        self.started = threading.Event()
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self) -> int:
        self.calls += 1
        self.started.set()
        assert self.gate.wait(30), "the test never opened the gate"
        return self.calls


def test_a_fresh_entry_is_answered_without_loading_and_an_old_one_is_loaded_again() -> None:
    clock, load = Clock(), GatedLoad()
    cache = TtlCache(2.0, clock=clock)
    assert cache.get("k", load) == 1
    clock.now = 1.9
    assert cache.get("k", load) == 1
    clock.now = 2.0
    assert cache.get("k", load) == 2


def test_a_failed_load_is_not_remembered() -> None:
    cache, calls = TtlCache(10.0), []

    def failing() -> int:
        calls.append(1)
        raise RuntimeError("store down")

    for _ in range(2):
        with pytest.raises(RuntimeError):
            cache.get("k", failing)
    assert len(calls) == 2
    assert cache.get("k", lambda: 7) == 7


def test_many_callers_with_nothing_cached_share_one_load() -> None:
    cache, load = TtlCache(10.0), GatedLoad()
    load.gate.clear()
    with ThreadPoolExecutor(8) as pool:
        answers = [pool.submit(cache.get, "k", load) for _ in range(8)]
        assert load.started.wait(30)
        load.gate.set()
        assert [answer.result(30) for answer in answers] == [1] * 8
    assert load.calls == 1


def test_while_one_caller_refreshes_an_old_entry_the_others_answer_with_it_at_once() -> None:
    clock, load = Clock(), GatedLoad()
    cache = TtlCache(1.0, clock=clock)
    cache.get("k", load)
    clock.now = 5.0
    load.gate.clear()
    load.started.clear()
    with ThreadPoolExecutor(1) as pool:
        refreshing = pool.submit(cache.get, "k", load)
        assert load.started.wait(30)
        assert cache.get("k", load) == 1  # did not wait for the gate: the old value
        load.gate.set()
        assert refreshing.result(30) == 2
    assert load.calls == 2
    assert cache.get("k", load) == 2


def test_what_is_read_after_a_clear_was_loaded_after_it() -> None:
    """A load under way when clear() is called (a listing sent before a submit) is not kept: the
    next reader loads again and sees the new job."""
    cache, load = TtlCache(10.0), GatedLoad()
    load.gate.clear()
    with ThreadPoolExecutor(1) as pool:
        before = pool.submit(cache.get, "k", load)
        assert load.started.wait(30)
        cache.clear()
        load.gate.set()
        assert before.result(30) == 1
    assert cache.get("k", load) == 2


def test_an_entry_is_aged_from_when_its_load_began() -> None:
    clock = Clock()
    cache = TtlCache(2.0, clock=clock)

    def slow() -> str:
        clock.now += 1.5  # the load itself took 1.5 s
        return "v"

    cache.get("k", slow)
    clock.now = 2.0
    assert cache.get("k", lambda: "again") == "again"


def test_entries_past_the_limit_start_over_rather_than_grow() -> None:
    cache = TtlCache(10.0, max_entries=3)
    for key in range(10):
        cache.get(key, lambda key=key: key)
    assert len(cache._entries) <= 3
    assert len(cache._loading) <= 4
