"""Check one request's inputs against the model's fields, and the error a bad request answers.

Every problem is reported at once, per field, in words a stakeholder can act on; nothing here
raises anything but `RequestError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from predictor.interface import Field, json_type

BAD_REQUEST = "bad_request"
VALIDATION = "validation"
PAYLOAD_TOO_LARGE = "payload_too_large"

_NAME_SHOWN = 64  # longest field name echoed back in an error


class RequestError(Exception):
    """A request the predictor refuses: `kind` is validation, payload_too_large or bad_request."""

    def __init__(self, kind: str, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.fields = fields or {}

    def response(self) -> dict[str, Any]:
        return {"ok": False, "error": {"type": self.kind, "message": self.message, "fields": self.fields}}


def utf8_size(text: str) -> int:
    """Bytes of `text` in UTF-8, counting a lone surrogate (valid in JSON, not in UTF-8) too."""
    return len(text.encode("utf-8", "surrogatepass"))


def shown(name: Any) -> str:
    """A field name as it may appear in an error: printable UTF-8 (lone surrogates escaped), cut short."""
    text = str(name).encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= _NAME_SHOWN else text[:_NAME_SHOWN] + "..."


def _summary(problems: dict[str, str]) -> str:
    listed = "; ".join(f"{name}: {problem}" for name, problem in problems.items())
    noun = "input is" if len(problems) == 1 else "inputs are"
    return f"{len(problems)} {noun} invalid: {listed}"


def check_size(inputs: dict[str, Any], *, max_fields: int, max_string_bytes: int) -> None:
    """Refuse an absurdly large inputs object before looking at what it says."""
    if len(inputs) > max_fields:
        raise RequestError(
            PAYLOAD_TOO_LARGE,
            f"The inputs have {len(inputs)} fields; at most {max_fields} are accepted.",
            {"inputs": f"has more than {max_fields} fields"},
        )
    too_long = {}
    for name, value in inputs.items():
        if utf8_size(name) > max_string_bytes:
            too_long[shown(name)] = f"field name is longer than {max_string_bytes} bytes"
        elif isinstance(value, str) and utf8_size(value) > max_string_bytes:
            too_long[shown(name)] = f"is longer than {max_string_bytes} bytes"
    if too_long:
        raise RequestError(PAYLOAD_TOO_LARGE, f"Text values may be at most {max_string_bytes} bytes.", too_long)


def check_inputs(
    inputs: Any, fields: Sequence[Field], *, max_fields: int = 100, max_string_bytes: int = 1024
) -> dict[str, Any]:
    """The clean record (every field, converted), or RequestError naming each bad field."""
    if not isinstance(inputs, dict):
        raise RequestError(
            BAD_REQUEST, f"'inputs' must be a JSON object, not {json_type(inputs)}.",
            {"inputs": f"must be a JSON object, not {json_type(inputs)}"},
        )
    check_size(inputs, max_fields=max_fields, max_string_bytes=max_string_bytes)
    known = {field.name for field in fields}
    problems: dict[str, str] = {}
    record: dict[str, Any] = {}
    for field in fields:
        if field.name not in inputs:
            problems[field.name] = "is missing"
            continue
        try:
            record[field.name] = field.parse(inputs[field.name])
        except ValueError as error:
            problems[field.name] = str(error)
    for name in inputs:
        if name not in known:
            problems[shown(name)] = "is not an input of this model"
    if problems:
        raise RequestError(VALIDATION, _summary(problems), problems)
    return record
