"""`make cloud-test`'s order of events, with a stand-in for the Pulumi engine (not on this machine):
the stack is destroyed and removed whichever step failed, and every phase's time is printed."""

from __future__ import annotations

import re

import boto3
import pytest

from deploy import cloud_test, preflight, smoke
from deploy.stack_config import stack_settings


class FakeStack:
    """Records what the test asked of the stack; `fail` names the operation that raises."""

    def __init__(self, fail: str = "") -> None:
        self.fail, self.calls, self.config = fail, [], {}
        self.workspace = self

    def _do(self, name: str) -> None:
        self.calls.append(name)
        if name == self.fail:
            raise RuntimeError(f"{name} broke")

    def set_all_config(self, values):
        self.config = {key: value.value for key, value in values.items()}

    def up(self, on_output):
        self._do("up")

    def outputs(self):
        return {}

    def destroy(self, on_output):
        self._do("destroy")

    def remove_stack(self, name):
        self._do(f"remove {name}")


@pytest.fixture
def world(monkeypatch):
    """A passing pre-flight, a fake stack, and a smoke test that passes unless told otherwise."""
    state = {"stack": FakeStack(), "smoke_fails": False, "names": []}
    ready = preflight.Ready(tools=preflight.Tools("v3.200.0", "123456789012", "arn:aws:iam::123456789012:user/ci"),
                            settings=stack_settings("dev"), created_roles=[])

    def fake_preflight(name, session, overrides):
        state["names"].append(name)
        stack_settings(name, overrides)  # the ephemeral config must be one the program accepts
        return ready

    def fake_smoke(target, say):
        if state["smoke_fails"]:
            raise smoke.SmokeFailure("job succeeded: job j-1 did not finish within 900s")
        return {}

    monkeypatch.setattr(cloud_test.preflight, "run", fake_preflight)
    monkeypatch.setattr(cloud_test.automation, "stack", lambda name: state["stack"])
    monkeypatch.setattr(cloud_test.automation, "plain_outputs", lambda stack: {})
    monkeypatch.setattr(cloud_test, "target_from_outputs", lambda outputs, session, since_ms: None)
    monkeypatch.setattr(cloud_test.smoke, "run", fake_smoke)
    return state


def _run(world) -> tuple[int, str]:
    said: list[str] = []
    code = cloud_test.run(session=boto3.Session(region_name="us-east-1"), say=said.append)
    return code, "\n".join(said)


def test_a_passing_run_destroys_and_removes_its_stack_and_times_each_phase(world):
    code, output = _run(world)
    name = world["names"][0]
    assert code == 0
    assert world["stack"].calls == ["up", "destroy", f"remove {name}"]
    assert world["stack"].config["ml-proto:workerCpu"] == "256"
    for phase in ("preflight", "create", "up", "smoke", "destroy", "remove", "total"):
        assert re.search(rf"^{phase}\s+\d+\.\d", output, re.MULTILINE), output


def test_a_failed_smoke_test_still_destroys_and_removes_the_stack(world):
    world["smoke_fails"] = True
    code, output = _run(world)
    assert code == 1
    assert world["stack"].calls == ["up", "destroy", f"remove {world['names'][0]}"]
    assert re.search(r"^smoke\s+\d+\.\d\s+FAILED", output, re.MULTILINE)
    assert "smoke failed: SmokeFailure: job succeeded: job j-1 did not finish" in output


def test_a_failed_up_still_destroys_what_was_created(world):
    world["stack"] = FakeStack(fail="up")
    code, _ = _run(world)
    assert code == 1 and world["stack"].calls == ["up", "destroy", f"remove {world['names'][0]}"]


def test_a_failed_destroy_keeps_the_stack_and_says_how_to_finish(world):
    world["stack"] = FakeStack(fail="destroy")
    code, output = _run(world)
    name = world["names"][0]
    assert code == 1 and world["stack"].calls == ["up", "destroy"]
    assert f"make down STACK={name}" in output


def test_each_run_gets_its_own_stack_name():
    names = {cloud_test.stack_name() for _ in range(20)}
    assert len(names) == 20 and all(re.fullmatch(r"ct-\d{8}-\d{6}-[0-9a-f]{6}", n) for n in names)


def test_the_smoke_target_comes_from_the_stack_outputs(aws_endpoint):
    outputs = {"url": "http://alb.example", "dashboardUser": "scientist", "dashboardPassword": "s3cret-pass",
               "predictorInvokeTarget": "arn:aws:lambda:us-east-1:123456789012:function:p:live",
               "dashboardLogGroup": "/ml-proto/ct/dashboard", "predictorLogGroup": "/ml-proto/ct/predictor",
               "workerLogGroup": "/ml-proto/ct/worker"}
    target = cloud_test.target_from_outputs(outputs, boto3.Session(region_name="us-east-1"), since_ms=5)
    assert (target.base_url, target.user, target.password) == ("http://alb.example", "scientist", "s3cret-pass")
    assert target.function.endswith(":live") and target.lambda_client.meta.service_model.service_name == "lambda"
    assert target.logs.groups == {"dashboard": "/ml-proto/ct/dashboard", "predictor": "/ml-proto/ct/predictor",
                                  "worker": "/ml-proto/ct/worker"}
    assert "s3cret-pass" not in repr(target)  # the password never reaches a log line
