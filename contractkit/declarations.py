"""Checks on what a model and an algorithm declare, before any of their code runs.

Fields and parameters are checked by their class name (`FIELD_CHECKS`): a new field kind is one
more entry. Every field kind is also checked generically: `describe()` is plain JSON and its
`parse()` accepts its own default. Values a browser's number input would refuse (not on the
step grid from `min`, as the dashboard's form sets it) are refused here too.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import Any

from contractkit.report import Finding, by_class_name, describe_error, fail, ok
from contractkit.source import Source

STEP_TOLERANCE = 1e-6


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def on_step(value: float, low: float, step: float) -> bool:
    """True when `value` is `low` plus a whole number of `step`s, as a browser's step check wants."""
    ratio = (value - low) / step
    return abs(ratio - round(ratio)) <= STEP_TOLERANCE * max(1.0, abs(ratio))


def _range_problems(field: Any, whole: bool) -> list[tuple[str, str]]:
    kind = "whole numbers" if whole else "numbers"
    ok_type = (lambda v: isinstance(v, int) and not isinstance(v, bool)) if whole else is_number
    problems = []
    for attr in ("min", "max"):
        if not ok_type(getattr(field, attr, None)):
            problems.append((f"{attr}={getattr(field, attr, None)!r} is not one of the {kind}",
                             f"give {attr} as a finite {kind[:-1]}"))
    if problems:
        return problems
    if field.min >= field.max and not (whole and field.min == field.max):
        problems.append((f"min ({field.min}) is not below max ({field.max})", "swap min and max, or widen the range"))
    step = getattr(field, "step", 1)
    if not ok_type(step) or step <= 0:
        problems.append((f"step={step!r} is not a positive {kind[:-1]}", "give a positive step such as 0.1 or 1"))
    return problems


def _default_problems(field: Any, parse_errors: tuple[type[BaseException], ...]) -> list[tuple[str, str]]:
    default = getattr(field, "default", None)
    step = getattr(field, "step", None)
    off_grid = is_number(default) and is_number(step) and step > 0 and is_number(getattr(field, "min", None)) \
        and is_number(getattr(field, "max", None)) and field.min <= default <= field.max \
        and not on_step(default, field.min, step)
    try:
        field.parse(default)
    except parse_errors as error:
        if not off_grid:
            return [(f"default {default!r} is refused by its own field ({str(error).rstrip('.')})",
                     _default_fix(field))]
    if off_grid:
        return [(f"default {default!r} is not on the step grid ({field.min:g} + n x {step:g}), so a browser "
                 "marks the pre-filled form invalid", f"use a default such as {_snap(default, field.min, step):g}, "
                 "or a step that divides it")]
    return []


def _default_fix(field: Any) -> str:
    if choices_of(field):
        return f"make the default one of {list(choices_of(field))!r}"
    if hasattr(field, "min") and hasattr(field, "max"):
        return f"set default between {field.min} and {field.max}, or widen the range"
    return "give a default its own parse() accepts"


def _snap(value: float, low: float, step: float) -> float:
    return round(low + round((value - low) / step) * step, 10)


def _numeric(field: Any, errors: tuple[type[BaseException], ...]) -> list[tuple[str, str]]:
    return _range_problems(field, whole=False) or _default_problems(field, errors)


def _integer(field: Any, errors: tuple[type[BaseException], ...]) -> list[tuple[str, str]]:
    return _range_problems(field, whole=True) or _default_problems(field, errors)


def choices_of(field: Any) -> tuple[Any, ...]:
    """A Choice's choices, whichever name the field keeps them under."""
    return tuple(getattr(field, "choices", None) or getattr(field, "options", None) or ())


def _column_choice(field: Any, errors: tuple[type[BaseException], ...]) -> list[tuple[str, str]]:
    """A column parameter has no fixed choices: the stakeholder picks one of the file's columns."""
    kind = getattr(field, "type", "any")
    if kind not in ("any", "number", "text"):
        return [(f"type={kind!r} is not a column type", 'use type "any", "number" or "text"')]
    return []


