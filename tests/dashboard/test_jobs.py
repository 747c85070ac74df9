"""Batch jobs page: upload checks, idempotent submits, the self-refreshing, paged jobs table."""

from __future__ import annotations

import base64
import json
import sys

import pytest
from dashboard.launcher import SubprocessLauncher
from dashboard.uploads import UploadRejected, check_csv, decode_upload
from jobkit import JobStatus

from tests.dashboard.conftest import prop
from tests.fixtures.published import FIXTURE_SAMPLE, FIXTURE_SAMPLE_BYTES, fixture_description
from tests.support import wait_until

CSV = b"id,a,b\n1,0.5,2\n2,0.7,3\n3,0.1,1\n"
# The batch form's parameter fields (none: no description published here) and its optional note.
NO_PARAMS = [[], [], prop("job-note", "value", "")]  # an ALL pattern that matches nothing: an empty list


def data_url(data: bytes, kind: str = "text/csv") -> str:
    return f"data:{kind};base64," + base64.b64encode(data).decode()


def submit(dash_call, *, contents=None, filename=None, clicks=0, sample=FIXTURE_SAMPLE,
           token="t-1"):  # noqa: S107 - a client token, not a password
    changed = ["job-upload.contents"] if contents is not None else ["sample-submit.n_clicks"]
    return dash_call.call(
        "submit-message.children",
        [prop("job-upload", "contents", contents), prop("sample-submit", "n_clicks", clicks)],
        state=[prop("job-upload", "filename", filename), prop("sample-choice", "value", sample),
               prop("submit-token", "data", token), *NO_PARAMS],
        changed=changed,
    )


def refresh(dash_call, paging, trigger="jobs-refresh.n_intervals", **clicks):
    return dash_call.call(
        "jobs-grid.rowData",
        [prop("jobs-refresh", "n_intervals", 1), prop("jobs-older", "n_clicks", clicks.get("older", 0)),
         prop("jobs-newer", "n_clicks", clicks.get("newer", 0)), prop("jobs-changed", "data", None)],
        state=[prop("jobs-paging", "data", paging)],
        changed=[trigger],
    )


def rendered(tree, component_id):
    """The props of one component in a rendered page."""
    from bench.dash_calls import find

    return find(tree, component_id)


def test_jobs_page_states_the_size_limit(dash_call, dashboard_settings):
    page = json.dumps(dash_call.call("page.children", [prop("url", "pathname", "/jobs")]))
    assert "at most 19.5 KB" in page  # the fixture's UPLOAD_MAX_BYTES is 20,000
    assert '"max_size": 20000' in page


def test_with_no_published_samples_the_page_offers_none(dash_call):
    page = dash_call.call("page.children", [prop("url", "pathname", "/jobs")])
    assert rendered(page, "sample-row")["style"] == {"display": "none"}
    assert rendered(page, "sample-choice")["options"] == []
    hint = rendered(page, "upload-limit")["children"]
    assert hint.startswith("Upload a CSV file (at most 19.5 KB). ") and "sample" not in hint


def test_the_published_samples_are_offered_and_the_hint_names_them(dash_call, store):
    store.publish_description(fixture_description(params=False))
    page = dash_call.call("page.children", [prop("url", "pathname", "/jobs")])
    assert rendered(page, "sample-row")["style"] == {}
    assert rendered(page, "sample-choice")["options"] == [FIXTURE_SAMPLE]
    assert rendered(page, "sample-choice")["value"] == FIXTURE_SAMPLE
    assert "or run one of the job's samples." in rendered(page, "upload-limit")["children"]


def test_a_description_without_samples_hides_the_sample_row_without_a_reload(dash_call, store, app):
    store.publish_description(fixture_description(params=False))
    stamp = __import__("dashboard.pages.jobs", fromlist=["x"]).description_stamp(app.services.batch_description())
    store.publish_description({**fixture_description(params=False), "samples": []})
    app.services.description_cache.clear()
    out = dash_call.call("batch-about.children", [prop("batch-refresh", "n_intervals", 1)],
                         state=[prop("batch-stamp", "data", stamp), prop("sample-choice", "value", FIXTURE_SAMPLE)],
                         changed=["batch-refresh.n_intervals"])
    assert out["sample-choice"] == {"options": [], "value": None}
    assert out["sample-row"]["style"] == {"display": "none"}
    assert "sample" not in out["upload-limit"]["children"]


