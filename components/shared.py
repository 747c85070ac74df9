"""What several components share: the stack's names and log policy, the network, the job store, an image."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from jobkit.settings import StoreSettings as AppStoreSettings

from components.network import Network


@dataclass(frozen=True)
class StackNames:
    """Names resources must know before creation: `<project>-<stack>-<x>` for AWS names, `/<project>/<stack>/<x>`
    for log groups and parameters."""

    project: str
    stack: str

    def aws(self, suffix: str) -> str:
        return f"{self.project}-{self.stack}-{suffix}"

    def path(self, suffix: str) -> str:
        return f"/{self.project}/{self.stack}/{suffix}"


@dataclass(frozen=True)
class Image:
    """An app's pushed image (`repo@sha256:digest`) and the ECR repository it is pulled from."""

    uri: pulumi.Input[str]
    repository_arn: pulumi.Input[str]
    repository_name: pulumi.Input[str]


@dataclass(frozen=True)
class StoreLink:
    """The job store as an app's component sees it: ARNs to grant on, and jobkit's settings to write its environment.

    `app` holds the table and bucket names as Outputs until they exist.
    """

    table_arn: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]
    jobs_prefix: str
    app: AppStoreSettings


@dataclass(frozen=True)
class Shared:
    """The stack-wide bundle every app component takes beside its own settings group."""

    names: StackNames
    log_retention_days: int
    log_level: str
    network: Network
    store: StoreLink


@dataclass(frozen=True)
class Cluster:
    """The ECS cluster services and tasks run in, and its FARGATE/FARGATE_SPOT association (None: not needed)."""

    arn: pulumi.Input[str]
    name: pulumi.Input[str]
    capacity: pulumi.Resource | None = None
