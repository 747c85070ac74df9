"""Where the client points: the running `make dev` (`Target.local()`) or a deployed Pulumi stack
(`Target.stack(name)`).

A Target names the job table and bucket, the predictor function and the AWS endpoints, and says
how workers are started there. Locally all of it comes from `.devstack/target.json`, which the
running local stack writes (devstack/target_file.py); in the cloud from the stack's outputs
(`pulumi stack output --json`), with AWS credentials from the environment as for the AWS CLI.
Never the dashboard's password.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from jobkit import StoreSettings
from jobkit.settings import SettingsError

from mlproto.errors import TargetNotFound

REPO_ROOT = Path(__file__).resolve().parent.parent
TARGET_FILE = "target.json"  # devstack/target_file.py writes it; read here without importing devstack


@dataclass(frozen=True)
class LocalWorkers:
    """How the local dashboard's launcher starts a worker: the same command, limit, logs and environment."""

    command: tuple[str, ...]
    max_workers: int
    log_dir: Path
    env: dict[str, str] = field(repr=False)


@dataclass(frozen=True)
class Target:
    """One place the prototype runs. `endpoint_url` None means AWS itself (boto3's own configuration)."""

    label: str
    store: StoreSettings
    function_name: str
    aws_endpoint_url: str | None = None
    lambda_endpoint_url: str | None = None
    credentials: dict[str, str] | None = field(default=None, repr=False)  # local only: moto takes any
    predictor_timeout_seconds: float = 35.0
    local_workers: LocalWorkers | None = None
    cluster: str = ""  # cloud: the ECS cluster whose dashboard service says how to start workers
    outputs: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def region(self) -> str:
        return self.store.region

    def client(self, service: str, *, max_attempts: int = 6, **config: Any) -> Any:
        """A boto3 client for `service` at this target, with botocore's standard retries."""
        config.setdefault("connect_timeout", 5)
        config.setdefault("read_timeout", 30)
        if service == "s3":
            config.setdefault("signature_version", "s3v4")
        settings = Config(retries={"mode": "standard", "total_max_attempts": max_attempts}, **config)
        endpoint = self.lambda_endpoint_url if service == "lambda" else self.aws_endpoint_url
        session = boto3.session.Session(
            aws_access_key_id=(self.credentials or {}).get("AWS_ACCESS_KEY_ID"),
            aws_secret_access_key=(self.credentials or {}).get("AWS_SECRET_ACCESS_KEY"),
        )
        return session.client(service, region_name=self.region, endpoint_url=endpoint, config=settings)

    # --- the local stack --------------------------------------------------------------------

    @classmethod
    def local(cls, state_dir: Path | str | None = None) -> Target:
        """The running `make dev` whose state folder is `state_dir` (default: DEVSTACK_DIR, else
        .devstack/ at the repository root). TargetNotFound when it is not running."""
        folder = Path(state_dir or os.environ.get("DEVSTACK_DIR") or REPO_ROOT / ".devstack")
        path = folder / TARGET_FILE
        try:
            found = json.loads(path.read_text())
        except FileNotFoundError:
            raise TargetNotFound(f"No local stack is running here ({path} is missing). "
                                 "Start one with `make dev`.") from None
        except (OSError, ValueError) as error:
            raise TargetNotFound(f"{path} cannot be read ({error}); restart `make dev`.") from None
        try:
            worker = found["worker"]
            env = {str(k): str(v) for k, v in worker["env"].items()}
            target = cls(
                label=f"local stack ({found['dashboard_url']})",
                # The apps' own settings, as the worker reads them: same lease, attempts, retention.
                store=StoreSettings.from_env({**env, "JOBS_TABLE": found["table"], "JOBS_BUCKET": found["bucket"],
                                              "AWS_REGION": found["region"]}),
                function_name=found["function_name"],
                aws_endpoint_url=found["aws_url"],
                lambda_endpoint_url=found["lambda_url"],
                credentials={name: env[name] for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY") if name in env},
                predictor_timeout_seconds=float(found.get("predictor_timeout_seconds", 30)) + 5,
                local_workers=LocalWorkers(tuple(worker["command"]), int(worker["max_workers"]),
                                           Path(worker["log_dir"]), env),
            )
        except (KeyError, TypeError, ValueError, SettingsError) as error:
            raise TargetNotFound(f"{path} is not what `make dev` writes ({error!r}); restart `make dev`.") from None
        for url in (target.aws_endpoint_url, target.lambda_endpoint_url):
            if not _answers(url or ""):
                raise TargetNotFound(f"The local stack described in {path} is not running: nothing answers on {url}. "
                                     "Start it with `make dev`.")
        return target

    # --- a deployed stack -------------------------------------------------------------------

    @classmethod
    def stack(cls, name: str, *, cwd: Path | str | None = None, pulumi: str = "pulumi") -> Target:
        """The Pulumi stack `name` of this project, from its outputs. AWS credentials and region come
        from the environment (AWS_PROFILE, AWS_REGION...) unless the stack's `aws:region` says."""
        outputs = _pulumi_json(pulumi, ["stack", "output", "--json", "--stack", name], cwd)
        if not isinstance(outputs, dict):
            raise TargetNotFound(f"`pulumi stack output` for {name} did not answer a JSON object.")
        missing = [key for key in ("table", "bucket") if not outputs.get(key)]
        function = outputs.get("predictorInvokeTarget") or outputs.get("predictorFunction")
        if not function:
            missing.append("predictorFunction")
        if missing:
            raise TargetNotFound(f"Stack {name} has no output {', '.join(missing)}: has it been deployed (`make up`)?")
        region = str(outputs.get("region") or _stack_region(pulumi, name, cwd)
                     or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "")
        if not region:
            raise TargetNotFound(f"No AWS region for stack {name}: set aws:region in Pulumi.{name}.yaml "
                                 "or AWS_REGION.")
        return cls(label=f"stack {name}", store=StoreSettings(table=str(outputs["table"]),
                                                              bucket=str(outputs["bucket"]), region=region),
                   function_name=str(function), cluster=str(outputs.get("cluster") or ""), outputs=outputs)


def _answers(url: str, timeout: float = 2.0) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=timeout):
            return True
    except OSError:
        return False


def _pulumi_json(pulumi: str, args: list[str], cwd: Path | str | None) -> Any:
    executable = shutil.which(pulumi)
    if executable is None:
        raise TargetNotFound("The Pulumi CLI is not installed (no `pulumi` on PATH); "
                             "see https://www.pulumi.com/docs/install/ or use --local.")
    try:
        done = subprocess.run([executable, *args], cwd=cwd or REPO_ROOT, capture_output=True, text=True, timeout=60,
                              check=False)
    except subprocess.TimeoutExpired:
        raise TargetNotFound(f"`pulumi {' '.join(args)}` did not answer within 60 s.") from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise TargetNotFound(f"`pulumi {' '.join(args)}` failed: {detail[-1] if detail else done.returncode}")
    try:
        return json.loads(done.stdout or "null")
    except ValueError:
        raise TargetNotFound(f"`pulumi {' '.join(args)}` did not answer JSON.") from None


def _stack_region(pulumi: str, name: str, cwd: Path | str | None) -> str:
    """The stack's `aws:region` config, or "" when it has none."""
    try:
        value = _pulumi_json(pulumi, ["config", "get", "aws:region", "--json", "--stack", name], cwd)
    except TargetNotFound:
        return ""
    if isinstance(value, dict):
        value = value.get("value")
    return str(value or "")
