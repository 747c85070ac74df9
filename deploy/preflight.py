"""Pre-flight: what `pulumi up` needs from this machine, every check run, all gaps named in one message.

The tools come first (Pulumi CLI, a running Docker engine with buildx, AWS credentials): without
them nothing else can be asked. They run side by side, each bounded by a timeout, so a machine
that has none of them hears about all three within seconds. The stack's settings are checked beside them (a stack
that would serve its login in plain HTTP to the whole internet is refused unless it says so). Then
the account: Lambda concurrency for the stack's settings, the Fargate vCPU quotas against the stack's
peak, the G-instance quota when workers run on GPUs, and the service-linked roles a first deploy needs.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import botocore.exceptions

from components.settings import ConfigError, Settings
from deploy.concurrency import account_concurrency, concurrency_problem
from deploy.cost import load_prices
from deploy.fargate_quota import fargate_quota_problems
from deploy.gpu_quota import gpu_quota_problem
from deploy.service_roles import LAMBDA_SCALING, REQUIRED, ServiceRoleError, ensure_service_linked_roles
from deploy.stack_config import stack_settings

# Pulumi.yaml declares every config key's default; the CLI merges those only from 3.44 on.
MIN_PULUMI = (3, 44, 0)
COMMAND_TIMEOUT_S = 5.0
PULUMI_INSTALL = "https://www.pulumi.com/docs/install/"
DOCKER_INSTALL = "https://docs.docker.com/get-started/get-docker/"


OPEN_TO_ALL = frozenset({"0.0.0.0/0", "::/0"})


def plain_http_problem(settings: Settings) -> str:
    """"" unless the login would be served over plain HTTP to every address and the stack did not say so."""
    d = settings.dashboard
    open_to = sorted(OPEN_TO_ALL & set(d.allowed_cidrs))
    if d.serves_https or not open_to or d.allow_plain_http:
        return ""
    return (f"Plain HTTP: with frontDoor alb and no certificateArn the dashboard's login (names and passwords) "
            f"goes unencrypted to anyone at {', '.join(open_to)} (allowedCidrs). Use frontDoor cloudfront "
            f"(HTTPS at https://<id>.cloudfront.net, no domain needed), set certificateArn (and domainName), "
            f"narrow allowedCidrs to your office or VPN, or accept it with `pulumi config set allowPlainHttp true`")


class PreflightFailed(Exception):
    """The deploy cannot start; the message names everything that is missing."""


@dataclass(frozen=True)
class Tools:
    """What the tool checks found: the Pulumi version and the AWS identity (account, ARN)."""

    pulumi_version: str
    account: str
    caller_arn: str


Run = Callable[..., subprocess.CompletedProcess[str]]


def _run(executable: str, args: list[str], run: Run) -> subprocess.CompletedProcess[str] | str:
    """Run a tool briefly; a string says why it could not answer."""
    shown = " ".join([Path(executable).name, *args])
    try:
        return run([executable, *args], capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        return f"`{shown}` did not answer within {COMMAND_TIMEOUT_S:.0f}s"
    except OSError as error:
        return f"`{shown}` could not run ({error})"


def _detail(answer: subprocess.CompletedProcess[str]) -> str:
    """A tool's complaint in one line: the first line it wrote to stderr (or stdout)."""
    lines = [line.strip() for line in (answer.stderr or answer.stdout or "").splitlines() if line.strip()]
    return lines[0][:200] if lines else f"exit code {answer.returncode}"


def check_pulumi(which: Callable[[str], str | None] = shutil.which, run: Run = subprocess.run) -> tuple[str, str]:
    """(version, problem): the Pulumi CLI's version, or why it is unusable (missing, old, not logged in)."""
    minimum = ".".join(map(str, MIN_PULUMI))
    pulumi = which("pulumi")
    if pulumi is None:
        return "", f"Pulumi CLI: `pulumi` is not on PATH (install {minimum} or newer: {PULUMI_INSTALL})"
    answer = _run(pulumi, ["version"], run)
    if isinstance(answer, str):
        return "", f"Pulumi CLI: {answer}"
    match = re.search(r"v?(\d+)\.(\d+)\.(\d+)", answer.stdout)
    if answer.returncode != 0 or not match:
        return "", f"Pulumi CLI: `pulumi version` failed: {_detail(answer)}"
    version = tuple(int(part) for part in match.groups())
    if version < MIN_PULUMI:
        return match.group(0), (f"Pulumi CLI: {match.group(0)} is older than {minimum} "
                                f"(it would ignore Pulumi.yaml's config defaults); upgrade: {PULUMI_INSTALL}")
    whoami = _run(pulumi, ["whoami", "--non-interactive"], run)
    if isinstance(whoami, str) or whoami.returncode != 0:
        detail = whoami if isinstance(whoami, str) else _detail(whoami)
        return match.group(0), (f"Pulumi backend: not logged in ({detail}); run `pulumi login` (Pulumi Cloud) "
                                f"or `pulumi login --local` (state files in ~/.pulumi)")
    return match.group(0), ""