def _choice(field: Any, errors: tuple[type[BaseException], ...]) -> list[tuple[str, str]]:
    choices = choices_of(field)
    if not choices:
        return [("has no choices", "list at least one choice")]
    odd = [c for c in choices if isinstance(c, bool) or not isinstance(c, str | int | float)
           or (isinstance(c, float) and not math.isfinite(c))]
    if odd:
        return [(f"choice {odd[0]!r} is not a string or a finite number", "use strings or numbers as choices")]
    if len(set(choices)) != len(choices):
        twice = next(c for c in choices if choices.count(c) > 1)
        return [(f"lists {twice!r} twice", "list each choice once")]
    return _default_problems(field, errors)


# Checks by field class name; a field kind not listed gets the generic checks only.
FIELD_CHECKS: dict[str, Callable[[Any, tuple[type[BaseException], ...]], list[tuple[str, str]]]] = {
    "Number": _numeric,
    "Integer": _integer,
    "Choice": _choice,
    "ColumnChoice": _column_choice,
}


def _generic(field: Any, errors: tuple[type[BaseException], ...]) -> list[tuple[str, str]]:
    problems = []
    name = getattr(field, "name", None)
    if not isinstance(name, str) or not name.strip():
        problems.append((f"name {name!r} is not a non-empty string", "give every field a name, like \"age\""))
    if not isinstance(getattr(field, "label", ""), str) or not str(getattr(field, "label", "")).strip():
        problems.append(("has no label", "give it a label stakeholders read, like \"Age (years)\""))
    try:
        json.dumps(field.describe(), allow_nan=False)
    except Exception as error:  # noqa: BLE001 - any failure is the declaration's
        problems.append((f"describe() is not plain JSON ({describe_error(error)})",
                         "use plain numbers and strings in the declaration"))
    if by_class_name(field, FIELD_CHECKS) is None and not problems:
        problems.extend(_default_problems(field, errors))
    return problems


def check_fields(fields: Any, declaration: str, source: Source, known: tuple[str, ...],
                 errors: tuple[type[BaseException], ...], required: bool) -> list[Finding]:
    """INPUTS (or PARAMS): a list of known field kinds, unique names, each well formed."""
    line = source.line_of(declaration)
    if not isinstance(fields, list | tuple) or (required and not fields):
        return [fail(source.at(line), declaration, f"is {type(fields).__name__} {fields!r:.60}, not a list of fields",
                     f"declare {declaration} = [Number(...), Integer(...), Choice(...)]")]
    findings: list[Finding] = []
    seen: set[str] = set()
    for field in fields:
        kind = type(field).__name__
        name = getattr(field, "name", None)
        where = source.at(source.line_of_call(name, declaration) if isinstance(name, str) else line)
        subject = f"{declaration} {kind}({name!r})"
        if not hasattr(field, "parse") or not hasattr(field, "describe"):
            findings.append(fail(where, f"{declaration} item {field!r:.40}", f"a {kind} is not a field",
                                 f"use one of {', '.join(known)}"))
            continue
        problems = _generic(field, errors)
        check = by_class_name(field, FIELD_CHECKS)
        if check and not problems:
            problems = check(field, errors)
        if isinstance(name, str) and name in seen:
            problems.append((f"name {name!r} is used twice", "give each field its own name"))
        seen.add(name if isinstance(name, str) else repr(name))
        findings.extend(fail(where, subject, problem, fix) for problem, fix in problems)
    if not findings:
        findings.append(ok(f"{declaration}: {len(fields)} fields well formed "
                           f"({', '.join(sorted({type(f).__name__ for f in fields})) or 'none'})"))
    return findings


def _text(module: ModuleType, name: str, source: Source, optional: bool = False) -> list[Finding]:
    value = getattr(module, name, None)
    if optional and value is None:
        return []
    if not isinstance(value, str) or not value.strip():
        return [fail(source.at(source.line_of(name)), name, f"is {value!r:.60}, not a non-empty string",
                     f"set {name} = \"...\" (a short text)")]
    return []


