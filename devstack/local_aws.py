"""The embedded local AWS: moto's server in this process, with the table and bucket created
from the job contract's own definitions (the same objects the Pulumi JobStore uses).

`LocalAws` serves moto's WSGI app through a thin middleware that counts every API call by
operation (for benchmarks: calls per job, across all processes) and can inject AWS-shaped
faults at a set rate (throttling, 5xx, connection resets before or after the call took effect)
for the fault-injection tests. Behind it, `StrictAws` refuses the requests AWS would refuse and
moto would not (devstack/strict_aws.py; on unless a test asks for plain moto). In front of it,
`ControlGuard` keeps moto's control API (`/moto-api/...`: the recorder, state resets) to whoever
holds this run's token: AWS has no such API, and anyone on the machine who stopped the recorder
would silently lose the next changes.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from jobkit import StoreSettings
from jobkit.schema import TABLE
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from devstack.faults import FaultInjector, reset_connection
from devstack.persistence import CONTROL_HEADER
from devstack.strict_aws import StrictAws

log = logging.getLogger("devstack.aws")

# Moto answers any key pair; these exist only so boto3 signs requests to the local server.
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}


def operation_of(environ: dict[str, Any]) -> tuple[str, str]:
    """(service, operation) of a request: DynamoDB/ECS by X-Amz-Target, anything else is S3."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        prefix, _, operation = target.partition(".")
        return ("dynamodb" if prefix.startswith("DynamoDB") else prefix.lower(), operation)
    return ("s3", environ.get("REQUEST_METHOD", "GET"))


def _fault_response(service: str, kind: str) -> tuple[str, list[tuple[str, str]], bytes]:
    if service == "dynamodb":
        code, status = (
            ("ThrottlingException", "400 Bad Request")
            if kind == "throttle"
            else ("InternalServerError", "500 Internal Server Error")
        )
        body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "injected fault"})
        return status, [("Content-Type", "application/x-amz-json-1.0")], body.encode()
    code, status = ("SlowDown", "503 Slow Down") if kind == "throttle" else ("InternalError", "500 Internal Error")
    body = f"<Error><Code>{code}</Code><Message>injected fault</Message></Error>"
    return status, [("Content-Type", "application/xml")], body.encode()


class TrafficMiddleware:
    """Counts calls by 'service.Operation' and injects the faults `self.faults` draws."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.calls: Counter[str] = Counter()
        self.faults = FaultInjector()
        self._lock = threading.Lock()
        # moto's DynamoDB has no locking of its own: two threads could both pass one condition
        # check. Real DynamoDB applies each conditional write atomically, so serialise them here.
        self._dynamodb = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        service, operation = operation_of(environ)
        with self._lock:
            self.calls[f"{service}.{operation}"] += 1
        signed = "HTTP_AUTHORIZATION" in environ  # presigned browser downloads are left alone
        kind = self.faults.draw(f"{service}.{operation}") if signed and service in ("dynamodb", "s3") else None
        if kind is None:
            return self._forward(service, environ, start_response)
        if kind in ("throttle", "server_error"):
            status, headers, body = _fault_response(service, kind)
            start_response(status, [*headers, ("Content-Length", str(len(body)))])
            return [body]
        if kind == "reset_after":  # the call takes effect, then the answer is lost
            b"".join(self._forward(service, environ, lambda *args, **kwargs: None))
        reset_connection(environ.get("werkzeug.socket"))
        start_response("500 Internal Server Error", [("Content-Length", "0")])
        return []

    def _forward(self, service: str, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Run the request through moto, one DynamoDB request at a time."""
        if service != "dynamodb":
            return self.app(environ, start_response)
        with self._dynamodb:
            return list(self.app(environ, start_response))


CONTROL_PREFIX = "/moto-api"