def test_upload_submits_a_job_and_starts_a_worker(dash_call, store, app, tmp_path):
    out = submit(dash_call, contents=data_url(CSV), filename="my data.csv", token="tok-upload")
    message = json.dumps(out["submit-message"]["children"])
    assert "Job submitted" in message
    jobs = store.list_recent().items
    assert len(jobs) == 1 and jobs[0].owner == "alice" and jobs[0].input_name == "my data.csv"
    assert store.read_input(jobs[0]) == CSV
    assert jobs[0].job_id in message and out["jobs-changed"]["data"] == jobs[0].job_id
    assert out["submit-token"]["data"] != "tok-upload"  # the next upload gets a new token
    assert out["job-upload"]["contents"] is None
    assert app.services.launcher.running() == 1 or (tmp_path / "logs" / "worker.log").exists()


def test_double_submit_with_one_token_makes_one_job(dash_call, store):
    store.publish_description(fixture_description(params=False))
    first = submit(dash_call, clicks=1, token="same-token")
    second = submit(dash_call, clicks=2, token="same-token")
    assert first["jobs-changed"]["data"] == second["jobs-changed"]["data"]
    assert len(store.list_recent().items) == 1
    submit(dash_call, clicks=3, token="another-token")
    assert len(store.list_recent().items) == 2


def test_sample_submit_stores_the_published_sample(dash_call, store):
    store.publish_description(fixture_description(params=False))
    submit(dash_call, clicks=1, sample=FIXTURE_SAMPLE, token="sample")
    (job,) = store.list_recent().items
    assert job.input_name == FIXTURE_SAMPLE and store.read_input(job) == FIXTURE_SAMPLE_BYTES


@pytest.mark.parametrize("forged", ["../../etc/passwd", "not-published.csv", "", None])
def test_a_sample_that_is_not_published_is_refused(dash_call, store, forged):
    store.publish_description(fixture_description(params=False))
    out = submit(dash_call, clicks=1, sample=forged, token="x")
    assert "Please choose one of the samples." in json.dumps(out["submit-message"])
    assert store.list_recent().items == []


def test_with_nothing_published_no_sample_can_be_submitted(dash_call, store):
    out = submit(dash_call, clicks=1, sample=FIXTURE_SAMPLE, token="x")  # a forged click: no row is shown
    assert "Please choose one of the samples." in json.dumps(out["submit-message"])
    assert store.list_recent().items == []


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("big.csv", b"a,b\n" + b"1,2\n" * 6000, "larger than the 19.5 KB limit"),
        ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 50, "is not a CSV file"),
        ("binary.csv", b"\xff\xfe\x00a\x00b", "not a text CSV file"),
        ("ragged.csv", b"a,b,c\n1,2,3\n4,5\n", "row 3 has 2 values but the header has 3 columns"),
        ("empty.csv", b"a,b\n", "at least one row of data"),
        ("noname.csv", b"a,,c\n1,2,3\n", "needs a name"),
    ],
)
def test_bad_uploads_get_a_clear_message_and_store_nothing(dash_call, store, name, data, expected):
    out = submit(dash_call, contents=data_url(data), filename=name)
    assert expected in json.dumps(out["submit-message"]["children"])
    assert "submit-token" not in out  # the same token stays for the corrected file
    assert store.list_recent().items == []


def test_oversized_upload_is_refused_before_decoding():
    huge = "data:text/csv;base64," + "A" * 40_000  # not even valid as a whole; never decoded
    with pytest.raises(UploadRejected, match="larger than"):
        decode_upload(huge, 20_000)
    with pytest.raises(UploadRejected, match="damaged"):
        decode_upload("data:text/csv;base64,@@@@", 20_000)


def test_semicolon_csv_is_accepted():
    upload = check_csv("eu.csv", b"id;x;y\n1;2,5;3\n2;4;5\n")
    assert upload.columns == ["id", "x", "y"] and upload.rows == 2


def _make_jobs(store, count):
    for n in range(count):
        store.submit(owner="bob", client_token=f"job-{n}", input_bytes=CSV, input_name=f"file-{n:02d}.csv")


def test_jobs_table_pages_through_history(dash_call, store):
    _make_jobs(store, 55)
    paging = {"tokens": [None], "index": 0, "next": None}
    first = refresh(dash_call, paging)
    rows = first["jobs-grid"]["rowData"]
    assert [r["input_name"] for r in rows] == [f"file-{n:02d}.csv" for n in range(54, 29, -1)]
    assert first["jobs-newer"]["disabled"] is True and first["jobs-older"]["disabled"] is False
    paging = first["jobs-paging"]["data"]
    second = refresh(dash_call, paging, "jobs-older.n_clicks", older=1)
    assert [r["input_name"] for r in second["jobs-grid"]["rowData"]][0] == "file-29.csv"
    assert second["jobs-page-label"]["children"] == "Jobs 26–50, newest first"
    third = refresh(dash_call, second["jobs-paging"]["data"], "jobs-older.n_clicks", older=2)
    assert [r["input_name"] for r in third["jobs-grid"]["rowData"]] == [f"file-{n:02d}.csv" for n in range(4, -1, -1)]
    back = refresh(dash_call, third["jobs-paging"]["data"], "jobs-newer.n_clicks", newer=1)
    assert back["jobs-grid"]["rowData"] == second["jobs-grid"]["rowData"]


