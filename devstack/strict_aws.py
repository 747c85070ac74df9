"""AWS's documented request rules that moto does not enforce, checked in front of moto.

`StrictAws` wraps moto's WSGI app. Each operation the apps call has one checker in `RULES`; a
request that breaks a rule is answered as AWS answers it (error code, HTTP status, and the body
shape of that service's protocol) and never reaches moto. docs/contracts.md lists every rule with
its source; rules moto or botocore already enforce are listed there, not repeated here.
"""

from __future__ import annotations

import hmac
import io
import json
import logging
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlunsplit

from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

log = logging.getLogger("devstack.strict")


@dataclass(frozen=True)
class Refusal:
    """What AWS answers to a request that breaks one of its rules."""

    code: str
    message: str
    status: str = "400 Bad Request"


Checker = Callable[[dict[str, Any]], "Refusal | None"]


# --- ECS (JSON 1.1; rules from the ECS API Reference, as in botocore's ecs service model) -----

def _ecs(message: str) -> Refusal:
    return Refusal("InvalidParameterException", message)


# ListTasks request members that filter the results (cluster, maxResults and nextToken do not):
# every member of botocore's ListTasks input shape but those and startedBy itself.
LIST_TASKS_FILTERS = ("containerInstance", "family", "serviceName", "desiredStatus", "launchType", "daemonName")
STARTED_BY = re.compile(r"[A-Za-z0-9_/-]{1,128}")


def check_list_tasks(body: dict[str, Any]) -> Refusal | None:
    """ListTasks, startedBy: "When you specify startedBy as the filter, it must be the only filter"."""
    others = [name for name in LIST_TASKS_FILTERS if name in body]
    if "startedBy" in body and others:
        return _ecs(f"startedBy must be the only filter when it is specified; the request also filters by "
                    f"{', '.join(others)}.")
    return None


def check_run_task(body: dict[str, Any]) -> Refusal | None:
    """RunTask: count up to 10; startedBy up to 128 of [A-Za-z0-9-/_]; at most 16 subnets, 5 groups."""
    count = body.get("count", 1)
    if not 1 <= count <= 10:
        return _ecs(f"count must be between 1 and 10 (RunTask starts up to 10 tasks a call), not {count}.")
    started_by = body.get("startedBy")
    if started_by is not None and not STARTED_BY.fullmatch(started_by):
        return _ecs("startedBy may hold up to 128 letters, numbers, hyphens (-), forward slashes (/) "
                    "and underscores (_).")
    vpc = body.get("networkConfiguration", {}).get("awsvpcConfiguration", {})
    if len(vpc.get("subnets", [])) > 16:
        return _ecs("There's a limit of 16 subnets that can be specified.")
    if len(vpc.get("securityGroups", [])) > 5:
        return _ecs("There's a limit of 5 security groups that can be specified.")
    return None


def check_describe_tasks(body: dict[str, Any]) -> Refusal | None:
    """DescribeTasks, tasks: "A list of up to 100 task IDs or full ARN entries"."""
    if len(body.get("tasks", [])) > 100:
        return _ecs("tasks can hold up to 100 task IDs or full ARN entries.")
    return None


# --- DynamoDB (JSON 1.0; rules from the DynamoDB Developer Guide, "Expression attribute names
# and values") ----------------------------------------------------------------------------------

def _ddb(message: str) -> Refusal:
    return Refusal("ValidationException", message)


def check_expression_maps(body: dict[str, Any]) -> Refusal | None:
    """ExpressionAttributeNames / ExpressionAttributeValues, when given, must not be empty
    (moto accepts an empty map on UpdateItem)."""
    for member in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
        if member in body and not body[member]:
            return _ddb(f"{member} must not be empty")
    return None


def check_query(body: dict[str, Any]) -> Refusal | None:
    """Query: every value placeholder given must be used in an expression (moto checks this for
    UpdateItem and PutItem, and unused names for Query too, but not unused values for Query)."""
    refusal = check_expression_maps(body)
    if refusal:
        return refusal
    expressions = " ".join(body.get(member, "") for member in ("KeyConditionExpression", "FilterExpression"))
    unused = sorted(set(body.get("ExpressionAttributeValues") or {}) - set(re.findall(r":[A-Za-z0-9_]+", expressions)))
    if unused:
        return _ddb(f"Value provided in ExpressionAttributeValues unused in expressions: keys: {{{', '.join(unused)}}}")
    return None


