"""The dashboard's record of signed-in activity, which the sleeper reads to judge it idle.

After a signed-in request a person made (not a poll of a timer, not an asset), each process writes
one small item to the job table, at most once a minute and from a thread of its own, so no request
waits on it. components/sleepwake/ledger.py reads the same item (ACTIVITY_KEY there and here
must agree; tests/dashboard/test_activity.py checks).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import flask

from dashboard import auth

log = logging.getLogger("dashboard.activity")

ACTIVITY_KEY = {"pk": "activity#dashboard", "sk": "activity"}
WRITE_EVERY_SECONDS = 60.0
_NOT_A_PERSON = ("/assets/", "/_dash-component-suites/", "/_dash-layout", "/_dash-dependencies", "/_reload-hash")


def is_a_person(request: flask.Request) -> bool:
    """A page, a click or a typed value; not an asset, Dash's start-up fetches, or a timer's poll.

    A callback fired only by dcc.Interval ticks (changedPropIds all `*.n_intervals`) is an open
    tab, not a person: counting it would keep a forgotten tab's dashboard awake for ever.
    """
    if request.path.startswith(_NOT_A_PERSON):
        return False
    if request.path == "/_dash-update-component":
        body = request.get_json(silent=True, cache=True)
        changed = body.get("changedPropIds") if isinstance(body, dict) else None
        if isinstance(changed, list) and changed and all(str(p).endswith(".n_intervals") for p in changed):
            return False
    return True


class ActivityRecord:
    """Notes activity and writes `seen_at` (epoch seconds) at most once per WRITE_EVERY_SECONDS per process."""

    def __init__(self, dynamodb: Any, table: str, *, clock: Callable[[], float] = time.time,
                 every: float = WRITE_EVERY_SECONDS) -> None:
        self.dynamodb, self.table, self.clock, self.every = dynamodb, table, clock, every
        self._last = float("-inf")
        self._lock = threading.Lock()

    def due(self) -> bool:
        return self.clock() - self._last >= self.every

    def note(self) -> threading.Thread | None:
        """Start the write if one is due (the returned thread); None when the last one is recent."""
        with self._lock:
            now = self.clock()
            if now - self._last < self.every:
                return None
            self._last = now
        writer = threading.Thread(target=self.write, args=(now,), name="activity-record", daemon=True)
        writer.start()
        return writer

    def write(self, at: float) -> None:
        """Set seen_at, never backwards: another process may have written a later one."""
        stamp = {"N": f"{at:.3f}"}
        try:
            self.dynamodb.update_item(
                TableName=self.table, Key={k: {"S": v} for k, v in ACTIVITY_KEY.items()},
                UpdateExpression="SET seen_at = :t",
                ConditionExpression="attribute_not_exists(seen_at) OR seen_at < :t",
                ExpressionAttributeValues={":t": stamp})
        except self.dynamodb.exceptions.ConditionalCheckFailedException:
            pass
        except Exception as error:  # noqa: BLE001 - a lost record only lets the dashboard sleep sooner
            log.warning("activity record not written", extra={"error": type(error).__name__})


def install(server: flask.Flask, dynamodb: Any, table: str) -> ActivityRecord:
    """Note every successful signed-in request a person made (after auth's hook has checked the session)."""
    record = ActivityRecord(dynamodb, table)

    @server.after_request
    def note_activity(response: flask.Response) -> flask.Response:
        request = flask.request
        # The cheap test first: most requests find the last write recent and stop here.
        if (record.due() and response.status_code < 400 and request.path not in auth.PUBLIC_PATHS
                and auth.current_user() and is_a_person(request)):
            record.note()
        return response

    return record
