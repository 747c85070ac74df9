"""The batch input the smoke test submits: the algorithm's first sample, or a table generated from
the input rules it published when it declares none, with every column parameter set to one of
that table's numeric columns.

Only the page's published description is read (the `batch-published` store of /jobs), so this
works against the cloud exactly as against the local twin.
"""

from __future__ import annotations

import base64
import csv
import io
import random
import uuid
from typing import Any


def table_from_rules(rules: dict[str, Any], rows: int = 60, seed: int = 7) -> bytes:
    """A CSV meeting published input rules: their required named columns plus enough numeric ones
    (x1, x2, ...), `rows` rows clamped to min/max, in two well separated groups."""
    min_rows = int(rules.get("min_rows") or 1)
    max_rows = int(rules.get("max_rows") or rows)
    count = max(min_rows, min(rows, max_rows))
    named = [c for c in rules.get("columns") or [] if isinstance(c, dict) and c.get("required") and c.get("name")]
    numeric_named = sum(c.get("type") == "number" for c in named)
    extra = max(int(rules.get("min_numeric_columns") or 0) - numeric_named, 0 if numeric_named else 1)
    header = [str(c["name"]) for c in named] + [f"x{n}" for n in range(1, extra + 1)]
    kinds = [c.get("type") for c in named] + ["number"] * extra
    rng = random.Random(seed)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for n in range(count):
        centre = 10.0 if n % 2 else 80.0
        writer.writerow([round(centre + rng.gauss(0, 3), 2) if kind == "number" else f"item {n}" for kind in kinds])
    return buffer.getvalue().encode()


def header_and_numeric(data: bytes) -> tuple[list[str], list[str]]:
    """The table's header and the columns whose cells all parse as numbers."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    header, body = rows[0], [row for row in rows[1:] if row]

    def number(text: str) -> bool:
        try:
            float(text)
        except ValueError:
            return False
        return True

    numeric = [name for i, name in enumerate(header) if body and all(i < len(r) and number(r[i]) for r in body)]
    return header, numeric


def column_params(description: dict[str, Any], numeric: list[str]) -> dict[str, str]:
    """Each column parameter set to the first numeric column of the table (a usable pick)."""
    specs = [p for p in description.get("params") or [] if isinstance(p, dict) and p.get("type") == "column"]
    return {spec["name"]: numeric[0] for spec in specs if numeric}


def submit_file_body(output: str, data: bytes, name: str, params: dict[str, Any]) -> dict[str, Any]:
    """The "Submit the file" callback (`output` as /_dash-dependencies names it) for `data`."""
    ids = [{"type": "batch-param", "name": key} for key in params]
    outputs = [dict(zip(("id", "property"), part.split("@")[0].rsplit(".", 1), strict=True))
               for part in output.strip(".").split("...")]
    return {
        "output": output,
        "outputs": outputs,
        "inputs": [{"id": "file-submit", "property": "n_clicks", "value": 1}],
        "changedPropIds": ["file-submit.n_clicks"],
        "state": [
            {"id": "job-upload", "property": "contents",
             "value": "data:text/csv;base64," + base64.b64encode(data).decode()},
            {"id": "job-upload", "property": "filename", "value": name},
            {"id": "submit-token", "property": "data", "value": uuid.uuid4().hex},
            # an ALL pattern's entries as the browser sends them: one {id, property, value} a field
            [{"id": i, "property": "value", "value": v} for i, v in zip(ids, params.values(), strict=True)],
            [{"id": i, "property": "id", "value": i} for i in ids],
            {"id": "job-note", "property": "value", "value": "smoke test"},
        ],
    }


def file_submit_output(dependencies: list[dict[str, Any]]) -> str | None:
    """The output key of the callback "Submit the file" triggers, from /_dash-dependencies."""
    for callback in dependencies:
        if any(i.get("id") == "file-submit" for i in callback.get("inputs") or []):
            return str(callback["output"])
    return None
