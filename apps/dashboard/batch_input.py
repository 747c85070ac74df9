"""Check an upload against the batch algorithm's published description before it is submitted.

The description (docs/contracts.md, "The batch algorithm describes itself") says how many rows
and numeric columns the input needs and which named columns it must hold. A numeric column is one
where at least half of the filled cells are numbers, as the worker counts them; the worker still
checks every cell, so this only refuses what would certainly fail.
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any

from dashboard.uploads import UploadRejected


def _number(text: str, decimal_comma: bool) -> bool:
    text = text.strip().replace(",", ".") if decimal_comma else text.strip()
    if not text or "_" in text:
        return False
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _table(data: bytes) -> tuple[list[str], list[list[str]], bool]:
    text = data.decode("utf-8-sig")
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    rows = [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
            if any(cell.strip() for cell in row)]
    return [c.strip() for c in rows[0]] if rows else [], rows[1:], delimiter == ";"


def numeric_columns(header: list[str], rows: list[list[str]], decimal_comma: bool = False) -> list[str]:
    """The columns where at least half of the filled cells are numbers."""
    found = []
    for position, name in enumerate(header):
        filled = [row[position] for row in rows if position < len(row) and row[position].strip()]
        numbers = sum(_number(cell, decimal_comma) for cell in filled)
        if numbers and numbers * 2 >= len(filled):
            found.append(name)
    return found


def check_against(description: dict[str, Any] | None, name: str, data: bytes) -> None:
    """UploadRejected, saying why, when the file cannot satisfy the description's input rules."""
    rules = (description or {}).get("input")
    if not isinstance(rules, dict):
        return  # no description published yet: the worker's own checks decide
    header, rows, decimal_comma = _table(data)
    title = (description or {}).get("title") or "This job"
    min_rows, max_rows = rules.get("min_rows"), rules.get("max_rows")
    if isinstance(min_rows, int) and len(rows) < min_rows:
        raise UploadRejected(f"{name} has {len(rows)} data rows; {title} needs at least {min_rows}.")
    if isinstance(max_rows, int) and len(rows) > max_rows:
        raise UploadRejected(f"{name} has {len(rows):,} data rows; {title} takes at most {max_rows:,}.")
    max_columns = rules.get("max_columns")
    if isinstance(max_columns, int) and len(header) > max_columns:
        raise UploadRejected(f"{name} has {len(header)} columns; {title} takes at most {max_columns}.")
    numeric = numeric_columns(header, rows, decimal_comma)
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
    return _table(data)[0]


def numeric_of(data: bytes) -> list[str]:
    """The file's numeric columns, as `numeric_columns` counts them."""
    header, rows, decimal_comma = _table(data)
    return numeric_columns(header, rows, decimal_comma)


def check_columns(description: dict[str, Any] | None, name: str, data: bytes, params: dict[str, Any]) -> None:
    """UploadRejected when a column parameter's pick is not one of the file's columns (or, for one
    asking for numbers, not a numeric one); a required column parameter must be picked."""
    specs = [p for p in (description or {}).get("params") or [] if isinstance(p, dict) and p.get("type") == "column"]
    if not specs:
        return
    header, rows, decimal_comma = _table(data)
    numeric = numeric_columns(header, rows, decimal_comma)
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
