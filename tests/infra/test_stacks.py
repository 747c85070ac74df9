"""Per-stack differences are exactly what the stack files say; optional config turns on what it names."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from deploy.cost import open_hours_per_week
from deploy.mock_program import (
    CHOSEN_SUBNETS,
    DEFAULT_SUBNET_ZONES,
    DEFAULT_VPC,
    OTHER_VPC_SUBNET,
    ROOT,
    SAME_ZONE_SUBNET,
)
from tests.infra.stackview import Deployment

pytestmark = pytest.mark.timeout(120)


def _lifecycle_days(d: Deployment) -> int:
    rules = d.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs["rules"]
    return next(r for r in rules if r["id"] == "expire-job-files")["expiration"]["days"]


def _kept_images(d: Deployment) -> int:
    counts = {json.loads(p.inputs["policy"])["rules"][0]["selection"]["countNumber"]
              for p in d.of_type("aws:ecr/lifecyclePolicy:LifecyclePolicy")}
    assert len(counts) == 1
    return counts.pop()


def _retention(d: Deployment) -> int:
    days = {g.inputs["retentionInDays"] for g in d.of_type("aws:cloudwatch/logGroup:LogGroup")}
    assert len(days) == 1
    return days.pop()


def _table(d: Deployment) -> dict[str, Any]:
    return d.one("aws:dynamodb/table:Table").inputs


def _service(d: Deployment) -> dict[str, Any]:
    return d.one("aws:ecs/service:Service").inputs


def _scaling(d: Deployment) -> dict[str, Any]:
    return d.one("aws:appautoscaling/target:Target").inputs


def _predictor(d: Deployment) -> dict[str, Any]:
    return d.one("aws:lambda/function:Function", "predictor-function").inputs


def _min_count(d: Deployment) -> int:
    """Tasks while open: what a visit wakes (sleeping stacks), the opening floor (office hours), or the floor."""
    if d.of_type("ml-proto:index:DashboardSleep"):
        return int(d.sleep_env()["AWAKE_COUNT"])
    actions = d.scheduled_actions()
    return actions["open"]["scalableTargetAction"]["minCapacity"] if actions else _scaling(d)["minCapacity"]


def _max_count(d: Deployment) -> int:
    """The most tasks while open: the opening action's ceiling (office hours; the target itself holds
    0 when `pulumi up` runs after hours), or the target's."""
    actions = d.scheduled_actions()
    return actions["open"]["scalableTargetAction"]["maxCapacity"] if actions else _scaling(d)["maxCapacity"]


def _time_zone(d: Deployment) -> str:
    """The zone the schedules are read in: the sleeper's close (sleeping stacks), or the scaling actions."""
    closes = d.of_type("aws:scheduler/schedule:Schedule")
    return closes[0].inputs["scheduleExpressionTimezone"] if closes else d.scheduled_actions()["open"]["timezone"]


def _office_hours(d: Deployment) -> str:
    """The window the open and close actions span, as written in a stack file (Mon-Fri 08:00-19:00); a
    sleeping stack opens on its first visit and tells visitors its hours (OFFICE_HOURS, with the zone)."""
    if d.of_type("ml-proto:index:DashboardSleep"):
        return d.sleep_env()["OFFICE_HOURS"].rsplit(" ", 1)[0]
    actions = d.scheduled_actions()
    _, window = open_hours_per_week(actions["open"]["schedule"], actions["close"]["schedule"])
    days, hours = window.split(" ")
    return f"{'-'.join(day.title() for day in days.split('-'))} {hours}"


