"""Sleep when idle, wake on visit (components/sleepwake): the decision, the waking page, and the calls
they make, against moto's ECS, ELBv2 and CloudWatch."""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from types import SimpleNamespace

import boto3
import pytest
from dashboard.launcher import STARTED_BY

from components.sleepwake import control, handler
from components.sleepwake.control import Action, Observation
from components.sleepwake.page import WAKING_MESSAGE, alb_response
from components.sleepwake.settings import SleepWakeSettings

pytestmark = pytest.mark.timeout(120)
N = 15  # minutes without a request before the dashboard sleeps
NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)


def seen(**changes) -> Observation:
    base = {"desired": 1, "healthy": 1, "routed_to_waker": False, "requests": 0.0,
            "changed_at": NOW - dt.timedelta(hours=2)}
    return Observation(**{**base, **changes})


@pytest.mark.parametrize(("observation", "action"), [
    (seen(), Action.SLEEP),  # no request for N minutes
    (seen(requests=1), Action.STAY),
    (seen(changed_at=NOW - dt.timedelta(minutes=N - 1)), Action.STAY),  # just started: give it N minutes
    (seen(changed_at=None), Action.SLEEP),
    (seen(desired=0), Action.ROUTE_TO_WAKER),  # stopped by the office-hours schedule
    (seen(desired=0, routed_to_waker=True), Action.STAY),
    (seen(requests=3, routed_to_waker=True), Action.ROUTE_TO_DASHBOARD),  # woken, healthy: visitors go in
    (seen(requests=3, routed_to_waker=True, healthy=0), Action.STAY),  # woken, still starting
    (seen(workers=1), Action.STAY),  # a batch job runs: its reconciler stays up
])
def test_sleep_decision(observation: Observation, action: Action) -> None:
    assert control.decide(observation, N, NOW) is action


def test_the_waking_page_says_what_happens_and_refreshes_the_same_url() -> None:
    response = alb_response("GET", ready=False)
    assert response["statusCode"] == 200 and response["headers"]["Content-Type"].startswith("text/html")
    assert WAKING_MESSAGE in response["body"] and '<meta http-equiv="refresh" content="10">' in response["body"]
    assert "url=" not in response["body"]  # refreshes the very URL the visitor asked for
    posted = alb_response("POST", ready=False)
    assert posted["statusCode"] == 503 and posted["headers"]["Retry-After"] == "10"


def test_settings_round_trip_through_the_environment() -> None:
    settings = SleepWakeSettings("c", "s", "l", "tg1", "tg2", "app/x/1", "targetgroup/a/1", "targetgroup/b/2",
                                 awake_count=2, sleep_after_minutes=N, workers_started_by="me", log_level="DEBUG")
    assert SleepWakeSettings.from_env(settings.to_env()) == settings


@pytest.fixture
def clients(aws_endpoint: str) -> SimpleNamespace:
    return SimpleNamespace(ecs=boto3.client("ecs"), elbv2=boto3.client("elbv2"), cloudwatch=boto3.client("cloudwatch"))


