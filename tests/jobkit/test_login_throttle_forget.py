"""Failed sign-ins are forgotten an hour (`forget_seconds`) after the last one, against moto."""

from __future__ import annotations

from jobkit.login_throttle import LoginThrottle, counter_key


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


KEYS = ("user:alice",)


def failures(throttle: LoginThrottle) -> int:
    item = throttle.store.dynamodb.get_item(TableName=throttle.store.settings.table, Key=counter_key(KEYS[0]),
                                            ConsistentRead=True)["Item"]
    return int(item["failures"]["N"])


def test_failures_an_hour_old_are_forgotten_and_counting_starts_again(store):
    clock = Clock()
    throttle = LoginThrottle(store, free=5, base_seconds=30, forget_seconds=3600, clock=clock)
    for _ in range(5):
        lockout = throttle.failed(KEYS)
    assert lockout == 30 and throttle.retry_after(KEYS) == 30  # the fifth failure locks the name out
    clock.now += 3599
    assert throttle.failed(KEYS) == 60  # within the hour of the last failure: the count goes on (6)
    clock.now += 3601
    assert throttle.retry_after(KEYS) == 0  # an hour after the last failure: forgotten
    assert throttle.failed(KEYS) == 0  # and the next failure is the first again
    assert failures(throttle) == 1


def test_the_hour_runs_from_the_last_failure_not_the_first(store):
    clock = Clock()
    throttle = LoginThrottle(store, free=2, base_seconds=30, forget_seconds=3600, clock=clock)
    throttle.failed(KEYS)
    clock.now += 3000
    throttle.failed(KEYS)  # the second failure, 50 minutes after the first: locked out
    clock.now += 1000  # 66 minutes after the first, 16 after the last
    assert throttle.retry_after(KEYS) == 0  # the 30 s lockout itself has passed...
    assert throttle.failed(KEYS) == 60  # ...but the count is remembered: a third failure doubles it
    assert failures(throttle) == 3