# Where each stack-file key shows up in what the program declares.
OBSERVED: dict[str, Callable[[Deployment], Any]] = {
    "aws:region": lambda d: d.container_env("-dashboard")["AWS_REGION"],
    "ml-proto:logRetentionDays": _retention,
    "ml-proto:logLevel": lambda d: {d.container_env("-dashboard")["LOG_LEVEL"], d.container_env("-worker")["LOG_LEVEL"],
                                    d.lambda_env()["LOG_LEVEL"]}.pop(),
    "ml-proto:imagesToKeep": _kept_images,
    "ml-proto:resultRetentionDays": _lifecycle_days,
    "ml-proto:pointInTimeRecovery": lambda d: _table(d)["pointInTimeRecovery"]["enabled"],
    "ml-proto:deletionProtection": lambda d: _table(d)["deletionProtectionEnabled"],
    "ml-proto:predictorMemoryMb": lambda d: _predictor(d)["memorySize"],
    "ml-proto:predictorTimeoutSeconds": lambda d: _predictor(d)["timeout"],
    "ml-proto:workerCpu": lambda d: int(d.task_definition("-worker").inputs["cpu"]),
    "ml-proto:workerMemoryMb": lambda d: int(d.task_definition("-worker").inputs["memory"]),
    "ml-proto:workerCapacityProvider": lambda d: d.container_env("-dashboard")["WORKER_CAPACITY_PROVIDER"],
    "ml-proto:maxWorkers": lambda d: int(d.container_env("-dashboard")["MAX_WORKERS"]),
    "ml-proto:dashboardCpu": lambda d: int(d.task_definition("-dashboard").inputs["cpu"]),
    "ml-proto:dashboardMemoryMb": lambda d: int(d.task_definition("-dashboard").inputs["memory"]),
    "ml-proto:dashboardDesiredCount": lambda d: _service(d)["desiredCount"],
    "ml-proto:dashboardMinCount": _min_count,
    "ml-proto:dashboardMaxCount": _max_count,
    "ml-proto:dashboardWorkers": lambda d: int(d.container_env("-dashboard")["GUNICORN_WORKERS"]),
    "ml-proto:dashboardThreads": lambda d: int(d.container_env("-dashboard")["GUNICORN_THREADS"]),
    "ml-proto:dashboardUsers": lambda d: list(json.loads(d.exports["dashboardLogins"])),
    "ml-proto:timeZone": _time_zone,
    "ml-proto:dashboardOfficeHours": _office_hours,
    "ml-proto:dashboardSleepAfterMinutes": lambda d: int(d.sleep_env()["SLEEP_AFTER_MINUTES"]),
}


def stack_file(stack: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]


def test_every_value_in_the_stack_file_is_what_the_stack_builds(deployment: Deployment) -> None:
    for key, expected in stack_file(deployment.stack).items():
        assert key in OBSERVED, f"no test observes {key}; add it to OBSERVED"
        assert OBSERVED[key](deployment) == expected, key


def test_dev_is_cheap_and_demo_is_sturdy(deployments: dict[str, Deployment]) -> None:
    dev, demo = deployments["dev"], deployments["demo"]
    assert _retention(dev) < _retention(demo)
    assert _service(dev)["desiredCount"] == 1 and _service(demo)["desiredCount"] == 2
    for key in ("pointInTimeRecovery", "deletionProtection"):
        assert OBSERVED[f"ml-proto:{key}"](dev) is False and OBSERVED[f"ml-proto:{key}"](demo) is True
    assert OBSERVED["ml-proto:workerCapacityProvider"](dev) == "FARGATE_SPOT"
    # Two stacks of one project never collide on the names they fix themselves.
    fixed = ("predictorFunction", "workerTaskDefinition", "dashboardLogGroup", "workerLogGroup", "predictorLogGroup")
    assert not {dev.exports[k] for k in fixed} & {demo.exports[k] for k in fixed}


@pytest.fixture(scope="module")
def https_run(run_with: Callable[..., Deployment]) -> Deployment:
    run = run_with("dev", frontDoor="alb", certificateArn="arn:aws:acm:us-east-1:123456789012:certificate/abc",
                   domainName="demo.example.com", allowedCidrs='["203.0.113.0/24", "2001:db8::/32"]')
    assert run.error is None, run.error
    return run


