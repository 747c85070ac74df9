"""The repo's Pulumi program as an Automation API stack, run in the environment every deploy shares."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pulumi import automation as auto

from deploy.stack_config import REPO_ROOT


def deploy_env(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The environment the Pulumi CLI (and the docker-build provider it starts) runs with."""
    # Lambda takes a single-platform image manifest only. buildx adds a provenance attestation by
    # default on builders that support it, which turns the push into an image index Lambda rejects
    # (aws-lambda-roadmap#82, docker/buildx#1533). awsx's ecr.Image has no setting for it; its
    # docker-build provider asks for no provenance today, and this variable (read by buildx itself)
    # keeps any default attestation off should that ever change.
    return {**environ, "BUILDX_NO_DEFAULT_ATTESTATIONS": "1"}


def stack(name: str, *, create: bool = True, environ: Mapping[str, str] = os.environ) -> auto.Stack:
    """The stack `name` of the program in this repo (created when missing, if `create`)."""
    options = auto.LocalWorkspaceOptions(work_dir=str(REPO_ROOT), env_vars=deploy_env(environ))
    if create:
        return auto.create_or_select_stack(stack_name=name, work_dir=str(REPO_ROOT), opts=options)
    return auto.select_stack(stack_name=name, work_dir=str(REPO_ROOT), opts=options)


def set_config(target: auto.Stack, values: Mapping[str, Any]) -> None:
    """Write config values (full keys such as `ml-proto:workerCpu`) into the stack."""
    target.set_all_config({key: auto.ConfigValue(value=_text(value)) for key, value in values.items()})


def plain_outputs(target: auto.Stack) -> dict[str, Any]:
    """The stack's outputs as plain values (secrets included: the caller must not print them)."""
    return {key: output.value for key, output in target.outputs().items()}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
