"""The dashboard's check of an uploaded file: any bytes give a usable CSV or a clear message."""

from __future__ import annotations

import base64

import pytest
from dashboard.uploads import UploadRejected, check_csv, decode_upload
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

cells = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=10),
    st.sampled_from(['"', '""', "a\nb", ",", ";", "\t", "\r", "\0", "1,5"]),
)
tables = st.lists(st.lists(cells, min_size=1, max_size=4), max_size=12).map(
    lambda rows: "\n".join(",".join(row) for row in rows).encode("utf-8"))


def _check(data: bytes):
    try:
        upload = check_csv("data.csv", data)
    except UploadRejected as error:
        assert str(error).strip()
        return None
    return upload


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(tables, st.binary(max_size=300)))
def test_any_upload_is_a_csv_or_a_clear_message(data):
    upload = _check(data)
    if upload is not None:
        assert upload.rows >= 1 and upload.columns and all(upload.columns)


@given(st.text(max_size=200))
def test_any_upload_string_decodes_or_is_refused_clearly(contents):
    try:
        data = decode_upload(contents, max_bytes=100)
    except UploadRejected as error:
        assert "limit" in str(error) or "damaged" in str(error)
    else:
        assert len(data) <= 100


def test_one_huge_value_is_refused_with_the_row_not_a_crash():
    data = b"a,b\n1," + b"x" * 200_000 + b"\n"
    with pytest.raises(UploadRejected, match="not a well-formed CSV near row 2"):
        check_csv("big.csv", data)


def test_the_size_limit_is_checked_before_decoding():
    big = "data:text/csv;base64," + base64.b64encode(b"a\n" * 600).decode()
    with pytest.raises(UploadRejected, match="larger than the 1 KB limit"):
        decode_upload(big, max_bytes=1024)


# --- the check against the batch algorithm's published description --------------------------

def _description() -> dict:
    from worker.interface import load_algorithm  # the test publishes the real algorithm's description

    return load_algorithm("worker.algorithm").description


def _submit(dash_call, data: bytes, name: str = "upload.csv", params=None, note=""):
    from tests.dashboard.conftest import prop

    specs = params or {}
    return dash_call.call(
        "submit-message.children",
        [prop("job-upload", "contents", "data:text/csv;base64," + base64.b64encode(data).decode()),
         prop("sample-submit", "n_clicks", 0)],
        state=[prop("job-upload", "filename", name), prop("sample-choice", "value", "customer-segments.csv"),
               prop("submit-token", "data", "tok-" + name),
               {"id": {"type": "batch-param", "name": "*"}, "property": "value", "value": list(specs.values())},
               {"id": {"type": "batch-param", "name": "*"}, "property": "id",
                "value": [{"type": "batch-param", "name": k} for k in specs]},
               prop("job-note", "value", note)],
        changed=["job-upload.contents"],
    )


NUMERIC = b"id,spend,visits\n" + b"".join(b"C%d,%d.5,%d\n" % (n, n * 10, n % 4) for n in range(12))


@pytest.mark.parametrize(("data", "reason"), [
    (b"name,city\n" + b"Ann,Oslo\n" * 12, "upload.csv has 0 numeric columns (none); Customer segments needs at"),
    (b"name,spend\n" + b"Ann,12\n" * 12, "upload.csv has 1 numeric columns ('spend'); Customer segments needs"),
    (b"a,b\n1,2\n3,4\n", "upload.csv has 2 data rows; Customer segments needs at least 10."),
])
def test_a_file_the_job_cannot_use_is_refused_on_the_spot_with_the_reason(dash_call, store, data, reason):
    store.publish_description(_description())
    out = _submit(dash_call, data)
    message = str(out["submit-message"]["children"])
    assert reason in message and "submit-error" in message
    assert store.list_recent().items == []  # nothing stored, no job


def test_a_usable_file_is_submitted_with_the_forms_params_and_note(dash_call, store):
    store.publish_description(_description())
    out = _submit(dash_call, NUMERIC, params={"k_min": 3, "k_max": 4}, note="March customers")
    assert "Job submitted" in str(out["submit-message"]["children"])
    [job] = store.list_recent().items
    assert job.params == {"k_min": 3, "k_max": 4} and job.note == "March customers"


def test_params_out_of_range_are_refused_before_submitting(dash_call, store):
    store.publish_description(_description())
    out = _submit(dash_call, NUMERIC, params={"k_min": 1, "k_max": 4})
    assert "k_min: Must be between 2 and 12." in str(out["submit-message"]["children"])
    assert store.list_recent().items == []


def test_the_batch_page_shows_the_description_and_a_form_built_from_it(dash_call, store):
    import json

    from tests.dashboard.conftest import prop

    store.publish_description(_description())
    page = json.dumps(dash_call.call("page.children", [prop("url", "pathname", "/jobs")]))
    assert "Customer segments" in page and "Splits the rows of your table" in page
    assert "Between 10 and 100,000 data rows." in page and "At least 2 numeric columns" in page
    assert '"label": "Fewest segments"' not in page  # labels render as html.Label children
    assert "Fewest segments" in page and "Most segments" in page
    assert '{"type": "batch-param", "name": "k_min"}' in page


def test_an_edited_description_redraws_the_form_without_a_restart(dash_call, store, app):
    from tests.dashboard.conftest import prop

    store.publish_description(_description())
    stamp = __import__("dashboard.pages.jobs", fromlist=["x"]).description_stamp(app.services.batch_description())
    edited = {**_description(), "title": "Edited segments"}
    store.publish_description(edited)
    app.services.description_cache.clear()  # the page's 2 s cache, not a restart
    out = dash_call.call("batch-about.children", [prop("batch-refresh", "n_intervals", 1)],
                         state=[prop("batch-stamp", "data", stamp)], changed=["batch-refresh.n_intervals"])
    assert "Edited segments" in str(out["batch-about"]["children"])
    assert out["batch-stamp"]["data"] != stamp
    same = dash_call(  # nothing changed since: no redraw (the stakeholder's entries stay)
        "batch-about.children", [prop("batch-refresh", "n_intervals", 2)],
        state=[prop("batch-stamp", "data", out["batch-stamp"]["data"])], changed=["batch-refresh.n_intervals"])
    assert same.status_code == 204
