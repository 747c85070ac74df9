"""The dashboard's secrets: its logins (configured passwords, else generated ones) and its session-cookie key,
kept only in SSM and passed to the task as ECS secrets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random


@dataclass(frozen=True)
class Logins:
    """Each user's password (secret), all of them as JSON {user: password} (secret), and the SSM parameter."""

    passwords: dict[str, pulumi.Output[str]]
    as_json: pulumi.Output[str]
    parameter: aws.ssm.Parameter


def dashboard_logins(name: str, users: Sequence[str], configured: Mapping[str, str], parameter_name: str,
                     parent: pulumi.Resource) -> Logins:
    """A password for every user (the configured one, else a generated one) and a SecureString holding them all."""
    child = pulumi.ResourceOptions(parent=parent)
    passwords = {}
    for user in users:
        if user in configured:
            passwords[user] = pulumi.Output.secret(configured[user])
        else:
            generated = random.RandomPassword(f"{name}-password-{user}", length=24, special=False, opts=child)
            passwords[user] = pulumi.Output.secret(generated.result)
    as_json = pulumi.Output.secret(pulumi.Output.json_dumps(passwords))
    parameter = aws.ssm.Parameter(
        f"{name}-logins",
        name=parameter_name,
        type="SecureString",
        value=as_json,
        description="ml-proto dashboard logins: JSON {user: password}",
        opts=child,
    )
    return Logins(passwords, as_json, parameter)


def dashboard_session_key(name: str, parameter_name: str, parent: pulumi.Resource) -> aws.ssm.Parameter:
    """A random 64-character key that signs the dashboard's session cookies, as a SecureString.

    Random rather than derived from the passwords, so a stolen cookie gives nothing to guess
    passwords with offline.
    """
    child = pulumi.ResourceOptions(parent=parent)
    key = random.RandomPassword(f"{name}-session-key", length=64, special=False, opts=child)
    return aws.ssm.Parameter(
        f"{name}-session-key",
        name=parameter_name,
        type="SecureString",
        value=key.result,
        description="ml-proto dashboard session-cookie signing key",
        opts=child,
    )
