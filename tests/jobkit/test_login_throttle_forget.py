"""Failed sign-ins are forgotten an hour (`forget_seconds`) after the last one, against moto."""

from __future__ import annotations

import pytest
from jobkit.login_throttle import Limit, LoginThrottle, counter_key


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def failures(throttle: LoginThrottle, limit: Limit) -> int:
    item = throttle.store.dynamodb.get_item(TableName=throttle.store.settings.table, Key=counter_key(limit.key),
                                            ConsistentRead=True)["Item"]
    return int(item["failures"]["N"])


def test_failures_an_hour_old_are_forgotten_and_counting_starts_again(store):
    clock, name = Clock(), Limit("user-ip:alice|10.0.0.9", free=5)
    throttle = LoginThrottle(store, base_seconds=30, forget_seconds=3600, clock=clock)
    for _ in range(4):
        assert throttle.failed([name]) == 0
    assert throttle.failed([name]) == 30  # the fifth failure locks the name out
    clock.now += 3599
    assert throttle.failed([name]) == 60  # within the hour of the last failure: the count goes on (6)
    clock.now += 3601
    assert throttle.succeeded([Limit(name.key, free=5, reset_on_success=False)]) == 0  # forgotten: not locked
    assert throttle.failed([name]) == 0  # and the next failure is the first again
    assert failures(throttle, name) == 1


def test_the_hour_runs_from_the_last_failure_not_the_first(store):
    clock, name = Clock(), Limit("user-ip:bob|10.0.0.9", free=2)
    throttle = LoginThrottle(store, base_seconds=30, forget_seconds=3600, clock=clock)
    assert throttle.failed([name]) == 0
    clock.now += 3000
    assert throttle.failed([name]) == pytest.approx(30)  # the second failure, 50 minutes after the first: locked
    clock.now += 1000  # 66 minutes after the first, 16 after the last
    assert throttle.failed([name]) == 60  # the lockout has passed, the count is remembered: a third doubles it
    assert failures(throttle, name) == 3
