"""Sign-in counters in the job table: a failure decided by one atomic conditional write, a right
password by one strongly consistent read, so concurrent attempts gain nothing; forgotten after the
hour; right passwords never hold a key."""

from __future__ import annotations

import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jobkit.login_throttle import _MAY_TRY, Limit, LoginThrottle, counter_key, may_try


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


def test_a_right_password_for_any_name_is_refused_once_the_address_is_locked(throttle, store):
    """The address's counter stops one address trying many names: after its 50 failures, a right
    password for a name that never failed is refused too (the sign-in's read sees the lock)."""
    for guess in range(50):
        throttle.failed([Limit(f"user-ip:name{guess}|10.0.0.1", free=5), ADDRESS])
    assert throttle.succeeded([Limit("user-ip:carol|10.0.0.1", free=5), ADDRESS]) == pytest.approx(30)


def test_a_sign_in_reads_its_counters_in_one_call_and_writes_only_to_forget_failures(throttle, store):
    calls = []
    for name in ("batch_get_item", "get_item", "update_item"):
        method = getattr(store.dynamodb, name)
        setattr(store.dynamodb, name, lambda _m=method, _n=name, **kw: (calls.append(_n), _m(**kw))[1])
    assert throttle.succeeded(BOTH) == 0
    assert calls == ["batch_get_item"]
    throttle.failed(BOTH)
    calls.clear()
    assert throttle.succeeded(BOTH) == 0
    assert calls == ["batch_get_item", "update_item"] and failures(store, NAME.key) == 0


def test_counters_dynamodb_leaves_unprocessed_are_read_one_by_one(throttle, store):
    for _ in range(5):
        throttle.failed([NAME])
    batch_get = store.dynamodb.batch_get_item

    def nothing_processed(**kwargs):
        batch_get(**kwargs)  # what DynamoDB may answer under load: no item, every key unprocessed
        return {"Responses": {}, "UnprocessedKeys": kwargs["RequestItems"]}

    store.dynamodb.batch_get_item = nothing_processed
    assert throttle.succeeded(BOTH) == pytest.approx(30)  # NAME's lockout was still seen


attribute = st.one_of(st.none(), st.sampled_from([9_000.0, 9_999.5, 10_000.0, 10_000.5, 11_000.0]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(failures_=st.one_of(st.none(), st.integers(0, 8)), expires=attribute, locked=attribute, held=attribute,
       exists=st.booleans())
def test_the_python_condition_answers_as_dynamodb_does(store, failures_, expires, locked, held, exists):
    """`may_try` (for what a read found) and `_MAY_TRY` (DynamoDB's, for a conditional write) agree."""
    key = Limit("user-ip:probe|10.0.0.7", free=5).key
    store.dynamodb.delete_item(TableName=store.settings.table, Key=counter_key(key))
    item = None
    if exists:
        item = {**counter_key(key), **{name: {"N": repr(value)} for name, value in (
            ("failures", failures_), ("expires_at", expires), ("locked_until", locked), ("held_until", held))
            if value is not None}}
        store.dynamodb.put_item(TableName=store.settings.table, Item=item)
    try:
        store.dynamodb.update_item(
            TableName=store.settings.table, Key=counter_key(key), UpdateExpression="SET probe = :now",
            ConditionExpression=_MAY_TRY, ExpressionAttributeValues={":now": {"N": "10000.0"}, ":free": {"N": "5"}})
        dynamodb_says = True
    except store.dynamodb.exceptions.ConditionalCheckFailedException:
        dynamodb_says = False
    assert may_try(item, 5, 10_000.0) == dynamodb_says