def test_a_certificate_adds_https_and_port_80_redirects(https_run: Deployment) -> None:
    listeners = {listener.inputs["port"]: listener for listener in https_run.of_type("aws:lb/listener:Listener")}
    assert set(listeners) == {80, 443}
    https = listeners[443].inputs
    assert https["protocol"] == "HTTPS" and https["certificateArn"].startswith("arn:aws:acm:")
    assert https["defaultActions"][0]["type"] == "forward"
    redirect = listeners[80].inputs["defaultActions"][0]
    assert redirect["type"] == "redirect"
    assert redirect["redirect"] == {"port": "443", "protocol": "HTTPS", "statusCode": "HTTP_301"}
    assert https_run.exports["url"] == "https://demo.example.com"


def test_alb_ingress_is_limited_to_the_configured_cidrs(https_run: Deployment) -> None:
    rules = https_run.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    opened = {(r.inputs.get("cidrIpv4") or r.inputs.get("cidrIpv6"), r.inputs["fromPort"])
              for r in rules if r.inputs.get("cidrIpv4") or r.inputs.get("cidrIpv6")}
    assert opened == {("203.0.113.0/24", 80), ("203.0.113.0/24", 443), ("2001:db8::/32", 80), ("2001:db8::/32", 443)}
    assert {r.inputs.get("cidrIpv6") for r in rules} >= {"2001:db8::/32"}


def test_provisioned_concurrency_goes_through_an_alias_the_dashboard_invokes(
        run_with: Callable[..., Deployment]) -> None:
    run = run_with("demo", predictorProvisionedConcurrency="2", predictorReservedConcurrency="10")
    assert run.error is None, run.error
    function = run.one("aws:lambda/function:Function", "predictor-function")
    assert function.inputs["publish"] is True and function.inputs["reservedConcurrentExecutions"] == 10
    alias = run.one("aws:lambda/alias:Alias")
    assert alias.inputs["functionVersion"] == function.outputs["version"]
    warm = run.one("aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig")
    assert warm.inputs["provisionedConcurrentExecutions"] == 2 and warm.inputs["qualifier"] == alias.inputs["name"]
    assert run.container_env("-dashboard")["PREDICTOR_FUNCTION"] == alias.outputs["arn"]
    statements = run.role_statements()["dashboard-task-role"]
    invoke = next(s for s in statements if s.get("Sid") == "InvokePredictor")
    assert alias.outputs["arn"] in invoke["Resource"]


def test_a_configured_vpc_replaces_the_default_one(run_with: Callable[..., Deployment]) -> None:
    run = run_with("dev", vpcId="vpc-0mine", subnetIds='["subnet-0a", "subnet-0b"]', assignPublicIp="false",
                   loadBalancerSubnetIds='["subnet-0pa", "subnet-0pb"]')
    assert run.error is None, run.error
    # Only CloudFront's prefix list is looked up: no default VPC, no subnet, and no private subnet created.
    assert [i["token"] for i in run.invokes if i["token"].startswith("aws:ec2/")] == [
        "aws:ec2/getManagedPrefixList:getManagedPrefixList"]
    assert not run.of_type("aws:ec2/subnet:Subnet")
    assert run.one("aws:lb/loadBalancer:LoadBalancer").inputs["subnets"] == ["subnet-0pa", "subnet-0pb"]
    assert {g.inputs["vpcId"] for g in run.of_type("aws:ec2/securityGroup:SecurityGroup")} == {"vpc-0mine"}
    assert run.one("aws:ecs/service:Service").inputs["networkConfiguration"]["assignPublicIp"] is False
    env = run.container_env("-dashboard")
    assert env["WORKER_SUBNETS"] == "subnet-0a,subnet-0b" and env["WORKER_ASSIGN_PUBLIC_IP"] == "DISABLED"


