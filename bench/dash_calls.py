"""The dashboard's Dash callbacks as the browser posts them to `/_dash-update-component`.

Shared by the load test (bench/locustfile.py), the fault tests and the cloud smoke test
(deploy/smoke.py), so all speak to the real dashboard exactly as a stakeholder's browser does.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')

JOBS_OUTPUTS = ["jobs-grid.rowData", "jobs-paging.data", "jobs-newer.disabled", "jobs-older.disabled",
                "jobs-refresh.interval", "jobs-page-label.children"]
SUBMIT_OUTPUTS = ["submit-message.children", "submit-token.data", "job-upload.contents", "jobs-changed.data"]


def _outputs(specs: list[str]) -> tuple[str, list[dict[str, str]]]:
    outputs = [dict(zip(("id", "property"), spec.rsplit(".", 1), strict=True)) for spec in specs]
    return ".." + "...".join(specs) + "..", outputs


def open_page(path: str) -> dict[str, Any]:
    """The router callback that renders the page at `path`."""
    return {
        "output": "page.children",
        "outputs": {"id": "page", "property": "children"},
        "inputs": [{"id": "url", "property": "pathname", "value": path}],
        "changedPropIds": ["url.pathname"],
        "state": [],
    }


def poll_jobs(paging: dict[str, Any] | None = None) -> dict[str, Any]:
    """The jobs table's refresh tick, first page; `paging` is what the last answer set (a browser
    sends it back, so a tick that finds nothing changed is answered without the rows)."""
    output, outputs = _outputs(JOBS_OUTPUTS)
    return {
        "output": output,
        "outputs": outputs,
        "inputs": [
            {"id": "jobs-refresh", "property": "n_intervals", "value": 1},
            {"id": "jobs-older", "property": "n_clicks", "value": None},
            {"id": "jobs-newer", "property": "n_clicks", "value": None},
            {"id": "jobs-changed", "property": "data", "value": None},
        ],
        "changedPropIds": ["jobs-refresh.n_intervals"],
        "state": [{"id": "jobs-paging", "property": "data", "value": paging or {}}],
    }


def predict(schema: list[dict[str, Any]], values: dict[str, Any] | None = None) -> dict[str, Any]:
    """A click on Predict with the form filled from `values` (defaults where missing)."""
    values = values or {}
    ids = [{"name": spec["name"], "type": "predict-input"} for spec in schema]
    error_ids = [{"name": spec["name"], "type": "field-error"} for spec in schema]
    return {
        "output": '..predict-result.children...{"name":["ALL"],"type":"field-error"}.children'
                  "...predict-message.children..",
        "outputs": [
            {"id": "predict-result", "property": "children"},
            [{"id": e, "property": "children"} for e in error_ids],
            {"id": "predict-message", "property": "children"},
        ],
        "inputs": [{"id": "predict-button", "property": "n_clicks", "value": 1}],
        "changedPropIds": ["predict-button.n_clicks"],
        "state": [
            [{"id": i, "property": "value", "value": values.get(spec["name"], spec.get("default"))}
             for i, spec in zip(ids, schema, strict=True)],
            [{"id": i, "property": "id", "value": i} for i in ids],
            {"id": "predict-schema", "property": "data", "value": schema},
            [{"id": e, "property": "id", "value": e} for e in error_ids],
        ],
    }


def submit_sample(sample: str, token: str | None = None) -> dict[str, Any]:
    """A click on 'Submit sample' with the form's idempotency token."""
    output, outputs = _outputs(SUBMIT_OUTPUTS)
    return {
        "output": output,
        "outputs": outputs,
        "inputs": [
            {"id": "job-upload", "property": "contents", "value": None},
            {"id": "sample-submit", "property": "n_clicks", "value": 1},
        ],
        "changedPropIds": ["sample-submit.n_clicks"],
        "state": [
            {"id": "job-upload", "property": "filename", "value": None},
            {"id": "sample-choice", "property": "value", "value": sample},
            {"id": "submit-token", "property": "data", "value": token or uuid.uuid4().hex},
            # the batch form: no parameter fields (an ALL pattern matching nothing is an empty list;
            # the defaults apply) and no note
            [],
            [],
            {"id": "job-note", "property": "value", "value": ""},
        ],
    }


def find(tree: Any, component_id: str) -> Any:
    """The props of the component with this id in a rendered Dash layout, or None."""
    if isinstance(tree, dict):
        props = tree.get("props")
        if isinstance(props, dict):
            if props.get("id") == component_id:
                return props
            return find(list(props.values()), component_id)
        return find(list(tree.values()), component_id)
    if isinstance(tree, list):
        for item in tree:
            found = find(item, component_id)
            if found is not None:
                return found
    return None


def login_form(login_page: str, user: str, password: str) -> dict[str, str]:
    """The sign-in form's fields, with the CSRF token from the login page's HTML (GET /login)."""
    match = _CSRF_FIELD.search(login_page)
    return {"user": user, "password": password, "csrf_token": match.group(1) if match else ""}


def sign_out_form(layout: Any) -> dict[str, str]:
    """The sign-out button's form fields, with the CSRF token from the page's layout (GET /_dash-layout)."""
    props = find(layout, "logout-csrf") or {}
    return {"csrf_token": props.get("value") or ""}


def sign_in(session: Any, base: str, user: str, password: str, **kwargs: Any) -> Any:
    """Sign a requests-style session in as the browser does: fetch the form, post it back."""
    page = session.get(f"{base}/login", timeout=10)
    return session.post(f"{base}/login", data=login_form(page.text, user, password), timeout=10, **kwargs)
