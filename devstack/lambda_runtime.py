"""One local Lambda instance: `python -m devstack.lambda_runtime <module.function>`.

The parent (devstack.lambda_server) starts it with the apps folder first on sys.path. It imports
the handler once (the instance's init), says so, then answers invokes one at a time, for as long
as it lives. It speaks JSON lines: requests on stdin, replies on the original stdout. The
handler's own prints and logs go to stderr, as in Lambda, so they cannot corrupt the replies.

  ready       {"type": "ready", "init_ms": 812.3}
  init error  {"type": "init_error", "error": {"errorMessage", "errorType", "stackTrace"}}
  request     {"request_id": "...", "payload": "<JSON text>", "deadline": <epoch seconds>,
               "function_name": "...", "function_arn": "...", "timeout_seconds": 30.0}
  result      {"type": "result", "body": "<JSON text>"}
  error       {"type": "error", "error": {"errorMessage", "errorType", "requestId", "stackTrace"}}
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, TextIO


@dataclass
class LambdaContext:
    """The attributes and method of the context object Lambda's Python runtime passes."""

    aws_request_id: str
    function_name: str
    invoked_function_arn: str
    deadline: float
    function_version: str = "$LATEST"
    memory_limit_in_mb: str = field(default_factory=lambda: os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024"))
    log_group_name: str = ""
    log_stream_name: str = "local"
    client_context: Any = None
    identity: Any = None

    def __post_init__(self) -> None:
        self.log_group_name = f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.time()) * 1000))


def error_body(error: BaseException, error_type: str | None = None, message: str | None = None) -> dict[str, Any]:
    """An exception as Lambda's Python runtime reports it."""
    return {
        "errorMessage": message if message is not None else str(error),
        "errorType": error_type or type(error).__name__,
        "stackTrace": traceback.format_list(traceback.extract_tb(error.__traceback__)),
    }


def _send(channel: TextIO, message: dict[str, Any]) -> None:
    channel.write(json.dumps(message) + "\n")
    channel.flush()


def _load(spec: str) -> Any:
    module_name, _, function_name = spec.rpartition(".")
    module = importlib.import_module(module_name)
    return getattr(module, function_name)


def _invoke(handler: Any, request: dict[str, Any]) -> dict[str, Any]:
    context = LambdaContext(
        aws_request_id=request["request_id"],
        function_name=request["function_name"],
        invoked_function_arn=request["function_arn"],
        deadline=request["deadline"],
    )
    try:
        event = json.loads(request["payload"])
        result = handler(event, context)
    except Exception as error:  # noqa: BLE001 - reported to the caller as the function error
        traceback.print_exc()
        return {"type": "error", "error": {**error_body(error), "requestId": context.aws_request_id}}
    try:
        return {"type": "result", "body": json.dumps(result)}
    except (TypeError, ValueError) as error:
        message = f"Unable to marshal response: {error}"
        return {"type": "error", "error": {**error_body(error, "Runtime.MarshalError", message), "requestId": ""}}


def main(argv: list[str]) -> int:
    spec = argv[1] if len(argv) > 1 else "predictor.handler.handler"
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    os.dup2(2, 1)  # print() in the handler goes to the log, as in Lambda
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    started = time.perf_counter()
    try:
        handler = _load(spec)
    except Exception as error:  # noqa: BLE001 - any init failure is the function's error
        traceback.print_exc()
        module_name = spec.rpartition(".")[0]
        if isinstance(error, ImportError | SyntaxError):
            body = error_body(error, "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}")
        else:
            body = error_body(error)
        _send(replies, {"type": "init_error", "error": body})
        return 1
    _send(replies, {"type": "ready", "init_ms": round((time.perf_counter() - started) * 1000, 1)})
    for line in requests:
        _send(replies, _invoke(handler, json.loads(line)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