def test_one_page_of_jobs_is_counted_and_no_jobs_gets_our_own_empty_state(dash_call, store):
    empty = refresh(dash_call, {"tokens": [None], "index": 0, "next": None})
    assert "No jobs yet" in json.dumps(empty["jobs-page-label"]["children"])
    page = json.dumps(dash_call.call("page.children", [prop("url", "pathname", "/jobs")]))
    assert '"suppressNoRowsOverlay": true' in page  # not ag-grid's "No Rows To Show"
    _make_jobs(store, 1)
    one = refresh(dash_call, {"tokens": [None], "index": 0, "next": None}, "jobs-changed.data")
    assert one["jobs-page-label"]["children"] == "1 job"  # not "Page 1 · jobs 1-1"


def test_jobs_table_reads_one_page_not_the_whole_history(dash_call, store, app):
    _make_jobs(store, 40)
    calls = []
    store.dynamodb.meta.events.register("provide-client-params.dynamodb.Query",
                                        lambda params, **kw: calls.append(dict(params)))
    app.services.jobs_cache.clear()
    refresh(dash_call, {"tokens": [None], "index": 0, "next": None})
    assert len(calls) == 1 and calls[0]["Limit"] == 25


def test_refresh_is_fast_while_jobs_run_and_slow_when_idle(dash_call, store, app):
    _make_jobs(store, 1)
    active = refresh(dash_call, {"tokens": [None], "index": 0, "next": None})
    assert active["jobs-refresh"]["interval"] == 2000
    row = active["jobs-grid"]["rowData"][0]
    assert row["status"] == "PENDING" and row["owner"] == "bob" and row["created"].endswith("UTC")
    store.cancel(row["job_id"], by="bob")
    app.services.jobs_cache.clear()
    idle = refresh(dash_call, {"tokens": [None], "index": 0, "next": None})
    assert idle["jobs-refresh"]["interval"] >= 15000
    assert idle["jobs-grid"]["rowData"][0]["status"] == "CANCELLED"


def test_running_job_row_carries_progress_and_duration(dash_call, store, app):
    _make_jobs(store, 1)
    job = store.claim("w-1")
    store.heartbeat(job, 0.4, "Trying 3 segments")
    row = refresh(dash_call, {"tokens": [None], "index": 0, "next": None})["jobs-grid"]["rowData"][0]
    assert row["status"] == JobStatus.RUNNING.value and row["progress"] == 0.4
    assert row["duration"].endswith("s")


def test_submit_starts_a_worker_process(dash_call, app, store, dashboard_settings):
    log_dir = dashboard_settings.local_log_dir
    # A worker command that leaves a trace: only a process the submit really started writes it.
    app.services.launcher = SubprocessLauncher(
        (sys.executable, "-c", "print('worker process ran', flush=True)"), 1, log_dir)
    worker_log = log_dir / "worker.log"
    assert not worker_log.exists() or "worker process ran" not in worker_log.read_text()
    store.publish_description(fixture_description(params=False))
    submit(dash_call, clicks=1, token="launch")
    wait_until(lambda: worker_log.exists() and "worker process ran" in worker_log.read_text(),
               timeout=10, what="the worker subprocess the submit started to write its line")
    assert len(store.list_recent().items) == 1


def test_the_sample_row_appears_once_a_worker_publishes_samples(dash_call, store, app):
    page = dash_call.call("page.children", [prop("url", "pathname", "/jobs")])  # no worker has described it yet
    assert rendered(page, "sample-row")["style"] == {"display": "none"}
    store.publish_description(fixture_description(params=False))
    app.services.description_cache.clear()  # the page's 2 s cache of "nothing published"
    out = dash_call.call("batch-about.children", [prop("batch-refresh", "n_intervals", 1)],
                         state=[prop("batch-stamp", "data", rendered(page, "batch-stamp")["data"]),
                                prop("sample-choice", "value", None)],
                         changed=["batch-refresh.n_intervals"])
    assert out["sample-choice"] == {"options": [FIXTURE_SAMPLE], "value": FIXTURE_SAMPLE}
    assert out["sample-row"]["style"] == {}
    assert "or run one of the job's samples." in out["upload-limit"]["children"]