@pytest.fixture
def stack(clients: SimpleNamespace) -> SleepWakeSettings:
    """A dashboard service with one task, behind an ALB whose listener forwards to it (weights 1/0)."""
    name = uuid.uuid4().hex[:8]
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.1.{i}.0/24", AvailabilityZone=f"us-east-1{z}")
               ["Subnet"]["SubnetId"] for i, z in ((1, "a"), (2, "b"))]
    lb = clients.elbv2.create_load_balancer(Name=f"lb-{name}", Subnets=subnets)["LoadBalancers"][0]
    dashboard = clients.elbv2.create_target_group(Name=f"d-{name}", Protocol="HTTP", Port=8050, VpcId=vpc,
                                                  TargetType="ip")["TargetGroups"][0]
    waker = clients.elbv2.create_target_group(Name=f"w-{name}", TargetType="lambda")["TargetGroups"][0]
    listener = clients.elbv2.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
        DefaultActions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": dashboard["TargetGroupArn"], "Weight": 1},
            {"TargetGroupArn": waker["TargetGroupArn"], "Weight": 0}]}}])["Listeners"][0]
    clients.ecs.create_cluster(clusterName=f"c-{name}")
    clients.ecs.register_task_definition(
        family=f"d-{name}", containerDefinitions=[{"name": "dashboard", "image": "dashboard", "memory": 512}],
        requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512")
    clients.ecs.create_service(cluster=f"c-{name}", serviceName=f"s-{name}", taskDefinition=f"d-{name}",
                               desiredCount=1, launchType="FARGATE")
    suffix = lambda arn: arn.split(":", 5)[5]  # noqa: E731
    return SleepWakeSettings(
        cluster=f"c-{name}", service=f"s-{name}", listener_arn=listener["ListenerArn"],
        dashboard_target_group_arn=dashboard["TargetGroupArn"], waker_target_group_arn=waker["TargetGroupArn"],
        load_balancer_dimension=lb["LoadBalancerArn"].split(":loadbalancer/", 1)[1],
        dashboard_target_group_dimension=suffix(dashboard["TargetGroupArn"]),
        waker_target_group_dimension=suffix(waker["TargetGroupArn"]),
        awake_count=1, sleep_after_minutes=N, workers_started_by=STARTED_BY)


def later() -> dt.datetime:
    """A look N+1 minutes from now: the service, created now, has had its N quiet minutes."""
    return dt.datetime.now(dt.UTC) + dt.timedelta(minutes=N + 1)


def request_at(clients: SimpleNamespace, s: SleepWakeSettings, group: str, when: dt.datetime) -> None:
    """One minute's RequestCount as the ALB writes it."""
    clients.cloudwatch.put_metric_data(Namespace=control.NAMESPACE, MetricData=[{
        "MetricName": "RequestCount", "Timestamp": when, "Value": 2, "Unit": "Count",
        "Dimensions": [{"Name": "LoadBalancer", "Value": s.load_balancer_dimension},
                       {"Name": "TargetGroup", "Value": group}]}])


def desired(clients: SimpleNamespace, s: SleepWakeSettings) -> int:
    return clients.ecs.describe_services(cluster=s.cluster, services=[s.service])["services"][0]["desiredCount"]


def look(clients: SimpleNamespace, s: SleepWakeSettings, now: dt.datetime) -> tuple[Observation, Action]:
    observation = control.observe(clients.ecs, clients.elbv2, clients.cloudwatch, s, now)
    action = control.decide(observation, s.sleep_after_minutes, now)
    control.apply(clients.ecs, clients.elbv2, s, action)
    return observation, action


def test_an_idle_dashboard_sleeps_and_its_visitors_go_to_the_waking_page(clients, stack) -> None:
    observation, action = look(clients, stack, later())
    assert observation.requests == 0 and not observation.routed_to_waker
    assert action is Action.SLEEP
    assert desired(clients, stack) == 0
    assert control.observe(clients.ecs, clients.elbv2, clients.cloudwatch, stack, later()).routed_to_waker


@pytest.mark.parametrize("to", ["dashboard", "waker"])
def test_a_request_in_the_last_n_minutes_keeps_it_awake(clients, stack, to) -> None:
    now = later()
    group = stack.dashboard_target_group_dimension if to == "dashboard" else stack.waker_target_group_dimension
    request_at(clients, stack, group, now - dt.timedelta(minutes=3))
    observation, action = look(clients, stack, now)
    assert observation.requests == 2 and action is Action.STAY and desired(clients, stack) == 1


def test_a_request_older_than_n_minutes_does_not(clients, stack) -> None:
    now = later()
    request_at(clients, stack, stack.dashboard_target_group_dimension, now - dt.timedelta(minutes=N + 5))
    assert look(clients, stack, now)[1] is Action.SLEEP


def test_a_running_batch_worker_keeps_it_awake_and_others_tasks_do_not(clients, stack) -> None:
    clients.ecs.register_task_definition(
        family=f"{stack.cluster}-worker", containerDefinitions=[{"name": "worker", "image": "worker", "memory": 512}],
        requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512")

    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # moto's RunTask needs it, as Fargate
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.2.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName=f"w-{stack.cluster}", Description="worker", VpcId=vpc)["GroupId"]

    def run_worker(started_by: str) -> None:
        clients.ecs.run_task(cluster=stack.cluster, taskDefinition=f"{stack.cluster}-worker", startedBy=started_by,
                             launchType="FARGATE", networkConfiguration={"awsvpcConfiguration": {
                                 "subnets": [subnet], "securityGroups": [group],
                                 "assignPublicIp": "ENABLED"}})

    run_worker("someone-else")
    assert look(clients, stack, later())[1] is Action.SLEEP  # only the dashboard's workers count
    clients.ecs.update_service(cluster=stack.cluster, service=stack.service, desiredCount=1)
    run_worker(STARTED_BY)
    observation, action = look(clients, stack, later())
    assert observation.workers == 1 and action is Action.STAY and desired(clients, stack) == 1


def test_a_visit_wakes_it_and_goes_straight_in_once_a_task_is_healthy(clients, stack) -> None:
    look(clients, stack, later())  # asleep
    assert control.wake(clients.ecs, clients.elbv2, stack) is False
    assert desired(clients, stack) == stack.awake_count
    assert control.observe(clients.ecs, clients.elbv2, clients.cloudwatch, stack, later()).routed_to_waker
    assert control.wake(clients.ecs, clients.elbv2, stack) is False  # started, not yet healthy: still the page
    clients.elbv2.register_targets(TargetGroupArn=stack.dashboard_target_group_arn,
                                   Targets=[{"Id": "10.1.1.10", "Port": 8050}])  # the task passed its checks
    assert control.wake(clients.ecs, clients.elbv2, stack) is True
    assert not control.observe(clients.ecs, clients.elbv2, clients.cloudwatch, stack, later()).routed_to_waker


def test_a_dashboard_stopped_by_office_hours_is_routed_to_the_waking_page(clients, stack) -> None:
    clients.ecs.update_service(cluster=stack.cluster, service=stack.service, desiredCount=0)  # the closing action
    assert look(clients, stack, dt.datetime.now(dt.UTC))[1] is Action.ROUTE_TO_WAKER
    assert look(clients, stack, dt.datetime.now(dt.UTC))[1] is Action.STAY


@pytest.fixture
def root_logging():
    """The handler takes over the root logger, as in Lambda; give the test session its own back."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def test_the_lambda_entry_point_answers_a_visit_with_the_page_and_starts_the_dashboard(
        clients, stack, monkeypatch, capsys, root_logging) -> None:
    for name, value in stack.to_env().items():
        monkeypatch.setenv(name, value)
    look(clients, stack, later())  # asleep
    event = {"requestContext": {"elb": {"targetGroupArn": stack.waker_target_group_arn}}, "httpMethod": "GET",
             "path": "/", "headers": {}}
    response = handler.handle(event, SimpleNamespace(aws_request_id="req-1"))
    assert response["statusCode"] == 200 and WAKING_MESSAGE in response["body"]
    assert desired(clients, stack) == 1
    assert handler.handle({"source": "aws.events"}, SimpleNamespace(aws_request_id="req-2")) == {"action": "stay"}
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]  # every line is JSON
    ours = [x for x in logged if x["logger"] == "sleepwake"]
    assert [(x["message"], x["request_id"]) for x in ours] == [("visit while asleep", "req-1"), ("look", "req-2")]
    assert ours[1]["action"] == "stay" and ours[0]["ready"] is False
    assert all(x["request_id"] in ("req-1", "req-2") for x in logged)
