"""Fixtures for the dashboard: its settings on a fresh moto store, a scripted Lambda endpoint,
the real Flask/Dash app, a signed-in test client, and a helper that calls Dash callbacks."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from dashboard.app import build_services, create_app
from dashboard.launcher import SubprocessLauncher
from dashboard.predictor_client import PredictorClient, lambda_client
from dashboard.settings import DashboardSettings
from jobkit import JobStore, StoreSettings
from jobkit.login_throttle import LoginThrottle

from bench.dash_calls import login_form
from devstack.local_aws import bootstrap
from tests.dashboard.lambda_stub import LambdaStub

LOGINS = {"alice": "correct horse battery", "bob": "tr0ub4dor&3"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def module_store(aws_endpoint: str) -> JobStore:
    """One table for a whole module, for tests that do not care what else is in it (faster)."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    bootstrap(aws_endpoint, "us-east-1", name, name)
    return JobStore(StoreSettings(table=name, bucket=name, region="us-east-1", lease_seconds=30, max_attempts=3))


@pytest.fixture
def lambda_stub() -> Iterator[LambdaStub]:
    stub = LambdaStub().start()
    yield stub
    stub.stop()


@pytest.fixture
def dashboard_settings(store_settings: StoreSettings, tmp_path: Path) -> DashboardSettings:
    return DashboardSettings(
        store=store_settings,
        logins=dict(LOGINS),
        predictor_function="stub-predictor",
        region=store_settings.region,
        upload_max_bytes=20_000,
        max_workers=1,
        worker_command=(sys.executable, "-c", "import time; time.sleep(0.2)"),
        local_log_dir=tmp_path / "logs",
        proxy_hops=0,
        jobs_page_size=25,
        session_key=b"test session key, 32 characters or more",
    )


def predictor_for(stub: LambdaStub, timeout: float = 3.0, cache_seconds: float = 30.0) -> PredictorClient:
    """The dashboard's own Lambda client (its timeout and retry policy), aimed at the stub."""
    client = lambda_client("us-east-1", timeout, endpoint_url=stub.url)
    return PredictorClient(client, "stub-predictor", cache_seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def predictor_timeout() -> float:
    return 3.0


@pytest.fixture
def app(dashboard_settings: DashboardSettings, store: JobStore, lambda_stub: LambdaStub, clock: FakeClock,
        predictor_timeout: float) -> Any:
    launcher = SubprocessLauncher(dashboard_settings.worker_command, dashboard_settings.max_workers,
                                  dashboard_settings.local_log_dir)
    services = build_services(dashboard_settings, store=store,
                              predictor=predictor_for(lambda_stub, timeout=predictor_timeout), launcher=launcher)
    dash_app = create_app(dashboard_settings, services=services, throttle=LoginThrottle(store, clock=clock),
                          reconcile=False)
    yield dash_app
    launcher.stop_all()


@pytest.fixture
def client(app: Any) -> Any:
    return app.server.test_client()


def sign_in(client: Any, user: str = "alice", password: str | None = None, **form: str) -> Any:
    """Post the login form as a browser does: with the CSRF token of the page it came from."""
    page = client.get("/login").get_data(as_text=True)
    fields = login_form(page, user, LOGINS[user] if password is None else password)
    return client.post("/login", data={**fields, **form})


@pytest.fixture
def alice(client: Any) -> Any:
    response = sign_in(client)
    assert response.status_code == 302
    return client


def with_settings(settings: DashboardSettings, **changes: Any) -> DashboardSettings:
    return replace(settings, **changes)


class DashCaller:
    """Calls one of the app's callbacks the way the browser does (POST /_dash-update-component)."""

    def __init__(self, app: Any, client: Any) -> None:
        self.app, self.client = app, client

    def key_for(self, output: str) -> str:
        matches = [key for key in self.app.callback_map if output in key]
        if len(matches) > 1 and "@" not in output:  # a second writer (allow_duplicate) has an @hash key
            matches = [key for key in matches if f"{output}@" not in key]
        assert len(matches) == 1, f"{output}: {matches}"
        return matches[0]

    def __call__(self, output: str, inputs: list[Any], state: list[Any] | None = None,
                 changed: list[str] | None = None, outputs: list[Any] | None = None) -> Any:
        key = self.key_for(output)
        if outputs is None:
            outputs = [{"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1]}
                       for part in key.strip(".").split("...")]
        body = {
            "output": key,
            "outputs": outputs if key.startswith("..") else outputs[0],
            "inputs": inputs,
            "state": state or [],
            "changedPropIds": changed or [],
        }
        return self.client.post("/_dash-update-component", json=body)

    def call(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        response = self(*args, **kwargs)
        if response.status_code == 204:
            return {}
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        return json.loads(response.get_data())["response"]


def prop(id_: Any, name: str, value: Any) -> dict[str, Any]:
    return {"id": id_, "property": name, "value": value}


@pytest.fixture
def dash_call(app: Any, alice: Any) -> DashCaller:
    return DashCaller(app, alice)
