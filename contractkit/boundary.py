"""The dashboard's pre-submit check and the worker's own read must agree at every limit INPUT
declares: a table one accepts, the other must not refuse. Both sides are the framework's own code
(dashboard.uploads.check_csv + dashboard.batch_input.check_against on the published description;
worker.tabular.read_table with INPUT's limits, and run() itself where the table is small)."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

from contractkit import tables
from contractkit.algorithm_checks import refusal
from contractkit.declarations import choices_of
from contractkit.report import Finding, by_class_name, fail, ok
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
        error = refusal(module, data)  # run()'s other errors are reported by algorithm_checks
        if isinstance(error, load_algorithm("worker.algorithm").invalid_input):
            return f"run(): {error}"
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


def _param_values(spec: Any) -> list[Any]:
    """Values at and just past a parameter's limits (what a stakeholder can type), by class name."""
    if by_class_name(spec, {"Integer": True, "Number": True}):
        step = getattr(spec, "step", 1) or 1
        return [spec.min, spec.max, spec.default, spec.min - step, spec.max + step]
    choices = list(choices_of(spec))
    return [*choices, getattr(spec, "default", None), "not one of the choices"]


def param_checks(module: ModuleType, source: Source) -> list[Finding]:
    """The dashboard's check of the batch form (dashboard.pages.jobs) and the worker's
    `parse_params` agree on each parameter at and just past its limits."""
    from dashboard.pages.jobs import check_inputs
    from worker.interface import InvalidInput, parse_params

    specs = list(getattr(module, "PARAMS", ()) or ())
    findings: list[Finding] = []
    tried = 0
    # Column parameters name one of the file's columns; without a file any name stands in for one.
    columns = {spec.name: "a column" for spec in specs if by_class_name(spec, {"ColumnChoice": True})}
    for spec in specs:
        if by_class_name(spec, {"ColumnChoice": True}):
            continue  # its values are the file's columns: run() is tried with them picked from each table
        where = source.at(source.line_of_call(spec.name, "PARAMS"))
        for value in _param_values(spec):
            tried += 1
            clean, problems = check_inputs([spec.describe()], {spec.name: value})
            try:
                parse_params(specs, {**columns, spec.name: clean.get(spec.name, value)})
                worker = None
            except InvalidInput as error:
                worker = str(error)
            if spec.name not in problems and worker is not None:
                findings.append(fail(where, f"PARAMS {type(spec).__name__}({spec.name!r})", f"{value!r}: the "
                                     f"dashboard's form accepts it but the worker refuses it ({worker})",
                                     "declare the parameter's real limits so both sides read them"))
                break
            if spec.name in problems and worker is None:
                findings.append(fail(where, f"PARAMS {type(spec).__name__}({spec.name!r})", f"{value!r}: the "
                                     f"worker accepts it but the dashboard's form refuses it ({problems[spec.name]})",
                                     "declare the parameter's real limits so both sides read them"))
                break
    if not findings and specs:
        findings.append(ok(f"dashboard form check and worker parse_params agree on PARAMS ({tried} values at and "
                           "past their limits)"))
    return findings
