"""Sign-in counters in the job table: every answer decided by one atomic conditional write, so
concurrent attempts gain nothing; forgotten after the hour; right passwords never hold a key."""

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
BOTH = (NAME, ADDRESS)


def failures(store, key):
    item = store.dynamodb.get_item(TableName=store.settings.table, Key=counter_key(key), ConsistentRead=True)
    return int(item["Item"]["failures"]["N"]) if "Item" in item and "failures" in item["Item"] else 0


def at_once(count, call):
    barrier, results = threading.Barrier(count), []

    def run():
        barrier.wait()
        results.append(call())

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_the_fifth_failure_locks_and_a_locked_attempt_is_not_counted(throttle, store, clock):
    assert [throttle.failed(BOTH) for _ in range(4)] == [0, 0, 0, 0]
    assert throttle.failed(BOTH) == 30  # the fifth earns the first lockout
    assert throttle.failed(BOTH) == pytest.approx(30)  # refused...
    assert throttle.succeeded(BOTH) == pytest.approx(30)  # ...and so is the right password
    assert failures(store, NAME.key) == 5 and failures(store, ADDRESS.key) == 5  # nothing more counted
    clock.now += 31
    assert throttle.failed(BOTH) == 60  # one attempt after the lockout; it fails: a doubled wait


def test_forty_concurrent_failures_get_exactly_four_wrong_answers(throttle, store):
    waits = at_once(40, lambda: throttle.failed([NAME]))
    assert sorted(w == 0 for w in waits) == [False] * 36 + [True] * 4
    assert failures(store, NAME.key) == 5  # the refused ones counted nowhere


def test_after_a_lockout_exactly_one_concurrent_attempt_is_decided(throttle, store, clock):
    for _ in range(5):
        throttle.failed([NAME])
    clock.now += 31
    waits = at_once(20, lambda: throttle.failed([NAME]))
    assert failures(store, NAME.key) == 6  # one decided; 19 held off while it was
    assert all(w > 0 for w in waits)


def test_many_right_passwords_at_once_for_one_shared_login_all_get_in(throttle, store):
    throttle.failed(BOTH)
    assert at_once(20, lambda: throttle.succeeded(BOTH)) == [0] * 20
    assert failures(store, NAME.key) == 0  # a success forgets the name's failures...
    assert failures(store, ADDRESS.key) == 1  # ...not the address's, which other names share


def test_a_refused_failure_counts_nowhere(throttle, store):
    other = Limit("user-ip:eve|10.0.0.1", free=5)
    for _ in range(5):
        throttle.failed([NAME])  # bob's name is locked from this address
    assert throttle.failed([other, NAME]) > 0
    assert failures(store, other.key) == 0  # counted on eve's key, then taken back


def test_failures_are_forgotten_after_the_hour(throttle, store, clock):
    for _ in range(5):
        throttle.failed(BOTH)
    clock.now += 3601
    assert throttle.succeeded(BOTH) == 0
    assert throttle.failed(BOTH) == 0
    assert failures(store, NAME.key) == 1 and failures(store, ADDRESS.key) == 1


def test_a_hold_must_be_shorter_than_a_lockout(store):
    with pytest.raises(ValueError, match="hold_seconds"):
        LoginThrottle(store, base_seconds=5, hold_seconds=10)


def test_a_wrong_password_after_a_right_one_from_the_same_address_is_counted(throttle, store):
    # The right password leaves the address's counter holding a success and no failures yet.
    assert throttle.succeeded(BOTH) == 0
    assert throttle.failed(BOTH) == 0
    assert failures(store, NAME.key) == 1 and failures(store, ADDRESS.key) == 1