# X-Amz-Target prefixes of the JSON services the apps call: DynamoDB_20120810, AmazonEC2ContainerServiceV20141113.
SERVICE_PREFIXES = (("DynamoDB", "dynamodb"), ("AmazonEC2ContainerService", "ecs"))

RULES: dict[str, Checker] = {
    "ecs.ListTasks": check_list_tasks,
    "ecs.RunTask": check_run_task,
    "ecs.DescribeTasks": check_describe_tasks,
    "dynamodb.Query": check_query,
    "dynamodb.GetItem": check_expression_maps,
    "dynamodb.PutItem": check_expression_maps,
    "dynamodb.UpdateItem": check_expression_maps,
}


# --- S3 (REST-XML) ----------------------------------------------------------------------------

# S3 GetObject: "If you don't have the s3:ListBucket permission, Amazon S3 returns an HTTP status
# code 403 Access Denied error" for a missing key. The cloud roles hold ListBucket only under an
# s3:prefix condition, and AWS does not document whether such a grant decides this answer, so the
# twin gives the stricter one: the apps must cope with AccessDenied where they expect NoSuchKey.
MISSING_KEY = Refusal("AccessDenied", "Access Denied", "403 Forbidden")


def _json_body(service: str, refusal: Refusal) -> tuple[bytes, str]:
    if service == "dynamodb":
        kind, content_type = f"com.amazon.coral.validate#{refusal.code}", "application/x-amz-json-1.0"
    else:
        kind, content_type = refusal.code, "application/x-amz-json-1.1"
    return json.dumps({"__type": kind, "message": refusal.message}).encode(), content_type


def _xml_body(refusal: Refusal, request_id: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{refusal.code}</Code>'
            f"<Message>{refusal.message}</Message><RequestId>{request_id}</RequestId>"
            f"<HostId>{request_id}</HostId></Error>").encode()


# --- S3 presigned URLs (SigV4 query auth): moto checks neither the signature nor the expiry ------

_QUERY_AUTH = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
               "X-Amz-Signature", "X-Amz-Security-Token")
EXPIRED = Refusal("AccessDenied", "Request has expired", "403 Forbidden")
BAD_SIGNATURE = Refusal("SignatureDoesNotMatch", "The request signature we calculated does not match the signature "
                        "you provided. Check your key and signing method.", "403 Forbidden")
UNKNOWN_KEY = Refusal("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.",
                      "403 Forbidden")
BAD_QUERY_AUTH = Refusal("AuthorizationQueryParametersError", "X-Amz-Date, X-Amz-Expires and X-Amz-Credential "
                         "must be well formed.")


