"""A dashboard for the sleepwake moves on moto: an ECS service, an ALB listener with both target groups,
the job table; its tasks become targets only when the test starts them, as Fargate's do."""

from __future__ import annotations

import datetime as dt
import uuid
from types import SimpleNamespace

import boto3
from dashboard.launcher import STARTED_BY

from components.sleepwake import control
from components.sleepwake.ledger import Ledger
from components.sleepwake.moves import Dashboard
from components.sleepwake.settings import SleepWakeSettings

SLEEP_AFTER = 15  # minutes


def clients() -> SimpleNamespace:
    return SimpleNamespace(ecs=boto3.client("ecs"), elbv2=boto3.client("elbv2"), dynamodb=boto3.client("dynamodb"),
                           ec2=boto3.client("ec2"))


def build(c: SimpleNamespace, table: str) -> SleepWakeSettings:
    """A service with one task, healthy behind a listener that forwards to it (weights 1/0)."""
    name = uuid.uuid4().hex[:8]
    vpc = c.ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnets = [c.ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.1.{i}.0/24", AvailabilityZone=f"us-east-1{z}")
               ["Subnet"]["SubnetId"] for i, z in ((1, "a"), (2, "b"))]
    lb = c.elbv2.create_load_balancer(Name=f"lb-{name}", Subnets=subnets)["LoadBalancers"][0]
    dashboard = c.elbv2.create_target_group(Name=f"d-{name}", Protocol="HTTP", Port=8050, VpcId=vpc,
                                            TargetType="ip")["TargetGroups"][0]
    waker = c.elbv2.create_target_group(Name=f"w-{name}", TargetType="lambda")["TargetGroups"][0]
    listener = c.elbv2.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
        DefaultActions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": dashboard["TargetGroupArn"], "Weight": 1},
            {"TargetGroupArn": waker["TargetGroupArn"], "Weight": 0}]}}])["Listeners"][0]
    c.ecs.create_cluster(clusterName=f"c-{name}")
    c.ecs.register_task_definition(
        family=f"d-{name}", containerDefinitions=[{"name": "dashboard", "image": "dashboard", "memory": 512}],
        requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512")
    c.ecs.create_service(cluster=f"c-{name}", serviceName=f"s-{name}", taskDefinition=f"d-{name}",
                         desiredCount=1, launchType="FARGATE")
    s = SleepWakeSettings(
        cluster=f"c-{name}", service=f"s-{name}", listener_arn=listener["ListenerArn"],
        dashboard_target_group_arn=dashboard["TargetGroupArn"], waker_target_group_arn=waker["TargetGroupArn"],
        table=table, awake_count=1, sleep_after_minutes=SLEEP_AFTER, workers_started_by=STARTED_BY)
    start_task(c, s)
    return s


def start_task(c: SimpleNamespace, s: SleepWakeSettings) -> None:
    """The service's task passed its health checks: the ALB may send it visitors."""
    c.elbv2.register_targets(TargetGroupArn=s.dashboard_target_group_arn, Targets=[{"Id": "10.1.1.10", "Port": 8050}])


class TwinService(control.EcsService):
    """ECS, with a stop that takes the task out of the target group at once (the strictest case: no draining)."""

    def scale(self, count: int) -> None:
        super().scale(count)
        if count == 0:
            self.elbv2.deregister_targets(TargetGroupArn=self.s.dashboard_target_group_arn,
                                          Targets=[{"Id": "10.1.1.10", "Port": 8050}])


def dashboard(c: SimpleNamespace, s: SleepWakeSettings) -> Dashboard:
    return Dashboard(service=TwinService(c.ecs, c.elbv2, s), route=control.ListenerRoute(c.elbv2, s),
                     record=Ledger(c.dynamodb, s.table), awake_count=s.awake_count,
                     sleep_after_minutes=s.sleep_after_minutes)


def later(minutes: float = SLEEP_AFTER + 1) -> dt.datetime:
    """A look this many minutes from now: by default the service, created now, has had its quiet minutes."""
    return dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
