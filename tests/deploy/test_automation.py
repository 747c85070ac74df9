"""Every deploy runs Pulumi with buildx's default attestations off, so Lambda gets a single manifest."""

from __future__ import annotations

from pulumi import automation as auto

from deploy import automation
from deploy.stack_config import REPO_ROOT


def test_the_deploy_environment_turns_buildx_default_attestations_off_and_keeps_the_rest():
    env = automation.deploy_env({"AWS_PROFILE": "lab", "BUILDX_NO_DEFAULT_ATTESTATIONS": "0"})
    assert env == {"AWS_PROFILE": "lab", "BUILDX_NO_DEFAULT_ATTESTATIONS": "1"}


def test_the_stack_runs_the_repo_program_in_that_environment(monkeypatch):
    seen = {}

    def create_or_select_stack(stack_name, work_dir, opts):  # the Pulumi engine is not on this machine
        seen.update(name=stack_name, work_dir=work_dir, opts=opts)
        return "stack"

    monkeypatch.setattr(auto, "create_or_select_stack", create_or_select_stack)
    assert automation.stack("dev", environ={"HOME": "/home/me"}) == "stack"
    assert seen["name"] == "dev" and seen["work_dir"] == str(REPO_ROOT)
    assert isinstance(seen["opts"], auto.LocalWorkspaceOptions)
    assert seen["opts"].env_vars == {"HOME": "/home/me", "BUILDX_NO_DEFAULT_ATTESTATIONS": "1"}
