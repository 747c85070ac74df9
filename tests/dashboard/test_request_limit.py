"""The request-size limit (413) at the real upload default: the largest allowed upload, base64 in the
callback that submits it, still fits; a body past the limit is refused before it is read."""

from __future__ import annotations

import base64
import json

import pytest
from dashboard.settings import DEFAULT_UPLOAD_MAX_BYTES

from tests.dashboard.conftest import prop, with_settings


@pytest.fixture
def dashboard_settings(dashboard_settings):
    """The conftest's settings with the upload limit a stack really runs with (5 MiB), not the tests' 20 kB."""
    return with_settings(dashboard_settings, upload_max_bytes=DEFAULT_UPLOAD_MAX_BYTES)


def csv_of(size: int) -> bytes:
    """A valid CSV of exactly `size` bytes."""
    head = b"a,b\n"
    rows = b"1,2\n" * ((size - len(head)) // 4)
    return (head + rows + b"3" * (size - len(head) - len(rows)))[:size]


def output_key(app) -> str:
    keys = [key for key in app.callback_map if "submit-message.children@" in key]
    assert len(keys) == 1, keys
    return keys[0]


def test_the_largest_upload_at_the_real_default_fits_the_request_limit(app, alice, store, dashboard_settings):
    assert dashboard_settings.upload_max_bytes == 5 * 1024 * 1024
    data = csv_of(dashboard_settings.upload_max_bytes)
    answer = submit_file_to(app, alice, data)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert "Job submitted" in answer.get_data(as_text=True)
    assert store.read_input(store.list_recent().items[0]) == data


def test_one_byte_more_is_refused_by_the_upload_rule_with_a_message_not_a_413(app, alice, store, dashboard_settings):
    answer = submit_file_to(app, alice, csv_of(dashboard_settings.upload_max_bytes + 1))
    assert answer.status_code == 200
    assert "larger than the 5 MB limit" in answer.get_data(as_text=True)
    assert store.list_recent().items == []


def test_a_body_past_the_limit_is_refused_413(alice, dashboard_settings):
    body = b'{"output": "x", "pad": "' + b"x" * dashboard_settings.max_request_bytes + b'"}'
    assert alice.post("/_dash-update-component", data=body, content_type="application/json").status_code == 413


def submit_file_to(app, client, data: bytes):
    body = {
        "output": output_key(app), "outputs": [
            {"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1].split("@")[0]}
            for part in output_key(app).strip(".").split("...")],
        "inputs": [prop("file-submit", "n_clicks", 1)],
        "state": [prop("job-upload", "contents", "data:text/csv;base64," + base64.b64encode(data).decode()),
                  prop("job-upload", "filename", "big.csv"), prop("submit-token", "data", "tok-big"),
                  [], [],  # the browser's lists for the ALL-pattern batch parameters: none on this form
                  prop("job-note", "value", "")],
        "changedPropIds": ["file-submit.n_clicks"],
    }
    return client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
