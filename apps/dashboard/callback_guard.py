"""Refuse forged Dash requests with a 400 (a 404 for component-suite paths) before any callback runs.

A browser only ever sends a callback what the callback's own definition asks for: its outputs,
inputs and state in order, each entry for a component the page holds (a list of entries for an
ALL pattern, the same components in every entry of that pattern, one MATCH value throughout), the
triggering inputs among them, and the values those components can hold. A hand-written request
can send anything; this checks all of that once, here, against `app.callback_map`, so a forged
request gets a 400 and one log line instead of a 500 with a stack trace, and the callbacks can
trust the types they read (`VALUE_CHECKS`).
"""

from __future__ import annotations

import json
import logging
import posixpath
from collections.abc import Callable
from typing import Any

import dash
import flask

log = logging.getLogger("dashboard.callbacks")

CALLBACK_PATH = "/_dash-update-component"
SUITES_PATH = "/_dash-component-suites/"


class Forged(ValueError):
    """The request cannot have come from the dashboard's own pages; the message says what is wrong."""


def _is_count(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0)


def _is_text(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _is_scalar(value: Any) -> bool:
    """What a number input or a dropdown holds."""
    return value is None or (isinstance(value, str | int | float) and not isinstance(value, bool))


def _is_paging(value: Any) -> bool:
    """The jobs table's paging state (always set: the page starts it at the first page)."""
    if not isinstance(value, dict):
        return False
    tokens, index = value.get("tokens") or [None], value.get("index", 0)
    return (isinstance(tokens, list) and all(_is_text(token) for token in tokens)
            and isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(tokens)
            and _is_text(value.get("next")))


def _is_records(value: Any) -> bool:
    """A list of JSON objects (the prediction form's examples and field descriptions)."""
    return value is None or (isinstance(value, list) and all(isinstance(item, dict) for item in value))


def _any(_value: Any) -> bool:
    return True


# What a browser can hold in each property a callback reads, keyed "component.property", where
# the component is its id or, for a pattern-matching id, its "type". A property read by a callback
# but not listed here is refused (a new callback must say what it reads).
VALUE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "url.pathname": _is_text,
    # prediction page
    "predict-example.n_clicks": _is_count,
    "predict-example-inputs.data": _is_records,
    "predict-input.value": _is_scalar,
    "predict-button.n_clicks": _is_count,
    "predict-schema.data": _is_records,
    "predict-form-version.data": _is_text,
    "answer-version.data": _is_text,
    "predict-update-poll.n_intervals": _is_count,
    "predict-update-note.children": _any,  # only compared with the note it would show
    # batch page
    "job-upload.contents": _is_text,
    "job-upload.filename": _is_text,
    "sample-submit.n_clicks": _is_count,
    "file-submit.n_clicks": _is_count,
    "sample-choice.value": _is_text,
    "submit-token.data": _is_text,
    "batch-param.value": _is_scalar,
    "job-note.value": _is_text,
    "jobs-refresh.n_intervals": _is_count,
    "jobs-older.n_clicks": _is_count,
    "jobs-newer.n_clicks": _is_count,
    "jobs-changed.data": _any,  # only its change matters
    "jobs-paging.data": _is_paging,
    "batch-refresh.n_intervals": _is_count,
    "batch-stamp.data": _is_text,
    # job page
    "job-refresh.n_intervals": _is_count,
    "job-changed.data": _any,
    "job-id.data": _is_text,
    "cancel-job.n_clicks": _is_count,
    "retry-job.n_clicks": _is_count,
    # feedback widget
    "fb-up.n_clicks": _is_count,
    "fb-down.n_clicks": _is_count,
    "fb-comment.value": _is_text,
}
MULTI = (["ALL"], ["ALLSMALLER"])  # wildcards whose entries are lists of components


def _pattern(spec_id: str) -> dict[str, Any] | None:
    """A pattern-matching id of a callback definition as a dict ({"name": ["ALL"], ...}), or None."""
    return json.loads(spec_id) if spec_id.startswith("{") else None


def _parse_outputs(output: str) -> list[tuple[str, str]]:
    """The (id, property) pairs of a callback_map key ("a.children" or "..a.b...c.d..")."""
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    return [tuple(part.rsplit(".", 1)) for part in parts]  # type: ignore[misc]


def _name(spec_id: str) -> str:
    pattern = _pattern(spec_id)
    return str(pattern.get("type")) if pattern is not None else spec_id


def _property(prop: Any) -> str:
    return prop.split("@", 1)[0] if isinstance(prop, str) else ""  # allow_duplicate outputs carry @hash


