"""The smoke test a deployed prototype must pass, in the cloud (`make cloud-test`) and on the local twin.

It speaks to the dashboard over plain HTTP exactly as a stakeholder's browser does (the Dash
callbacks in bench/dash_calls.py), to the predictor through the real boto3 Lambda client, and reads
each app's logs through a LogReader: CloudWatch Logs in the cloud, the JSON log files locally.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urljoin

import requests

from bench import dash_calls
from deploy import smoke_input

APPS = ("dashboard", "predictor", "worker")


class SmokeFailure(AssertionError):
    """A smoke step failed; the message starts with the step's name."""


class LogReader(Protocol):
    """Recent log lines of one app ('dashboard', 'predictor' or 'worker')."""

    def lines(self, app: str) -> list[str]: ...


@dataclass(frozen=True)
class LocalLogs:
    """The local stack's JSON log files: <log_dir>/<app>.log."""

    log_dir: Path

    def lines(self, app: str) -> list[str]:
        path = self.log_dir / f"{app}.log"
        return path.read_text(encoding="utf-8", errors="replace").splitlines() if path.exists() else []


@dataclass(frozen=True)
class CloudWatchLogs:
    """Each app's CloudWatch log group (names from the stack outputs), read since `since_ms`."""

    client: Any
    groups: Mapping[str, str]
    since_ms: int = 0
    max_pages: int = 5

    def lines(self, app: str) -> list[str]:
        found: list[str] = []
        kwargs: dict[str, Any] = {"logGroupName": self.groups[app], "startTime": self.since_ms}
        for _ in range(self.max_pages):
            page = self.client.filter_log_events(**kwargs)
            found.extend(event["message"].rstrip("\n") for event in page.get("events", []))
            if not page.get("nextToken"):
                break
            kwargs["nextToken"] = page["nextToken"]
        return found


@dataclass(frozen=True)
class SmokeTarget:
    """Where the prototype runs: the dashboard, its login, the predictor function and the logs."""

    base_url: str
    user: str
    password: str = field(repr=False)
    lambda_client: Any = field(repr=False)
    function: str
    logs: LogReader = field(repr=False)
    ready_timeout_s: float = 120.0
    job_timeout_s: float = 900.0
    log_timeout_s: float = 180.0
    poll_interval_s: float = 2.0


