"""Dashboard component: the Dash app on Fargate behind an Application Load Balancer.

Plain `aws.lb` / `aws.ecs` resources rather than awsx's ALB and FargateService: every security
group rule, listener and IAM statement is then written here, visible and testable, and nothing
depends on awsx defaults (an open security group, container port 80) or on resource references
passed into remote components.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_random as random
from dashboard.settings import SECRET_VARIABLES, EcsWorkerSettings, ServerSettings
from dashboard.settings import DashboardSettings as DashboardAppSettings
from jobkit.settings import StoreSettings as AppStoreSettings

from components.environment import app_env, container_environment
from components.iam import (
    DASHBOARD_STORE,
    Statement,
    image_pull_statements,
    job_store_statements,
    log_statement,
    service_role,
)
from components.network import Network, https_egress
from components.settings import OfficeHours
from components.sleep import DashboardSleep, SleepArgs

CONTAINER_NAME = "dashboard"
PORT = 8050
HEALTH_PATH = "/health"
LOGINS_VARIABLE = "DASHBOARD_LOGINS"
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


@dataclass(frozen=True)
class WorkerLaunch:
    """What the dashboard needs to start batch workers with ECS RunTask."""

    family: pulumi.Input[str]
    task_definition_arn_without_revision: pulumi.Input[str]
    container_name: str
    security_group_id: pulumi.Input[str]
    capacity_provider: str
    log_group_name: pulumi.Input[str]
    task_role_arn: pulumi.Input[str]
    execution_role_arn: pulumi.Input[str]
    max_workers: int


@dataclass(frozen=True)
class DashboardArgs:
    """Image, size, scaling, reachability, logins, and every resource the dashboard talks to."""

    family: str
    logins_parameter_name: str
    log_group_name: str
    image_uri: pulumi.Input[str]
    repository_arn: pulumi.Input[str]
    cpu: int
    memory_mb: int
    cpu_architecture: str
    desired_count: int
    min_count: int
    max_count: int
    cpu_target_percent: int
    server_workers: int
    server_threads: int
    allowed_cidrs: Sequence[str]
    certificate_arn: str
    domain_name: str
    upload_max_bytes: int
    users: Sequence[str]
    log_retention_days: int
    network: Network
    cluster_arn: pulumi.Input[str]
    cluster_name: pulumi.Input[str]
    table_arn: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]
    jobs_prefix: str
    store: AppStoreSettings  # what every app is told about the job store (names may be Outputs)
    log_level: str
    predictor_target: pulumi.Input[str]
    predictor_timeout_seconds: int
    predictor_arns: Sequence[pulumi.Input[str]]
    worker: WorkerLaunch
    sleep_function_name: str
    office_hours: OfficeHours | None = None  # None: always on
    sleep_after_minutes: int = 0  # 0: never sleeps
    capacity_provider: str = "FARGATE"
    on_demand_base: int = 1
    cluster_capacity: pulumi.Resource | None = None  # the cluster's FARGATE/FARGATE_SPOT association
    passwords: Mapping[str, str] = field(repr=False, default_factory=dict)


class Dashboard(pulumi.ComponentResource):
    """ALB (only it is reachable from outside), Fargate service with CPU autoscaling, logins in SSM."""

    url: pulumi.Output[str]
    load_balancer: aws.lb.LoadBalancer
    service: aws.ecs.Service
    log_group: aws.cloudwatch.LogGroup
    passwords: dict[str, pulumi.Output[str]]
    logins: pulumi.Output[str]

    def __init__(self, name: str, args: DashboardArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-proto:index:Dashboard", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        https = bool(args.certificate_arn)

        # --- logins: configured passwords, else generated ones; only ever in SSM and secrets ----
        self.passwords = {}
        for user in args.users:
            if user in args.passwords:
                self.passwords[user] = pulumi.Output.secret(args.passwords[user])
            else:
                generated = random.RandomPassword(f"{name}-password-{user}", length=24, special=False, opts=child)
                self.passwords[user] = pulumi.Output.secret(generated.result)
        self.logins = pulumi.Output.secret(pulumi.Output.json_dumps(self.passwords))
        logins_parameter = aws.ssm.Parameter(
            f"{name}-logins",
            name=args.logins_parameter_name,
            type="SecureString",
            value=self.logins,
            description="ml-proto dashboard logins: JSON {user: password}",
            opts=child,
        )

        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs", name=args.log_group_name, retention_in_days=args.log_retention_days, opts=child)

        # --- network: the world reaches the ALB; only the ALB reaches the tasks ----------------
        alb_sg = aws.ec2.SecurityGroup(
            f"{name}-alb-sg", vpc_id=args.network.vpc_id,
            description="ml-proto dashboard load balancer: HTTP(S) from allowed CIDRs", opts=child)
        service_sg = aws.ec2.SecurityGroup(
            f"{name}-service-sg", vpc_id=args.network.vpc_id,
            description="ml-proto dashboard tasks: port 8050 from the load balancer only", opts=child)
        for port in (80, 443) if https else (80,):
            for i, cidr in enumerate(args.allowed_cidrs):
                v6 = ipaddress.ip_network(cidr).version == 6
                aws.vpc.SecurityGroupIngressRule(
                    f"{name}-alb-in-{port}-{i}",
                    security_group_id=alb_sg.id,
                    description=f"port {port} from {cidr}",
                    ip_protocol="tcp", from_port=port, to_port=port,
                    cidr_ipv4=None if v6 else cidr,
                    cidr_ipv6=cidr if v6 else None,
                    opts=pulumi.ResourceOptions(parent=alb_sg),
                )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-alb-to-tasks",
            security_group_id=alb_sg.id,
            description="to dashboard tasks",
            ip_protocol="tcp", from_port=PORT, to_port=PORT,
            referenced_security_group_id=service_sg.id,
            opts=pulumi.ResourceOptions(parent=alb_sg),
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-tasks-from-alb",
            security_group_id=service_sg.id,
            description="from the load balancer",
            ip_protocol="tcp", from_port=PORT, to_port=PORT,
            referenced_security_group_id=alb_sg.id,
            opts=pulumi.ResourceOptions(parent=service_sg),
        )
        https_egress(f"{name}-tasks-https-out", service_sg.id, parent=service_sg)

        # --- load balancer --------------------------------------------------------------------
        self.load_balancer = aws.lb.LoadBalancer(
            f"{name}-alb",
            load_balancer_type="application",
            internal=False,
            security_groups=[alb_sg.id],
            subnets=list(args.network.subnet_ids),
            drop_invalid_header_fields=True,
            # Outlasts the slowest prediction the dashboard waits for, and batch uploads.
            idle_timeout=_alb_idle_timeout(args),
            opts=child,
        )
        target_group = aws.lb.TargetGroup(
            f"{name}-tg",
            port=PORT,
            protocol="HTTP",
            target_type="ip",
            vpc_id=args.network.vpc_id,
            deregistration_delay=30,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                path=HEALTH_PATH, port="traffic-port", protocol="HTTP", matcher="200",
                interval=15, timeout=5, healthy_threshold=2, unhealthy_threshold=3),
            opts=child,
        )
        sleeps = args.sleep_after_minutes > 0
        waker_group = None
        if sleeps:
            # While the dashboard sleeps the listener's weights send visitors here (see components/sleep.py).
            waker_group = aws.lb.TargetGroup(f"{name}-waker-tg", target_type="lambda", opts=child)
            forward = [aws.lb.ListenerDefaultActionArgs(type="forward", forward=aws.lb.ListenerDefaultActionForwardArgs(
                target_groups=[
                    aws.lb.ListenerDefaultActionForwardTargetGroupArgs(arn=target_group.arn, weight=1),
                    aws.lb.ListenerDefaultActionForwardTargetGroupArgs(arn=waker_group.arn, weight=0),
                ]))]
        else:
            forward = [aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=target_group.arn)]
        # The sleeper and the waker own the weights once created: an update must not undo a sleep.
        forwarding = pulumi.ResourceOptions(parent=self.load_balancer,
                                            ignore_changes=["defaultActions"] if sleeps else None)
        listeners = []
        if https:
            listeners.append(aws.lb.Listener(
                f"{name}-https", load_balancer_arn=self.load_balancer.arn, port=443, protocol="HTTPS",
                ssl_policy=TLS_POLICY, certificate_arn=args.certificate_arn, default_actions=forward,
                opts=forwarding))
            http_actions = [aws.lb.ListenerDefaultActionArgs(
                type="redirect",
                redirect=aws.lb.ListenerDefaultActionRedirectArgs(port="443", protocol="HTTPS",
                                                                  status_code="HTTP_301"))]
        else:
            http_actions = forward
        listeners.append(aws.lb.Listener(
            f"{name}-http", load_balancer_arn=self.load_balancer.arn, port=80, protocol="HTTP",
            default_actions=http_actions,
            opts=pulumi.ResourceOptions(parent=self.load_balancer) if https else forwarding))

        # --- roles ----------------------------------------------------------------------------
        worker = args.worker
        task_arns = pulumi.Output.from_input(args.cluster_arn).apply(
            lambda arn: arn.replace(":cluster/", ":task/", 1) + "/*")
        in_cluster = {"ArnEquals": {"ecs:cluster": args.cluster_arn}}
        task_role, _ = service_role(
            f"{name}-task-role", "ecs-tasks.amazonaws.com",
            [
                *job_store_statements(args.table_arn, args.bucket_arn, args.jobs_prefix, DASHBOARD_STORE),
                Statement("InvokePredictor", ["lambda:InvokeFunction"], list(args.predictor_arns)),
                Statement("RunWorker", ["ecs:RunTask"],
                          [pulumi.Output.concat(worker.task_definition_arn_without_revision, ":*")], in_cluster),
                Statement("PassWorkerRoles", ["iam:PassRole"],
                          [worker.task_role_arn, worker.execution_role_arn],
                          {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}),
                Statement("DescribeWorkerTasks", ["ecs:DescribeTasks"], [task_arns], in_cluster),
                # ListTasks has no resource-level permissions: "*", narrowed to the cluster.
                Statement("ListWorkerTasks", ["ecs:ListTasks"], ["*"], in_cluster),
            ],
            parent=self,
            description="ml-proto dashboard task: job store, predictor, starting and watching workers",
        )
        execution_role, execution_policy = service_role(
            f"{name}-execution-role", "ecs-tasks.amazonaws.com",
            [
                *image_pull_statements(args.repository_arn),
                log_statement(self.log_group.arn),
                # The default aws/ssm key decrypts SecureStrings for GetParameters; no kms grant needed.
                Statement("ReadLogins", ["ssm:GetParameters"], [logins_parameter.arn]),
            ],
            parent=self,
            description="ml-proto dashboard: pull its image, write its logs, read its logins",
        )

        # --- task definition and service ------------------------------------------------------
        # The dashboard's own settings objects write its environment; the logins come from SSM.
        app = DashboardAppSettings(
            store=args.store,
            logins={},
            predictor_function=args.predictor_target,
            region=args.store.region,
            upload_max_bytes=args.upload_max_bytes,
            launcher="ecs",
            max_workers=worker.max_workers,
            ecs=EcsWorkerSettings(
                cluster=args.cluster_name,
                task_definition=worker.family,
                subnets=tuple(args.network.subnet_ids),
                security_groups=(worker.security_group_id,),
                capacity_provider=worker.capacity_provider,
                assign_public_ip=args.network.assign_public_ip,
                container_name=worker.container_name,
            ),
            worker_log_group=worker.log_group_name,
            log_level=args.log_level,
            # The dashboard waits a little longer than the Lambda may run, so a slow answer is not cut off.
            predictor_timeout_seconds=args.predictor_timeout_seconds + 5,
        )
        server = ServerSettings(
            workers=args.server_workers,
            threads=args.server_threads,
            # gunicorn must keep idle connections open longer than the ALB does, or the ALB reuses
            # a connection gunicorn just closed and the stakeholder gets a 502.
            keepalive=_alb_idle_timeout(args) + 5,
            log_level=args.log_level.lower(),
        )
        container = {
            "name": CONTAINER_NAME,
            "image": args.image_uri,
            "essential": True,
            "portMappings": [{"containerPort": PORT, "protocol": "tcp"}],
            "environment": app_env(app, server, leave_out=SECRET_VARIABLES).apply(container_environment),
            "secrets": [{"name": LOGINS_VARIABLE, "valueFrom": logins_parameter.arn}],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": args.log_group_name,
                    "awslogs-region": args.store.region,
                    "awslogs-stream-prefix": CONTAINER_NAME,
                },
            },
        }
        task_definition = aws.ecs.TaskDefinition(
            f"{name}-task",
            family=args.family,
            requires_compatibilities=["FARGATE"],
            network_mode="awsvpc",
            cpu=str(args.cpu),
            memory=str(args.memory_mb),
            runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                operating_system_family="LINUX", cpu_architecture=args.cpu_architecture),
            task_role_arn=task_role.arn,
            execution_role_arn=execution_role.arn,
            container_definitions=pulumi.Output.json_dumps([container]),
            opts=child,
        )
        self.service = aws.ecs.Service(
            f"{name}-service",
            cluster=args.cluster_arn,
            task_definition=task_definition.arn,
            desired_count=args.desired_count,
            **_capacity(args),
            platform_version="LATEST",
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=list(args.network.subnet_ids),
                security_groups=[service_sg.id],
                assign_public_ip=args.network.assign_public_ip,
            ),
            load_balancers=[aws.ecs.ServiceLoadBalancerArgs(
                target_group_arn=target_group.arn, container_name=CONTAINER_NAME, container_port=PORT)],
            health_check_grace_period_seconds=60,
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(enable=True, rollback=True),
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            # `pulumi up` finishes when the new dashboard answers, or fails after the rollback.
            wait_for_steady_state=True,
            # Tasks read the logins at start: new logins (a new parameter version) restart them.
            force_new_deployment=True,
            triggers={"loginsVersion": logins_parameter.version.apply(str)},
            opts=pulumi.ResourceOptions(
                parent=self,
                # The target group must be attached to the ALB before a service can use it, and a capacity
                # provider strategy needs the providers associated with the cluster.
                depends_on=[*listeners, execution_policy,
                            *([args.cluster_capacity] if args.cluster_capacity else [])],
                # Autoscaling owns the running count after creation.
                ignore_changes=["desiredCount"],
            ),
        )
        scaling = aws.appautoscaling.Target(
            f"{name}-scaling",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=pulumi.Output.concat("service/", args.cluster_name, "/", self.service.name),
            # Office hours and sleep need room for zero tasks; the opening action raises the floor by day.
            min_capacity=0 if args.office_hours or sleeps else args.min_count,
            max_capacity=args.max_count,
            opts=child,
        )
        if args.office_hours:
            hours = args.office_hours
            # A sleeping dashboard is not started at opening: the first visit wakes it.
            opening_floor = 0 if sleeps else args.min_count
            for action, cron, low, high in (("open", hours.open_cron, opening_floor, args.max_count),
                                            ("close", hours.close_cron, 0, 0)):
                aws.appautoscaling.ScheduledAction(
                    f"{name}-{action}",
                    name=pulumi.Output.concat(args.family, f"-{action}"),
                    service_namespace=scaling.service_namespace,
                    scalable_dimension=scaling.scalable_dimension,
                    resource_id=scaling.resource_id,
                    schedule=cron,
                    timezone=hours.time_zone,
                    scalable_target_action=aws.appautoscaling.ScheduledActionScalableTargetActionArgs(
                        min_capacity=low, max_capacity=high),
                    opts=pulumi.ResourceOptions(parent=scaling),
                )
        aws.appautoscaling.Policy(
            f"{name}-cpu-tracking",
            policy_type="TargetTrackingScaling",
            service_namespace=scaling.service_namespace,
            scalable_dimension=scaling.scalable_dimension,
            resource_id=scaling.resource_id,
            target_tracking_scaling_policy_configuration=aws.appautoscaling.
            PolicyTargetTrackingScalingPolicyConfigurationArgs(
                target_value=float(args.cpu_target_percent),
                predefined_metric_specification=aws.appautoscaling.
                PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                    predefined_metric_type="ECSServiceAverageCPUUtilization"),
                scale_in_cooldown=300,
                scale_out_cooldown=60,
            ),
            opts=pulumi.ResourceOptions(parent=scaling),
        )

        if waker_group is not None:
            DashboardSleep(f"{name}-sleep", SleepArgs(
                function_name=args.sleep_function_name,
                cluster_name=args.cluster_name,
                cluster_arn=args.cluster_arn,
                service_name=self.service.name,
                service_arn=self.service.id,  # an ECS service's id is its ARN
                listener_arn=listeners[0].arn,  # the forwarding one: HTTPS when there is a certificate
                load_balancer_arn_suffix=self.load_balancer.arn_suffix,
                dashboard_target_group=target_group,
                waker_target_group=waker_group,
                awake_count=args.min_count,  # a visit wakes the fewest tasks autoscaling keeps
                sleep_after_minutes=args.sleep_after_minutes,
                log_retention_days=args.log_retention_days,
                log_level=args.log_level,
            ), opts=child)

        host = args.domain_name or self.load_balancer.dns_name
        self.url = pulumi.Output.concat("https://" if https else "http://", host)
        self.register_outputs({"url": self.url, "albDnsName": self.load_balancer.dns_name,
                               "logGroup": self.log_group.name})


def _capacity(args: DashboardArgs) -> dict:
    """Regular Fargate, or Spot beyond an on-demand base (a capacity provider strategy)."""
    if args.capacity_provider != "FARGATE_SPOT":
        return {"launch_type": "FARGATE"}
    return {"capacity_provider_strategies": [
        aws.ecs.ServiceCapacityProviderStrategyArgs(capacity_provider="FARGATE", base=args.on_demand_base, weight=0),
        aws.ecs.ServiceCapacityProviderStrategyArgs(capacity_provider="FARGATE_SPOT", weight=1),
    ]}


def _alb_idle_timeout(args: DashboardArgs) -> int:
    """Outlasts the slowest prediction the dashboard waits for, and batch uploads."""
    return max(120, args.predictor_timeout_seconds + 30)