class _Request:
    """One request checked against one callback definition."""

    def __init__(self) -> None:
        self.all_ids: dict[str, list[Any]] = {}  # an ALL pattern's concrete ids, as first seen
        self.match: dict[str, Any] = {}  # MATCH key -> the one value every entry must carry
        self.seen: set[str] = set()  # "id.property" of every input, as changedPropIds writes them

    def concrete(self, pattern: dict[str, Any], given: Any, where: str) -> None:
        """`given` is a component id the pattern matches (and the MATCH values agree)."""
        if not isinstance(given, dict) or set(given) != set(pattern):
            raise Forged(f"{where}: an id that does not match the callback's pattern")
        for key, want in pattern.items():
            value = given[key]
            if isinstance(want, list):  # a wildcard
                if not isinstance(value, str | int) or isinstance(value, bool):
                    raise Forged(f"{where}: a wildcard id part that is not text or a number")
                if want == ["MATCH"] and self.match.setdefault(key, value) != value:
                    raise Forged(f"{where}: MATCH values differ")
            elif value != want:
                raise Forged(f"{where}: an id that does not match the callback's pattern")

    def entry(self, spec_id: str, spec_prop: str, given: Any, where: str, *, output: bool = False) -> None:
        """One output/input/state entry against its definition (`spec_id`, `spec_prop`)."""
        pattern = _pattern(spec_id)
        multi = pattern is not None and any(v in MULTI for v in pattern.values())
        items = given if multi else [given]
        if not isinstance(items, list):
            raise Forged(f"{where}: an ALL pattern's entry is not a list")
        for item in items:
            if not isinstance(item, dict) or _property(item.get("property")) != _property(spec_prop):
                raise Forged(f"{where}: not the callback's property {spec_prop}")
            if pattern is None:
                if item.get("id") != spec_id:
                    raise Forged(f"{where}: not the callback's component {spec_id}")
            else:
                self.concrete(pattern, item.get("id"), where)
            if not output:
                self.value(spec_id, spec_prop, item, where)
        if multi:
            ids = [item["id"] for item in items]
            if self.all_ids.setdefault(spec_id, ids) != ids:
                raise Forged(f"{where}: entries of one pattern name different components")

    def value(self, spec_id: str, prop: str, item: dict[str, Any], where: str) -> None:
        value = item.get("value")  # the renderer leaves out a property the component does not hold
        if prop == "id":
            if value != item["id"]:
                raise Forged(f"{where}: an id property that is not the component's id")
            return
        check = VALUE_CHECKS.get(f"{_name(spec_id)}.{prop}")
        if check is None or not check(value):
            raise Forged(f"unexpected value for {_name(spec_id)}.{prop}")

    def changed_id(self, item: dict[str, Any]) -> str:
        given = item["id"]
        text = json.dumps(given, sort_keys=True, separators=(",", ":"), ensure_ascii=False) \
            if isinstance(given, dict) else given
        return f"{text}.{item['property']}"


def check(app: dash.Dash, body: Any) -> None:
    """Forged, saying why, unless `body` is a request a page of `app` could send."""
    if not isinstance(body, dict):
        raise Forged("the body is not a JSON object")
    output = body.get("output")
    if not isinstance(output, str) or output not in app.callback_map:
        raise Forged("unknown output")
    definition = app.callback_map[output]
    request = _Request()
    specs = _parse_outputs(output)
    outputs = body.get("outputs") if output.startswith("..") else [body.get("outputs")]
    if not isinstance(outputs, list) or len(outputs) != len(specs):
        raise Forged("outputs do not match the callback")
    for n, ((spec_id, spec_prop), given) in enumerate(zip(specs, outputs, strict=True)):
        request.entry(spec_id, spec_prop, given, f"outputs[{n}]", output=True)
    for part in ("inputs", "state"):
        entries, wanted = body.get(part, []), definition[part]
        if not isinstance(entries, list) or len(entries) != len(wanted):
            raise Forged(f"{part} do not match the callback")
        for n, (spec, given) in enumerate(zip(wanted, entries, strict=True)):
            request.entry(spec["id"], spec["property"], given, f"{part}[{n}]")
            if part == "inputs":
                for item in given if isinstance(given, list) else [given]:
                    request.seen.add(request.changed_id(item))
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) and c in request.seen for c in changed):
        raise Forged("changedPropIds names no input of the callback")


def problem(app: dash.Dash, body: Any) -> str | None:
    """Why this callback request cannot have come from the dashboard's own pages (None when it could)."""
    try:
        check(app, body)
    except Forged as why:
        return str(why)
    return None


def suite_path_problem(path: str) -> str | None:
    """Why a /_dash-component-suites/ path is not one of Dash's own files (a `..` part, encoded or not)."""
    rest = path[len(SUITES_PATH):]
    if "\\" in rest or "\0" in rest or any(part in ("", ".", "..") for part in rest.split("/")):
        return "a path that leaves its package"
    return None if posixpath.normpath(rest) == rest else "a path that is not normal"


def install(app: dash.Dash) -> None:
    """Check every callback request of `app` before Dash dispatches it."""

    @app.server.before_request
    def refuse_forged_callbacks() -> Any:
        path = flask.request.path
        if path.startswith(SUITES_PATH):
            why = suite_path_problem(path)  # already %-decoded: `..%2f` arrives as `../`
            if why is not None:
                log.warning("component suite path refused", extra={"reason": why})
                flask.abort(404)
            return None
        if path != CALLBACK_PATH or flask.request.method != "POST":
            return None
        why = problem(app, flask.request.get_json(silent=True))
        if why is None:
            return None
        log.warning("callback refused", extra={"reason": why})
        return flask.jsonify(error="This request does not match the page. Please reload the page."), 400

    @app.server.errorhandler(dash.exceptions.DependencyException)
    def unknown_suite_file(_error: Exception) -> Any:
        # Dash raises this for a component-suite file it has not registered: a 404, not a 500.
        log.warning("component suite path refused", extra={"reason": "not a registered file"})
        return flask.Response("Not found", status=404, mimetype="text/plain")
