"""BatchWorker component: the task definition the dashboard starts with ECS RunTask.

No service keeps it running: each task drains the job queue and exits when idle. A Fargate task
by default; with workerCompute gpu, a task on GPU instances of an ECS Managed Instances capacity
provider (components/gpu_worker.py) that ECS starts for it and scales in when idle.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
from worker.settings import WorkerSettings as WorkerAppSettings

from components.environment import app_env, container_environment
from components.fargate_task import container_definition, fargate_task_definition, gpu_task_definition
from components.gpu_worker import GpuCapacity, GpuCapacityArgs
from components.iam import WORKER_STORE, image_pull_statements, job_store_statements, log_statement, service_role
from components.network import https_egress
from components.settings import WorkerSettings
from components.shared import Image, Shared

CONTAINER_NAME = "worker"


@dataclass(frozen=True)
class WorkerArgs:
    """The worker's settings group, what the stack shares, its image and the cpu architecture that image runs on.

    The task's environment is exactly what the worker's own settings object (`WorkerAppSettings.to_env()`) writes.
    """

    settings: WorkerSettings
    shared: Shared
    image: Image
    cpu_architecture: str
    cluster_name: pulumi.Input[str] | None = None  # needed by the GPU worker's capacity provider


@dataclass(frozen=True)
class WorkerLaunch:
    """What the dashboard needs to start batch workers with ECS RunTask."""

    family: pulumi.Input[str]
    task_definition_arn_without_revision: pulumi.Input[str]
    container_name: str
    security_group_id: pulumi.Input[str]
    capacity_provider: pulumi.Input[str]  # FARGATE, FARGATE_SPOT or the GPU capacity provider's name
    log_group_name: pulumi.Input[str]
    task_role_arn: pulumi.Input[str]
    execution_role_arn: pulumi.Input[str]
    max_workers: int
    network_mode: str = "awsvpc"  # the GPU worker's task uses its instance's network ("host")


class BatchWorker(pulumi.ComponentResource):
    """Task definition, task role (job store only), execution role (pull + logs), egress-only group."""

    task_definition: aws.ecs.TaskDefinition
    task_role: aws.iam.Role
    execution_role: aws.iam.Role
    security_group: aws.ec2.SecurityGroup
    log_group: aws.cloudwatch.LogGroup
    launch: WorkerLaunch
    gpu: GpuCapacity | None = None
    container_name: str = CONTAINER_NAME

    def __init__(self, name: str, args: WorkerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-proto:index:BatchWorker", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        s, shared = args.settings, args.shared
        log_group_name = shared.names.path("worker")

        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs", name=log_group_name, retention_in_days=shared.log_retention_days, opts=child)
        self.task_role, _ = service_role(
            f"{name}-task-role", "ecs-tasks.amazonaws.com",
            job_store_statements(shared.store.table_arn, shared.store.bucket_arn, shared.store.jobs_prefix,
                                 WORKER_STORE),
            parent=self, description="ml-proto worker task: the job table and job files",
        )
        self.execution_role, execution_policy = service_role(
            f"{name}-execution-role", "ecs-tasks.amazonaws.com",
            [*image_pull_statements(args.image.repository_arn), log_statement(self.log_group.arn)],
            parent=self, description="ml-proto worker: pull its image, write its log group",
        )
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=shared.network.vpc_id,
            description="ml-proto batch worker: no inbound traffic, HTTPS out",
            opts=child,
        )
        https_egress(f"{name}-https-out", self.security_group.id, parent=self.security_group)

        app = WorkerAppSettings(store=shared.store.app, idle_seconds=s.idle_seconds,
                                heartbeat_seconds=s.heartbeat_seconds, log_level=shared.log_level)
        container = container_definition(
            CONTAINER_NAME, args.image.uri, app_env(app).apply(container_environment), log_group_name,
            shared.store.app.region,
            # ECS sends SIGTERM, then SIGKILL after this: time to hand the job back.
            stop_timeout=60)
        task_opts = pulumi.ResourceOptions(parent=self, depends_on=[execution_policy])
        capacity_provider: pulumi.Input[str] = s.capacity_provider
        if s.on_gpu:
            if args.cluster_name is None:
                raise ValueError("the GPU worker needs the cluster's name (WorkerArgs.cluster_name)")
            self.gpu = GpuCapacity(f"{name}-gpu", GpuCapacityArgs(
                s, shared, args.cluster_name, self.security_group.id), opts=child)
            capacity_provider = self.gpu.capacity_provider.name
            self.task_definition = gpu_task_definition(
                f"{name}-task", family=shared.names.aws("worker"), cpu=s.cpu, memory_mb=s.memory_mb, gpus=s.gpus,
                task_role=self.task_role, execution_role=self.execution_role, container=container, opts=task_opts)
        else:
            self.task_definition = fargate_task_definition(
                f"{name}-task", family=shared.names.aws("worker"), cpu=s.cpu, memory_mb=s.memory_mb,
                cpu_architecture=args.cpu_architecture, task_role=self.task_role, execution_role=self.execution_role,
                container=container, opts=task_opts)
        self.launch = WorkerLaunch(
            family=self.task_definition.family,
            task_definition_arn_without_revision=self.task_definition.arn_without_revision,
            container_name=CONTAINER_NAME,
            security_group_id=self.security_group.id,
            capacity_provider=capacity_provider,
            network_mode="host" if s.on_gpu else "awsvpc",
            log_group_name=self.log_group.name,
            task_role_arn=self.task_role.arn,
            execution_role_arn=self.execution_role.arn,
            max_workers=s.max_workers,
        )

        self.register_outputs({
            "taskDefinitionArn": self.task_definition.arn,
            "family": self.task_definition.family,
            "securityGroupId": self.security_group.id,
            "logGroup": self.log_group.name,
        })
