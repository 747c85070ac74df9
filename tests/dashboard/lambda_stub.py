"""A scripted HTTP server that speaks the Lambda Invoke API, so the dashboard's real boto3 client
can be tested against answers a real function gives: good, refused, crashed, slow or garbage."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DESCRIBE = {
    "ok": True,
    "model_version": "stub-model-1",
    "title": "Flower guesser",
    "description": "Guesses a flower from two sizes.",
    "inputs": [
        {"name": "length", "label": "Length (cm)", "type": "number", "min": 1.0, "max": 8.0, "step": 0.1,
         "default": 5.0, "help": "From base to tip."},
        {"name": "petals", "label": "Petals", "type": "integer", "min": 3, "max": 12, "step": 1, "default": 5},
        {"name": "colour", "label": "Colour", "type": "choice", "choices": ["red", "blue"], "default": "red"},
    ],
    "output": {"name": "flower", "label": "Flower", "kind": "class-probabilities"},
}


def good_answer(event: dict[str, Any]) -> dict[str, Any]:
    """What a healthy predictor answers: the describe, or a prediction that depends on the inputs."""
    if event.get("action") == "describe":
        return DESCRIBE
    length = event["inputs"]["length"]
    label = "rose" if length > 4 else "daisy"
    return {
        "ok": True, "model_version": DESCRIBE["model_version"],
        "prediction": {"label": label, "value": label},
        "chart": {"data": [{"type": "bar", "x": ["rose", "daisy"], "y": [length / 8, 1 - length / 8]}],
                  "layout": {"title": {"text": "Probabilities"}}},
        "timing_ms": {"predict": 0.5, "init": 10.0, "cold_start": False},
    }


@dataclass
class Reply:
    """One scripted answer: a JSON payload (or raw bytes), optional FunctionError, optional delay."""

    payload: Any = None
    raw: bytes | None = None
    function_error: str = ""
    delay: float = 0.0
    status: int = 200


@dataclass
class LambdaStub:
    respond: Callable[[dict[str, Any]], Reply] = field(default=lambda event: Reply(good_answer(event)))
    events: list[dict[str, Any]] = field(default_factory=list)

    def start(self) -> LambdaStub:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                event = json.loads(self.rfile.read(length) or b"{}")
                stub.events.append({"path": self.path, **event})
                reply = stub.respond(event)
                if reply.delay:
                    time.sleep(reply.delay)  # a slow function, to exercise the client's timeout
                body = reply.raw if reply.raw is not None else json.dumps(reply.payload).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("X-Amzn-RequestId", uuid.uuid4().hex)
                    if reply.function_error:
                        self.send_header("X-Amz-Function-Error", reply.function_error)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
