"""Pre-flight: every missing tool named in one message within seconds, through the real Makefile
targets on this machine (no Pulumi CLI, no Docker engine, no AWS account), and each tool check
against fake CLIs and moto's STS."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from deploy import preflight
from tests.deploy.conftest import WORKING_DOCKER, AmpleQuotas, NewAccountLambda

REPO = Path(__file__).resolve().parents[2]
MAKE = shutil.which("make")


def _no_tools_env(tmp_path: Path) -> dict[str, str]:
    """An environment with an empty PATH (no pulumi, no docker) and no AWS credentials anywhere."""
    empty = tmp_path / "empty-bin"
    empty.mkdir(exist_ok=True)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AWS_", "MAKE", "PULUMI_")) and key not in ("MFLAGS",)}
    env.update({"PATH": str(empty), "HOME": str(tmp_path), "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
                "AWS_EC2_METADATA_DISABLED": "true"})  # on an EC2 host, its instance role would be an account
    return env


ALL_MISSING = ("Pulumi CLI: `pulumi` is not on PATH", "Docker: `docker` is not on PATH", "AWS credentials: none found")


@pytest.mark.parametrize("target, missing", [
    (["up", "STACK=dev"], ALL_MISSING),
    (["cloud-test"], ALL_MISSING),
    (["down", "STACK=dev"], (ALL_MISSING[0], ALL_MISSING[2])),  # a destroy builds no image: no Docker needed
])
def test_make_target_stops_within_seconds_naming_everything_missing(tmp_path, target, missing):
    assert MAKE, "make is needed to run the Makefile"
    started = time.monotonic()
    # The virtualenv running this test is the installed one; -o: its install stamp counts as fresh.
    venv = Path(sys.prefix)
    command = [MAKE, "--no-print-directory", "-C", str(REPO), f"VENV={venv}", "-o", f"{venv}/.installed-stamp",
               *target]
    done = subprocess.run(command, env=_no_tools_env(tmp_path), capture_output=True, text=True, timeout=60,
                          check=False)
    elapsed = time.monotonic() - started
    output = done.stdout + done.stderr
    print(f"\nmake {' '.join(target)}: exit {done.returncode} after {elapsed:.1f}s\n{output}")
    assert done.returncode != 0
    assert elapsed < 10, f"make {target[0]} took {elapsed:.1f}s to refuse"
    assert output.count("Cannot deploy") == 1, output  # one message...
    assert all(problem in output for problem in missing), output  # ...naming everything missing
    assert ("Docker" in output) == (ALL_MISSING[1] in missing), output
    assert "Traceback" not in output


def test_every_tool_is_reported_even_when_each_is_broken_differently(fake_bin, monkeypatch, tmp_path):
    folder = fake_bin(pulumi="echo v3.30.0",
                      docker='case "$1" in info) echo "Cannot connect to the Docker daemon" >&2; exit 1 ;; '
                             'buildx) printf "docker: unknown command: docker buildx\\n\\nRun docker --help\\n" >&2; '
                             'exit 1 ;; esac')
    monkeypatch.setenv("PATH", str(folder))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    session = boto3.Session(region_name="us-east-1")
    with pytest.raises(preflight.PreflightFailed) as failed:
        preflight.check_tools(session)
    message = str(failed.value)
    assert "Pulumi CLI: v3.30.0 is older than 3.44.0" in message
    assert "Docker engine: not running or not reachable (Cannot connect to the Docker daemon)" in message
    assert "Docker buildx: `docker buildx version` failed (docker: unknown command: docker buildx); install" in message
    assert "AWS credentials: none found" in message


def test_tools_present_and_credentials_that_work_pass(fake_bin, monkeypatch, aws_endpoint):
    monkeypatch.setenv("PATH", str(fake_bin(pulumi="echo v3.200.1", docker=WORKING_DOCKER)))
    tools = preflight.check_tools(boto3.Session(region_name="us-east-1"))
    assert tools.pulumi_version == "v3.200.1"
    assert tools.account == "123456789012"  # moto's account, answered by sts:GetCallerIdentity


def test_refused_credentials_are_named(fake_bin, monkeypatch, aws_endpoint):
    monkeypatch.setenv("PATH", str(fake_bin(pulumi="echo v3.200.1", docker=WORKING_DOCKER)))
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")  # nothing listens: STS cannot answer
    identity, problem = preflight.check_aws(boto3.Session(region_name="us-east-1"))
    assert identity == {} and problem.startswith("AWS credentials: sts:GetCallerIdentity refused them")


def test_a_tool_that_hangs_is_cut_off_and_named(fake_bin, monkeypatch):
    monkeypatch.setattr(preflight, "COMMAND_TIMEOUT_S", 1.0)
    folder = fake_bin(pulumi=f"exec {sys.executable} -c 'import time; time.sleep(30)'")
    started = time.monotonic()
    version, problem = preflight.check_pulumi(which=lambda name: str(folder / name))
    assert time.monotonic() - started < 5
    assert version == "" and "did not answer within 1s" in problem


def test_a_cli_that_is_not_logged_in_to_a_backend_is_named(fake_bin):
    folder = fake_bin(pulumi='case "$1" in version) echo v3.200.1 ;; whoami) echo "error: PULUMI_ACCESS_TOKEN '
                             'must be set for login during non-interactive CLI sessions" >&2; exit 255 ;; esac')
    version, problem = preflight.check_pulumi(which=lambda name: str(folder / name))
    assert version == "v3.200.1"
    assert problem.startswith("Pulumi backend: not logged in (error: PULUMI_ACCESS_TOKEN must be set")
    assert "pulumi login --local" in problem


class _Session(boto3.Session):
    """A real session on moto's server, except Lambda's GetAccountSettings (moto lacks it) answers
    with a new account's quota of 10, and Service Quotas with ample Fargate quotas."""

    quotas = AmpleQuotas()

    def client(self, service, *args, **kwargs):
        if service == "lambda":
            return NewAccountLambda()
        if service == "service-quotas":
            return self.quotas
        return super().client(service, *args, **kwargs)


