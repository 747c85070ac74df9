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
