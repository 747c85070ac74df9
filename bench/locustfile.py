"""100 stakeholders at once: log in, open pages, poll the jobs table, predict, submit jobs.

Run by bench/load.py against a local stack on loopback. Each request type is named after what a
stakeholder did, so the report reads per action. Dash callbacks are posted exactly as the
browser posts them (bench/dash_calls.py).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, task

from bench import dash_calls
from bench.server_timing import Collector

USER = os.environ.get("LOAD_USER", "demo")
PASSWORD = os.environ.get("LOAD_PASSWORD", "")
# The sample a stakeholder runs: LOAD_SAMPLE, else the first one the batch algorithm published
# (the batch page offers only those; an algorithm that declares none gets no sample submits).
SAMPLE = os.environ.get("LOAD_SAMPLE", "")
# Where the dashboard's Server-Timing samples go when locust quits (bench/load.py reads them).
TIMINGS_FILE = os.environ.get("LOAD_TIMINGS_FILE", "")
timings = Collector()


@events.request.add_listener
def _keep_server_timing(name: str, response: Any = None, **_: Any) -> None:
    timings.collect(name, getattr(response, "headers", None))


@events.quitting.add_listener
def _write_server_timing(**_: Any) -> None:
    if TIMINGS_FILE:
        timings.dump(Path(TIMINGS_FILE))


class Stakeholder(HttpUser):
    wait_time = between(1, 3)

    def on_start(self) -> None:
        form = dash_calls.login_form(self.client.get("/login", name="login page").text, USER, PASSWORD)
        with self.client.post("/login", data=form, name="log in",
                              allow_redirects=False, catch_response=True) as response:
            if response.status_code != 302 or "/login" in response.headers.get("Location", ""):
                response.failure(f"login refused: {response.status_code}")
        page = self._page("/predict", name="open predict page")
        self.schema = (dash_calls.find(page, "predict-schema") or {}).get("data") or []
        self.sample: str | None = SAMPLE or None
        self.paging: dict[str, Any] | None = None

    def _offered_sample(self) -> str | None:
        """The sample to run: LOAD_SAMPLE, else the first the jobs page offers (looked up on the
        page until a worker has published the description; opening it starts one)."""
        if self.sample is None:
            page = self._page("/jobs", name="open jobs page")
            published = (dash_calls.find(page, "batch-published") or {}).get("data") or {}
            self.sample = next(iter(published.get("samples") or []), None)
        return self.sample

    def _callback(self, name: str, body: dict[str, Any]) -> Any:
        with self.client.post("/_dash-update-component", json=body, name=name, catch_response=True) as response:
            if response.status_code not in (200, 204):
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return None
            return response.json() if response.status_code == 200 else None

    def _page(self, path: str, name: str) -> Any:
        self.client.get(path, name=f"{name} (html)")
        answer = self._callback(name, dash_calls.open_page(path))
        return (answer or {}).get("response", {}).get("page", {}).get("children")

    @task(5)
    def poll_jobs_table(self) -> None:
        answer = self._callback("poll jobs table", dash_calls.poll_jobs(self.paging))
        paging = (answer or {}).get("response", {}).get("jobs-paging", {}).get("data")
        if paging is not None:  # kept, as the browser keeps its dcc.Store, for the next tick
            self.paging = paging

    @task(2)
    def open_jobs_page(self) -> None:
        self._page("/jobs", name="open jobs page")

    @task(1)
    def open_feedback_page(self) -> None:
        self._page("/feedback", name="open feedback page")

    def _missing(self, what: str, detail: Any) -> None:
        """Count an answer that came back 200 without what the stakeholder asked for as an error."""
        self.environment.events.request.fire(
            request_type="DASH", name=what, response_time=0, response_length=0,
            exception=RuntimeError(str(detail)[:200]), context={},
        )

    @task(2)
    def predict(self) -> None:
        if not self.schema:
            self._missing("prediction form missing", "the predict page had no form")
            return
        answer = self._callback("request prediction", dash_calls.predict(self.schema))
        if answer is not None and "prediction-label" not in str(answer):
            self._missing("prediction missing", answer)  # a clear message instead still counts

    @task(1)
    def submit_small_job(self) -> None:
        sample = self._offered_sample()
        if sample is None:
            return  # no sample offered (yet): the page shows no "Run on sample" to click
        answer = self._callback("submit job", dash_calls.submit_sample(sample))
        if answer is not None and not (answer.get("response", {}).get("jobs-changed") or {}).get("data"):
            self._missing("job not submitted", answer)