def check_presigned(environ: dict[str, Any], secrets: dict[str, str], now: float) -> Refusal | None:
    """A SigV4 presigned S3 request (X-Amz-Signature in its query), checked as S3 checks it: not
    expired (X-Amz-Date + X-Amz-Expires), a known access key, and the signature botocore's own
    signer computes for the request as it arrived, with that key's secret."""
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    if "X-Amz-Signature" not in query:
        return None
    value = {name: values[0] for name, values in query.items()}
    try:
        signed_at = datetime.strptime(value["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        expires = int(value["X-Amz-Expires"])
        key_id, _day, region, service, _ = value["X-Amz-Credential"].split("/")
    except (KeyError, ValueError):
        return BAD_QUERY_AUTH
    if now > signed_at.timestamp() + expires:
        return EXPIRED
    secret = secrets.get(key_id)
    if secret is None:
        return UNKNOWN_KEY
    expected = _query_signature(environ, Credentials(key_id, secret), region, service, value, expires)
    if not hmac.compare_digest(expected, value["X-Amz-Signature"]):
        return BAD_SIGNATURE
    return None


def _query_signature(environ: dict[str, Any], credentials: Credentials, region: str, service: str,
                     value: dict[str, str], expires: int) -> str:
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
    path, _, raw_query = raw.partition("?")
    kept = [part for part in raw_query.split("&") if part and unquote(part.partition("=")[0]) not in _QUERY_AUTH]
    host = environ.get("HTTP_HOST", "")
    headers = {name: environ.get("HTTP_" + name.upper().replace("-", "_"), "")
               for name in value.get("X-Amz-SignedHeaders", "host").split(";") if name != "host"}
    request = AWSRequest(method=environ.get("REQUEST_METHOD", "GET"),
                         url=urlunsplit(("http", host, path, "&".join(kept), "")), headers={"host": host, **headers})
    request.context["timestamp"] = value["X-Amz-Date"]
    signer = S3SigV4QueryAuth(credentials, service, region, expires=expires)
    # What SigV4QueryAuth.add_auth does, with the request's own timestamp instead of the clock's.
    signer._modify_request_before_signing(request)
    canonical = signer.canonical_request(request)
    return signer.signature(signer.string_to_sign(request, canonical), request)


class StrictAws:
    """WSGI middleware: refuses what AWS refuses before moto sees it; counts refusals by rule.
    `credentials` (access key id: secret) are the keys presigned URLs may be signed with."""

    def __init__(self, app: Callable[..., Iterable[bytes]], credentials: dict[str, str] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.app = app
        self.credentials = dict(credentials or {})
        self.clock = clock
        self.refused: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target:
            return self._json_request(target, environ, start_response)
        if "X-Amz-Signature" in environ.get("QUERY_STRING", ""):
            refusal = check_presigned(environ, self.credentials, self.clock())
            if refusal is not None:
                self._refused(f"s3.{environ.get('REQUEST_METHOD', 'GET')}", refusal)
                request_id = uuid.uuid4().hex[:16].upper()
                payload = _xml_body(refusal, request_id)
                start_response(refusal.status, [("Content-Type", "application/xml"),
                                                ("Content-Length", str(len(payload))),
                                                ("x-amz-request-id", request_id)])
                return [payload]
        if environ.get("REQUEST_METHOD") == "GET" and environ.get("PATH_INFO", "/").strip("/").count("/") >= 1:
            return self._get_object(environ, start_response)
        return self.app(environ, start_response)

    def _json_request(self, target: str, environ: dict[str, Any],
                      start_response: Callable[..., Any]) -> Iterable[bytes]:
        prefix, _, operation = target.partition(".")
        service = next((name for start, name in SERVICE_PREFIXES if prefix.startswith(start)), prefix)
        checker = RULES.get(f"{service}.{operation}")
        if checker is None:
            return self.app(environ, start_response)
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(raw)  # moto reads the body again
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return self.app(environ, start_response)  # moto answers a malformed body itself
        refusal = checker(body)
        if refusal is None:
            return self.app(environ, start_response)
        self._refused(f"{service}.{operation}", refusal)
        payload, content_type = _json_body(service, refusal)
        start_response(refusal.status, [("Content-Type", content_type), ("Content-Length", str(len(payload))),
                                        ("x-amzn-RequestId", str(uuid.uuid4()))])
        return [payload]

    def _get_object(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        answer: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., Any]:
            answer.update(status=status, headers=headers)
            return lambda data: None

        body = b"".join(self.app(environ, capture))
        if answer["status"].startswith("404") and b"<Code>NoSuchKey</Code>" in body:
            self._refused("s3.GetObject", MISSING_KEY)
            request_id = uuid.uuid4().hex[:16].upper()
            payload = _xml_body(MISSING_KEY, request_id)
            start_response(MISSING_KEY.status, [("Content-Type", "application/xml"),
                                                ("Content-Length", str(len(payload))),
                                                ("x-amz-request-id", request_id)])
            return [payload]
        start_response(answer["status"], answer["headers"])
        return [body]

    def _refused(self, operation: str, refusal: Refusal) -> None:
        with self._lock:
            self.refused[f"{operation}:{refusal.code}"] += 1
        log.warning("request refused as AWS would refuse it",
                    extra={"operation": operation, "error_code": refusal.code, "error_message": refusal.message})