def check_model(module: ModuleType, source: Source) -> list[Finding]:
    """MODEL_VERSION, TITLE, DESCRIPTION, OUTPUT, INPUTS and EXAMPLES of a model module."""
    from predictor.interface import Example
    from predictor.validation import RequestError, check_inputs

    findings = [*_text(module, "MODEL_VERSION", source), *_text(module, "TITLE", source),
                *_text(module, "DESCRIPTION", source)]
    output = getattr(module, "OUTPUT", None)
    if not isinstance(output, Mapping) or not all(isinstance(output.get(k), str) and output.get(k)
                                               for k in ("name", "label", "kind")):
        findings.append(fail(source.at(source.line_of("OUTPUT")), "OUTPUT", f"is {output!r:.80}",
                             'declare OUTPUT = {"name": "...", "label": "...", "kind": "..."}'))
    for name in ("train", "predict"):
        if not callable(getattr(module, name, None)):
            findings.append(fail(source.at(1), f"{name}()", "is missing", f"define {name}() as model.py's "
                                 "docstring says"))
    inputs = getattr(module, "INPUTS", None)
    fields = check_fields(inputs, "INPUTS", source, ("Number", "Integer", "Choice"), (ValueError,), True)
    findings.extend(fields)
    if any(not f.ok for f in fields):
        return findings
    examples = getattr(module, "EXAMPLES", ())
    labels: set[str] = set()
    for example in examples if isinstance(examples, list | tuple) else [examples]:
        label = getattr(example, "label", None)
        where = source.at(source.line_of_call(label, "EXAMPLES") if isinstance(label, str)
                          else source.line_of("EXAMPLES"))
        subject = f"EXAMPLES {label!r}"
        if not isinstance(example, Example):
            findings.append(fail(where, f"EXAMPLES item {example!r:.40}", "is not an Example",
                                 'use Example("label", {"field": value, ...})'))
            continue
        if label in labels:
            findings.append(fail(where, subject, "the label is used twice", "give each example its own label"))
        labels.add(label)
        try:
            check_inputs(example.inputs, inputs)
        except RequestError as error:
            name, problem = next(iter(error.fields.items()), ("inputs", error.message))
            findings.append(fail(where, subject, f"{name} {problem}", f"give {name} a value INPUTS accepts, "
                                 "or change the field"))
            continue
        for field in inputs:
            value, step = example.inputs.get(field.name), getattr(field, "step", None)
            if is_number(value) and is_number(step) and step > 0 and is_number(getattr(field, "min", None)) \
                    and not on_step(value, field.min, step):
                findings.append(fail(where, subject, f"{field.name}={value!r} is not on its step grid "
                                     f"({field.min:g} + n x {step:g}): the browser form refuses it",
                                     f"use {_snap(value, field.min, step):g}, or a finer step"))
    if examples and not any(not f.ok and f.subject.startswith("EXAMPLES") for f in findings):
        findings.append(ok(f"EXAMPLES: {len(examples)} valid against INPUTS"))
    if not any(not f.ok for f in findings):
        findings.append(ok("MODEL_VERSION, TITLE, DESCRIPTION, OUTPUT well formed"))
    return findings


