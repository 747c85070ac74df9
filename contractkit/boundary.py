"""The dashboard's pre-submit check and the worker's own read must agree at every limit INPUT
declares: a table one accepts, the other must not refuse. Both sides are the framework's own code
(dashboard.uploads.check_csv + dashboard.batch_input.check_against on the published description;
worker.tabular.read_table with INPUT's limits, and run() itself where the table is small)."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

from contractkit import tables
from contractkit.report import Finding, fail, ok
from contractkit.source import Source

RUN_LIMIT_ROWS = 2000  # run() itself also judges tables up to this many rows


@dataclass(frozen=True)
class Case:
    what: str
    data: bytes


def cases(spec: Any) -> list[Case]:
    """Tables at and just past each of INPUT's limits."""
    found = [Case(f"exactly min_rows ({spec.min_rows}) rows", tables.table(spec, spec.min_rows)),
             Case(f"exactly max_rows ({spec.max_rows}) rows", tables.table(spec, spec.max_rows)),
             Case(f"max_rows + 1 ({spec.max_rows + 1}) rows", tables.table(spec, spec.max_rows + 1))]
    if spec.min_rows > 1:
        found.append(Case(f"min_rows - 1 ({spec.min_rows - 1}) rows", tables.table(spec, spec.min_rows - 1)))
    rows = max(spec.min_rows, 1)
    found.append(Case(f"exactly max_columns ({spec.max_columns}) columns",
                      tables.table(spec, rows, numeric=spec.max_columns - _text_columns(spec))))
    found.append(Case(f"max_columns + 1 ({spec.max_columns + 1}) columns",
                      tables.table(spec, rows, numeric=spec.max_columns + 1 - _text_columns(spec))))
    found.append(Case(f"exactly min_numeric_columns ({spec.min_numeric_columns}) numeric columns and a text one",
                      tables.table(spec, rows, numeric=spec.min_numeric_columns, extra_text=1)))
    if spec.min_numeric_columns > 1:
        found.append(Case(f"min_numeric_columns - 1 ({spec.min_numeric_columns - 1}) numeric columns",
                          tables.table(spec, rows, numeric=spec.min_numeric_columns - 1, extra_text=1)))
    return found


def _text_columns(spec: Any) -> int:
    return sum(1 for c in spec.columns if c.required and c.type != "number")


def dashboard_verdict(description: dict[str, Any], data: bytes) -> str | None:
    """None when the dashboard would submit the file, else its message."""
    from dashboard.batch_input import check_against
    from dashboard.uploads import UploadRejected, check_csv

    try:
        upload = check_csv("boundary.csv", data)
        check_against(description, upload.name, upload.data)
    except UploadRejected as error:
        return str(error)
    return None


def worker_verdict(module: ModuleType, spec: Any, data: bytes, rows: int) -> str | None:
    """None when the worker reads the file (and, for a small table, run() accepts it)."""
    from worker.interface import InvalidInput, load_algorithm
    from worker.tabular import read_table

    try:
        read_table(data, min_rows=spec.min_rows, max_rows=spec.max_rows, max_columns=spec.max_columns,
                   min_numeric=spec.min_numeric_columns)
    except InvalidInput as error:
        return f"the worker's read: {error}"
    if rows <= RUN_LIMIT_ROWS:
        algorithm = load_algorithm("worker.algorithm")
        try:
            module.run(data, {}, lambda *_: None)
        except algorithm.invalid_input as error:
            return f"run(): {error}"
        except Exception:  # noqa: BLE001, S110 - run()'s own errors are reported by algorithm_checks
            pass
    return None


def boundary_checks(module: ModuleType, source: Source) -> list[Finding]:
    from worker.interface import TableInput, load_algorithm

    spec = getattr(module, "INPUT", None)
    if not isinstance(spec, TableInput):
        spec = TableInput()
    description = load_algorithm("worker.algorithm").description
    where = source.at(source.line_of("INPUT"))
    findings: list[Finding] = []
    reasons: dict[str, int] = {}
    tried = cases(spec)
    for case in tried:
        rows = case.data.count(b"\n") - 1
        dashboard = dashboard_verdict(description, case.data)
        worker = worker_verdict(module, spec, case.data, rows)
        reason = worker if dashboard is None else dashboard
        if (dashboard is None) != (worker is None) and reason in reasons:
            reasons[reason] += 1  # the same cause at another limit: said once
            continue
        if dashboard is None and worker is not None:
            reasons[reason] = 0
            findings.append(fail(where, "INPUT", f"a table with {case.what}: the dashboard accepts it but "
                                 f"{worker}", "make run() read the table with INPUT's own limits "
                                 "(read_table(data, min_rows=INPUT.min_rows, ...))"))
        elif dashboard is not None and worker is None:
            reasons[reason] = 0
            findings.append(fail(where, "INPUT", f"a table with {case.what}: the worker accepts it but the "
                                 f"dashboard refuses it ({dashboard})", "keep INPUT's limits within what the "
                                 "dashboard takes (at most 200 columns) and declare what run() really reads"))
    if not findings:
        findings.append(ok(f"dashboard pre-submit check and worker read agree at INPUT's limits "
                           f"({len(tried)} boundary tables)"))
    return findings
