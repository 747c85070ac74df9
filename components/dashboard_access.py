"""The dashboard's two roles: its task's (job store, predictor, its workers) and its execution role."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.iam import (
    DASHBOARD_STORE,
    Statement,
    image_pull_statements,
    job_store_statements,
    log_statement,
    service_role,
)
from components.predictor import PredictorLink
from components.shared import Cluster, StoreLink
from components.worker import WorkerLaunch


def dashboard_task_role(name: str, store: StoreLink, predictor: PredictorLink, worker: WorkerLaunch,
                        cluster: Cluster, parent: pulumi.Resource) -> aws.iam.Role:
    """Job store access, invoking the predictor, and starting, passing roles to and watching its workers."""
    task_arns = pulumi.Output.from_input(cluster.arn).apply(lambda arn: arn.replace(":cluster/", ":task/", 1) + "/*")
    in_cluster = {"ArnEquals": {"ecs:cluster": cluster.arn}}
    role, _ = service_role(
        name, "ecs-tasks.amazonaws.com",
        [
            *job_store_statements(store.table_arn, store.bucket_arn, store.jobs_prefix, DASHBOARD_STORE),
            Statement("InvokePredictor", ["lambda:InvokeFunction"], list(predictor.invoke_arns)),
            # The predict form says "a new version is being trained" while the function's update is InProgress.
            Statement("ReadPredictorUpdate", ["lambda:GetFunctionConfiguration"], list(predictor.invoke_arns)),
            Statement("RunWorker", ["ecs:RunTask"],
                      [pulumi.Output.concat(worker.task_definition_arn_without_revision, ":*")], in_cluster),
            Statement("PassWorkerRoles", ["iam:PassRole"],
                      [worker.task_role_arn, worker.execution_role_arn],
                      {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}),
            Statement("DescribeWorkerTasks", ["ecs:DescribeTasks"], [task_arns], in_cluster),
            # ListTasks has no resource-level permissions: "*", narrowed to the cluster.
            Statement("ListWorkerTasks", ["ecs:ListTasks"], ["*"], in_cluster),
        ],
        parent=parent,
        description="ml-proto dashboard task: job store, predictor, starting and watching workers",
    )
    return role


def dashboard_execution_role(name: str, repository_arn: pulumi.Input[str], log_group_arn: pulumi.Input[str],
                             secret_parameter_arns: list[pulumi.Input[str]],
                             parent: pulumi.Resource) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
    """Pull the dashboard's image, write its log group, read its secrets' parameters (logins, session key)."""
    return service_role(
        name, "ecs-tasks.amazonaws.com",
        [
            *image_pull_statements(repository_arn),
            log_statement(log_group_arn),
            # The default aws/ssm key decrypts SecureStrings for GetParameters; no kms grant needed.
            Statement("ReadSecrets", ["ssm:GetParameters"], secret_parameter_arns),
        ],
        parent=parent,
        description="ml-proto dashboard: pull its image, write its logs, read its logins and session key",
    )
