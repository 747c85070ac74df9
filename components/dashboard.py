"""Dashboard component: the Dash app on Fargate behind an Application Load Balancer.

Plain `aws.lb` / `aws.ecs` resources rather than awsx's ALB and FargateService: every security
group rule, listener and IAM statement is then written here, visible and testable, and nothing
depends on awsx defaults (an open security group, container port 80) or on resource references
passed into remote components.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
from dashboard.settings import SECRET_VARIABLES

from components.dashboard_access import dashboard_execution_role, dashboard_task_role
from components.dashboard_app import alb_idle_timeout, app_settings, dashboard_wait_seconds
from components.dashboard_logins import dashboard_logins, dashboard_session_key
from components.environment import app_env, container_environment
from components.fargate_task import container_definition, fargate_task_definition
from components.front_door import FrontDoor, FrontDoorArgs, origin_facing_prefix_list
from components.load_balancer import LoadBalancer, LoadBalancerArgs
from components.network import https_egress
from components.predictor import PredictorLink
from components.service_scaling import service_scaling
from components.settings import DashboardSettings
from components.shared import Cluster, Image, Shared
from components.sleep import DashboardSleep, SleepArgs
from components.worker import WorkerLaunch

CONTAINER_NAME = "dashboard"
PORT = 8050
HEALTH_PATH = "/health"
LOGINS_VARIABLE = "DASHBOARD_LOGINS"
SESSION_KEY_VARIABLE = "DASHBOARD_SESSION_KEY"


@dataclass(frozen=True)
class DashboardArgs:
    """The dashboard's settings group, what the stack shares, its image, and the cluster, predictor and workers."""

    settings: DashboardSettings
    shared: Shared
    image: Image
    cpu_architecture: str
    cluster: Cluster
    predictor: PredictorLink
    worker: WorkerLaunch


