"""DashboardSleep component: scale the dashboard to zero when idle and wake it on a person's next visit.

One small zip Lambda (components/sleepwake, boto3 only) does every job: an EventBridge rule runs it
every few minutes to read the dashboard's own activity record in the job table and sleep the
service after two quiet looks; with office hours, an EventBridge Scheduler schedule in the stack's
time zone runs its close (rules know only UTC; Scheduler evaluates cron in an IANA zone, daylight
saving included); the ALB forwards visitors to it (weight 1 on its Lambda target group) while the
dashboard sleeps, and a person's page load starts the service and switches the weights back once a
task is healthy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws
from dashboard.launcher import STARTED_BY

from components.environment import LAMBDA_RESERVED, app_env
from components.iam import Statement, log_statement, service_role
from components.load_balancer import LoadBalancer
from components.settings import SLEEPER_PERIOD_MINUTES, OfficeHours
from components.shared import Cluster, StoreLink
from components.sleepwake.ledger import LEADING_KEYS
from components.sleepwake.settings import SleepWakeSettings

PACKAGE = Path(__file__).resolve().parent / "sleepwake"
HANDLER = "components.sleepwake.handler.handle"
RUNTIME = "python3.12"
MEMORY_MB = 128
TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class SleepArgs:
    """The service to stop and start, the load balancer whose weights to switch (it has a waker target group),
    the job table that holds the activity record, and when to sleep and close."""

    function_name: str
    cluster: Cluster
    service: aws.ecs.Service
    front: LoadBalancer
    awake_count: int
    sleep_after_minutes: int
    log_retention_days: int
    log_level: str
    store: StoreLink
    office_hours: OfficeHours | None = None  # None: no close; the looks alone sleep it


def code_archive() -> pulumi.AssetArchive:
    """The function's code: the sleepwake package under its import path (components/sleepwake)."""
    files = {f"components/sleepwake/{path.name}": pulumi.FileAsset(str(path))
             for path in sorted(PACKAGE.glob("*.py"))}
    return pulumi.AssetArchive({"components/__init__.py": pulumi.StringAsset(""), **files})


def hours_text(hours: OfficeHours) -> str:
    """As a stack file writes them, with the zone: Mon-Fri 08:00-19:00 America/New_York."""
    days = hours.first_day.title() if hours.days == 1 else f"{hours.first_day.title()}-{hours.last_day.title()}"
    return f"{days} {hours.start[0]:02d}:{hours.start[1]:02d}-{hours.end[0]:02d}:{hours.end[1]:02d} {hours.time_zone}"


class DashboardSleep(pulumi.ComponentResource):
    """Sleeper schedule, waker target, and their one least-privilege function."""

    function: aws.lambda_.Function
    log_group: aws.cloudwatch.LogGroup

    def __init__(self, name: str, args: SleepArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-proto:index:DashboardSleep", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        front, waker = args.front, args.front.waker_target_group
        assert waker is not None, "the load balancer has no waker target group"
        service_arn = args.service.id  # an ECS service's id is its ARN
        listener_arn = front.listeners[0].arn  # the forwarding one: HTTPS when there is a certificate
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs", name=f"/aws/lambda/{args.function_name}", retention_in_days=args.log_retention_days,
            opts=child)
        role, role_policy = service_role(
            f"{name}-role", "lambda.amazonaws.com",
            [
                log_statement(self.log_group.arn),
                # The service's ARN names its cluster: no ecs:cluster condition needed.
                Statement("DashboardCount", ["ecs:DescribeServices", "ecs:UpdateService"], [service_arn]),
                # ListTasks has no resource-level permissions: "*", narrowed to the cluster.
                Statement("ListWorkers", ["ecs:ListTasks"], ["*"], {"ArnEquals": {"ecs:cluster": args.cluster.arn}}),
                Statement("SwitchListener", ["elasticloadbalancing:ModifyListener"], [listener_arn]),
                # Describe* have no resource-level permissions: AWS requires "*".
                Statement("ReadListener", ["elasticloadbalancing:DescribeListeners"], ["*"]),
                Statement("ReadHealth", ["elasticloadbalancing:DescribeTargetHealth"], ["*"]),
                # The activity record and the ledger only: two partition keys of the job table.
                Statement("Ledger", ["dynamodb:GetItem", "dynamodb:UpdateItem"], [args.store.table_arn],
                          {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": list(LEADING_KEYS)}}),
            ],
            parent=self,
            description="ml-proto dashboard sleep/wake: read its activity and health, set its task count and route",
        )
        settings = SleepWakeSettings(
            cluster=args.cluster.name,  # type: ignore[arg-type]  # Outputs until known; app_env resolves them
            service=args.service.name,  # type: ignore[arg-type]
            listener_arn=listener_arn,  # type: ignore[arg-type]
            dashboard_target_group_arn=front.target_group.arn,  # type: ignore[arg-type]
            waker_target_group_arn=waker.arn,  # type: ignore[arg-type]
            table=args.store.app.table,
            awake_count=args.awake_count,
            sleep_after_minutes=args.sleep_after_minutes,
            workers_started_by=STARTED_BY,
            log_level=args.log_level,
            office_hours=hours_text(args.office_hours) if args.office_hours else "",
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
            principal="elasticloadbalancing.amazonaws.com", source_arn=waker.arn, opts=child)
        aws.lb.TargetGroupAttachment(
            f"{name}-waker-target", target_group_arn=waker.arn, target_id=self.function.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[alb_permission]))
        rule = aws.cloudwatch.EventRule(
            f"{name}-schedule", schedule_expression=f"rate({SLEEPER_PERIOD_MINUTES} minutes)",
            description="ml-proto: look whether the dashboard has been idle long enough to sleep", opts=child)
        aws.lambda_.Permission(
            f"{name}-from-schedule", action="lambda:InvokeFunction", function=self.function.name,
            principal="events.amazonaws.com", source_arn=rule.arn, opts=child)
        aws.cloudwatch.EventTarget(f"{name}-look", rule=rule.name, arn=self.function.arn,
                                   opts=pulumi.ResourceOptions(parent=rule))
        if args.office_hours:
            self._close_schedule(name, args.office_hours)
        self.register_outputs({"functionName": self.function.name})

    def _close_schedule(self, name: str, hours: OfficeHours) -> None:
        """The office-hours close, in the stack's time zone: the function routes visitors to the waker, then
        stops the tasks (an Application Auto Scaling action would stop them under a listener still
        forwarding to them). No opening: a sleeping dashboard starts on its first visitor."""
        role, role_policy = service_role(
            f"{name}-close-role", "scheduler.amazonaws.com",
            [Statement("InvokeSleeper", ["lambda:InvokeFunction"], [self.function.arn])], parent=self,
            description="ml-proto: the office-hours close of the dashboard")
        aws.scheduler.Schedule(
            f"{name}-close",
            description="ml-proto: close the dashboard at the end of office hours",
            schedule_expression=hours.close_cron,
            schedule_expression_timezone=hours.time_zone,
            flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
            target=aws.scheduler.ScheduleTargetArgs(arn=self.function.arn, role_arn=role.arn,
                                                    input=json.dumps({"sleepwake": "close"})),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy]))