def test_configured_passwords_are_used_and_others_generated(run_with: Callable[..., Deployment]) -> None:
    run = run_with("demo", secrets=("dashboardPasswords",), dashboardPasswords='{"scientist": "s3cret-enough"}')
    assert run.error is None, run.error
    logins = json.loads(run.exports["dashboardLogins"])
    assert logins["scientist"] == "s3cret-enough"
    assert [r.name for r in run.of_type("random:index/randomPassword:RandomPassword")
            if r.name.startswith("dashboard-password-")] == ["dashboard-password-stakeholder"]
    assert logins["stakeholder"].startswith("generated-")
    assert run.exports["dashboardPassword"] == logins["stakeholder"]  # the first user's
    assert {"dashboardPassword", "dashboardLogins"} <= set(run.secret_exports)


def test_arm64_builds_arm_images_and_runs_arm_lambda_and_tasks(run_with: Callable[..., Deployment]) -> None:
    run = run_with("demo", platform="linux/arm64")
    assert run.error is None, run.error
    assert {i.inputs["platform"] for i in run.of_type("awsx:ecr:Image")} == {"linux/arm64"}
    assert run.one("aws:lambda/function:Function", "predictor-function").inputs["architectures"] == ["arm64"]
    assert {t.inputs["runtimePlatform"]["cpuArchitecture"]
            for t in run.of_type("aws:ecs/taskDefinition:TaskDefinition")} == {"ARM64"}


def test_subnet_ids_choose_the_default_vpcs_subnets(run_with: Callable[..., Deployment]) -> None:
    chosen = [s for s in DEFAULT_SUBNET_ZONES if s not in CHOSEN_SUBNETS][:2]
    run = run_with("demo", subnetIds=json.dumps(chosen))
    assert run.error is None, run.error
    # The internal load balancer's private subnets are created in the chosen subnets' zones.
    zones = sorted(DEFAULT_SUBNET_ZONES[s] for s in chosen)
    assert [s.inputs["availabilityZone"] for s in run.of_type("aws:ec2/subnet:Subnet")] == zones
    assert run.one("aws:ecs/service:Service").inputs["networkConfiguration"]["subnets"] == chosen
    assert run.container_env("-dashboard")["WORKER_SUBNETS"] == ",".join(chosen)
    assert {g.inputs["vpcId"] for g in run.of_type("aws:ec2/securityGroup:SecurityGroup")} == {DEFAULT_VPC}
    # Each configured subnet was looked up (its zone and VPC checked); none was listed or guessed.
    looked_up = [i["args"]["id"] for i in run.invokes if i["token"] == "aws:ec2/getSubnet:getSubnet"]
    assert sorted(looked_up) == sorted(chosen)
    assert not [i for i in run.invokes if i["token"] == "aws:ec2/getSubnets:getSubnets"]


@pytest.mark.parametrize(("subnets", "problem"), [
    ([CHOSEN_SUBNETS[0], OTHER_VPC_SUBNET], f"{OTHER_VPC_SUBNET} not in the default VPC"),
    ([CHOSEN_SUBNETS[0], SAME_ZONE_SUBNET], "1 availability zone(s) (us-east-1a)"),
])
def test_subnet_ids_an_alb_cannot_use_are_refused_before_anything_is_created(
        run_with: Callable[..., Deployment], subnets: list[str], problem: str) -> None:
    run = run_with("dev", subnetIds=json.dumps(subnets))
    assert run.error is not None and problem in run.error["message"], run.error
    assert not [r for r in run.resources if not r.type.startswith("ml-proto:")]


def test_what_an_idle_stack_holds_public_ipv4_addresses_for(deployments: dict[str, Deployment]) -> None:
    """The idle cost's largest parts (README's table is computed from these): one ALB, internal behind CloudFront
    (no public IPv4 address), one address per running dashboard task; worker tasks hold one only while they run."""
    held = {}
    for stack, d in deployments.items():
        (alb,) = d.of_type("aws:lb/loadBalancer:LoadBalancer")
        assert alb.inputs["internal"] is True
        service = _service(d)
        assert service["networkConfiguration"]["assignPublicIp"] is True
        assert len(d.of_type("aws:ecs/service:Service")) == 1  # no service keeps workers running
        held[stack] = service["desiredCount"]
    assert held == {"dev": 1, "demo": 2}
