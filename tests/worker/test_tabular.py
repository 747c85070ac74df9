"""Every way a stakeholder's CSV can be unusable, and the message that tells them which."""

from __future__ import annotations

import pytest
from worker.interface import InvalidInput
from worker.tabular import read_table

GOOD_ROWS = b"".join(f"{n},{n * 2.5},{n % 4}\n".encode() for n in range(12))


def csv_with(header: bytes, rows: bytes = GOOD_ROWS) -> bytes:
    return header + rows


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"\n\r\n  \n", "The file is empty."),
        (b"\xef\xbb\xbf", "The file is empty."),
        (
            b"a,b\n1,caf\xe9\n",
            "The file is not UTF-8 text (byte 0xe9 in row 2); save it as 'CSV UTF-8' and upload it again.",
        ),
        (
            b"PK\x03\x04\x00\x00",
            "The file contains NUL bytes: it looks like a binary file (a spreadsheet?), not a CSV.",
        ),
        (
            b"1,2.5,3\n" + GOOD_ROWS,
            "The file has a missing header: its first row holds values ('1'...) where column names should be.",
        ),
        (csv_with(b"a,,c\n"), "Column 2 has no name in the header (row 1)."),
        (csv_with(b"a,b,a\n"), "The header names column 'a' twice; column names must be unique."),
        (csv_with(b"a,b,c\n", GOOD_ROWS + b"1,2\n"), "Row 14 has 2 values but the header names 3 columns."),
        (csv_with(b"a,b,c\n", b"1,2,3\n4,5,6,7\n"), "Row 3 has 4 values but the header names 3 columns."),
        (csv_with(b"a,b,c\n", b"1,2,3\n" * 4), "The file has 4 data rows; at least 10 are needed."),
        (
            csv_with(b"a,b,c\n", GOOD_ROWS.replace(b"5,12.5,1", b"5,abc,1")),
            "Column 'b' has a non-numeric value 'abc' in row 7.",
        ),
        (
            csv_with(b"a,b,c\n", GOOD_ROWS.replace(b"3,7.5,3", b"3,,3")),
            "Column 'b' has an empty value in row 5.",
        ),
        (
            csv_with(b"a,b,c\n", GOOD_ROWS.replace(b"2,5.0,2", b"2,inf,2")),
            "Column 'b' has a non-numeric value 'inf' in row 4.",
        ),
        (
            b"id,income,city\n" + b"".join(f"c{n},{n},Paris\n".encode() for n in range(12)),
            "The model needs at least 2 numeric columns; this file has 1 ('income'). "
            "Columns that are not numeric: 'id', 'city'.",
        ),
        (
            b"name,city\n" + b"x,y\n" * 12,
            "The model needs at least 2 numeric columns; this file has none. "
            "Columns that are not numeric: 'name', 'city'.",
        ),
        (
            csv_with(b"a,b,c\n", b'1,"2,3\n' + GOOD_ROWS),
            "The file is not a valid CSV near row 14: unexpected end of data.",
        ),
        (
            csv_with(b"a,b,c\n", b'1,"2"x,3\n' + GOOD_ROWS),
            "The file is not a valid CSV near row 2: ',' expected after '\"'.",
        ),
    ],
    ids=[
        "empty",
        "blank-lines",
        "only-bom",
        "not-utf8",
        "binary",
        "missing-header",
        "unnamed-column",
        "duplicate-column",
        "short-row",
        "long-row",
        "too-few-rows",
        "non-numeric",
        "empty-value",
        "infinite",
        "one-numeric-column",
        "no-numeric-column",
        "unclosed-quote",
        "bad-quote",
    ],
)
def test_a_malformed_csv_is_refused_with_a_message_naming_the_problem(data, message):
    with pytest.raises(InvalidInput) as error:
        read_table(data)
    assert str(error.value) == message


def test_too_many_rows_columns_or_bytes_are_refused():
    wide = ",".join(f"c{n}" for n in range(101)).encode() + b"\n"
    with pytest.raises(InvalidInput, match=r"^The file has 101 columns; the limit is 100\.$"):
        read_table(wide + GOOD_ROWS)
    with pytest.raises(InvalidInput, match=r"^The file has more than 11 data rows; the limit is 11\.$"):
        read_table(b"a,b,c\n" + GOOD_ROWS, max_rows=11)
    with pytest.raises(InvalidInput, match=r"^The file is 0\.0 MB; the limit is 0 MB\.$"):
        read_table(b"a,b,c\n" + GOOD_ROWS, max_bytes=100)


def test_a_value_longer_than_the_csv_field_limit_is_refused():
    huge = b"a,b,c\n" + b'1,2,"' + b"x" * 200_000 + b'"\n' + GOOD_ROWS
    with pytest.raises(InvalidInput, match=r"^The file is not a valid CSV near row 2: field larger than field limit"):
        read_table(huge)


def test_text_columns_are_carried_and_numbers_parsed():
    data = (
        "\ufeffid , height,weight,note\r\n"
        + "".join(f'p{n}, {170 + n} ,{60.5 + n:.1f},"a, ""quoted"" note"\r\n' for n in range(10))
        + "\r\n"
    ).encode()
    table = read_table(data)
    assert table.header == ["id", "height", "weight", "note"]
    assert table.numeric_names == ["height", "weight"]
    assert table.other_names == ["id", "note"]
    assert table.rows[0] == ["p0", " 170 ", "60.5", 'a, "quoted" note']
    assert table.values[9] == [179.0, 69.5]


def test_semicolons_and_decimal_commas_are_understood():
    data = b"a;b\n" + b"".join(f"{n},5;{n}\n".encode() for n in range(10))
    table = read_table(data)
    assert table.values[3] == [3.5, 3.0]


def test_trailing_separators_are_ignored():
    table = read_table(b"a,b,c\n" + GOOD_ROWS.replace(b"\n", b",,\n"))
    assert len(table.rows) == 12 and all(len(row) == 3 for row in table.rows)


def test_a_mostly_numeric_column_with_a_stray_word_is_an_error_not_text():
    rows = b"".join(f"{n},{n}\n".encode() for n in range(11)) + b"11,n/a\n"
    with pytest.raises(InvalidInput, match=r"^Column 'b' has a non-numeric value 'n/a' in row 13\.$"):
        read_table(b"a,b\n" + rows)
