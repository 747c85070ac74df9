"""Uploads are read in one pass that keeps no rows, stop after max_rows + 1, and only a few are
parsed at once."""

from __future__ import annotations

import threading

import pytest
from dashboard import uploads
from dashboard.batch_input import check_against, scan
from dashboard.uploads import ParseSlots, UploadRejected, check_csv

ROWS = b"a,b\n" + b"1,2\n" * 50_000


def test_the_batch_check_stops_after_max_rows_plus_one():
    found = scan(ROWS, max_rows=10)
    assert (found.rows, found.more, found.header, found.numeric) == (11, True, ["a", "b"], ["a", "b"])
    assert scan(ROWS).rows == 50_000 and not scan(ROWS).more
    description = {"title": "Job", "input": {"min_rows": 1, "max_rows": 10}}
    with pytest.raises(UploadRejected, match="more than 10 data rows; Job takes at most 10"):
        check_against(description, "big.csv", ROWS)


def test_the_csv_check_stops_after_max_rows_plus_one_and_still_checks_what_it_reads():
    assert check_csv("big.csv", ROWS, max_rows=10).rows == 11
    assert check_csv("big.csv", ROWS).rows == 50_000
    with pytest.raises(UploadRejected, match="row 3 has 1 values"):
        check_csv("bad.csv", b"a,b\n1,2\n3\n" + b"1,2\n" * 10)
    with pytest.raises(UploadRejected, match="not UTF-8"):
        check_csv("latin.csv", b"a,b\n1,2\n" * 2000 + b"\xe9,1\n")


def test_a_parse_waits_for_a_slot_and_gives_up_with_a_clear_message(monkeypatch):
    slots = ParseSlots(1, wait_seconds=0.2)
    monkeypatch.setattr(uploads, "PARSE_SLOTS", slots)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with slots.slot():
            held.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    try:
        with pytest.raises(UploadRejected, match="busy checking other files"):
            check_csv("a.csv", b"a\n1\n")
    finally:
        release.set()
        holder.join()
    assert check_csv("a.csv", b"a\n1\n").rows == 1
    with pytest.raises(ValueError, match="UPLOAD_PARSE_SLOTS"):
        ParseSlots(0)
