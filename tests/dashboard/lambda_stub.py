"""A scripted HTTP server that speaks the Lambda Invoke API, so the dashboard's real boto3 client
can be tested against answers a real function gives: good, refused, crashed, slow or garbage.
Good answers come from the predictor's own service running a fixture model (tests/fixtures/models)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

from predictor.artifact import Loaded
from predictor.service import Predictor
from predictor.settings import PredictorSettings

from tests.fixtures.models import classifier


def fixture_predictor(module: ModuleType = classifier) -> Predictor:
    """The real predictor service (its describe, validation and answers) on a fixture model, trained
    in memory: the stub answers as that model's Lambda would, whatever apps/predictor/model.py is."""
    return Predictor(module, Loaded(module.train(), Path("in-memory"), trained=True), PredictorSettings())


def answers_of(predictor: Predictor) -> Callable[[dict[str, Any]], Reply]:
    """A `respond` for LambdaStub: what a healthy function running `predictor` answers."""
    def respond(event: dict[str, Any]) -> Reply:
        answer = predictor.handle(event)
        if event.get("action") == "predict" and answer.get("ok"):
            answer["timing_ms"] = {**answer["timing_ms"], "init": 10.0, "cold_start": False}
        return Reply(answer)
    return respond


PREDICTOR = fixture_predictor()
DESCRIBE = PREDICTOR.describe()


def good_answer(event: dict[str, Any]) -> dict[str, Any]:
    """What a healthy predictor running the fixture classifier answers: its describe, or a prediction."""
    return answers_of(PREDICTOR)(event).payload


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
