"""The login password never shows up in any log file or in anything the dashboard serves."""

from __future__ import annotations

import json

import pytest
import requests

from bench import dash_calls
from devstack.stack import DevStack
from tests.support import stack_settings


def _page_callback(session: requests.Session, base: str, path: str) -> str:
    body = {
        "output": "page.children",
        "outputs": {"id": "page", "property": "children"},
        "inputs": [{"id": "url", "property": "pathname", "value": path}],
        "changedPropIds": ["url.pathname"],
        "state": [],
    }
    response = session.post(f"{base}/_dash-update-component", json=body, timeout=30)
    assert response.status_code == 200, (path, response.status_code)
    return response.text


@pytest.mark.slow
def test_the_password_is_in_no_log_and_no_page(tmp_path):
    settings = stack_settings(tmp_path, lambda_instances=1)
    stack = DevStack(settings)
    stack.start()
    user, password = stack.login
    wrong = "Wrong-Guess-" + password[::-1]
    served: list[str] = []
    try:
        base = settings.dashboard_url
        session = requests.Session()
        refused = dash_calls.sign_in(session, base, user, wrong)
        assert refused.status_code == 401
        served.append(refused.text)
        signed_in = dash_calls.sign_in(session, base, user, password)
        assert signed_in.status_code == 200 and signed_in.url.rstrip("/").endswith(("/", "/predict", base))
        for path in ("/", "/predict", "/jobs", "/feedback", "/login"):
            served.append(session.get(f"{base}{path}", timeout=10).text)
        for path in ("/predict", "/jobs", "/feedback"):
            served.append(_page_callback(session, base, path))
        served.append(session.get(f"{base}/_dash-layout", timeout=10).text)
        served.append(json.dumps(dict(session.cookies)))
    finally:
        stack.stop()
    logs = {path.name: path.read_text(errors="replace") for path in settings.log_dir.glob("*.log")}
    assert "dashboard.log" in logs and logs["dashboard.log"]
    for secret in (password, wrong):
        assert not [name for name, text in logs.items() if secret in text], "a password reached a log"
        assert not [text for text in served if secret in text], "a password was served to the browser"


def test_only_the_dashboard_is_given_the_logins(tmp_path):
    stack = DevStack(stack_settings(tmp_path))
    _, password = stack.login
    shared = stack.app_env()  # what the predictor instances (and, through the dashboard, workers) get
    assert "DASHBOARD_LOGINS" not in shared and not [v for v in shared.values() if password in v]
    assert oct((tmp_path / "password").stat().st_mode & 0o777) == "0o600"
