"""DashboardSleep component: scale the dashboard to zero when idle and wake it on the next visit.

One small zip Lambda (components/sleepwake, boto3 only) does both jobs: an EventBridge rule runs it
every few minutes to look at the ALB's request counts and sleep the service; the ALB forwards
visitors to it (weight 1 on its Lambda target group) while the dashboard sleeps, and it answers
with the waking page while starting the service and switching the weights back once a task is healthy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws
from dashboard.launcher import STARTED_BY

from components.environment import LAMBDA_RESERVED, app_env
from components.iam import Statement, log_statement, service_role
from components.settings import SLEEPER_PERIOD_MINUTES
from components.sleepwake.settings import SleepWakeSettings

PACKAGE = Path(__file__).resolve().parent / "sleepwake"
HANDLER = "components.sleepwake.handler.handle"
RUNTIME = "python3.12"
MEMORY_MB = 128
TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class SleepArgs:
    """The service to stop and start, the listener and target groups to switch, and when to sleep."""

    function_name: str
    cluster_name: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    service_name: pulumi.Input[str]
    service_arn: pulumi.Input[str]
    listener_arn: pulumi.Input[str]
    load_balancer_arn_suffix: pulumi.Input[str]
    dashboard_target_group: aws.lb.TargetGroup
    waker_target_group: aws.lb.TargetGroup
    awake_count: int
    sleep_after_minutes: int
    log_retention_days: int
    log_level: str


def code_archive() -> pulumi.AssetArchive:
    """The function's code: the sleepwake package under its import path (components/sleepwake)."""
    files = {f"components/sleepwake/{path.name}": pulumi.FileAsset(str(path))
             for path in sorted(PACKAGE.glob("*.py"))}
    return pulumi.AssetArchive({"components/__init__.py": pulumi.StringAsset(""), **files})


class DashboardSleep(pulumi.ComponentResource):
    """Sleeper schedule, waker target, and their one least-privilege function."""

    function: aws.lambda_.Function
    log_group: aws.cloudwatch.LogGroup

    def __init__(self, name: str, args: SleepArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-proto:index:DashboardSleep", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs", name=f"/aws/lambda/{args.function_name}", retention_in_days=args.log_retention_days,
            opts=child)
        role, role_policy = service_role(
            f"{name}-role", "lambda.amazonaws.com",
            [
                log_statement(self.log_group.arn),
                # The service's ARN names its cluster: no ecs:cluster condition needed.
                Statement("DashboardCount", ["ecs:DescribeServices", "ecs:UpdateService"], [args.service_arn]),
                # ListTasks has no resource-level permissions: "*", narrowed to the cluster.
                Statement("ListWorkers", ["ecs:ListTasks"], ["*"], {"ArnEquals": {"ecs:cluster": args.cluster_arn}}),
                Statement("SwitchListener", ["elasticloadbalancing:ModifyListener"], [args.listener_arn]),
                # Describe* and GetMetricStatistics have no resource-level permissions: AWS requires "*".
                Statement("ReadListener", ["elasticloadbalancing:DescribeListeners"], ["*"]),
                Statement("ReadHealth", ["elasticloadbalancing:DescribeTargetHealth"], ["*"]),
                Statement("ReadRequestCounts", ["cloudwatch:GetMetricStatistics"], ["*"]),
            ],
            parent=self,
            description="ml-proto dashboard sleep/wake: read its requests and health, set its task count and route",
        )
        settings = SleepWakeSettings(
            cluster=args.cluster_name,  # type: ignore[arg-type]  # Outputs until known; app_env resolves them
            service=args.service_name,  # type: ignore[arg-type]
            listener_arn=args.listener_arn,  # type: ignore[arg-type]
            dashboard_target_group_arn=args.dashboard_target_group.arn,  # type: ignore[arg-type]
            waker_target_group_arn=args.waker_target_group.arn,  # type: ignore[arg-type]
            load_balancer_dimension=args.load_balancer_arn_suffix,  # type: ignore[arg-type]
            dashboard_target_group_dimension=args.dashboard_target_group.arn_suffix,  # type: ignore[arg-type]
            waker_target_group_dimension=args.waker_target_group.arn_suffix,  # type: ignore[arg-type]
            awake_count=args.awake_count,
            sleep_after_minutes=args.sleep_after_minutes,
            workers_started_by=STARTED_BY,
            log_level=args.log_level,
        )
        self.function = aws.lambda_.Function(
            f"{name}-function",
            name=args.function_name,
            runtime=RUNTIME,
            handler=HANDLER,
            code=code_archive(),
            architectures=["arm64"],  # pure Python on boto3: the cheaper architecture costs nothing to support
            memory_size=MEMORY_MB,
            timeout=TIMEOUT_SECONDS,
            role=role.arn,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=app_env(settings, leave_out=LAMBDA_RESERVED)),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="Text", log_group=self.log_group.name),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.log_group, role_policy]),
        )
        # The ALB may invoke it only through the waker target group; EventBridge only through the rule.
        alb_permission = aws.lambda_.Permission(
            f"{name}-from-alb", action="lambda:InvokeFunction", function=self.function.name,
            principal="elasticloadbalancing.amazonaws.com", source_arn=args.waker_target_group.arn, opts=child)
        aws.lb.TargetGroupAttachment(
            f"{name}-waker-target", target_group_arn=args.waker_target_group.arn, target_id=self.function.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[alb_permission]))
        rule = aws.cloudwatch.EventRule(
            f"{name}-schedule", schedule_expression=f"rate({SLEEPER_PERIOD_MINUTES} minutes)",
            description="ml-proto: look whether the dashboard has been idle long enough to sleep", opts=child)
        aws.lambda_.Permission(
            f"{name}-from-schedule", action="lambda:InvokeFunction", function=self.function.name,
            principal="events.amazonaws.com", source_arn=rule.arn, opts=child)
        aws.cloudwatch.EventTarget(f"{name}-look", rule=rule.name, arn=self.function.arn,
                                   opts=pulumi.ResourceOptions(parent=rule))
        self.register_outputs({"functionName": self.function.name})
