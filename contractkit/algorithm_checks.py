"""Checks that run the algorithm's code (in a probe process inside the copy of apps/): run() on
each sample the stakeholders are offered and on generated tables that meet `INPUT`. Each result
must be a `Result` the worker stores (its own `checked_result`), whose stored CSV is formula-safe
and whose charts draw without WebGL; progress must stay within 0..1."""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from contractkit import tables
from contractkit.charts import chart_problem
from contractkit.report import Finding, describe_error, fail, ok, user_line
from contractkit.source import Source
from contractkit.workspace import ORIGINAL_ALGORITHM_DIR, shown_path


@dataclass(frozen=True)
class Sample:
    """A sample table stakeholders can run: its name, where it is shown from, its bytes."""

    name: str
    where: str
    data: bytes


def samples(module: ModuleType, algorithm_file: Path) -> list[Sample]:
    """The algorithm's own samples, as the batch page offers them: its `SAMPLES` list of paths
    relative to algorithm.py (in the copy, else beside the original file)."""
    found: list[Sample] = []
    original = Path(os.environ.get(ORIGINAL_ALGORITHM_DIR) or algorithm_file.parent)
    for item in getattr(module, "SAMPLES", None) or ():
        raw = getattr(item, "path", item)
        if isinstance(raw, str | Path):
            copy, given = (Path(raw), Path(raw)) if Path(raw).is_absolute() else \
                (algorithm_file.parent / raw, original / raw)
            path = copy if copy.is_file() else given
            if path.is_file():
                found.append(Sample(path.name, shown_path(given), path.read_bytes()))
    return found


class Progress:
    """The progress callback run() gets; remembers the first bad call."""

    def __init__(self) -> None:
        self.problem: str | None = None
        self.calls = 0

    def __call__(self, fraction: Any, message: Any = "") -> None:
        self.calls += 1
        good = isinstance(fraction, int | float) and not isinstance(fraction, bool) and math.isfinite(fraction) \
            and 0 <= fraction <= 1
        if self.problem is None and not good:
            self.problem = f"progress({fraction!r}, ...) is outside 0..1"
        if self.problem is None and not isinstance(message, str):
            self.problem = f"progress(..., {message!r}) has a message that is not text"


_RAN: dict[bytes, tuple[Any, BaseException | None]] = {}


def refusal(module: ModuleType, data: bytes) -> BaseException | None:
    """The exception run() raised on `data` with the default params (None if it returned), from a
    memo when run_once or an earlier call already ran it on the same bytes."""
    if data not in _RAN:
        try:
            _RAN[data] = (module.run(data, tables.column_params(getattr(module, "PARAMS", ()), data),
                                     lambda *_: None), None)
        except Exception as error:  # noqa: BLE001 - handed back to the caller, who judges it
            _RAN[data] = (None, error)
    return _RAN[data][1]


def run_once(module: ModuleType, source: Source, data: bytes, case: str, *,
             refused: Callable[[str], Finding] | None = None) -> tuple[Finding | None, int]:
    """Run run() on `data` with the default params (column parameters picked from its header, as
    a stakeholder would); (a FAIL or None, cells the worker neutralised)."""
    from worker.interface import load_algorithm
    from worker.runner import checked_result
    from worker.tabular import neutralise

    algorithm = load_algorithm("worker.algorithm")
    progress = Progress()
    try:
        result = module.run(data, tables.column_params(getattr(module, "PARAMS", ()), data), progress)
        _RAN[data] = (result, None)
    except algorithm.invalid_input as error:
        _RAN[data] = (None, error)
        if refused is not None:
            return refused(str(error)), 0
        return fail(user_line(error, {source.copy.resolve(): source.shown}) or source.at(source.line_of("run")),
                    "run()", f"refused {case}: {error}", "make the table meet INPUT, or declare in INPUT what "
                    "run() needs"), 0
    except Exception as error:  # noqa: BLE001
        return fail(user_line(error, {source.copy.resolve(): source.shown}) or source.at(source.line_of("run")),
                    "run()", f"raised {describe_error(error)} on {case}",
                    "run() must handle every table INPUT allows (raise InvalidInput for bad data)"), 0
    where = source.at(source.line_of("run"))
    if progress.problem:
        return fail(where, "run()", f"{progress.problem} on {case}", "call progress(fraction, message) with "
                    "0 <= fraction <= 1"), 0
    try:
        stored, summary = checked_result(result, algorithm.model_version)
    except (TypeError, ValueError) as error:
        return fail(where, "run()", f"{error} on {case}", "return Result(csv=write_csv(header, rows), "
                    "summary={...}) with plain JSON in the summary"), 0
    raw_cells = _cells(result.csv)
    cells = _cells(stored)
    unsafe = next((c for row in cells for c in row if neutralise(c) != c), None)
    if unsafe is not None:
        return fail(where, "run()", f"the stored CSV holds a formula-like cell {unsafe[:40]!r} on {case}",
                    "write the CSV with worker.tabular.write_csv"), 0
    for n, chart in enumerate(summary.get("charts") or [], start=1):
        problem = chart_problem(chart)
        if problem:
            return fail(where, "run()", f"summary chart {n}: {problem[0]} on {case}", problem[1]), 0
    charts = summary.get("charts")
    if charts is not None and not isinstance(charts, list):
        return fail(where, "run()", f"summary['charts'] is {type(charts).__name__} on {case}",
                    "give summary['charts'] as a list of plotly JSON charts"), 0
    neutralised = sum(a != b for ra, rb in zip(raw_cells, cells, strict=False) for a, b in zip(ra, rb, strict=False))
    return None, neutralised


def _cells(data: bytes) -> list[list[str]]:
    try:
        return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    except (UnicodeDecodeError, csv.Error):
        return []


def run_checks(module: ModuleType, source: Source, apps: Path) -> list[Finding]:
    spec = _spec(module)
    findings: list[Finding] = []
    for sample in samples(module, source.copy):
        problem, neutralised = run_once(module, source, sample.data, f"the sample {sample.name}",
                                        refused=lambda message, s=sample: fail(
                                            s.where, f"sample {s.name}", f"run() refuses it: {message}",
                                            "make the sample meet INPUT, or remove it"))
        findings.append(problem or ok(_ran(f"sample {sample.name}", neutralised)))
    for rows in sorted({spec.min_rows, max(spec.min_rows, min(60, spec.max_rows))}):
        case = f"a generated table of {rows} rows meeting INPUT"
        problem, neutralised = run_once(module, source, tables.meeting(spec, rows), case)
        findings.append(problem or ok(_ran(case, neutralised)))
    return _once(findings)


def _once(findings: list[Finding]) -> list[Finding]:
    """Each distinct failure once (the same chart fails on every table), in order."""
    seen: set[tuple[str, str, str]] = set()
    kept = []
    for finding in findings:
        key = (finding.where, finding.subject, finding.fix)
        if not finding.ok and key in seen:
            continue
        seen.add(key)
        kept.append(finding)
    return kept


def _ran(case: str, neutralised: int) -> str:
    extra = f"; the worker neutralised {neutralised} formula-like cells" if neutralised else ""
    return f"run() on {case}: a Result the worker stores, formula-safe CSV, charts draw without WebGL{extra}"


def _spec(module: ModuleType) -> Any:
    from worker.interface import TableInput

    table = getattr(module, "INPUT", None)
    return table if isinstance(table, TableInput) else TableInput()
