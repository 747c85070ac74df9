"""Read a stakeholder's CSV with the standard library and check it is a usable numeric table.

Every problem raises InvalidInput with a message a stakeholder can act on, naming the column,
the row and the value. Rows are numbered as a spreadsheet shows them: the header is row 1.
"""

from __future__ import annotations

import csv
import io
import math
import numbers
import re
from dataclasses import dataclass

from worker.interface import InvalidInput

_DELIMITERS = (",", ";", "\t")
_SHOWN = 40  # longest value quoted back in a message


@dataclass(frozen=True)
class Table:
    """A CSV's header and rows as read, plus the numeric columns parsed as floats."""

    header: list[str]
    rows: list[list[str]]
    numeric: list[int]  # indexes of the numeric columns, in header order
    values: list[list[float]]  # one list per row: its numeric columns' values

    @property
    def numeric_names(self) -> list[str]:
        return [self.header[i] for i in self.numeric]

    @property
    def other_names(self) -> list[str]:
        """Columns carried through to the output but not used by the model."""
        return [name for i, name in enumerate(self.header) if i not in set(self.numeric)]


def _shown(value: str) -> str:
    value = value.strip()
    return f"'{value[:_SHOWN]}…'" if len(value) > _SHOWN else f"'{value}'"


def _names(names: list[str]) -> str:
    return ", ".join(f"'{name}'" for name in names)


def parse_number(text: str, decimal_comma: bool = False) -> float | None:
    """The finite number a cell holds, or None (empty, text, nan, inf)."""
    text = text.strip()
    if decimal_comma:
        text = text.replace(",", ".")
    if not text or "_" in text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _decode(data: bytes, max_bytes: int) -> str:
    if len(data) > max_bytes:
        raise InvalidInput(f"The file is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        row = data.count(b"\n", 0, error.start) + 1
        raise InvalidInput(
            f"The file is not UTF-8 text (byte 0x{data[error.start]:02x} in row {row}); "
            "save it as 'CSV UTF-8' and upload it again."
        ) from None
    if not text.strip():
        raise InvalidInput("The file is empty.")
    if "\x00" in text:
        raise InvalidInput("The file contains NUL bytes: it looks like a binary file (a spreadsheet?), not a CSV.")
    return text


def _delimiter(text: str) -> str:
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    return max(_DELIMITERS, key=first_line.count) if any(d in first_line for d in _DELIMITERS) else ","


def _check_header(raw: list[str], decimal_comma: bool, max_columns: int) -> list[str]:
    header = [name.strip() for name in raw]
    if len(header) > max_columns:
        raise InvalidInput(f"The file has {len(header)} columns; the limit is {max_columns}.")
    if all(parse_number(name, decimal_comma) is not None for name in header if name):
        raise InvalidInput(
            f"The file has a missing header: its first row holds values ({_shown(raw[0])}...) "
            "where column names should be."
        )
    seen: set[str] = set()
    for position, name in enumerate(header, start=1):
        if not name:
            raise InvalidInput(f"Column {position} has no name in the header (row 1).")
        if name in seen:
            raise InvalidInput(f"The header names column '{name}' twice; column names must be unique.")
        seen.add(name)
    return header


def _numeric_columns(header: list[str], rows: list[list[str]], decimal_comma: bool) -> list[int]:
    """Columns where at least half the filled cells are numbers (the rest are errors, not text)."""
    numeric = []
    for column in range(len(header)):
        filled = [row[column] for row in rows if row[column].strip()]
        numbers = sum(parse_number(cell, decimal_comma) is not None for cell in filled)
        if numbers and numbers * 2 >= len(filled):
            numeric.append(column)
    return numeric


def read_table(
    data: bytes,
    *,
    min_rows: int = 10,
    max_rows: int = 100_000,
    max_columns: int = 100,
    min_numeric: int = 2,
    max_bytes: int = 50_000_000,
) -> Table:
    """Parse `data` as a CSV with a header row (comma, semicolon or tab separated) and check it:
    at least `min_rows` data rows and `min_numeric` numeric columns, every numeric cell filled."""
    text = _decode(data, max_bytes)
    delimiter = _delimiter(text)
    decimal_comma = delimiter == ";"  # European spreadsheets: 1,5 means one and a half
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    rows: list[list[str]] = []
    row_numbers: list[int] = []
    try:
        for number, raw in enumerate(reader, start=1):
            if not any(cell.strip() for cell in raw):
                continue  # blank line
            if header is None:
                header = _check_header(raw, decimal_comma, max_columns)
                continue
            while len(raw) > len(header) and not raw[-1].strip():
                raw.pop()  # trailing separators some spreadsheets add
            if len(raw) != len(header):
                raise InvalidInput(
                    f"Row {number} has {len(raw)} values but the header names {len(header)} columns."
                )
            if len(rows) == max_rows:
                raise InvalidInput(f"The file has more than {max_rows:,} data rows; the limit is {max_rows:,}.")
            rows.append(raw)
            row_numbers.append(number)
    except csv.Error as error:
        raise InvalidInput(f"The file is not a valid CSV near row {reader.line_num}: {error}.") from None
    if header is None:
        raise InvalidInput("The file is empty.")
    if len(rows) < min_rows:
        raise InvalidInput(f"The file has {len(rows)} data rows; at least {min_rows} are needed.")

    numeric = _numeric_columns(header, rows, decimal_comma)
    if len(numeric) < min_numeric:
        found = f"{len(numeric)} ({_names([header[i] for i in numeric])})" if numeric else "none"
        others = [name for i, name in enumerate(header) if i not in numeric]
        raise InvalidInput(
            f"The model needs at least {min_numeric} numeric columns; this file has {found}. "
            f"Columns that are not numeric: {_names(others) or 'none'}."
        )
    values: list[list[float]] = []
    for number, row in zip(row_numbers, rows, strict=True):
        parsed = []
        for column in numeric:
            value = parse_number(row[column], decimal_comma)
            if value is None:
                if not row[column].strip():
                    raise InvalidInput(f"Column '{header[column]}' has an empty value in row {number}.")
                raise InvalidInput(
                    f"Column '{header[column]}' has a non-numeric value {_shown(row[column])} in row {number}."
                )
            parsed.append(value)
        values.append(parsed)
    return Table(header=header, rows=rows, numeric=numeric, values=values)


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: object) -> object:
    """A text cell a spreadsheet would run as a formula, prefixed with a single quote (shown as
    text); numbers, and text that is a plain number such as "-1.5", are left as they are."""
    if not isinstance(cell, str) or not cell.startswith(FORMULA_STARTS):
        return cell
    try:
        float(cell)
    except ValueError:
        return "'" + cell
    return cell


