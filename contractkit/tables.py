"""CSV tables for an algorithm's declared `INPUT`: one that meets it, and ones at and past each
of its limits (for the boundary checks)."""

from __future__ import annotations

import csv
import io
import random
from typing import Any


def table(spec: Any, rows: int, *, numeric: int | None = None, extra_text: int = 0, seed: int = 7,
          drop: str | None = None) -> bytes:
    """`rows` data rows of INPUT's required named columns (less `drop`), then numeric columns up to
    `numeric` in all (enough for min_numeric_columns by default), then `extra_text` text columns;
    numbers fall in two well separated groups, so an algorithm looking for structure finds some."""
    named = [c for c in spec.columns if c.required and c.name != drop]
    numeric_named = sum(c.type == "number" for c in named)
    wanted = max(spec.min_numeric_columns, 1) if numeric is None else numeric
    extra = max(wanted - numeric_named, 0)
    header = [c.name for c in named] + [f"x{n}" for n in range(1, extra + 1)] + \
             [f"label{n}" for n in range(1, extra_text + 1)]
    kinds = [c.type for c in named] + ["number"] * extra + ["text"] * extra_text
    if not header:
        header, kinds = ["label1"], ["text"]
    rng = random.Random(seed)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for n in range(rows):
        centre = 10.0 if n % 2 else 80.0
        writer.writerow([round(centre + rng.gauss(0, 3), 2) if kind == "number" else f"item {n}" for kind in kinds])
    return buffer.getvalue().encode()


def meeting(spec: Any, rows: int = 60) -> bytes:
    """A table that meets INPUT, with `rows` rows (clamped to its row limits)."""
    return table(spec, max(spec.min_rows, min(rows, spec.max_rows)))


def column_params(params: Any, data: bytes) -> dict[str, str]:
    """A usable pick for each column parameter (a `ColumnChoice`, by class name) from this table's
    header, as a stakeholder would pick it: a numeric column for type "number", a text column for
    "text", and for "any" the first text column (a group or a name) or else the first column."""
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    except (UnicodeDecodeError, csv.Error):
        return {}
    if not rows:
        return {}
    header, body = rows[0], rows[1:]

    def numeric(index: int) -> bool:
        cells = [row[index] for row in body if index < len(row) and row[index].strip()]
        try:
            return bool(cells) and all(float(cell) == float(cell) for cell in cells)
        except ValueError:
            return False

    numbers = [name for n, name in enumerate(header) if numeric(n)]
    texts = [name for name in header if name not in numbers]
    picks: dict[str, str] = {}
    for spec in params or ():
        if "ColumnChoice" not in {cls.__name__ for cls in type(spec).__mro__}:
            continue
        kind = getattr(spec, "type", "any")
        pool = numbers if kind == "number" else texts if kind == "text" else texts or header
        if pool:
            picks[spec.name] = pool[0]
    return picks
