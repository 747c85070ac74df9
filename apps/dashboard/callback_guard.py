"""Refuse forged Dash callback requests with a 400 before any callback runs.

A browser only ever sends a callback the output ids it was given and the values its components
hold; a hand-written request can send anything. This checks the request's shape (a known
output, lists of {id, property, value}), the type of each well-known component property, and
the few stored page states whose contents a callback trusts (`STORE_CHECKS`), so a forged value
gets a 400 and one log line instead of a 500 with a stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import dash
import flask

log = logging.getLogger("dashboard.callbacks")

CALLBACK_PATH = "/_dash-update-component"


def _is_count(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0)


def _is_text(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _is_paging(value: Any) -> bool:
    """The jobs table's paging state: page tokens seen so far and the index of the shown one."""
    if value is None:
        return True
    if not isinstance(value, dict):
        return False
    tokens, index = value.get("tokens") or [None], value.get("index", 0)
    return (isinstance(tokens, list) and all(_is_text(token) for token in tokens)
            and isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(tokens)
            and _is_text(value.get("next")))


# What a browser can hold in each of these properties (dcc.Upload, buttons, intervals, the URL).
PROPERTY_CHECKS: dict[str, Callable[[Any], bool]] = {
    "contents": _is_text,
    "filename": _is_text,
    "n_clicks": _is_count,
    "n_intervals": _is_count,
    "pathname": _is_text,
}
# Stored page state, keyed "component-id.property".
STORE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "jobs-paging.data": _is_paging,
}


def problem(app: dash.Dash, body: Any) -> str | None:
    """Why this callback request cannot have come from the dashboard's own pages (None when it could)."""
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    output = body.get("output")
    if not isinstance(output, str) or output not in app.callback_map:
        return "unknown output"
    outputs = body.get("outputs")
    if output.startswith(".."):  # several outputs: "..a.children...b.data.."
        if not isinstance(outputs, list) or len(outputs) != len(output.strip(".").split("...")):
            return "outputs do not match the output"
    else:
        outputs = [outputs]
    if not all(isinstance(spec, dict | list) for spec in outputs):
        return "malformed outputs"
    for part in ("inputs", "state"):
        entries = body.get(part, [])
        if not isinstance(entries, list):
            return f"{part} is not a list"
        for entry in entries:
            for item in entry if isinstance(entry, list) else [entry]:  # pattern-matching inputs are lists
                if not isinstance(item, dict) or "property" not in item or "id" not in item:
                    return f"malformed {part} entry"
                value, prop = item.get("value"), item["property"]
                check = PROPERTY_CHECKS.get(prop)
                if isinstance(item["id"], str):
                    check = STORE_CHECKS.get(f"{item['id']}.{prop}", check)
                if check is not None and not check(value):
                    return f"unexpected value for {item['id']}.{prop}"
    return None


def install(app: dash.Dash) -> None:
    """Check every callback request of `app` before Dash dispatches it."""

    @app.server.before_request
    def refuse_forged_callbacks() -> Any:
        if flask.request.path != CALLBACK_PATH or flask.request.method != "POST":
            return None
        why = problem(app, flask.request.get_json(silent=True))
        if why is None:
            return None
        log.warning("callback refused", extra={"reason": why})
        return flask.jsonify(error="This request does not match the page. Please reload the page."), 400
