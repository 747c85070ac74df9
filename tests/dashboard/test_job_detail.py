"""Job detail: timeline, result charts, presigned download, error, logs, cancel and retry."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

from dashboard.cloudwatch import cloudwatch_url
from dashboard.routes import job_log_lines
from jobkit import JobStatus

from tests.dashboard.conftest import prop

SUMMARY = {"model_version": "seg-1", "rows": 3, "metrics": {"segments": 2, "silhouette": 0.61},
           "explanations": {"silhouette": "1 means every row clearly belongs to its segment."},
           "charts": [{"data": [{"type": "bar", "x": ["1", "2"], "y": [2, 1]}],
                       "layout": {"title": {"text": "Segment sizes"}},
                       "explanation": "How many rows fell into each segment."},
                      {"data": [{"type": "scatter", "x": [1, 2], "y": [3, 4], "mode": "markers"}],
                       "layout": {"title": {"text": "Segments map"}}}]}


def open_page(dash_call, job_id):
    return json.dumps(dash_call.call("page.children", [prop("url", "pathname", f"/jobs/{job_id}")]))


def succeeded_job(store):
    job = store.submit(owner="bob", client_token="t", input_bytes=b"id,a\n1,2\n", input_name="shop.csv")
    job = store.claim("worker-1")
    store.write_result(job, b"id,a,segment\n1,2,1\n", SUMMARY)
    return store.complete(job, "seg-1")


def test_succeeded_job_shows_timeline_metrics_charts_download_and_retention(dash_call, store, dashboard_settings):
    job = succeeded_job(store)
    page = open_page(dash_call, job.job_id)
    for text in ("shop.csv", "Succeeded", "seg-1", "Segment sizes", "Segments map", "silhouette",
                 "result-chart-1", "Results are kept for 30 days, until", "Download result CSV", "Worker logs",
                 "1 means every row clearly belongs to its segment.", "How many rows fell into each segment.",
                 "Feedback on this job"):
        assert text in page, text
    assert "Tries" not in page  # one try: nothing to say about retries
    assert '"displayModeBar": false' in page  # plotly's toolbar would cover the chart titles
    assert _download_url(page) == f"/jobs/{job.job_id}/result.csv"  # signed when clicked, not when drawn


def test_the_download_is_signed_when_clicked_and_only_for_signed_in_users(dash_call, alice, app, store):
    job = succeeded_job(store)
    first = alice.get(f"/jobs/{job.job_id}/result.csv")
    assert first.status_code == 302
    url = first.headers["Location"]
    query = parse_qs(urlparse(url).query)
    assert query["X-Amz-Expires"] == ["300"]
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - moto on loopback
        assert response.read() == b"id,a,segment\n1,2,1\n"
    signed = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - signed).total_seconds()) < 60  # signed at the click, however old the page
    pending = store.submit(owner="bob", client_token="p", input_bytes=b"a\n1\n")
    assert alice.get(f"/jobs/{pending.job_id}/result.csv").status_code == 409
    assert alice.get("/jobs/not-a-job/result.csv").status_code == 404
    assert alice.get(f"/jobs/{'0' * 32}/result.csv").status_code == 404
    anonymous = app.server.test_client().get(f"/jobs/{job.job_id}/result.csv")
    assert anonymous.status_code in (302, 401) and "X-Amz" not in anonymous.headers.get("Location", "")


def _download_url(page_json: str) -> str:
    def find(node):
        if isinstance(node, dict):
            props = node.get("props", {})
            if props.get("id") == "download-result":
                return props["href"]
            for value in node.values():
                found = find(value)
                if found:
                    return found
        if isinstance(node, list):
            for value in node:
                found = find(value)
                if found:
                    return found
        return None

    return find(json.loads(page_json))


def test_failed_job_shows_its_error_and_can_be_retried(dash_call, store):
    store.submit(owner="bob", client_token="t", input_bytes=b"a\n1\n", input_name="bad.csv")
    job = store.fail(store.claim("w"), "Column 'a' has text in row 2", retryable=False)
    page = open_page(dash_call, job.job_id)
    assert "This job failed: Column 'a' has text in row 2" in page and "Failed" in page
    assert "Feedback on this job" not in page and "fb-up" not in page  # nothing to rate
    out = act(dash_call, job.job_id, "retry-job")
    assert "queued again" in json.dumps(out["job-action-message"])
    assert store.get(job.job_id).status is JobStatus.PENDING
    body = refresh(dash_call, job.job_id, out["job-changed"]["data"])
    assert body["job-refresh"]["disabled"] is False and body["retry-job"]["style"] == {"display": "none"}


def act(dash_call, job_id, button):
    return dash_call.call(
        "job-action-message.children",
        [prop("cancel-job", "n_clicks", 1 if button == "cancel-job" else 0),
         prop("retry-job", "n_clicks", 1 if button == "retry-job" else 0)],
        state=[prop("job-id", "data", job_id)], changed=[f"{button}.n_clicks"],
    )


def refresh(dash_call, job_id, changed):
    return dash_call.call(
        "job-body.children",
        [prop("job-refresh", "n_intervals", 1), prop("job-changed", "data", changed)],
        state=[prop("job-id", "data", job_id)], changed=["job-changed.data"],
    )


def test_running_job_can_be_cancelled_and_shows_progress(dash_call, store):
    store.submit(owner="bob", client_token="t", input_bytes=b"a\n1\n", input_name="long.csv")
    job = store.heartbeat(store.claim("w"), 0.25, "Trying 4 segments")
    page = open_page(dash_call, job.job_id)
    assert "Trying 4 segments" in page and "progressbar" in page and '"disabled": false' in page
    assert "fb-up" not in page  # no feedback on a result that does not exist yet
    out = act(dash_call, job.job_id, "cancel-job")
    assert "cancelled" in json.dumps(out["job-action-message"])
    cancelled = store.get(job.job_id)
    assert cancelled.status is JobStatus.CANCELLED and cancelled.cancelled_by == "alice"
    again = act(dash_call, job.job_id, "cancel-job")  # a second click: a clear note, nothing breaks
    assert "Only a pending or running job can be cancelled" in json.dumps(again["job-action-message"])


def test_unknown_or_malformed_job_ids_show_not_found(dash_call):
    assert "Job not found" in open_page(dash_call, "0" * 32)
    assert "Job not found" in open_page(dash_call, "..%2F..%2Fetc")


def test_local_logs_route_shows_only_that_jobs_lines(alice, store, dashboard_settings):
    job = store.submit(owner="bob", client_token="t", input_bytes=b"a\n1\n")
    log_dir = dashboard_settings.local_log_dir
    log_dir.mkdir(parents=True, exist_ok=True)
    (log_dir / "worker.log").write_text(
        json.dumps({"message": "job claimed", "job_id": job.job_id}) + "\n"
        + json.dumps({"message": "other", "job_id": "f" * 32}) + "\n"
        + json.dumps({"message": "<script>x</script>", "job_id": job.job_id}) + "\n"
    )
    page = alice.get(f"/jobs/{job.job_id}/logs").get_data(as_text=True)
    assert "job claimed" in page and "f" * 32 not in page
    assert "<script>x" not in page and "&lt;script&gt;" in page
    assert alice.get("/jobs/not-a-job/logs").status_code == 404
    assert len(job_log_lines(log_dir, job.job_id)) == 2


def test_log_lines_of_other_jobs_that_quote_the_id_are_not_its_own(tmp_path):
    mine, other = "a" * 32, "b" * 32
    (tmp_path / "worker.log").write_text(
        json.dumps({"message": "claimed", "job_id": mine}) + "\n"
        + json.dumps({"message": f"retrying after {mine} failed", "job_id": other}) + "\n"
        + json.dumps({"message": "no job field", "note": mine}) + "\n"
        + f"Traceback mentioning {mine}\n"
        + json.dumps([mine]) + "\n")
    assert [json.loads(line)["message"] for line in job_log_lines(tmp_path, mine)] == ["claimed"]


def test_cloud_logs_link_is_the_cloudwatch_console_filtered_by_job():
    url = cloudwatch_url("eu-west-1", "/ecs/ml-proto-worker", "ab" * 16)
    assert url.startswith("https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:")
    assert "log-group/$252Fecs$252Fml-proto-worker/log-events$3FfilterPattern$3D" + "ab" * 16 in url


def _texts(node):
    """Every text a reader sees in a rendered Dash tree (the components' string children), in order."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, list):
        for value in node:
            yield from _texts(value)
    elif isinstance(node, dict) and isinstance(node.get("props"), dict):
        yield from _texts(node["props"].get("children"))


def test_a_job_page_starts_with_its_name_and_file_not_its_id_or_attempts(dash_call, store):
    job = store.submit(owner="bob", client_token="t", input_bytes=b"a\n1\n", input_name="shop.csv",
                       note="March customers")
    texts = list(_texts(json.loads(open_page(dash_call, job.job_id))["page"]["children"]))
    first = texts[texts.index("← All jobs") + 1:][:3]
    assert first[0] == "March customers" and first[1] == "Pending" and "shop.csv · submitted by bob" in first[2]
    assert texts.index(job.job_id) > texts.index("Details")  # the id is a detail, last
    assert not any("Attempts" in t or "of 3" in t for t in texts)


def test_local_worker_logs_are_shown_readably_on_the_job_page(dash_call, store, dashboard_settings):
    job = store.submit(owner="bob", client_token="t", input_bytes=b"a\n1\n")
    log_dir = dashboard_settings.local_log_dir
    log_dir.mkdir(parents=True, exist_ok=True)
    (log_dir / "worker.log").write_text(
        json.dumps({"time": "2026-11-29T07:00:01", "level": "WARNING", "logger": "worker.runner",
                    "message": "job input is invalid", "job_id": job.job_id, "error": "too few rows"}) + "\n"
        + json.dumps({"time": "2026-11-29T07:00:02", "level": "INFO", "message": "other", "job_id": "f" * 32}) + "\n")
    page = json.loads(open_page(dash_call, job.job_id))
    texts = list(_texts(page["page"]["children"]))
    assert "job input is invalid" in texts and "Warning" in texts and "error=too few rows" in texts
    assert "2026-11-29 07:00:01" in texts and "other" not in texts
    assert not any(t.startswith("{") for t in texts)  # no raw JSON
    assert '"href": "#job-logs"' in json.dumps(page)


def test_jobs_list_shows_a_failed_jobs_reason_and_a_jobs_name(dash_call, store):
    from dashboard.pages.jobs import job_row

    store.submit(owner="bob", client_token="a", input_bytes=b"a\n1\n", input_name="bad.csv")
    failed = store.fail(store.claim("w"), "The file has 1 data rows; at least 10 are needed.", retryable=False)
    named = store.submit(owner="bob", client_token="b", input_bytes=b"a\n1\n", input_name="shop.csv",
                         note="March customers")
    assert job_row(failed)["details"] == "Failed: The file has 1 data rows; at least 10 are needed."
    row = job_row(store.get(named.job_id))
    assert row["input_name"] == "March customers" and row["details"] == "shop.csv"
