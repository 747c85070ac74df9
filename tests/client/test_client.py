"""The Python client against the local twin: predictions, and jobs from submit to result.

Everything here goes through the real parts: the local Lambda Invoke API for predictions, moto's
server for the job table and bucket, worker processes started with the dashboard's launcher.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import sys
from pathlib import Path

import pytest
from dashboard.batch_input import check_against
from dashboard.uploads import UploadRejected
from jobkit import JobStatus

from mlproto import BadInput, Client, ClientError, JobFailed, NoSuchJob, RefusedFile, Target, TargetNotFound
from mlproto.workers import launcher_for
from tests.support import wait_until

LIGHT = {"weight_kg": 1.0, "stops": 0, "carrier": "air", "priority": 1}
HEAVY = {"weight_kg": 25.0, "stops": 9, "carrier": "rail", "priority": 2}


def test_predict_one_record(client):
    answer = client.predict(LIGHT)
    assert answer.model_version == "fixture-classifier-1"
    assert answer.label == "Ships on time" and answer.value == "on time"
    assert answer.details["probabilities"]["late"] == pytest.approx(0.06)
    assert answer.chart and answer.chart["data"]


def test_predict_many_records_in_order(client):
    answers = client.predict([LIGHT, HEAVY, LIGHT])
    assert [a.value for a in answers] == ["on time", "late", "on time"]


def test_a_bad_field_is_named_with_the_predictors_message(client):
    with pytest.raises(BadInput) as refused:
        client.predict({**LIGHT, "stops": 99})
    assert refused.value.field == "stops"
    assert "stops" in str(refused.value) and "12" in refused.value.problems["stops"]
    with pytest.raises(BadInput) as second:
        client.predict([LIGHT, {**HEAVY, "carrier": "boat"}])
    assert second.value.record == 1 and second.value.field == "carrier"
    assert str(second.value).startswith("Record 1: ")


def test_predict_refuses_what_is_not_a_record(client):
    with pytest.raises(BadInput, match="a dict of inputs"):
        client.predict(["weight_kg=1"])


def test_submit_wait_fetch(client, table, tmp_path):
    seen = []
    job = client.submit(table, {"top": "2", "scale": 2}, note="two flagged", wait=True, on_progress=seen.append)
    assert job.status is JobStatus.SUCCEEDED and job.params == {"top": 2, "scale": 2}
    assert job.note == "two flagged" and job.owner == "tester"
    assert seen[-1].status is JobStatus.SUCCEEDED and seen[0].status in (JobStatus.PENDING, JobStatus.RUNNING)
    fetched = client.fetch(job.job_id, tmp_path / "out")
    rows = list(csv.DictReader(io.StringIO(fetched.result_path.read_text())))
    assert len(rows) == 12 and sum(row["flagged"] == "yes" for row in rows) == 2
    assert fetched.summary["metrics"]["flagged"] == 2
    assert fetched.summary["params"] == {"top": 2, "scale": 2.0, "direction": "highest", "bands": 2, "rank_by": None}
    assert fetched.summary_path.exists() and fetched.result_path.parent == tmp_path / "out"
    assert client.status(job.job_id).status is JobStatus.SUCCEEDED
    assert job.job_id in [j.job_id for j in client.jobs(limit=50).items]


def test_result_as_a_dataframe_when_pandas_is_there(client, table, tmp_path, monkeypatch):
    import pandas  # requirements-dev.txt pins it, so this path is always proven

    job = client.submit(table, wait=True)
    fetched = client.fetch(job.job_id, tmp_path / "with")
    assert isinstance(fetched.table, pandas.DataFrame) and list(fetched.table.columns)[-2:] == ["score", "flagged"]
    monkeypatch.setitem(sys.modules, "pandas", None)  # a notebook without pandas: the files, no frame
    bare = client.fetch(job.job_id, tmp_path / "without")
    assert bare.table is None and bare.result_path.read_bytes() == fetched.result_path.read_bytes()


def test_the_same_token_submits_one_job(client, table):
    first = client.submit(table, token="notebook-cell-7")
    again = client.submit(table, token="notebook-cell-7")
    assert first.job_id == again.job_id


def test_a_refused_file_gets_the_dashboards_message_and_stores_nothing(client, tmp_path):
    few = tmp_path / "few.csv"
    few.write_text("x1\n1\n2\n")
    before = client.jobs(limit=1000).items
    with pytest.raises(RefusedFile) as refused:
        client.submit(few)
    with pytest.raises(UploadRejected) as dashboard:
        check_against(client.batch_description(), "few.csv", few.read_bytes())
    assert str(refused.value) == str(dashboard.value) == "few.csv has 2 data rows; Fixture scores needs at least 3."
    assert refused.value.exit_code == 2
    notes = tmp_path / "notes.txt"
    notes.write_text("a,b\n1,2\n")
    with pytest.raises(RefusedFile, match="notes.txt is not a CSV file"):
        client.submit(notes)
    with pytest.raises(RefusedFile, match="cannot be read"):
        client.submit(tmp_path / "missing.csv")
    assert len(client.jobs(limit=1000).items) == len(before)


def test_a_bad_parameter_is_named(client, table):
    with pytest.raises(BadInput) as out_of_range:
        client.submit(table, {"top": 99})
    assert out_of_range.value.field == "top" and "Must be between 1 and 50." in str(out_of_range.value)
    with pytest.raises(BadInput) as unknown:
        client.submit(table, {"k_max": 3})
    assert unknown.value.field == "k_max" and "it takes: bands, direction, rank_by, scale, top" in str(unknown.value)


def test_a_failed_job_says_why(client, tmp_path):
    path = tmp_path / "explode.csv"
    path.write_text("x1,explode\n1,2\n3,4\n5,6\n")
    with pytest.raises(JobFailed) as failed:
        client.submit(path, wait=True)
    assert failed.value.status == "FAILED" and failed.value.exit_code == 1
    assert "RuntimeError: the fixture algorithm was told to explode" in failed.value.reason
    with pytest.raises(JobFailed, match="told to explode"):
        client.fetch(failed.value.job.job_id, tmp_path)


def test_cancel_a_pending_job(twin, client, table):
    """With no worker allowed to start, the job stays pending until it is cancelled."""
    idle = dataclasses.replace(client.target, local_workers=dataclasses.replace(client.target.local_workers,
                                                                                max_workers=0))
    paused = Client(idle, user="canceller", poll_seconds=0.1)
    launcher, _ = launcher_for(client.target)
    wait_until(lambda: launcher.running() == 0, timeout=30, what="the idle workers to exit")
    job = paused.submit(table)
    assert paused.status(job.job_id).status is JobStatus.PENDING
    assert paused.jobs(limit=1).items[0].job_id == job.job_id
    cancelled = paused.cancel(job.job_id)
    assert cancelled.status is JobStatus.CANCELLED and cancelled.cancelled_by == "canceller"
    with pytest.raises(ClientError, match="is cancelled"):
        paused.cancel(job.job_id)
    with pytest.raises(JobFailed, match="Cancelled by canceller"):
        paused.watch(job.job_id)


def test_unknown_jobs_are_refused(client):
    with pytest.raises(NoSuchJob, match="not a job id"):
        client.status("../etc")
    with pytest.raises(NoSuchJob, match="No job 0000"):
        client.status("0" * 32)


def test_no_local_stack(tmp_path, twin):
    with pytest.raises(TargetNotFound, match="make dev"):
        Target.local(tmp_path)
    stale = Path(tmp_path / "target.json")
    stale.write_text((twin.settings.state_dir / "target.json").read_text().replace(
        twin.settings.aws_url, "http://127.0.0.1:9"))
    with pytest.raises(TargetNotFound, match="not running: nothing answers on http://127.0.0.1:9"):
        Target.local(tmp_path)


def test_the_client_and_the_dashboard_count_the_same_workers(twin, client):
    """The client's launcher marks its workers as the dashboard's does: one MAX_WORKERS for both."""
    from dashboard.launcher import SubprocessLauncher
    from dashboard.settings import DashboardSettings

    dashboard = DashboardSettings.from_env(twin.app_env("dashboard"))
    theirs = SubprocessLauncher(dashboard.worker_command, dashboard.max_workers, dashboard.local_log_dir,
                                env=twin.app_env("dashboard"))
    ours, _ = launcher_for(client.target)
    assert ours.marker == theirs.marker and ours.max_workers == theirs.max_workers
    assert ours.command[-3:] == dashboard.worker_command[-3:] == ("-m", "worker", "--drain")


def test_the_target_file_is_owner_only_and_names_no_login(twin):
    path = twin.settings.state_dir / "target.json"
    assert path.stat().st_mode & 0o777 == 0o600
    text = path.read_text()
    assert twin.login[1] not in text and "DASHBOARD_LOGINS" not in text and "SESSION_KEY" not in text


def test_predict_a_dataframe_adds_the_answers(client):
    import pandas
    frame = pandas.DataFrame([LIGHT, HEAVY])
    answered = client.predict(frame)
    assert list(answered["value"]) == ["on time", "late"] and list(frame.columns) == list(LIGHT)
    assert set(answered["model_version"]) == {"fixture-classifier-1"}
