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
# The description is the every-parameter fixture's (tests/fixtures/algorithms), never the shipped one.

def _description() -> dict:
    from worker.interface import load_algorithm

    from tests.fixtures.apps import EVERY_PARAM_MODULE

    return load_algorithm(EVERY_PARAM_MODULE).description


def _param_state(params):
    ids = [{"type": "batch-param", "name": k} for k in params]  # the browser's lists, one entry a field
    return [[{"id": i, "property": "value", "value": v} for i, v in zip(ids, params.values(), strict=True)],
            [{"id": i, "property": "id", "value": i} for i in ids]]


def _submit(dash_call, data: bytes, name: str = "upload.csv", params=None, note=""):
    from tests.dashboard.conftest import prop

    return dash_call.call(
        "submit-message.children",
        [prop("job-upload", "contents", "data:text/csv;base64," + base64.b64encode(data).decode()),
         prop("sample-submit", "n_clicks", 0)],
        state=[prop("job-upload", "filename", name), prop("sample-choice", "value", None),
               prop("submit-token", "data", "tok-" + name), *_param_state(params or {}),
               prop("job-note", "value", note)],
        changed=["job-upload.contents"],
    )


def _submit_file(dash_call, data: bytes, name: str = "upload.csv", params=None, note=""):
    """A click on "Submit the file" for the held upload."""
    from tests.dashboard.conftest import prop

    return dash_call.call(
        "submit-message.children@",
        [prop("file-submit", "n_clicks", 1)],
        state=[prop("job-upload", "contents", "data:text/csv;base64," + base64.b64encode(data).decode()),
               prop("job-upload", "filename", name), prop("submit-token", "data", "tok-" + name),
               *_param_state(params or {}), prop("job-note", "value", note)],
        changed=["file-submit.n_clicks"],
    )


NUMERIC = b"id,spend,visits\n" + b"".join(b"C%d,%d.5,%d\n" % (n, n * 10, n % 4) for n in range(12))
TITLE = "Fixture scores"


@pytest.mark.parametrize(("data", "reason"), [
    (b"name,city\n" + b"Ann,Oslo\n" * 12, f"upload.csv has 0 numeric columns (none); {TITLE} needs at least 1"),
    (b"a,b\n1,2\n3,4\n", f"upload.csv has 2 data rows; {TITLE} needs at least 3."),
    (b",".join(b"c%d" % n for n in range(21)) + b"\n" + (b",".join([b"1"] * 21) + b"\n") * 4,
     f"upload.csv has 21 columns; {TITLE} takes at most 20."),
])
def test_a_file_the_job_cannot_use_is_refused_on_the_spot_with_the_reason(dash_call, store, data, reason):
    store.publish_description(_description())
    out = _submit(dash_call, data)
    message = str(out["submit-message"]["children"])
    assert reason in message and "submit-error" in message
    assert store.list_recent().items == []  # nothing stored, no job


def test_an_upload_waits_for_its_columns_then_is_submitted_with_the_forms_params_and_note(dash_call, store):
    store.publish_description(_description())
    params = {"top": 2, "scale": 1.5, "direction": "lowest", "bands": "4", "rank_by": "spend"}
    held = _submit(dash_call, NUMERIC, params=params, note="March customers")
    assert "upload-held" in str(held["submit-message"]["children"]) and "Submit the file" in str(held)
    assert "job-upload" not in held  # the file stays in the form
    assert store.list_recent().items == []
    out = _submit_file(dash_call, NUMERIC, params=params, note="March customers")
    assert "Job submitted" in str(out["submit-message"]["children"])
    [job] = store.list_recent().items
    # the numeric choice arrives as the number 4, the column as the file's header name
    assert job.params == {"top": 2, "scale": 1.5, "direction": "lowest", "bands": 4, "rank_by": "spend"}
    assert job.note == "March customers"


@pytest.mark.parametrize(("params", "reason"), [
    ({"rank_by": "price"}, "'Rank by column' is set to 'price', which is not a column of upload.csv"),
    ({"rank_by": "id"}, "'Rank by column' must be a numeric column; 'id' in upload.csv is not."),
    ({"scale": 0.75}, "scale: Must be a multiple of 0.5 from 0.5 (got 0.75)."),
    ({"bands": 3}, "bands: Please choose one of the options."),
])
def test_a_column_or_value_the_job_cannot_use_is_refused_and_the_file_kept(dash_call, store, params, reason):
    store.publish_description(_description())
    out = _submit_file(dash_call, NUMERIC, params=params)
    assert reason in str(out["submit-message"]["children"])
    assert "job-upload" not in out  # kept: the stakeholder fixes the pick and submits again
    assert store.list_recent().items == []


def test_params_out_of_range_are_refused_before_submitting(dash_call, store):
    store.publish_description(_description())
    out = _submit(dash_call, NUMERIC, params={"top": 0, "scale": 2.0})
    assert "top: Must be between 1 and 50." in str(out["submit-message"]["children"])
    assert store.list_recent().items == []


def test_the_batch_page_shows_the_description_and_a_form_built_from_it(dash_call, store):
    import json

    from tests.dashboard.conftest import prop

    store.publish_description(_description())
    page = json.dumps(dash_call.call("page.children", [prop("url", "pathname", "/jobs")]))
    assert TITLE in page and "Scores every row of your table" in page
    assert "Between 3 and 500 data rows." in page and "At least 1 numeric columns" in page
    assert '{"children": "Rows to flag", "className": "field-label"}' in page  # drawn as html.Label
    assert "Rows to flag" in page and "Rank by column" in page and "file-submit" in page
    assert '{"type": "batch-param", "name": "top"}' in page
    assert '{"type": "batch-column", "name": "rank_by"}' in page
    assert '"options": ["fixture-scores.csv"]' in page  # the algorithm's own sample, not the bundled ones


def test_an_edited_description_redraws_the_form_without_a_restart(dash_call, store, app):
    from tests.dashboard.conftest import prop

    store.publish_description(_description())
    stamp = __import__("dashboard.pages.jobs", fromlist=["x"]).description_stamp(app.services.batch_description())
    edited = {**_description(), "title": "Edited scores"}
    store.publish_description(edited)
    app.services.description_cache.clear()  # the page's 2 s cache, not a restart
    out = dash_call.call("batch-about.children", [prop("batch-refresh", "n_intervals", 1)],
                         state=[prop("batch-stamp", "data", stamp), prop("sample-choice", "value", None)],
                         changed=["batch-refresh.n_intervals"])
    assert "Edited scores" in str(out["batch-about"]["children"])
    assert out["batch-stamp"]["data"] != stamp
    assert out["sample-choice"] == {"options": ["fixture-scores.csv"], "value": "fixture-scores.csv"}
    same = dash_call(  # nothing changed since: no redraw (the stakeholder's entries stay)
        "batch-about.children", [prop("batch-refresh", "n_intervals", 2)],
        state=[prop("batch-stamp", "data", out["batch-stamp"]["data"]), prop("sample-choice", "value", None)],
        changed=["batch-refresh.n_intervals"])
    assert same.status_code == 204
