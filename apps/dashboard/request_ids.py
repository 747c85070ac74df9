"""A request id for every dashboard request: every log line inside the request carries it, and
the response returns it as `X-Request-Id`. Behind the ALB it is the ALB's own trace id, so the
load balancer's logs and the dashboard's meet on one value."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping

import flask
from jobkit.logs import log_context

_ALB_TRACE_ROOT = re.compile(r"Root=([0-9A-Za-z-]{1,64})")


def request_id_of(headers: Mapping[str, str]) -> str:
    """The ALB's trace root (`X-Amzn-Trace-Id: Root=1-...`) when present and sane, else a new id."""
    match = _ALB_TRACE_ROOT.search(headers.get("X-Amzn-Trace-Id", "")[:256])
    return match.group(1) if match else uuid.uuid4().hex


def install(server: flask.Flask) -> None:
    """Bind a request id to each request's logs; install before any hook that may log or refuse."""

    @server.before_request
    def bind_request_id() -> None:
        flask.g.request_id = request_id_of(flask.request.headers)
        scope = log_context(request_id=flask.g.request_id)
        scope.__enter__()
        flask.g.log_scope = scope

    @server.after_request
    def return_request_id(response: flask.Response) -> flask.Response:
        response.headers["X-Request-Id"] = flask.g.get("request_id", "")
        return response

    @server.teardown_request
    def unbind_request_id(_error: BaseException | None) -> None:
        scope = flask.g.pop("log_scope", None)
        if scope is not None:
            scope.__exit__(None, None, None)