def write_csv(header: list[str], rows: list[list[object]]) -> bytes:
    """A comma-separated UTF-8 CSV of `header` and `rows`: formula-like text neutralised, and every
    text cell that holds a separator (any of , ; tab), a quote or a line break quoted; numbers bare."""
    return _written([header, *rows], ",").encode("utf-8")


# A text cell holding one of these is quoted, whichever separator the file uses; without them it
# reads the same whichever separator a spreadsheet assumes, so it is written bare.
_NEEDS_QUOTES = frozenset(',;\t"\r\n')


def safe_csv(data: bytes) -> bytes:
    """`data` (a result CSV, however it was written) made safe to open as `write_csv` makes it:
    formula-like text neutralised (also after a separator inside a cell) and text holding any
    separator quoted; unchanged when no cell needs either.
    ValueError when it is not UTF-8 text or not a well-formed CSV (a result nobody could open safely)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"run() returned a CSV that is not UTF-8 text (byte {error.start}); "
                         "write it with worker.tabular.write_csv") from None
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    body = text[len(bom):]
    delimiter = _delimiter(body)
    try:
        rows = list(csv.reader(io.StringIO(body, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as error:
        raise ValueError(f"run() returned a CSV that is not well formed: {error}; "
                         "write it with worker.tabular.write_csv") from None
    decimal_comma = delimiter == ";"
    if not any(_unsafe_bare(cell, decimal_comma) for row in rows for cell in row):
        return data
    return (bom + _written(rows, delimiter)).encode("utf-8")


def _unsafe_bare(cell: str, decimal_comma: bool) -> bool:
    """Whether a parsed cell is unsafe as it is: it needs neutralising, or it is text that another
    separator (a ;-separated spreadsheet reading a comma CSV) would split unless quoted."""
    return _inert(cell) != cell or (not _is_number(cell, decimal_comma) and not _NEEDS_QUOTES.isdisjoint(cell))


def _written(rows: list[list[object]], delimiter: str) -> str:
    # Quoting text that holds any separator, not only this file's: a spreadsheet in a locale whose
    # list separator is ';' splits an unquoted `a;=1+1` from a comma CSV into a formula cell (issue
    # 23, item 8). Its quote is not at a cell's start for that reader, so the piece after the ';' is
    # neutralised too (_inert). Text without those characters reads the same bare in every locale.
    decimal_comma = delimiter == ";"
    lines = []
    for row in rows:
        fields = [_field(cell, decimal_comma) for cell in row]
        lines.append(delimiter.join(fields) if fields != [""] else '""')  # a bare empty line reads as no row
    # RFC 4180's CRLF line ends; a cell holding a bare CR or LF is inside quotes like all text.
    return "".join(line + "\r\n" for line in lines)


def _field(cell: object, decimal_comma: bool) -> str:
    """One cell as written: empty, a bare number, or quoted (and neutralised) text."""
    if cell is None or cell == "":
        return ""
    if isinstance(cell, numbers.Real) and not isinstance(cell, bool) and math.isfinite(cell):
        return repr(cell.item()) if hasattr(cell, "item") else repr(cell)
    text = str(cell)
    if _is_number(text, decimal_comma):
        return text
    inert = _inert(text)
    if _NEEDS_QUOTES.isdisjoint(inert):
        return inert  # no reader, whatever separator it assumes, splits it: it reads the same bare
    return '"' + inert.replace('"', '""') + '"'


_PIECES = re.compile(r"([,;\t\r\n])")
_LEAD = re.compile(r'[ "]*')


def _inert(text: str) -> str:
    """`text` neutralised as a whole and after each separator or line break in it: a reader that
    assumes another separator than the file's (or loses its place in the quotes) starts a cell
    there, so a formula there gets the same leading quote. Even a number does: in that reader's
    cell the rest of the line follows it (`-3","z`)."""
    parts = _PIECES.split(str(neutralise(text)))
    for i in range(2, len(parts), 2):
        lead = _LEAD.match(parts[i]).group()
        rest = parts[i][len(lead):]
        if rest.startswith(FORMULA_STARTS):
            parts[i] = lead + "'" + rest
    return "".join(parts)


def _is_number(text: str, decimal_comma: bool) -> bool:
    """A cell that a spreadsheet reads as the number it shows (no spaces around it)."""
    return text == text.strip() and parse_number(text, decimal_comma) is not None
