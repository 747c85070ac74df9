"""The checks a submit passes before anything is stored: the dashboard's own, with its messages.

`check_file` runs the dashboard's upload checks (a well-formed CSV) and its check against the
batch algorithm's published description (rows, columns, numeric columns); `check_params` the
dashboard's parameter checks against the same description. The worker checks everything again.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from dashboard.batch_input import check_against
from dashboard.settings import DEFAULT_UPLOAD_MAX_BYTES
from dashboard.uploads import UploadRejected, check_csv, human_size

from mlproto.errors import BadInput, RefusedFile


def read_file(path: Path | str, max_bytes: int = DEFAULT_UPLOAD_MAX_BYTES) -> tuple[str, bytes]:
    """(file name, bytes) of a job input; RefusedFile when it is missing or over the dashboard's limit."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as error:
        raise RefusedFile(f"{path} cannot be read: {error.strerror or error}.", str(path)) from None
    if not path.is_file():
        raise RefusedFile(f"{path} is not a file.", str(path))
    if size > max_bytes:
        raise RefusedFile(f"{path.name} is larger than the {human_size(max_bytes)} limit. "
                          "Please submit a smaller CSV (or split it into parts).", str(path))
    return path.name, path.read_bytes()


def check_file(name: str, data: bytes, description: dict[str, Any] | None, path: str = "") -> tuple[str, bytes]:
    """The (safe name, bytes) the dashboard would store for this file; RefusedFile with its message."""
    try:
        upload = check_csv(name, data)
        check_against(description, upload.name, upload.data)
    except UploadRejected as error:
        raise RefusedFile(str(error), path or name) from None
    return upload.name, upload.data


def param_specs(description: dict[str, Any] | None) -> list[dict[str, Any]]:
    return [p for p in (description or {}).get("params") or [] if isinstance(p, dict) and p.get("name")]


def parse_value(text: Any) -> Any:
    """A command-line value as the form would send it: a number when it reads as one, else the text."""
    if not isinstance(text, str):
        return text
    for kind in (int, float):
        try:
            value = kind(text.strip())
        except ValueError:
            continue
        if kind is int or math.isfinite(value):
            return value
    return text


def check_params(description: dict[str, Any] | None, params: dict[str, Any] | None) -> dict[str, Any]:
    """The clean parameters (names the job declares; missing ones get the worker's default);
    BadInput naming the first wrong one, with every problem in `problems`."""
    from dashboard.pages.predict import check_inputs  # the form's own checks (imports dash: only when needed)

    given = {str(name): parse_value(value) for name, value in (params or {}).items()}
    if not given:
        return {}
    specs = param_specs(description)
    if description is None:
        return given  # no description published yet: the worker's own checks decide, as on the dashboard
    known = {spec["name"] for spec in specs}
    problems = {name: f"This job has no parameter '{name}'; it takes: {', '.join(sorted(known)) or 'none'}."
                for name in given if name not in known}
    clean, found = check_inputs([spec for spec in specs if spec["name"] in given], given)
    problems.update(found)
    if problems:
        listed = "; ".join(f"{name}: {problem}" for name, problem in problems.items())
        raise BadInput(f"Please correct the settings ({listed})", next(iter(problems)), problems)
    return clean
