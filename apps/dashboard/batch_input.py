"""Check an upload against the batch algorithm's published description before it is submitted.

The description (docs/contracts.md, "The batch algorithm describes itself") says how many rows
and numeric columns the input needs and which named columns it must hold. A numeric column is one
where at least half of the filled cells are numbers, as the worker counts them; the worker still
checks every cell, so this only refuses what would certainly fail.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from typing import Any

from dashboard.uploads import PARSE_SLOTS, UploadRejected, text_lines


def _number(text: str, decimal_comma: bool) -> bool:
    text = text.strip().replace(",", ".") if decimal_comma else text.strip()
    if not text or "_" in text:
        return False
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


@dataclass
class TableScan:
    """What one streaming pass over a file found: its header, its data rows (counted up to a
    limit: `more` says rows followed), and per column how many cells are filled and are numbers."""

    header: list[str]
    rows: int
    more: bool
    filled: list[int]
    numbers: list[int]

    @property
    def numeric(self) -> list[str]:
        """The columns where at least half of the filled cells are numbers."""
        return [name for name, filled, numbers in zip(self.header, self.filled, self.numbers, strict=True)
                if numbers and numbers * 2 >= filled]


def scan(data: bytes, max_rows: int | None = None) -> TableScan:
    """One pass over the file as the worker reads it (the delimiter its first line uses most),
    keeping no rows; with `max_rows`, it stops after max_rows + 1 data rows."""
    with PARSE_SLOTS.slot():
        first_line = data[:65536].decode("utf-8-sig", errors="ignore").lstrip("\r\n").split("\n", 1)[0]
        delimiter = max((",", ";", "\t"), key=first_line.count)
        decimal_comma = delimiter == ";"
        found = TableScan([], 0, False, [], [])
        for row in csv.reader(text_lines(data, "The file"), delimiter=delimiter):
            if not any(cell.strip() for cell in row):
                continue
            if not found.header:
                found.header = [c.strip() for c in row]
                found.filled, found.numbers = [0] * len(found.header), [0] * len(found.header)
                continue
            if max_rows is not None and found.rows >= max_rows + 1:
                found.more = True
                break
            found.rows += 1
            for position, cell in enumerate(row[:len(found.header)]):
                if cell.strip():
                    found.filled[position] += 1
                    found.numbers[position] += _number(cell, decimal_comma)
        return found


def check_against(description: dict[str, Any] | None, name: str, data: bytes) -> None:
    """UploadRejected, saying why, when the file cannot satisfy the description's input rules."""
    rules = (description or {}).get("input")
    if not isinstance(rules, dict):
        return  # no description published yet: the worker's own checks decide
    title = (description or {}).get("title") or "This job"
    min_rows, max_rows = rules.get("min_rows"), rules.get("max_rows")
    found = scan(data, max_rows if isinstance(max_rows, int) else None)
    header = found.header
    if isinstance(min_rows, int) and found.rows < min_rows:
        raise UploadRejected(f"{name} has {found.rows} data rows; {title} needs at least {min_rows}.")
    if isinstance(max_rows, int) and found.rows > max_rows:
        raise UploadRejected(f"{name} has more than {max_rows:,} data rows; {title} takes at most {max_rows:,}.")
    max_columns = rules.get("max_columns")
    if isinstance(max_columns, int) and len(header) > max_columns:
        raise UploadRejected(f"{name} has {len(header)} columns; {title} takes at most {max_columns}.")
    numeric = found.numeric
    for column in rules.get("columns") or []:
        if not isinstance(column, dict) or not column.get("required"):
            continue
        if column.get("name") not in header:
            raise UploadRejected(f"{name} has no column '{column.get('name')}', which {title} needs.")
        if column.get("type") == "number" and column["name"] not in numeric:
            raise UploadRejected(f"Column '{column['name']}' in {name} must hold numbers.")
    wanted = rules.get("min_numeric_columns")
    if isinstance(wanted, int) and len(numeric) < wanted:
        found = ", ".join(f"'{c}'" for c in numeric) if numeric else "none"
        raise UploadRejected(f"{name} has {len(numeric)} numeric columns ({found}); {title} needs at least "
                             f"{wanted}. Columns with numbers in most rows count as numeric.")


def header_of(data: bytes) -> list[str]:
    """The file's column names (its first non-empty row), as the worker reads them."""
    return scan(data, max_rows=0).header


def numeric_of(data: bytes) -> list[str]:
    """The file's numeric columns, as `numeric_columns` counts them."""
    return scan(data).numeric


def check_columns(description: dict[str, Any] | None, name: str, data: bytes, params: dict[str, Any]) -> None:
    """UploadRejected when a column parameter's pick is not one of the file's columns (or, for one
    asking for numbers, not a numeric one); a required column parameter must be picked."""
    specs = [p for p in (description or {}).get("params") or [] if isinstance(p, dict) and p.get("type") == "column"]
    if not specs:
        return
    found = scan(data)
    header, numeric = found.header, found.numeric
    for spec in specs:
        label = spec.get("label") or spec.get("name")
        picked = params.get(spec.get("name"))
        if picked in (None, ""):
            if spec.get("required", True):
                raise UploadRejected(f"Please pick '{label}': one of the columns of {name}.")
            continue
        if picked not in header:
            listed = ", ".join(f"'{c}'" for c in header[:20])
            raise UploadRejected(f"'{label}' is set to '{picked}', which is not a column of {name} ({listed}).")
        if spec.get("column_type") == "number" and picked not in numeric:
            raise UploadRejected(f"'{label}' must be a numeric column; '{picked}' in {name} is not.")
