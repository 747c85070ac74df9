"""One helper for a Fargate task definition with a single container logging to CloudWatch (dashboard, worker)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws


def container_definition(
    name: str,
    image: pulumi.Input[str],
    environment: pulumi.Input[list[dict[str, str]]],
    log_group_name: pulumi.Input[str],
    region: pulumi.Input[str],
    *,
    port: int | None = None,
    secrets: Sequence[Mapping[str, Any]] = (),
    stop_timeout: int | None = None,
) -> dict[str, Any]:
    """An essential container's ECS definition: its image, environment, optional port, secrets and stop timeout,
    and the awslogs driver writing to `log_group_name` under the stream prefix `name`."""
    container: dict[str, Any] = {"name": name, "image": image, "essential": True}
    if port is not None:
        container["portMappings"] = [{"containerPort": port, "protocol": "tcp"}]
    container["environment"] = environment
    if secrets:
        container["secrets"] = list(secrets)
    if stop_timeout is not None:
        container["stopTimeout"] = stop_timeout
    container["logConfiguration"] = {
        "logDriver": "awslogs",
        "options": {"awslogs-group": log_group_name, "awslogs-region": region, "awslogs-stream-prefix": name},
    }
    return container


def fargate_task_definition(
    name: str,
    *,
    family: str,
    cpu: int,
    memory_mb: int,
    cpu_architecture: str,
    task_role: aws.iam.Role,
    execution_role: aws.iam.Role,
    container: Mapping[str, Any],
    opts: pulumi.ResourceOptions,
) -> aws.ecs.TaskDefinition:
    """A Linux Fargate task definition (awsvpc networking) of `cpu` units and `memory_mb` MiB running `container`."""
    return aws.ecs.TaskDefinition(
        name,
        family=family,
        requires_compatibilities=["FARGATE"],
        network_mode="awsvpc",
        cpu=str(cpu),
        memory=str(memory_mb),
        runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
            operating_system_family="LINUX", cpu_architecture=cpu_architecture),
        task_role_arn=task_role.arn,
        execution_role_arn=execution_role.arn,
        container_definitions=pulumi.Output.json_dumps([dict(container)]),
        opts=opts,
    )


def gpu_task_definition(
    name: str,
    *,
    family: str,
    cpu: int,
    memory_mb: int,
    gpus: int,
    task_role: aws.iam.Role,
    execution_role: aws.iam.Role,
    container: Mapping[str, Any],
    opts: pulumi.ResourceOptions,
) -> aws.ecs.TaskDefinition:
    """A Linux x86_64 task definition for ECS Managed Instances whose one container gets `gpus` NVIDIA GPUs.

    Host networking: the task uses its instance's network, so in public subnets (the default VPC) it
    reaches AWS through the instance's public IP, with no NAT gateway; awsvpc tasks on EC2-backed
    capacity get no public IP. One GPU worker runs per instance, and it listens on no port.
    """
    gpu_container = {**container, "resourceRequirements": [{"type": "GPU", "value": str(gpus)}]}
    return aws.ecs.TaskDefinition(
        name,
        family=family,
        requires_compatibilities=["MANAGED_INSTANCES"],
        network_mode="host",
        cpu=str(cpu),
        memory=str(memory_mb),
        runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
            operating_system_family="LINUX", cpu_architecture="X86_64"),
        task_role_arn=task_role.arn,
        execution_role_arn=execution_role.arn,
        container_definitions=pulumi.Output.json_dumps([gpu_container]),
        opts=opts,
    )
