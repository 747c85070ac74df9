"""The sleeper's look, the close and the waker's wake, as ordered steps on the dashboard's parts, under one lock.

The order is what keeps visitors off a service with no task: a sleep (and a close) routes visitors
to the waker before it stops the tasks; a wake starts them, and routes visitors back only once one
is healthy. The lock makes each move whole: a wake that arrives in the middle of a sleep waits for
the next refresh of the waking page instead of routing visitors to tasks the sleep is stopping.
The same moves run in the cloud (ECS, the ALB listener) and on the laptop (devstack's processes).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Protocol

from components.sleepwake.decision import Action, Observation, decide, quiet_look_to_keep

log = logging.getLogger("sleepwake")


class Service(Protocol):
    """The dashboard's tasks: an ECS service, or the laptop's gunicorn."""

    def desired(self) -> int: ...
    def changed_at(self) -> dt.datetime | None: ...
    def healthy(self) -> int: ...
    def workers(self) -> int: ...
    def scale(self, count: int) -> None: ...


class Route(Protocol):
    """Where visitors go: the listener's weights, or the laptop's front port."""

    def to_waker(self) -> bool: ...
    def send(self, to_waker: bool) -> None: ...


class Record(Protocol):
    """The activity record, the quiet look and the lock (components.sleepwake.ledger.Ledger)."""

    def last_activity(self) -> dt.datetime | None: ...
    def quiet_look_at(self) -> dt.datetime | None: ...
    def remember_quiet_look(self, at: dt.datetime | None) -> None: ...
    def hold(self, holder: str, now: dt.datetime) -> bool: ...
    def release(self, holder: str) -> None: ...


@dataclass(frozen=True)
class Dashboard:
    """The parts a move acts on, and how many tasks a wake starts."""

    service: Service
    route: Route
    record: Record
    awake_count: int
    sleep_after_minutes: float


def observe(d: Dashboard) -> Observation:
    return Observation(desired=d.service.desired(), healthy=d.service.healthy(), routed_to_waker=d.route.to_waker(),
                       last_activity=d.record.last_activity(), changed_at=d.service.changed_at(),
                       workers=d.service.workers(), quiet_look_at=d.record.quiet_look_at())


def _sleep(d: Dashboard) -> None:
    d.route.send(to_waker=True)  # first: from here on no visitor is sent to a task that is stopping
    d.service.scale(0)
    d.record.remember_quiet_look(None)


def look(d: Dashboard, holder: str, now: dt.datetime) -> tuple[Action, Observation | None]:
    """The scheduled look: observe, decide, act. (STAY, None) when another move holds the lock."""
    if not d.record.hold(holder, now):
        return Action.STAY, None
    try:
        seen = observe(d)
        action = decide(seen, d.sleep_after_minutes, now)
        if action is Action.SLEEP:
            _sleep(d)
        elif action is Action.DROWSE:
            keep = quiet_look_to_keep(seen, d.sleep_after_minutes, now)
            if keep != seen.quiet_look_at:
                d.record.remember_quiet_look(keep)
        else:
            if action is Action.ROUTE_TO_WAKER:
                d.route.send(to_waker=True)
            elif action is Action.ROUTE_TO_DASHBOARD:
                d.route.send(to_waker=False)
            if seen.quiet_look_at is not None:
                d.record.remember_quiet_look(None)  # not quiet now: the next sleep needs two fresh looks
        return action, seen
    finally:
        d.record.release(holder)


def close(d: Dashboard, holder: str, now: dt.datetime) -> Action:
    """Office hours' close: sleep now, idle or not (a visitor may wake it again), unless a worker runs."""
    if not d.record.hold(holder, now):
        return Action.STAY
    try:
        if d.service.workers():
            return Action.STAY  # the reconciler must stay; the looks sleep it once the jobs are done
        if d.service.desired() == 0:
            if not d.route.to_waker():
                d.route.send(to_waker=True)
            return Action.ROUTE_TO_WAKER
        _sleep(d)
        return Action.SLEEP
    finally:
        d.record.release(holder)


def wake(d: Dashboard, holder: str, now: dt.datetime) -> bool:
    """A person's visit: start the tasks if none is wanted; once one is healthy, route visitors in. True when in.

    Another move under way (a look, a close, another visitor's wake): nothing now, False; the
    waking page refreshes and asks again.
    """
    if not d.record.hold(holder, now):
        return False
    try:
        if d.service.desired() == 0:
            d.service.scale(d.awake_count)
            return False
        if d.service.healthy() == 0:
            return False
        if d.route.to_waker():
            d.route.send(to_waker=False)
        return True
    finally:
        d.record.release(holder)
