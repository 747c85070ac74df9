"""The sleeper's and the waker's decisions, pure: the cloud's Lambda and the laptop's devstack both call these.

Whether a request is a person's visit (only that wakes the dashboard), and what one look at the
dashboard leads to (sleep only after two quiet looks, judged from the dashboard's own activity record).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs

# Two looks closer than this (or than half the window) are one look twice (a retried or duplicated event).
LOOK_GAP = dt.timedelta(seconds=60)
WAKE_FIELD = "wake"  # the waking page's one-click form posts wake=1


class Action(enum.Enum):
    """What one look at the dashboard leads to."""

    STAY = "stay"
    DROWSE = "drowse"  # quiet: remember this look; the next quiet one sleeps
    SLEEP = "sleep"  # visitors to the waker, then desiredCount 0
    ROUTE_TO_WAKER = "route-to-waker"  # already stopped (a close, a crash): visitors to the waker
    ROUTE_TO_DASHBOARD = "route-to-dashboard"  # awake and healthy: visitors straight in


@dataclass(frozen=True)
class Observation:
    """The dashboard's state at one moment."""

    desired: int
    healthy: int  # healthy targets behind the dashboard's route
    routed_to_waker: bool  # visitors get the waking page
    last_activity: dt.datetime | None  # the newest signed-in request the dashboard recorded
    changed_at: dt.datetime | None  # when the service's task count last changed
    workers: int = 0  # batch workers running; the dashboard re-launches a worker a job lost
    quiet_look_at: dt.datetime | None = None  # the earlier look that found it quiet, if any


def _quiet_at(seen: Observation, window: dt.timedelta, at: dt.datetime) -> bool:
    """No signed-in request and no change of the service in the window before `at`."""
    since = at - window
    return ((seen.last_activity is None or seen.last_activity <= since)
            and (seen.changed_at is None or seen.changed_at <= since))


def decide(seen: Observation, sleep_after_minutes: float, now: dt.datetime) -> Action:
    """Sleep when this look and an earlier one (at least LOOK_GAP before) were both quiet and no worker runs.

    Quiet is read from the dashboard's activity record (written as requests arrive, so never late,
    unlike load balancer metrics); the earlier quiet look guards against a record that lags by its
    one-write-a-minute throttle. While a worker runs the dashboard stays up: its reconciler starts
    another worker if this one dies (a Spot interruption) with jobs left.
    """
    if seen.desired == 0:
        return Action.STAY if seen.routed_to_waker else Action.ROUTE_TO_WAKER
    if seen.routed_to_waker and seen.healthy > 0:
        return Action.ROUTE_TO_DASHBOARD
    window = dt.timedelta(minutes=sleep_after_minutes)
    if seen.workers or not _quiet_at(seen, window, now):
        return Action.STAY
    earlier = seen.quiet_look_at
    gap = min(LOOK_GAP, window / 2)  # a laptop's 20-second window needs no minute between its looks
    if earlier is not None and earlier <= now - gap and _quiet_at(seen, window, earlier):
        return Action.SLEEP
    return Action.DROWSE


def quiet_look_to_keep(seen: Observation, sleep_after_minutes: float, now: dt.datetime) -> dt.datetime:
    """After a DROWSE: the earlier quiet look while it still holds (so looks closer than LOOK_GAP add up), else now."""
    earlier = seen.quiet_look_at
    if earlier is not None and _quiet_at(seen, dt.timedelta(minutes=sleep_after_minutes), earlier):
        return earlier
    return now


def _lower(headers: Mapping[str, str] | None) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (headers or {}).items()}


def is_a_visit(method: str, headers: Mapping[str, str] | None, body: str = "") -> bool:
    """A person asking for the dashboard: a browser's top-level page load, or the waking page's one click.

    A page load is a GET whose Fetch Metadata says navigate/document and that accepts HTML. Dash's
    polls and callbacks (POST, mode cors), assets (dest script/style/image), health checks and
    scanners (no Fetch Metadata) are not; a browser without Fetch Metadata gets the page's button,
    a form POST of wake=1 that is also a navigation when the browser says so.
    """
    h = _lower(headers)
    mode, dest = h.get("sec-fetch-mode"), h.get("sec-fetch-dest")
    if method.upper() == "GET":
        return mode == "navigate" and dest in ("document", None) and "text/html" in h.get("accept", "")
    if method.upper() == "POST" and mode in ("navigate", None) and dest in ("document", None):
        return "application/x-www-form-urlencoded" in h.get("content-type", "") and \
            parse_qs(body).get(WAKE_FIELD) == ["1"]
    return False
