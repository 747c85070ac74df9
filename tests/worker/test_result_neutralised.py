"""The worker neutralises the result CSV after run() returns, whoever wrote it: a Result whose CSV
an algorithm wrote by hand (not with write_csv) reaches S3 with every formula-like text cell inert."""

from __future__ import annotations

import csv
import io
import urllib.request

import pytest
from jobkit import JobStatus
from worker.interface import Result
from worker.runner import checked_result
from worker.tabular import safe_csv, write_csv

from tests.worker.test_runner import make_worker, submit

HAND_WRITTEN = b'name,note\r\n=1+2,@SUM(A1)\r\n-1.5,+cmd|x\r\nplain,"\t=2"\r\n'


def cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(), newline="")))


def test_a_hand_written_csv_is_neutralised_after_run():
    stored, summary = checked_result(Result(csv=HAND_WRITTEN, summary={"rows": 3}), "v1")
    assert cells(stored) == [["name", "note"], ["'=1+2", "'@SUM(A1)"], ["-1.5", "'+cmd|x"], ["plain", "'\t'=2"]]
    assert summary == {"rows": 3, "model_version": "v1"}


def test_a_csv_written_with_write_csv_is_stored_byte_for_byte():
    data = write_csv(["a", "b"], [["=x", -2], ["+3", "text"]])
    assert safe_csv(data) == data


def test_a_semicolon_csv_is_neutralised_cell_by_cell_and_keeps_its_separator():
    assert safe_csv(b"a;b\n1;=2+3\n") == b"a;b\r\n1;'=2+3\r\n"
    assert safe_csv(b"a;b\n1,5;x\n") == b"a;b\n1,5;x\n"  # a decimal comma is a number, and nothing needs quotes


def test_a_hand_written_comma_csv_with_semicolon_text_is_quoted_for_semicolon_spreadsheets():
    stored = safe_csv(b"a,note\n1,a;=1+1\n")
    assert stored == b'a,note\r\n1,"a;\'=1+1"\r\n'
    # Read with ';' the quote is not at a cell's start, so the cell splits there: the piece stays inert.
    assert list(csv.reader(io.StringIO(stored.decode(), newline=""), delimiter=";")) == [["a,note"],
                                                                                         ['1,"a', "'=1+1\""]]


def test_a_plain_csv_is_stored_byte_for_byte():
    assert safe_csv(b"a,b\n1,text\n") == b"a,b\n1,text\n"


def test_a_result_csv_that_is_not_utf8_is_refused_with_a_message():
    with pytest.raises(ValueError, match="not UTF-8 text"):
        checked_result(Result(csv=b"a\n\xff=1\n", summary={}), "v1")


def test_the_worker_stores_the_neutralised_csv(store):
    job = submit(store, data=b"token\n=HYPERLINK(\"http://x\"),@y\n")  # the trivial algorithm echoes its input
    make_worker(store).run()
    done = store.get(job.job_id)
    assert done.status is JobStatus.SUCCEEDED
    with urllib.request.urlopen(store.result_url(done)) as response:  # noqa: S310 - moto's local endpoint
        stored = response.read()
    assert cells(stored) == [["token"], ["'=HYPERLINK(\"http://x\")", "'@y"], ["done"]]
