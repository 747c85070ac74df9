"""BatchWorker component: the Fargate task definition the dashboard starts with ECS RunTask.

No service keeps it running: each task drains the job queue and exits when idle.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
from worker.settings import WorkerSettings as WorkerAppSettings

from components.environment import app_env, container_environment
from components.iam import WORKER_STORE, image_pull_statements, job_store_statements, log_statement, service_role
from components.network import Network, https_egress

CONTAINER_NAME = "worker"


@dataclass(frozen=True)
class WorkerArgs:
    """The worker image, its task size, logs, network, the job store it may use, and what it is told.

    `app` is the worker's own settings object (its store's table and bucket may be Outputs): the
    task's environment is exactly what `app.to_env()` writes.
    """

    family: str
    log_group_name: str
    image_uri: pulumi.Input[str]
    repository_arn: pulumi.Input[str]
    cpu: int
    memory_mb: int
    cpu_architecture: str
    log_retention_days: int
    network: Network
    table_arn: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]
    jobs_prefix: str
    app: WorkerAppSettings


class BatchWorker(pulumi.ComponentResource):
    """Task definition, task role (job store only), execution role (pull + logs), egress-only group."""

    task_definition: aws.ecs.TaskDefinition
    task_role: aws.iam.Role
    execution_role: aws.iam.Role
    security_group: aws.ec2.SecurityGroup
    log_group: aws.cloudwatch.LogGroup
    container_name: str = CONTAINER_NAME

    def __init__(self, name: str, args: WorkerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-proto:index:BatchWorker", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs", name=args.log_group_name, retention_in_days=args.log_retention_days, opts=child)
        self.task_role, _ = service_role(
            f"{name}-task-role", "ecs-tasks.amazonaws.com",
            job_store_statements(args.table_arn, args.bucket_arn, args.jobs_prefix, WORKER_STORE),
            parent=self, description="ml-proto worker task: the job table and job files",
        )
        self.execution_role, execution_policy = service_role(
            f"{name}-execution-role", "ecs-tasks.amazonaws.com",
            [*image_pull_statements(args.repository_arn), log_statement(self.log_group.arn)],
            parent=self, description="ml-proto worker: pull its image, write its log group",
        )
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.network.vpc_id,
            description="ml-proto batch worker: no inbound traffic, HTTPS out",
            opts=child,
        )
        https_egress(f"{name}-https-out", self.security_group.id, parent=self.security_group)

        container = {
            "name": CONTAINER_NAME,
            "image": args.image_uri,
            "essential": True,
            "environment": app_env(args.app).apply(container_environment),
            # Fargate sends SIGTERM, then SIGKILL after this: time to hand the job back.
            "stopTimeout": 60,
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": args.log_group_name,
                    "awslogs-region": args.app.store.region,
                    "awslogs-stream-prefix": CONTAINER_NAME,
                },
            },
        }
        self.task_definition = aws.ecs.TaskDefinition(
            f"{name}-task",
            family=args.family,
            requires_compatibilities=["FARGATE"],
            network_mode="awsvpc",
            cpu=str(args.cpu),
            memory=str(args.memory_mb),
            runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                operating_system_family="LINUX", cpu_architecture=args.cpu_architecture),
            task_role_arn=self.task_role.arn,
            execution_role_arn=self.execution_role.arn,
            container_definitions=pulumi.Output.json_dumps([container]),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[execution_policy]),
        )

        self.register_outputs({
            "taskDefinitionArn": self.task_definition.arn,
            "family": self.task_definition.family,
            "securityGroupId": self.security_group.id,
            "logGroup": self.log_group.name,
        })