def check_docker(which: Callable[[str], str | None] = shutil.which, run: Run = subprocess.run) -> list[str]:
    """Problems with Docker: `pulumi up` builds the three images with a running engine and buildx."""
    docker = which("docker")
    if docker is None:
        return [f"Docker: `docker` is not on PATH (install Docker with buildx: {DOCKER_INSTALL})"]
    problems = []
    info = _run(docker, ["info", "--format", "{{.ServerVersion}}"], run)
    if isinstance(info, str) or info.returncode != 0 or not info.stdout.strip():
        detail = info if isinstance(info, str) else _detail(info)
        problems.append(f"Docker engine: not running or not reachable ({detail}); start Docker")
    buildx = _run(docker, ["buildx", "version"], run)
    if isinstance(buildx, str) or buildx.returncode != 0:
        detail = buildx if isinstance(buildx, str) else _detail(buildx)
        problems.append(f"Docker buildx: `docker buildx version` failed ({detail}); install the buildx plugin")
    return problems


def check_aws(session: boto3.Session) -> tuple[dict[str, str], str]:
    """(caller identity, problem): who the AWS credentials belong to, or why there are none."""
    if session.get_credentials() is None:
        return {}, ("AWS credentials: none found (run `aws configure`, set AWS_PROFILE, or export "
                    "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)")
    config = botocore.config.Config(connect_timeout=3, read_timeout=5, retries={"max_attempts": 1})
    try:
        identity = session.client("sts", config=config).get_caller_identity()
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        return {}, f"AWS credentials: sts:GetCallerIdentity refused them ({error})"
    return {"account": identity["Account"], "arn": identity["Arn"]}, ""


def inspect_tools(session: boto3.Session, which: Callable[[str], str | None] = shutil.which,
                  run: Run = subprocess.run, docker: bool = True) -> tuple[Tools | None, list[str]]:
    """Run every tool check at once (Docker only if `docker`): (what was found, or None; every problem)."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        pulumi_check = pool.submit(check_pulumi, which, run)
        docker_check = pool.submit(check_docker, which, run) if docker else pool.submit(list)
        aws_check = pool.submit(check_aws, session)
        version, pulumi_problem = pulumi_check.result()
        docker_problems = docker_check.result()
        identity, aws_problem = aws_check.result()
    problems = [p for p in (pulumi_problem, *docker_problems, aws_problem) if p]
    if problems:
        return None, problems
    return Tools(pulumi_version=version, account=identity["account"], caller_arn=identity["arn"]), []


def check_tools(session: boto3.Session, which: Callable[[str], str | None] = shutil.which,
                run: Run = subprocess.run, docker: bool = True) -> Tools:
    """The tools a deploy needs (a destroy builds nothing: docker=False); PreflightFailed names what is missing."""
    tools, problems = inspect_tools(session, which, run, docker)
    if tools is None:
        raise PreflightFailed(missing_message(problems))
    return tools


def missing_message(problems: list[str]) -> str:
    """One message listing every problem, one a line."""
    return "Cannot deploy; fix these first:\n" + "\n".join(f"  - {problem}" for problem in problems)


@dataclass(frozen=True)
class Ready:
    """Pre-flight passed: the tools found, the stack's settings, the service-linked roles it created."""

    tools: Tools
    settings: Settings
    created_roles: list[str]


def run(stack: str, session: boto3.Session, overrides: Mapping[str, Any] | None = None,
        already_reserved: Callable[[], int] = lambda: 0, which: Callable[[str], str | None] = shutil.which,
        run_command: Run = subprocess.run) -> Ready:
    """Every check a deploy of `stack` needs, in order; raise PreflightFailed with one message.

    The stack's settings and the tools are checked together (all problems in one message); the
    account is asked about Lambda concurrency only once credentials work, and service-linked roles
    are created only when nothing else stands in the way.
    """
    problems = []
    settings = None
    try:
        settings = stack_settings(stack, overrides)
    except ConfigError as error:
        problems.append(f"Stack settings: {error}")
    if settings is not None and (problem := plain_http_problem(settings)):
        problems.append(problem)
    tools, tool_problems = inspect_tools(session, which, run_command)
    if tools is None or settings is None or problems:
        raise PreflightFailed(missing_message([*tool_problems, *problems]))
    try:
        limit, unreserved = account_concurrency(session.client("lambda"))
    except botocore.exceptions.ClientError as error:
        raise PreflightFailed(missing_message([f"Lambda concurrency: GetAccountSettings failed ({error})"])) from None
    problem = concurrency_problem(settings.predictor, limit, unreserved, already_reserved())
    if problem:
        raise PreflightFailed(missing_message([f"Lambda concurrency: {problem}"]))
    region = session.region_name or "us-east-1"
    quota_problems = fargate_quota_problems(session.client("service-quotas"), settings, region)
    if quota_problems:
        raise PreflightFailed(missing_message(quota_problems))
    if settings.worker.on_gpu:
        problem = gpu_quota_problem(session.client("service-quotas"), settings, region, load_prices())
        if problem:
            raise PreflightFailed(missing_message([problem]))
    try:
        roles = (*REQUIRED, LAMBDA_SCALING) if settings.predictor.warm_hours is not None else REQUIRED
        created = ensure_service_linked_roles(session.client("iam"), roles)
    except ServiceRoleError as error:
        raise PreflightFailed(missing_message([f"Service-linked roles: {error}"])) from None
    return Ready(tools=tools, settings=settings, created_roles=created)

