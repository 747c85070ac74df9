"""Sign-in counters in the job table: counted before the password check, exact under concurrency,
forgotten after the hour, and a success takes back only what its attempt counted."""

from __future__ import annotations

import threading

import pytest
from jobkit.login_throttle import Limit, LoginThrottle, counter_key


class Clock:
    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def throttle(store, clock):
    return LoginThrottle(store, clock=clock)


NAME = Limit("user-ip:bob|10.0.0.1", free=5)
ADDRESS = Limit("ip:10.0.0.1", free=50, reset_on_success=False)


def failures(store, key):
    item = store.dynamodb.get_item(TableName=store.settings.table, Key=counter_key(key), ConsistentRead=True)
    return int(item["Item"]["failures"]["N"]) if "Item" in item else 0


def fail(throttle, *limits):
    attempt = throttle.attempt(limits or (NAME, ADDRESS))
    return attempt.wait if attempt.wait else throttle.failed(attempt)


def test_the_fifth_failure_locks_and_a_locked_attempt_is_not_counted(throttle, store, clock):
    assert [fail(throttle) for _ in range(4)] == [0, 0, 0, 0]
    assert fail(throttle) == 30  # the fifth earns the first lockout
    refused = throttle.attempt([NAME, ADDRESS])
    assert refused.wait == pytest.approx(30) and refused.counts == {}
    assert failures(store, NAME.key) == 5 and failures(store, ADDRESS.key) == 5  # nothing counted
    clock.now += 31
    assert fail(throttle) == 60  # one attempt after the lockout; it fails: a doubled wait


def test_concurrent_attempts_past_the_limit_let_exactly_one_through(throttle, clock):
    for _ in range(5):
        fail(throttle)
    clock.now += 31  # the lockout has passed: one attempt may check a password
    barrier, waits = threading.Barrier(20), []

    def attempt():
        barrier.wait()
        waits.append(throttle.attempt([NAME]).wait)

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(w > 0 for w in waits) == [False] + [True] * 19


def test_a_success_forgets_the_names_failures_but_takes_only_its_own_from_the_address(throttle, store):
    for _ in range(3):
        fail(throttle)
    throttle.succeeded(throttle.attempt([NAME, ADDRESS]))
    assert failures(store, NAME.key) == 0
    assert failures(store, ADDRESS.key) == 3  # the three failures stand; the success is taken back


def test_take_backs_never_go_below_zero(throttle, store):
    """Two right passwords in flight at once: the first resets the name's count and takes its own
    back from the address's; the second finds nothing left to take back."""
    first, second = throttle.attempt([NAME, ADDRESS]), throttle.attempt([NAME, ADDRESS])
    fail(throttle, ADDRESS)
    throttle.succeeded(first)
    throttle.succeeded(second)
    assert failures(store, NAME.key) == 0 and failures(store, ADDRESS.key) == 1
    throttle.succeeded(throttle.attempt([ADDRESS]))
    throttle.succeeded(second)  # a stray second take-back: still not below zero
    assert failures(store, ADDRESS.key) == 0


def test_failures_are_forgotten_after_the_hour(throttle, store, clock):
    for _ in range(5):
        fail(throttle)
    clock.now += 3601
    attempt = throttle.attempt([NAME, ADDRESS])
    assert attempt.wait == 0 and attempt.counts == {NAME.key: 1, ADDRESS.key: 1}
    assert failures(store, NAME.key) == 1


def test_a_hold_must_be_shorter_than_a_lockout(store):
    with pytest.raises(ValueError, match="hold_seconds"):
        LoginThrottle(store, base_seconds=5, hold_seconds=10)


def test_many_right_passwords_at_once_for_one_shared_login_all_get_through(throttle, store):
    """One shared login signing in from 20 browsers at once: attempts past the limit wait for the
    ones in flight, which succeed and take their counts back, instead of being refused."""
    barrier, outcomes = threading.Barrier(20), []

    def sign_in():
        barrier.wait()
        attempt = throttle.attempt([NAME, ADDRESS])
        if attempt.wait == 0:
            throttle.succeeded(attempt)
        outcomes.append(attempt.wait)

    threads = [threading.Thread(target=sign_in) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes == [0] * 20
    assert failures(store, NAME.key) == 0 and failures(store, ADDRESS.key) == 0
