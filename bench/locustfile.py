"""100 stakeholders at once: log in, open pages, poll the jobs table, predict, submit jobs.

Run by bench/load.py against a local stack on loopback. Each request type is named after what a
stakeholder did, so the report reads per action. Dash callbacks are posted exactly as the
browser posts them (`/_dash-update-component`).
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from locust import HttpUser, between, task

USER = os.environ.get("LOAD_USER", "demo")
PASSWORD = os.environ.get("LOAD_PASSWORD", "")
SAMPLE = os.environ.get("LOAD_SAMPLE", "customer-segments.csv")

JOBS_OUTPUTS = ["jobs-grid.rowData", "jobs-paging.data", "jobs-newer.disabled", "jobs-older.disabled",
                "jobs-refresh.interval", "jobs-page-label.children"]
SUBMIT_OUTPUTS = ["submit-message.children", "submit-token.data", "job-upload.contents", "jobs-changed.data"]


def _output(specs: list[str]) -> tuple[str, list[dict[str, str]]]:
    outputs = [dict(zip(("id", "property"), spec.rsplit(".", 1), strict=True)) for spec in specs]
    return ".." + "...".join(specs) + "..", outputs


def _find(tree: Any, component_id: str) -> Any:
    """The props of the component with this id in a rendered Dash layout."""
    if isinstance(tree, dict):
        props = tree.get("props", {})
        if props.get("id") == component_id:
            return props
        for value in (props.get("children"), *props.values()) if props else tree.values():
            found = _find(value, component_id)
            if found is not None:
                return found
    elif isinstance(tree, list):
        for item in tree:
            found = _find(item, component_id)
            if found is not None:
                return found
    return None


class Stakeholder(HttpUser):
    wait_time = between(1, 3)

    def on_start(self) -> None:
        with self.client.post("/login", data={"user": USER, "password": PASSWORD}, name="log in",
                              allow_redirects=False, catch_response=True) as response:
            if response.status_code != 302 or "/login" in response.headers.get("Location", ""):
                response.failure(f"login refused: {response.status_code}")
        self.schema = self._page("/predict", name="open predict page")
        self.schema = (_find(self.schema, "predict-schema") or {}).get("data") or []

    def _callback(self, name: str, body: dict[str, Any]) -> Any:
        with self.client.post("/_dash-update-component", json=body, name=name, catch_response=True) as response:
            if response.status_code not in (200, 204):
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return None
            return response.json() if response.status_code == 200 else None

    def _page(self, path: str, name: str) -> Any:
        self.client.get(path, name=f"{name} (html)")
        body = {
            "output": "page.children",
            "outputs": {"id": "page", "property": "children"},
            "inputs": [{"id": "url", "property": "pathname", "value": path}],
            "changedPropIds": ["url.pathname"],
            "state": [],
        }
        answer = self._callback(name, body)
        return (answer or {}).get("response", {}).get("page", {}).get("children")

    @task(5)
    def poll_jobs_table(self) -> None:
        output, outputs = _output(JOBS_OUTPUTS)
        self._callback("poll jobs table", {
            "output": output,
            "outputs": outputs,
            "inputs": [
                {"id": "jobs-refresh", "property": "n_intervals", "value": 1},
                {"id": "jobs-older", "property": "n_clicks", "value": None},
                {"id": "jobs-newer", "property": "n_clicks", "value": None},
                {"id": "jobs-changed", "property": "data", "value": None},
            ],
            "changedPropIds": ["jobs-refresh.n_intervals"],
            "state": [{"id": "jobs-paging", "property": "data", "value": {}}],
        })

    @task(2)
    def open_jobs_page(self) -> None:
        self._page("/jobs", name="open jobs page")

    @task(1)
    def open_feedback_page(self) -> None:
        self._page("/feedback", name="open feedback page")

    @task(2)
    def predict(self) -> None:
        if not self.schema:
            return
        names = [spec["name"] for spec in self.schema]
        ids = [{"name": name, "type": "predict-input"} for name in names]
        error_ids = [{"name": name, "type": "field-error"} for name in names]
        body = {
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
                [{"id": i, "property": "value", "value": spec.get("default")} for i, spec in zip(ids, self.schema,
                                                                                                  strict=True)],
                [{"id": i, "property": "id", "value": i} for i in ids],
                {"id": "predict-schema", "property": "data", "value": self.schema},
                [{"id": e, "property": "id", "value": e} for e in error_ids],
            ],
        }
        answer = self._callback("request prediction", body)
        if answer is not None and "prediction-label" not in str(answer):
            # A clear message instead of a prediction counts as an error for this benchmark.
            self.environment.events.request.fire(
                request_type="DASH", name="prediction missing", response_time=0, response_length=0,
                exception=RuntimeError(str(answer)[:200]), context={},
            )

    @task(1)
    def submit_small_job(self) -> None:
        output, outputs = _output(SUBMIT_OUTPUTS)
        self._callback("submit job", {
            "output": output,
            "outputs": outputs,
            "inputs": [
                {"id": "job-upload", "property": "contents", "value": None},
                {"id": "sample-submit", "property": "n_clicks", "value": 1},
            ],
            "changedPropIds": ["sample-submit.n_clicks"],
            "state": [
                {"id": "job-upload", "property": "filename", "value": None},
                {"id": "sample-choice", "property": "value", "value": SAMPLE},
                {"id": "submit-token", "property": "data", "value": uuid.uuid4().hex},
            ],
        })