class Dashboard(pulumi.ComponentResource):
    """CloudFront in front of an internal ALB (or an internet-facing ALB), Fargate service with CPU autoscaling,
    logins in SSM."""

    url: pulumi.Output[str]  # https://<id>.cloudfront.net (or the domain) behind CloudFront, else the ALB's
    load_balancer: aws.lb.LoadBalancer
    front_door: FrontDoor | None
    service: aws.ecs.Service
    log_group: aws.cloudwatch.LogGroup
    passwords: dict[str, pulumi.Output[str]]
    logins: pulumi.Output[str]

    def __init__(self, name: str, args: DashboardArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-proto:index:Dashboard", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        s, shared, names = args.settings, args.shared, args.shared.names
        sleeps = s.sleep_after_minutes > 0

        logins = dashboard_logins(name, s.users, s.passwords, names.path("dashboard-logins"), parent=self)
        self.passwords, self.logins = logins.passwords, logins.as_json
        session_key = dashboard_session_key(name, names.path("dashboard-session-key"), parent=self)
        log_group_name = names.path("dashboard")
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs", name=log_group_name, retention_in_days=shared.log_retention_days, opts=child)

        # --- network: the world reaches the ALB; only the ALB reaches the tasks ----------------
        service_sg = aws.ec2.SecurityGroup(
            f"{name}-service-sg", vpc_id=shared.network.vpc_id,
            description="ml-proto dashboard tasks: port 8050 from the load balancer only", opts=child)
        internal = s.behind_cloudfront
        front = LoadBalancer(name, LoadBalancerArgs(
            network=shared.network, allowed_cidrs=s.allowed_cidrs, certificate_arn=s.certificate_arn,
            domain_name=s.domain_name, target_port=PORT, health_path=HEALTH_PATH, targets_security_group=service_sg,
            idle_timeout_seconds=alb_idle_timeout(args.predictor), waker=sleeps,
            internal=internal, subnet_ids=shared.network.load_balancer_subnet_ids,
            origin_prefix_list_id=origin_facing_prefix_list(self) if internal else None), opts=child)
        self.load_balancer = front.load_balancer
        self.front_door = None
        if internal:
            self.front_door = FrontDoor(f"{name}-front", FrontDoorArgs(
                front.load_balancer, read_timeout_seconds=dashboard_wait_seconds(args.predictor) + 5,
                origin_name=names.aws("dashboard"),
                domain_name=s.domain_name, certificate_arn=s.certificate_arn), opts=child)
        https_egress(f"{name}-tasks-https-out", service_sg.id, parent=service_sg)

        # --- task definition and service ------------------------------------------------------
        task_role = dashboard_task_role(f"{name}-task-role", shared.store, args.predictor, args.worker, args.cluster,
                                        parent=self)
        execution_role, execution_policy = dashboard_execution_role(
            f"{name}-execution-role", args.image.repository_arn, self.log_group.arn,
            [logins.parameter.arn, session_key.arn], parent=self)
        family = names.aws("dashboard")
        environment = app_env(*app_settings(s, shared, args.cluster, args.predictor, args.worker),
                              leave_out=SECRET_VARIABLES)
        task_definition = fargate_task_definition(
            f"{name}-task", family=family, cpu=s.cpu, memory_mb=s.memory_mb, cpu_architecture=args.cpu_architecture,
            task_role=task_role, execution_role=execution_role,
            container=container_definition(
                CONTAINER_NAME, args.image.uri,
                environment.apply(container_environment), log_group_name, shared.store.app.region, port=PORT,
                secrets=[{"name": LOGINS_VARIABLE, "valueFrom": logins.parameter.arn},
                         {"name": SESSION_KEY_VARIABLE, "valueFrom": session_key.arn}]),
            opts=child)
        self.service = aws.ecs.Service(
            f"{name}-service",
            cluster=args.cluster.arn,
            task_definition=task_definition.arn,
            desired_count=s.desired_count,
            **_capacity(s),
            platform_version="LATEST",
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=list(shared.network.subnet_ids),
                security_groups=[service_sg.id],
                assign_public_ip=shared.network.assign_public_ip,
            ),
            load_balancers=[aws.ecs.ServiceLoadBalancerArgs(
                target_group_arn=front.target_group.arn, container_name=CONTAINER_NAME, container_port=PORT)],
            health_check_grace_period_seconds=60,
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(enable=True, rollback=True),
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            # `pulumi up` finishes when the new dashboard answers, or fails after the rollback.
            wait_for_steady_state=True,
            # Tasks read the logins at start: new logins (a new parameter version) restart them.
            force_new_deployment=True,
            triggers={"loginsVersion": logins.parameter.version.apply(str)},
            opts=pulumi.ResourceOptions(
                parent=self,
                # The target group must be attached to the ALB before a service can use it, and a capacity
                # provider strategy needs the providers associated with the cluster.
                depends_on=[*front.listeners, execution_policy,
                            *([args.cluster.capacity] if args.cluster.capacity else [])],
                # Autoscaling owns the running count after creation.
                ignore_changes=["desiredCount"],
            ),
        )
        service_scaling(name, args.cluster.name, self.service, family, s, parent=self)

        if front.waker_target_group is not None:
            DashboardSleep(f"{name}-sleep", SleepArgs(
                function_name=names.aws("dashboard-sleep"), cluster=args.cluster, service=self.service, front=front,
                awake_count=s.min_count,  # a visit wakes the fewest tasks autoscaling keeps
                sleep_after_minutes=s.sleep_after_minutes, log_retention_days=shared.log_retention_days,
                log_level=shared.log_level, store=shared.store, office_hours=s.office_hours), opts=child)

        self.url = self.front_door.url if self.front_door is not None else front.url
        self.register_outputs({"url": self.url, "albDnsName": self.load_balancer.dns_name,
                               "logGroup": self.log_group.name})


def _capacity(s: DashboardSettings) -> dict:
    """Regular Fargate, or Spot beyond an on-demand base (a capacity provider strategy)."""
    if s.capacity_provider != "FARGATE_SPOT":
        return {"launch_type": "FARGATE"}
    return {"capacity_provider_strategies": [
        aws.ecs.ServiceCapacityProviderStrategyArgs(capacity_provider="FARGATE", base=s.on_demand_base, weight=0),
        aws.ecs.ServiceCapacityProviderStrategyArgs(capacity_provider="FARGATE_SPOT", weight=1),
    ]}