def run(target: SmokeTarget, say: Callable[[str], None] = print) -> dict[str, float]:
    """Run every step against `target`; return seconds per step, or raise SmokeFailure."""
    steps: dict[str, float] = {}

    @contextlib.contextmanager
    def step(name: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        except SmokeFailure:
            raise
        except Exception as error:  # noqa: BLE001 - every failure becomes this step's failure
            raise SmokeFailure(f"{name}: {type(error).__name__}: {error}") from error
        steps[name] = round(time.monotonic() - started, 2)
        say(f"smoke: {name} ok ({steps[name]:.1f}s)")

    dashboard = _Dashboard(target.base_url)
    with step("health"):
        _poll(lambda: dashboard.health(), target.ready_timeout_s, target.poll_interval_s, "health",
              "GET /health never answered 200 {status: ok}")
    with step("login"):
        _check(dashboard.login(target.user, target.password), "login", "the dashboard refused the login")
    with step("describe via Lambda"):
        description = _invoke(target, {"action": "describe"})
        _check(description.get("ok") is True and description.get("inputs"), "describe via Lambda", description)
    with step("describe via dashboard"):
        schema = (dash_calls.find(dashboard.page("/predict"), "predict-schema") or {}).get("data") or []
        names = sorted(spec["name"] for spec in schema)
        _check(names == sorted(spec["name"] for spec in description["inputs"]), "describe via dashboard",
               f"the prediction form has fields {names}, the function describes {description['inputs']}")
    with step("predict via dashboard"):
        answer = json.dumps(dashboard.callback(dash_calls.predict(schema)))
        _check("prediction-label" in answer, "predict via dashboard", f"no prediction in {answer[:300]}")
    with step("predict via Lambda"):
        defaults = {spec["name"]: spec.get("default") for spec in description["inputs"]}
        prediction = _invoke(target, {"action": "predict", "inputs": defaults})
        _check(prediction.get("ok") is True and prediction.get("prediction"), "predict via Lambda", prediction)
    with step("submit job"):
        # Opening /jobs starts a worker, which publishes the algorithm's description (its samples too).
        jobs_page = _poll(lambda: _described(dashboard.page("/jobs")), target.ready_timeout_s,
                          target.poll_interval_s, "submit job", "the batch worker never published its description")
        batch = dash_calls.find(jobs_page, "batch-published")["data"]
        sample = (dash_calls.find(jobs_page, "sample-choice") or {}).get("value")
        has_columns = any(isinstance(p, dict) and p.get("type") == "column" for p in batch.get("params") or [])
        if sample and not has_columns:
            submitted = dashboard.callback(dash_calls.submit_sample(sample))
            used = sample
        else:  # no sample, or columns to pick: a table from the published rules, its columns picked
            data = smoke_input.table_from_rules(batch.get("input") or {})
            _, numeric = smoke_input.header_and_numeric(data)
            output = smoke_input.file_submit_output(dashboard.dependencies())
            _check(output, "submit job", "the dashboard has no 'Submit the file' callback")
            submitted = dashboard.callback(smoke_input.submit_file_body(
                output, data, "smoke-table.csv", smoke_input.column_params(batch, numeric)))
            used = "a table generated from the published input rules"
        job_id = (submitted.get("response", {}).get("jobs-changed") or {}).get("data")
        _check(job_id, "submit job", f"no job id in {json.dumps(submitted)[:300]}")
        say(f"smoke: job {job_id} submitted ({used})")
    with step("job succeeded"):
        page = _poll(lambda: _finished(dashboard.page(f"/jobs/{job_id}")), target.job_timeout_s,
                     target.poll_interval_s, "job succeeded", f"job {job_id} did not finish")
    with step("charts and download"):
        charts = (dash_calls.find(page, "result-charts") or {}).get("children") or []
        figures = _figures(charts)
        _check(figures and all(figure.get("data") for figure in figures), "charts and download",
               f"the finished job shows no chart: {json.dumps(charts)[:300]}")
        href = (dash_calls.find(page, "download-result") or {}).get("href")
        _check(href, "charts and download", "the finished job has no download link")
        # The link signs a fresh URL when followed (signed-in only), then S3 serves the file.
        download = dashboard.session.get(urljoin(dashboard.base_url + "/", href), timeout=30)
        rows = download.text.strip().splitlines()
        _check(download.status_code == 200 and len(rows) >= 2, "charts and download",
               f"the download answered {download.status_code} with {len(rows)} lines")
    for app in APPS:
        with step(f"{app} logs"):
            _poll(lambda app=app: _has_log_lines(target.logs.lines(app), job_id if app == "worker" else None),
                  target.log_timeout_s, target.poll_interval_s, f"{app} logs",
                  f"no JSON log line from the {app}" + (f" mentioning job {job_id}" if app == "worker" else ""))
    return steps


class _Dashboard:
    """One logged-in stakeholder's HTTP session with the dashboard."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()

    def health(self) -> bool:
        try:
            answer = self.session.get(f"{self.base_url}/health", timeout=10)
            return answer.status_code == 200 and answer.json().get("status") == "ok"
        except (requests.RequestException, ValueError):
            return False

    def login(self, user: str, password: str) -> bool:
        answer = dash_calls.sign_in(self.session, self.base_url, user, password, allow_redirects=False)
        return answer.status_code == 302 and "/login" not in answer.headers.get("Location", "")

    def dependencies(self) -> list[dict[str, Any]]:
        """The app's callbacks as the browser reads them (/_dash-dependencies)."""
        answer = self.session.get(f"{self.base_url}/_dash-dependencies", timeout=30)
        answer.raise_for_status()
        return answer.json()

    def callback(self, body: dict[str, Any]) -> dict[str, Any]:
        answer = self.session.post(f"{self.base_url}/_dash-update-component", json=body, timeout=60)
        if answer.status_code != 200:
            raise SmokeFailure(f"callback {body['output'][:60]} answered {answer.status_code}: {answer.text[:300]}")
        return answer.json()

    def page(self, path: str) -> Any:
        return self.callback(dash_calls.open_page(path)).get("response", {}).get("page", {}).get("children")


def _described(page: Any) -> Any:
    """The /jobs page once the worker published its description (else None: poll again)."""
    store = dash_calls.find(page, "batch-published") or {}
    return page if isinstance(store.get("data"), dict) else None


def _finished(page: Any) -> Any:
    """The job page once the job succeeded; None while it runs; SmokeFailure when it failed."""
    status = str((dash_calls.find(page, "job-status") or {}).get("children", ""))
    if status.upper() in ("FAILED", "CANCELLED"):
        raise SmokeFailure(f"job succeeded: the job is {status}: {dash_calls.find(page, 'job-error')}")
    return page if status.upper() == "SUCCEEDED" else None


def _has_log_lines(lines: list[str], must_mention: str | None) -> bool:
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and (must_mention is None or must_mention in line):
            return True
    return False


def _invoke(target: SmokeTarget, event: dict[str, Any]) -> dict[str, Any]:
    answer = target.lambda_client.invoke(FunctionName=target.function, Payload=json.dumps(event).encode())
    payload = answer["Payload"].read()
    if answer.get("FunctionError"):
        raise SmokeFailure(f"the function failed ({answer['FunctionError']}): {payload[:300]!r}")
    return json.loads(payload)


def _figures(tree: Any) -> list[dict[str, Any]]:
    """Every plotly figure in a rendered Dash tree (charts sit inside their captioned boxes)."""
    if isinstance(tree, list):
        return [figure for item in tree for figure in _figures(item)]
    if isinstance(tree, dict):
        props = tree.get("props")
        if isinstance(props, dict):
            own = [props["figure"]] if isinstance(props.get("figure"), dict) else []
            return own + _figures([v for k, v in props.items() if k != "figure"])
    return []


def _check(condition: Any, name: str, detail: Any) -> None:
    if not condition:
        raise SmokeFailure(f"{name}: {detail if isinstance(detail, str) else json.dumps(detail)[:300]}")


def _poll(probe: Callable[[], Any], timeout_s: float, interval_s: float, name: str, message: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise SmokeFailure(f"{name}: {message} within {timeout_s:.0f}s")
        time.sleep(interval_s)
