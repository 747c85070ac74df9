"""`python -m deploy up/down` (what `make up/down` run): pre-flight first, then the stack's up or
destroy. The Pulumi engine is not on this machine: a stand-in stack records the calls; the AWS
side is moto's server (Lambda's account settings from a new account's quota)."""

from __future__ import annotations

import boto3
import pytest
from pulumi import automation as auto

import deploy.__main__ as main_module
from deploy import cost
from tests.deploy.conftest import WORKING_DOCKER, AmpleQuotas, NewAccountLambda


class _Session(boto3.Session):
    def client(self, service, *args, **kwargs):
        if service == "service-quotas":
            return AmpleQuotas()
        return NewAccountLambda() if service == "lambda" else super().client(service, *args, **kwargs)


class _Stack:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def up(self, on_output):
        self.calls.append("up")
        return auto.UpResult(stdout="", stderr="", summary=None,
                             outputs={"url": auto.OutputValue("http://alb.example", False)})

    def destroy(self, on_output):
        self.calls.append("destroy")

    def outputs(self):
        return {}


@pytest.fixture
def stacks(fake_bin, monkeypatch, clean_iam):
    monkeypatch.setenv("PATH", str(fake_bin(pulumi="echo v3.200.1", docker=WORKING_DOCKER)))
    monkeypatch.setattr(main_module, "_session", lambda stack: _Session(region_name="us-east-1"))
    made: dict[str, tuple[_Stack, bool]] = {}

    def stack(name, create=True):
        made[name] = made.get(name) or (_Stack(), create)
        return made[name][0]

    monkeypatch.setattr(main_module.automation, "stack", stack)
    return made


def test_up_runs_preflight_then_pulumi_up_and_prints_the_url(stacks, capsys):
    assert main_module.main(["up", "--stack", "dev"]) == 0
    out = capsys.readouterr().out
    assert stacks["dev"][0].calls == ["up"]
    assert "pre-flight ok: Pulumi v3.200.1, account 123456789012" in out and "url: http://alb.example" in out
    # The idle cost is printed before the deploy, priced from the program's own resources.
    expected = f"estimated cost when idle: ${cost.stack_estimate('dev').idle_total:.2f}/month"
    assert expected in out and out.index(expected) < out.index("url: http://alb.example")


def test_up_refused_by_preflight_never_touches_the_stack(stacks, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no docker, no pulumi
    assert main_module.main(["up", "--stack", "dev"]) == 2
    assert "Docker: `docker` is not on PATH" in capsys.readouterr().err
    assert stacks == {}


def test_down_destroys_an_existing_stack_without_creating_one(stacks):
    assert main_module.main(["down", "--stack", "dev"]) == 0
    stack, created = stacks["dev"]
    assert stack.calls == ["destroy"] and created is False