def check_algorithm(module: ModuleType, source: Source) -> list[Finding]:
    """MODEL_VERSION, TITLE, DESCRIPTION, INPUT and PARAMS of an algorithm module, and their fit."""
    from worker.interface import InvalidInput, TableInput

    findings = [*_text(module, "MODEL_VERSION", source), *_text(module, "TITLE", source, optional=True),
                *_text(module, "DESCRIPTION", source, optional=True)]
    if not callable(getattr(module, "run", None)):
        findings.append(fail(source.at(1), "run()", "is missing",
                             "define run(input_csv, params, progress) -> Result"))
    params = getattr(module, "PARAMS", [])
    findings.extend(check_fields(params, "PARAMS", source, ("Integer", "Number"), (InvalidInput, ValueError), False))
    table = getattr(module, "INPUT", None)
    where = source.at(source.line_of("INPUT"))
    if table is None:
        return findings
    if not isinstance(table, TableInput):
        return [*findings, fail(where, "INPUT", f"is {type(table).__name__}, not a TableInput",
                                "declare INPUT = TableInput(min_rows=..., max_rows=...)")]
    findings.extend(fail(where, "INPUT", problem, fix) for problem, fix in _table_problems(table))
    names = {c.name for c in table.columns}
    for spec in params if isinstance(params, list | tuple) else ():
        for value in _column_refs(spec):
            if value not in names:
                findings.append(fail(source.at(source.line_of_call(getattr(spec, "name", ""), "PARAMS")),
                                     f"PARAMS {type(spec).__name__}({spec.name!r})",
                                     f"names column {value!r}, which INPUT does not declare",
                                     f"add Column({value!r}) to INPUT.columns, or choose a declared column"))
    findings.extend(_resources(source))
    if not any(not f.ok for f in findings):
        findings.append(ok(f"INPUT: {table.min_rows}..{table.max_rows} rows, up to {table.max_columns} columns, "
                           f"{table.min_numeric_columns}+ numeric; PARAMS consistent with it"))
    return findings


def _column_refs(spec: Any) -> Sequence[str]:
    """Column names a parameter refers to (a ColumnChoice's choices), by class name."""
    if "Column" in type(spec).__name__:
        return [c for c in choices_of(spec) if isinstance(c, str)]
    return []


def _table_problems(table: Any) -> list[tuple[str, str]]:
    problems = []
    for attr in ("min_rows", "max_rows", "max_columns", "min_numeric_columns"):
        value = getattr(table, attr)
        if isinstance(value, bool) or not isinstance(value, int) or value < (0 if attr == "min_numeric_columns" else 1):
            problems.append((f"{attr}={value!r} is not a positive whole number", f"give {attr} as a whole number"))
    if problems:
        return problems
    if table.min_rows > table.max_rows:
        problems.append((f"min_rows ({table.min_rows}) is above max_rows ({table.max_rows})",
                         "make min_rows <= max_rows"))
    if table.min_numeric_columns > table.max_columns:
        problems.append((f"min_numeric_columns ({table.min_numeric_columns}) is above max_columns "
                         f"({table.max_columns})", "make min_numeric_columns <= max_columns"))
    required = [c for c in table.columns if c.required]
    if len(required) > table.max_columns:
        problems.append((f"requires {len(required)} columns but max_columns is {table.max_columns}",
                         "raise max_columns or require fewer columns"))
    names = [c.name for c in table.columns]
    if len(set(names)) != len(names):
        problems.append(("names a column twice", "declare each Column once"))
    for column in table.columns:
        if column.type not in ("number", "text"):
            problems.append((f"Column({column.name!r}) has type {column.type!r}", 'use type "number" or "text"'))
    return problems


def _resources(source: Source) -> list[Finding]:
    """RESOURCES as the stack reads it (a literal, without importing the algorithm) and sizes the worker."""
    from worker import resources

    where = source.at(source.line_of("RESOURCES"))
    try:
        declared = resources.declared(source.copy)
    except resources.ResourcesError as error:
        return [fail(where, "RESOURCES", str(error).split(": ", 1)[-1].rstrip("."),
                     "write RESOURCES = Resources(vcpu=1, memory_gb=2, gpus=0) with plain numbers")]
    found = resources.problems(declared)
    if found:
        return [fail(where, "RESOURCES", problem, "pick a Fargate size (docs/gpu.md lists them); GPUs need "
                     "workerCompute: gpu") for problem in found]
    gpus = f"{declared.gpus} GPU" + ("" if declared.gpus == 1 else "s")
    return [ok(f"RESOURCES: {declared.vcpu:g} vCPU, {declared.memory_gb:g} GB, {gpus}")]
