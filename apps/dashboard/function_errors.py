"""What a Lambda function error means: a code bug, a model that cannot start, or a transient.

Lambda answers an unhandled function error with 200, `X-Amz-Function-Error: Unhandled` and the
error object the runtime reported as the payload: `{"errorType", "errorMessage", "stackTrace"}`
(awslambdaric's shape for an exception in the handler or at init, and the local twin's). Lambda's
own failures use the same shape with types of its own: `Sandbox.Timedout` ("Task timed out after
N seconds"), `Runtime.ImportModuleError`, `Runtime.UserCodeSyntaxError`, `Runtime.ExitError`...
`classify(payload, action)` turns one into a `FunctionFailure`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

# What Lambda (or the twin) reports when the run, not the code, failed: worth another try.
TRANSIENT_TYPES = frozenset({"Sandbox.Timedout", "Runtime.Unavailable"})
# What awslambdaric reports when the handler's module never loaded.
START_TYPES = frozenset({"Runtime.ImportModuleError", "Runtime.UserCodeSyntaxError", "Runtime.HandlerNotFound",
                         "Runtime.MalformedHandlerName"})
_FRAME = re.compile(r'File "([^"]+)", line (\d+), in (\S+)')
_SYNTAX_FRAME = re.compile(r'File "([^"]+)" Line (\d+)')  # awslambdaric's trace for a SyntaxError
_LIBRARY = ("site-packages", "dist-packages", "/lib/python", "awslambdaric", "<frozen")


@dataclass(frozen=True)
class FunctionFailure:
    """One function error: `kind` is "timeout", "unavailable", "cannot_start" or "code"."""

    kind: str
    error_type: str
    message: str
    where: str = ""  # "predictor/model.py:30 in predict": the innermost frame of the app's own code

    @property
    def transient(self) -> bool:
        return self.kind in ("timeout", "unavailable")

    def detail(self) -> str:
        """One line for the data scientist: type, message and where."""
        text = f"{self.error_type}: {self.message}" if self.message else self.error_type
        return f"{text} (at {self.where})" if self.where else text


def app_frame(trace: Any) -> str:
    """The innermost frame of `trace` (Lambda's stackTrace: a list of frame strings) that is not
    library code, as "package/file.py:line in function"; "" when there is none."""
    if not isinstance(trace, list):
        return ""
    found = ""
    for entry in trace:
        text = str(entry)
        match = _FRAME.search(text) or _SYNTAX_FRAME.search(text)
        if match is None or any(marker in match.group(1) for marker in _LIBRARY):
            continue
        path = "/".join(match.group(1).replace("\\", "/").split("/")[-2:])
        function = f" in {match.group(3)}" if match.re is _FRAME else ""
        found = f"{path}:{match.group(2)}{function}"
    return found


def _at_import(trace: Any) -> bool:
    """Whether the trace runs through a module's top level: the error happened at init."""
    return isinstance(trace, list) and any(
        (match := _FRAME.search(str(entry))) is not None and match.group(3) == "<module>" for entry in trace)


def classify(payload: bytes, action: str = "predict") -> FunctionFailure:
    """What the error `payload` of one invoke of `action` means (a payload that is not the error
    object counts as a code error of unknown type)."""
    try:
        error = json.loads(payload)
    except ValueError:
        error = None
    if not isinstance(error, dict):
        error = {"errorType": "Unknown", "errorMessage": payload[:300].decode("utf-8", "replace")}
    error_type = str(error.get("errorType") or "Unknown")[:200]
    message = str(error.get("errorMessage") or "")[:500]
    where = app_frame(error.get("stackTrace"))
    if error_type == "Sandbox.Timedout" or "Task timed out" in message:
        kind = "timeout"
    elif error_type in TRANSIENT_TYPES:
        kind = "unavailable"
    elif error_type in START_TYPES or action == "describe" or _at_import(error.get("stackTrace")):
        # describe runs no model code: if it fails, the handler's init did (a failed init is
        # reported on every invoke, with the init's own exception and a trace through the import).
        kind = "cannot_start"
    else:
        kind = "code"
    return FunctionFailure(kind, error_type, message, where)
