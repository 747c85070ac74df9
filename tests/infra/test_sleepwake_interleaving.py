"""No order of sleep, close and wake sends visitors to a dashboard with no task: a visitor's wake is run after
every single step (every AWS call) of a sleep and of a close, and a look after every step of a wake.

After each step of anyone, the invariant is checked: while the listener forwards to the dashboard's
target group, that group has a healthy target (tasks leave it the moment they are told to stop,
the strictest case). And whoever won, the visitor who keeps refreshing the waking page gets in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from components.sleepwake import moves
from components.sleepwake.decision import Action
from components.sleepwake.moves import Dashboard
from components.sleepwake.settings import SleepWakeSettings
from tests.infra import sleepwake_twin as twin

pytestmark = pytest.mark.timeout(600)


class Steps:
    """Wraps a part so that each method call is a step: after step number `at`, `between()` runs once."""

    def __init__(self, check: Callable[[], None]) -> None:
        self.count, self.at, self.between, self.check = 0, -1, None, check
        self.names: list[str] = []

    def wrap(self, part: Any, label: str) -> Any:
        steps = self

        class Wrapped:
            def __getattr__(self, name: str) -> Any:
                method = getattr(part, name)

                def step(*args: Any, **kwargs: Any) -> Any:
                    result = method(*args, **kwargs)
                    steps.names.append(f"{label}.{name}")
                    steps.check()
                    if steps.count == steps.at and steps.between is not None:
                        between, steps.between = steps.between, None
                        between()
                    steps.count += 1
                    return result
                return step
        return Wrapped()

    def dashboard(self, d: Dashboard) -> Dashboard:
        return Dashboard(service=self.wrap(d.service, "service"), route=self.wrap(d.route, "route"),
                         record=self.wrap(d.record, "record"), awake_count=d.awake_count,
                         sleep_after_minutes=d.sleep_after_minutes)


def no_visitor_sent_to_no_task(c: SimpleNamespace, s: SleepWakeSettings) -> Callable[[], None]:
    plain = twin.dashboard(c, s)

    def check() -> None:
        if not plain.route.to_waker():
            assert plain.service.healthy() > 0, "the listener forwards to a target group with no healthy task"
    return check


def visitor_gets_in(c: SimpleNamespace, s: SleepWakeSettings, d: Dashboard, now: dt.datetime) -> None:
    """The waking page refreshing: wake, the task passes its checks once started, wake again... until in."""
    for attempt in range(6):
        if moves.wake(d, f"refresh-{attempt}", now):
            break
        if d.service.desired() > 0 and d.service.healthy() == 0:
            twin.start_task(c, s)
    assert not d.route.to_waker() and d.service.desired() > 0 and d.service.healthy() > 0


def put_to_sleep_now(c: SimpleNamespace, s: SleepWakeSettings) -> dt.datetime:
    """Reset: awake, routed in, and already quiet on an earlier look; returns when the sleeping look runs."""
    d = twin.dashboard(c, s)
    if d.service.desired() == 0:
        d.service.scale(1)
    if d.service.healthy() == 0:
        twin.start_task(c, s)
    d.route.send(to_waker=False)
    first = twin.later()
    d.record.remember_quiet_look(first)
    return first + dt.timedelta(minutes=5)


MOVES: dict[str, Callable[[Dashboard, dt.datetime], Any]] = {
    "sleep": lambda d, now: moves.look(d, "sleeper", now)[0],
    "close": lambda d, now: moves.close(d, "office-hours-close", now),
}


@pytest.mark.parametrize("move", sorted(MOVES))
def test_a_wake_at_every_step_of_a_sleep_or_close_never_sends_visitors_to_no_task(
        aws_endpoint, store_settings, move: str) -> None:
    c = twin.clients()
    s = twin.build(c, store_settings.table)
    steps = Steps(no_visitor_sent_to_no_task(c, s))
    now = put_to_sleep_now(c, s)
    assert MOVES[move](steps.dashboard(twin.dashboard(c, s)), now) is Action.SLEEP  # a dry run counts the steps
    total, names = steps.count, list(steps.names)
    assert {"route.send", "service.scale"} <= set(names)
    assert names.index("route.send") < names.index("service.scale")  # visitors leave before the tasks do
    woken_mid_move = []
    for at in range(-1, total):
        now = put_to_sleep_now(c, s)
        steps.count, steps.at, steps.names = 0, at, []
        visitor = twin.dashboard(c, s)
        steps.between = lambda visitor=visitor, now=now: woken_mid_move.append(moves.wake(visitor, "visitor", now))
        if at == -1:
            steps.between()  # before the move's first step
        result = MOVES[move](steps.dashboard(twin.dashboard(c, s)), now)
        assert result in (Action.SLEEP, Action.STAY), (at, result)
        visitor_gets_in(c, s, visitor, now)  # whoever won, the refreshing page gets the visitor in
        steps.check()
    assert len(woken_mid_move) == total + 1  # a wake really ran at every step


def test_a_look_or_close_at_every_step_of_a_wake_never_sends_visitors_to_no_task(aws_endpoint, store_settings) -> None:
    c = twin.clients()
    s = twin.build(c, store_settings.table)
    steps = Steps(no_visitor_sent_to_no_task(c, s))

    def asleep_with_a_started_task() -> dt.datetime:
        """Asleep, a visitor's first wake has started a task and it became healthy: the next wake routes in."""
        d = twin.dashboard(c, s)
        now = put_to_sleep_now(c, s)
        moves.close(d, "reset", now)
        moves.wake(d, "reset", now)
        twin.start_task(c, s)
        return now

    now = asleep_with_a_started_task()
    assert moves.wake(steps.dashboard(twin.dashboard(c, s)), "visitor", now) is True
    total = steps.count
    for other in ("look", "close"):
        for at in range(total):
            now = asleep_with_a_started_task()
            steps.count, steps.at = 0, at
            sleeper = twin.dashboard(c, s)
            steps.between = (lambda sleeper=sleeper, now=now: moves.look(sleeper, "sleeper", now)) if other == "look" \
                else (lambda sleeper=sleeper, now=now: moves.close(sleeper, "close", now))
            moves.wake(steps.dashboard(twin.dashboard(c, s)), "visitor", now)
            steps.check()
            visitor_gets_in(c, s, twin.dashboard(c, s), now)