class ControlGuard:
    """Refuses every request to moto's control API that does not carry this run's token (403)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], token: str) -> None:
        self.app, self.token = app, token
        self.refused = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or ""
        # werkzeug decodes PATH_INFO; RAW_URI is what was sent (a %2f or doubled slash must not slip by).
        raw = (environ.get("RAW_URI") or environ.get("REQUEST_URI") or path).split("?", 1)[0]
        if not any(p.lstrip("/").lower().startswith(CONTROL_PREFIX[1:]) for p in (path, raw)):
            return self.app(environ, start_response)
        given = environ.get("HTTP_" + CONTROL_HEADER.upper().replace("-", "_"), "")
        if hmac.compare_digest(given.encode(), self.token.encode()):
            return self.app(environ, start_response)
        self.refused += 1
        log.warning("moto control API refused: no valid token", extra={"path": path[:100]})
        body = json.dumps({"message": "The local AWS's control API needs this run's token."}).encode()
        start_response("403 Forbidden", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


class _Dispatcher(DomainDispatcherApplication):
    """moto's dispatcher, remembering which backend serves each host: moto works it out again for
    every request, listing its package's folders and trying its URL patterns one by one, under a
    lock all requests share (a third of the local AWS's time per DynamoDB call)."""

    def __init__(self, create_app: Callable[..., Any]) -> None:
        super().__init__(create_app)
        self._backends: dict[str | None, Any] = {}

    def get_backend_for_host(self, host: str | None) -> Any:
        if host not in self._backends:  # called with moto's own lock held
            self._backends[host] = super().get_backend_for_host(host)
        return self._backends[host]


class _QuietHandler(MotoRequestHandler):
    """moto's request handler, without werkzeug's per-request log and reset noise."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass

    def log_error(self, *args: Any) -> None:
        pass


class LocalAws:
    """moto's server on host:port in a background thread, behind StrictAws and TrafficMiddleware.

    `strict=False` gives plain moto: only for a test that shows what the strict layer adds.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 5055, strict: bool = True,
                 control_token: str | None = None) -> None:
        self.host, self.port = host, port
        moto: Callable[..., Iterable[bytes]] = _Dispatcher(create_backend_app)
        credentials = {LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"]: LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]}
        self.strict = StrictAws(moto, credentials) if strict else None
        self.traffic = TrafficMiddleware(self.strict or moto)
        # A new token each run unless one is given: only this process (and whom it tells) holds it.
        self.control_token = control_token or secrets.token_urlsafe(32)
        self.guard = ControlGuard(self.traffic, self.control_token)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        # start() and stop() may come from two threads at once (a supervisor restarting what a
        # caller is still stopping): one at a time, or one closes the server the other started.
        self._lifecycle = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def control_headers(self) -> dict[str, str]:
        """The header a request to moto's control API (`/moto-api/...`) needs."""
        return {CONTROL_HEADER: self.control_token}

    def start(self) -> LocalAws:
        """Serve on host:port from a background thread; returns once the socket listens."""
        with self._lifecycle:
            self._start()
        return self

    def _start(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = make_server(self.host, self.port, self.guard, threaded=True, request_handler=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-aws", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket (moto's data stays in this process)."""
        with self._lifecycle:
            self._stop()

    def _stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None


def app_env(settings: StoreSettings, endpoint: str) -> dict[str, str]:
    """The environment variables an app process needs to use this store on the local AWS."""
    return {**LOCAL_CREDENTIALS, "AWS_ENDPOINT_URL": endpoint, **settings.to_env()}


def local_client(service: str, endpoint: str, region: str) -> Any:
    """A boto3 client for the local AWS at `endpoint`, whatever this process's AWS settings are."""
    config = Config(retries={"mode": "standard", "total_max_attempts": 6},
                    signature_version="s3v4" if service == "s3" else None)
    return boto3.session.Session(
        aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    ).client(service, endpoint_url=endpoint, region_name=region, config=config)


def bootstrap(endpoint: str, region: str, table: str, bucket: str) -> dict[str, Any]:
    """Create the jobs table (from jobkit.schema.TABLE) and the bucket; safe to call twice.

    Returns the create_table arguments used, so tests can compare them with the cloud's.
    """
    dynamodb = local_client("dynamodb", endpoint, region)
    kwargs = TABLE.create_table_kwargs(table)
    try:
        dynamodb.create_table(**kwargs)
        dynamodb.update_time_to_live(
            TableName=table,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": TABLE.ttl_attribute},
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceInUseException":
            raise
    s3 = local_client("s3", endpoint, region)
    try:
        s3.create_bucket(Bucket=bucket)
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    log.info("local table and bucket ready", extra={"table": table, "bucket": bucket})
    return kwargs