def test_a_reservation_the_account_cannot_give_stops_the_deploy_before_any_role_is_made(fake_bin, monkeypatch,
                                                                                          clean_iam):
    monkeypatch.setenv("PATH", str(fake_bin(pulumi="echo v3.200.1", docker=WORKING_DOCKER)))
    with pytest.raises(preflight.PreflightFailed) as failed:
        preflight.run("dev", _Session(region_name="us-east-1"),
                      overrides={"ml-proto:predictorReservedConcurrency": 2})
    assert "Lambda concurrency: ml-proto:predictorReservedConcurrency: 2 concurrent executions" in str(failed.value)
    assert clean_iam.list_roles(PathPrefix="/aws-service-role/")["Roles"] == []


def test_a_deployable_stack_passes_and_gets_its_service_linked_roles(fake_bin, monkeypatch, clean_iam):
    monkeypatch.setenv("PATH", str(fake_bin(pulumi="echo v3.200.1", docker=WORKING_DOCKER)))
    session = _Session(region_name="us-east-1")
    session.quotas.asked.clear()
    ready = preflight.run("dev", session)
    assert ready.settings.worker.capacity_provider == "FARGATE_SPOT" and ready.tools.account == "123456789012"
    assert len(ready.created_roles) == 3
    assert session.quotas.asked == ["fargate/L-3032A538", "fargate/L-36FBB829"]  # the dashboard's, the Spot workers'



def test_a_login_in_plain_http_to_everyone_is_refused_unless_the_stack_says_so(fake_bin, monkeypatch, clean_iam):
    monkeypatch.setenv("PATH", str(fake_bin(pulumi="echo v3.200.1", docker=WORKING_DOCKER)))
    plain = {"ml-proto:frontDoor": "alb"}  # no certificateArn, allowedCidrs 0.0.0.0/0 (the defaults)
    with pytest.raises(preflight.PreflightFailed) as failed:
        preflight.run("dev", _Session(region_name="us-east-1"), overrides=plain)
    message = str(failed.value)
    print(f"\n{message}")
    assert "Plain HTTP: with frontDoor alb and no certificateArn" in message and "0.0.0.0/0" in message
    assert "allowPlainHttp" in message
    assert clean_iam.list_roles(PathPrefix="/aws-service-role/")["Roles"] == []
    # Said explicitly, or narrowed to an office, or over HTTPS, the same stack passes this check.
    for accepted in ({**plain, "ml-proto:allowPlainHttp": True}, {**plain, "ml-proto:allowedCidrs": ["203.0.113.0/24"]},
                     {**plain, "ml-proto:certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/x"}, {}):
        assert preflight.plain_http_problem(preflight.stack_settings("dev", accepted)) == "", accepted


def test_a_warm_predictor_in_office_hours_gets_lambdas_scaling_role_too(fake_bin, monkeypatch, clean_iam):
    monkeypatch.setenv("PATH", str(fake_bin(pulumi="echo v3.200.1", docker=WORKING_DOCKER)))

    class RaisedQuotaLambda:  # an account whose Lambda concurrency quota was raised to 1,000
        def get_account_settings(self):
            return {"AccountLimit": {"ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": 1000}}

    class Session(_Session):
        def client(self, service, *args, **kwargs):
            return RaisedQuotaLambda() if service == "lambda" else super().client(service, *args, **kwargs)

    ready = preflight.run("dev", Session(region_name="us-east-1"), overrides={
        "ml-proto:predictorProvisionedConcurrency": 1, "ml-proto:predictorWarmHours": "Mon-Fri 08:00-19:00"})
    assert "AWSServiceRoleForApplicationAutoScaling_LambdaConcurrency" in ready.created_roles
    assert len(ready.created_roles) == 4


def test_a_bad_stack_setting_is_named_with_the_missing_tools(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    for key, value in _no_tools_env(tmp_path).items():
        if key.startswith("AWS_"):
            monkeypatch.setenv(key, value)
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(preflight.PreflightFailed) as failed:
        preflight.run("dev", boto3.Session(region_name="us-east-1"), overrides={"ml-proto:workerMemoryMb": 512})
    message = str(failed.value)
    assert message.count("Cannot deploy") == 1
    assert "Pulumi CLI" in message and "AWS credentials: none found" in message
    assert "Stack settings: ml-proto:workerMemoryMb: Fargate does not run 512 MiB" in message
