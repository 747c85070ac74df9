"""What keeps the local stack's state to its owner: moto's control API takes only this run's token,
the recorder stays on, and `.devstack/` is a 0700 folder of 0600 files."""

from __future__ import annotations

import http.client
import os
import stat
from pathlib import Path

import pytest
from moto.moto_api import recorder

from devstack.local_aws import local_client
from devstack.persistence import AwsRecording, compact, recorder_on
from devstack.settings import DevSettings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def raw_request(local_aws, method: str, path: str, headers: dict[str, str] | None = None) -> int:
    """The status for a request sent exactly as written (no client normalising the path)."""
    connection = http.client.HTTPConnection(local_aws.host, local_aws.port, timeout=30)
    try:
        connection.request(method, path, body=b"", headers=headers or {})
        answer = connection.getresponse()
        answer.read()
        return answer.status
    finally:
        connection.close()


@pytest.fixture
def recording(local_aws, tmp_path, monkeypatch):
    """This run's recorder writing to a file under tmp_path; stopped again afterwards."""
    path = tmp_path / "state" / "aws-recording.jsonl"
    path.parent.mkdir()
    monkeypatch.setattr(recorder, "_location", str(path))
    state = AwsRecording(local_aws.url, path, local_aws.control_token)
    yield state
    state._post("stop-recording")


@pytest.mark.parametrize("path", ["/moto-api/recorder/stop-recording", "//moto-api/recorder/stop-recording",
                                  "/moto-api/reset", "/%6Doto-api/recorder/stop-recording", "/MOTO-API/reset"])
def test_the_control_api_refuses_a_request_without_the_token(local_aws, path):
    refused = local_aws.guard.refused
    assert raw_request(local_aws, "POST", path) == 403
    assert raw_request(local_aws, "POST", path, {"X-Devstack-Control-Token": "guessed"}) == 403
    assert local_aws.guard.refused == refused + 2


def test_the_control_api_answers_the_token_holder(local_aws):
    assert raw_request(local_aws, "GET", "/moto-api/state-manager/get-transition?model_name=ecs::task",
                       local_aws.control_headers) == 200


def test_the_ordinary_apis_need_no_token(local_aws, store):
    assert local_client("s3", local_aws.url, "us-east-1").list_objects_v2(Bucket=store.settings.bucket)["KeyCount"] == 0


def test_nobody_without_the_token_can_stop_the_recorder_and_a_stop_is_undone(local_aws, recording, store):
    recording.record()
    assert recorder_on() is True
    assert mode(recording.path) == 0o600
    assert raw_request(local_aws, "POST", "/moto-api/recorder/stop-recording") == 403
    assert recorder_on() is True and recording.keep_recording() is False
    store.submit(owner="a", client_token="t", input_bytes=b"secret,upload\n1,2\n")
    assert b"PutItem" in recording.path.read_bytes() and mode(recording.path) == 0o600  # recorded, owner-only
    recording._post("stop-recording")  # the token holder may (a bug of ours, say): the check notices
    assert recorder_on() is False
    assert recording.keep_recording() is True
    assert recorder_on() is True


def test_the_recording_stays_owner_only_when_compacted(tmp_path):
    path = tmp_path / "aws-recording.jsonl"
    put, get = '{"method": "PUT", "url": "/b/k", "headers": {}}', '{"method": "GET", "url": "/b/k", "headers": {}}'
    path.write_text(f"{put}\n{get}\n")
    os.chmod(path, 0o644)  # as an older run left it
    (tmp_path / "aws-recording.tmp").write_text("")
    os.chmod(tmp_path / "aws-recording.tmp", 0o644)
    assert compact(path) == 1
    assert mode(path) == 0o600


def test_the_state_folder_is_0700_and_its_files_0600_even_what_an_older_run_left(tmp_path):
    settings = DevSettings(state_dir=tmp_path / ".devstack")
    settings.state_dir.mkdir(mode=0o755)
    old = settings.state_dir / "aws-recording.jsonl"
    old.write_text("{}\n")
    os.chmod(old, 0o644)
    cache = settings.state_dir / "lambda-build-cache"
    cache.mkdir()
    (cache / "model.joblib").write_bytes(b"x")
    os.chmod(cache / "model.joblib", 0o644)
    settings.prepare_state_dir()
    assert mode(settings.state_dir) == mode(settings.log_dir) == 0o700
    assert mode(old) == 0o600
    assert {p.name: mode(p) for p in settings.log_dir.iterdir()} == {
        "dashboard.log": 0o600, "predictor.log": 0o600, "worker.log": 0o600}
    assert mode(cache / "model.joblib") == 0o644  # the cache's modes decide what may be cached
    assert mode(Path(settings.login_password() and settings.state_dir / "password")) == 0o600
