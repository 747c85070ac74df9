"""Findings and how they are printed: one line each, never a traceback.

A finding is `ok  <what>` or `FAIL <file>:<line> <subject>: <problem>. Fix: <fix>`. Findings
travel from a probe subprocess to the kit as JSON lines (`to_json` / `from_json`).
"""

from __future__ import annotations

import json
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Finding:
    """One check's outcome. `where` is "file:line" (may be empty for an ok), `subject` the
    declaration or function at fault, `problem` what is wrong and `fix` what to do, in one line."""

    ok: bool
    what: str = ""
    where: str = ""
    subject: str = ""
    problem: str = ""
    fix: str = ""
    skipped: bool = False

    def line(self) -> str:
        if self.skipped:
            return f"--   {self.what}"
        if self.ok:
            return f"ok   {self.what}"
        place = f"{self.where} " if self.where else ""
        return f"FAIL {place}{self.subject}: {_one_line(self.problem).rstrip('.')}. Fix: {_one_line(self.fix)}"

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Finding:
        return cls(**json.loads(text))


def ok(what: str) -> Finding:
    return Finding(True, what)


def skipped(what: str) -> Finding:
    """Checks not run because an earlier one failed (neither ok nor a failure of its own)."""
    return Finding(True, what, skipped=True)


def fail(where: str, subject: str, problem: str, fix: str) -> Finding:
    return Finding(False, where=where, subject=subject, problem=problem, fix=fix)


def by_class_name(obj: object, table: dict[str, T]) -> T | None:
    """The entry of `table` for the first class name in `obj`'s MRO that has one (so a subclass of
    Number is checked as a Number); None when none has."""
    return next((table[cls.__name__] for cls in type(obj).__mro__ if cls.__name__ in table), None)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def describe_error(error: BaseException) -> str:
    """`KeyError: 'x'`: an exception by type and message, in one line."""
    message = _one_line(str(error))
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def user_line(error: BaseException, user_files: dict[Path, str]) -> str | None:
    """"file:line" of the deepest traceback frame in one of `user_files` (a copy's path -> the path
    shown for it), or None when the error did not pass through them."""
    found = None
    for frame in traceback.extract_tb(error.__traceback__):
        shown = user_files.get(Path(frame.filename).resolve())
        if shown is not None:
            found = f"{shown}:{frame.lineno}"
    if found is None and isinstance(error, SyntaxError) and error.filename:
        shown = user_files.get(Path(error.filename).resolve())
        if shown is not None:
            found = f"{shown}:{error.lineno}"
    return found
