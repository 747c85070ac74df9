"""Session generations: cached per process, with a sign-out seen at once in its own process and
within `cache_seconds` in every other."""

from __future__ import annotations

import threading

from jobkit.sessions import SessionGenerations


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def test_a_sign_out_elsewhere_is_seen_within_the_cache_bound(store):
    clock = Clock()
    here, there = SessionGenerations(store, 2.0, clock), SessionGenerations(store, 2.0, clock)
    assert here.current("alice") == 0
    assert there.bump("alice") == 1
    assert there.current("alice") == 1  # at once where the sign-out happened
    clock.now += 0.5
    assert here.current("alice") == 0  # cached here, young: no read
    clock.now += 1.6
    assert here.current("alice") == 1  # past the bound: seen


def test_cached_reads_send_no_store_call_and_a_lapse_sends_one(store):
    clock, calls = Clock(), []
    original = store.dynamodb.get_item
    generations = SessionGenerations(store, 2.0, clock)

    def counting_get_item(**kwargs):
        calls.append(kwargs["Key"])
        return original(**kwargs)

    store.dynamodb.get_item = counting_get_item
    try:
        for _ in range(10):
            generations.current("alice")
        assert len(calls) == 1
        clock.now += 3
        barrier = threading.Barrier(16)

        def read():
            barrier.wait()
            generations.current("alice")

        threads = [threading.Thread(target=read) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert len(calls) == 2  # sixteen threads at a lapsed cache: one read
        clock.now += 1.5
        for _ in range(5):
            generations.current("alice")
        assert len(calls) == 3  # past half its life: one request refreshes it ahead
    finally:
        store.dynamodb.get_item = original
