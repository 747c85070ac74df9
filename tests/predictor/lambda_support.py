"""Helpers for tests that reach the predictor only as a client would: boto3's Lambda client
against the local Invoke endpoint (devstack.lambda_server)."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from devstack.lambda_server import LambdaServer
from tests.fixtures.apps import apps_with
from tests.support import free_port

REPO = Path(__file__).resolve().parents[2]
APPS = REPO / "apps"
FUNCTION = "ml-proto-test-predictor"


def lambda_client(url: str) -> Any:
    """A real boto3 Lambda client on the local endpoint; no retries, so one call is one invoke."""
    config = Config(retries={"mode": "standard", "total_max_attempts": 1}, read_timeout=120, max_pool_connections=25)
    return boto3.session.Session().client(
        "lambda",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=config,
    )


@dataclass
class Reply:
    status: int
    function_error: str | None
    body: Any
    request_id: str


def invoke(client: Any, payload: Any, function: str = FUNCTION, raw: bytes | None = None, **kwargs: Any) -> Reply:
    """Invoke and decode the JSON answer (handler result or Lambda error object)."""
    response = client.invoke(FunctionName=function, Payload=raw if raw is not None else json.dumps(payload), **kwargs)
    text = response["Payload"].read()
    return Reply(
        status=response["StatusCode"],
        function_error=response.get("FunctionError"),
        body=json.loads(text) if text else None,
        request_id=response["ResponseMetadata"]["RequestId"],
    )


def start_server(apps_dir: Path, model_dir: Path | None = None, log_path: Path | None = None,
                 **kwargs: Any) -> LambdaServer:
    """A started local Lambda of the function in `apps_dir`; MODEL_DIR (if given) must be readable."""
    env = {"LOG_LEVEL": "INFO", **({"MODEL_DIR": str(model_dir)} if model_dir is not None else {})}
    server = LambdaServer(
        host="127.0.0.1",
        port=free_port(),
        apps_dir=apps_dir,
        function_name=FUNCTION,
        env=env,
        log_path=log_path,
        **kwargs,
    )
    server.start()
    return server


def copy_apps(destination: Path) -> Path:
    """A private copy of apps/ (code only, the fixture classifier as its model) that a test may edit."""
    return apps_with(destination)


def readable_dir(prefix: str) -> Path:
    """A new folder every user can read (pytest's tmp_path is owner-only, and the local Lambda's
    instances run as another user when the tests run as root). The caller removes it."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


def runtime_children(server: LambdaServer) -> set[int]:
    """Pids of this process's live children that are instances of `server` (AWS's runtime
    interface client running in one of the server's images)."""
    images = str(server.pool.workdir)
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        state, parent = fields[0], int(fields[1])
        if parent != os.getpid() or state == "Z" or b"awslambdaric" not in cmdline:
            continue
        if cwd.startswith(images + os.sep):
            found.add(int(entry.name))
    return found


def has_exited(pid: int) -> bool:
    """Whether process `pid` has finished exiting (a zombie or gone). runtime_children cannot
    tell: it stops listing a process once its working directory is released, which happens
    partway through exiting, while the process still looks alive to anyone reading its state."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")


def log_lines(path: Path) -> list[dict[str, Any]]:
    """The JSON lines of an instance log (anything else, e.g. a traceback, is skipped)."""
    lines = []
    for line in path.read_text().splitlines():
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
    return lines
