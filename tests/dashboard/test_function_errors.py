"""Lambda's function errors, as awslambdaric and Lambda report them, sorted into what they mean."""

from __future__ import annotations

import json

import pytest
from dashboard.function_errors import app_frame, classify


def payload(error_type: str, message: str = "", trace: list[str] | None = None) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message, "requestId": "r",
                       "stackTrace": trace or []}).encode()


INIT_TRACE = [  # a KeyError in train() while the handler module imports (awslambdaric's init error)
    '  File "/var/lang/lib/python3.12/importlib/__init__.py", line 90, in import_module\n',
    '  File "<frozen importlib._bootstrap>", line 1387, in _gcd_import\n',
    '  File "/var/task/predictor/handler.py", line 24, in <module>\n    PREDICTOR = Predictor.load(model, SETTINGS)\n',
    '  File "/var/task/predictor/model.py", line 12, in train\n    rows = data["rows"]\n',
]


@pytest.mark.parametrize(("body", "action", "kind"), [
    (payload("Sandbox.Timedout", "RequestId: r Error: Task timed out after 30.00 seconds"), "predict", "timeout"),
    (payload("Runtime.Unavailable", "The endpoint is stopping"), "predict", "unavailable"),
    (payload("Runtime.ImportModuleError", "Unable to import module 'predictor.handler': No module named 'x'"),
     "predict", "cannot_start"),
    (payload("Runtime.UserCodeSyntaxError", "Syntax error in module 'predictor.handler'"), "predict", "cannot_start"),
    (payload("KeyError", "'rows'", INIT_TRACE), "predict", "cannot_start"),
    (payload("ValueError", "boom"), "describe", "cannot_start"),  # describe runs no model code
    (payload("KeyError", "'weight'"), "predict", "code"),
    (payload("Runtime.ExitError", "Runtime exited with error: exit status 1"), "predict", "code"),
    (b"<html>not json</html>", "predict", "code"),
], ids=["timeout", "stopping", "import", "syntax", "init-trace", "describe", "code", "exit", "garbage"])
def test_each_function_error_means_what_it_says(body, action, kind):
    failure = classify(body, action)
    assert failure.kind == kind
    assert failure.transient is (kind in ("timeout", "unavailable"))


def test_the_line_named_is_the_apps_own_innermost_frame():
    assert app_frame(INIT_TRACE) == "predictor/model.py:12 in train"
    assert classify(payload("KeyError", "'rows'", INIT_TRACE)).detail() == \
        "KeyError: 'rows' (at predictor/model.py:12 in train)"
    assert app_frame(['  File "/var/task/predictor/model.py" Line 7\n    def f(:\n']) == "predictor/model.py:7"
    assert app_frame("not a list") == "" and app_frame([]) == ""
