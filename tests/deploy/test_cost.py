"""The cost estimator (deploy/cost.py, `make cost`): pinned to hand-computed cases, then run on the
committed stacks against the issue's goals."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from deploy import cost
from deploy.mock_program import ROOT

pytestmark = pytest.mark.timeout(300)

# Hand-written prices so the arithmetic below is checkable by hand (not the ones in prices.json).
PRICES = {
    "region": "us-east-1", "checked": "2026-11-29", "hours_per_month": 730, "alb_hour": 0.0225, "alb_lcu_hour": 0.008,
    "public_ipv4_hour": 0.005, "fargate_vcpu_hour": 0.04048, "fargate_gb_hour": 0.004445,
    "fargate_arm64_factor": 0.8, "fargate_spot_factor": 0.3, "lambda_gb_second": 0.0000166667,
    "lambda_arm64_gb_second": 0.0000133334, "lambda_provisioned_gb_second": 0.0000041667,
    "lambda_arm64_provisioned_gb_second": 0.0000033334, "lambda_request": 0.0000002,
    "dynamodb_write_request": 0.000000625, "dynamodb_read_request": 0.000000125, "ecr_gb_month": 0.10,
    "cloudwatch_api_request": 0.00001,
    "assumptions": {"image_base_gb": {}, "image_layer_gb_per_build": 0.02, "batch_job_minutes": 5,
                    "worker_start_minutes": 1, "prediction_ms": 200, "sleep_look_ms": 500, "weeks_per_month": 4.345},
}


def resource(type_: str, inputs: dict, **outputs) -> dict:
    return {"type": type_, "name": type_.rsplit(":", 1)[-1], "inputs": inputs, "outputs": outputs}


def hand_run(*, service: dict | None = None, dashboard_cpu="256", dashboard_memory="512", arch="X86_64",
             extra: tuple[dict, ...] = (), min_capacity=1) -> dict:
    service_inputs = {"taskDefinition": "td-dashboard:1", "desiredCount": 1, "launchType": "FARGATE",
                      "networkConfiguration": {"assignPublicIp": True}, **(service or {})}
    return {"stack": "hand", "config": {"ml-proto:workerIdleSeconds": 60, "ml-proto:assignPublicIp": True},
            "resources": [
                resource("aws:lb/loadBalancer:LoadBalancer", {"subnets": ["subnet-a", "subnet-b"]}),
                resource("aws:ecs/cluster:Cluster", {}, name="c"),
                resource("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders", {
                    "defaultCapacityProviderStrategies": [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]}),
                resource("aws:ecs/taskDefinition:TaskDefinition", {
                    "family": "p-dashboard", "cpu": dashboard_cpu, "memory": dashboard_memory,
                    "runtimePlatform": {"cpuArchitecture": arch}}, arn="td-dashboard:1"),
                resource("aws:ecs/taskDefinition:TaskDefinition", {
                    "family": "p-worker", "cpu": "1024", "memory": "2048",
                    "runtimePlatform": {"cpuArchitecture": "X86_64"}}, arn="td-worker:1"),
                resource("aws:ecs/service:Service", service_inputs, name="s"),
                resource("aws:appautoscaling/target:Target", {"resourceId": "service/c/s",
                                                              "minCapacity": min_capacity}),
                resource("aws:lambda/function:Function", {"packageType": "Image", "memorySize": 1024,
                                                          "architectures": ["x86_64"]}, arn="fn", name="fn"),
                *extra,
            ], "error": None}


def test_always_on_stack_is_priced_resource_by_resource_as_computed_by_hand() -> None:
    est = cost.estimate(hand_run(), PRICES)
    lines = {line.item: line.dollars for line in est.idle}
    assert lines["load balancer"] == pytest.approx(16.425)  # 730 h x 0.0225
    assert lines["load balancer public IPv4"] == pytest.approx(7.30)  # 2 x 730 x 0.005
    assert lines["dashboard tasks"] == pytest.approx(9.010025)  # 730 x (0.25 x 0.04048 + 0.5 x 0.004445)
    assert lines["dashboard tasks' public IPv4"] == pytest.approx(3.65)  # 730 x 0.005
    assert est.idle_total == pytest.approx(36.385025)
    # Spot worker, 1 vCPU / 2 GB, 5 + 1 + 1 minutes: (0.04048 + 2 x 0.004445) x 0.3 x 7/60 + 0.005 x 7/60
    assert est.batch_job.dollars == pytest.approx(0.014811 * 7 / 60 + 0.005 * 7 / 60)
    # 1,000 x 1 GB x 0.2 s x 0.0000166667 + 1,000 requests + 1,000 DynamoDB writes
    assert est.predictions.dollars == pytest.approx(0.00333334 + 0.0002 + 0.000625)
    assert est.first_visit == "none"
    # What the cheaper settings would save: arm64 is 20% off the dashboard's month; one task has no Spot share.
    cheaper = {line.item: line.dollars for line in est.cheaper}
    assert cheaper["dashboard on arm64"] == pytest.approx(9.010025 * 0.2)
    assert "dashboard on Spot" not in cheaper
    assert cheaper["predictor on arm64"] == pytest.approx(1000 * 0.2 * (0.0000166667 - 0.0000133334))
    assert cheaper["batch worker on arm64"] == pytest.approx(7 / 60 * 0.04937 * 0.2)


def test_office_hours_spot_and_arm64_change_what_the_dashboard_costs() -> None:
    window = {"resourceId": "service/c/s", "timezone": "Europe/Berlin"}
    extra = (
        resource("aws:appautoscaling/scheduledAction:ScheduledAction", {
            **window, "schedule": "cron(0 8 ? * MON-FRI *)", "scalableTargetAction": {"minCapacity": 2,
                                                                                     "maxCapacity": 4}}),
        resource("aws:appautoscaling/scheduledAction:ScheduledAction", {
            **window, "schedule": "cron(30 18 ? * MON-FRI *)", "scalableTargetAction": {"minCapacity": 0,
                                                                                      "maxCapacity": 0}}),
    )
    strategy = {"launchType": None, "desiredCount": 2, "capacityProviderStrategies": [
        {"capacityProvider": "FARGATE", "base": 1, "weight": 0}, {"capacityProvider": "FARGATE_SPOT", "weight": 1}]}
    est = cost.estimate(hand_run(service=strategy, dashboard_cpu="512", dashboard_memory="1024", arch="ARM64",
                                 extra=extra, min_capacity=0), PRICES)
    lines = {line.item: line.dollars for line in est.idle}
    hours = 5 * 10.5 * 4.345  # Mon-Fri 08:00-18:30
    on_demand = (0.5 * 0.04048 + 1 * 0.004445) * 0.8  # arm64
    assert lines["dashboard tasks"] == pytest.approx(hours * (on_demand + on_demand * 0.3))  # one of two on Spot
    assert lines["dashboard tasks' public IPv4"] == pytest.approx(2 * hours * 0.005)
    assert "1 on-demand + 1 Spot x 0.5 vCPU/1 GB arm64" in next(x.detail for x in est.idle if x.item ==
                                                                "dashboard tasks")
    assert est.first_visit.startswith("none inside office hours")


def test_behind_cloudfront_the_load_balancer_holds_no_address_and_requests_are_priced() -> None:
    prices = {**PRICES, "cloudfront_https_request": 0.000001, "cloudfront_gb_out": 0.085,
              "cloudfront_gb_to_origin": 0.02,
              "assumptions": {**PRICES["assumptions"], "cloudfront_requests_per_month": 200000,
                              "cloudfront_kb_per_request": 8, "cloudfront_upload_gb_per_month": 0.1}}
    run = hand_run(extra=(resource("aws:cloudfront/distribution:Distribution", {}),))
    run["resources"][0]["inputs"]["internal"] = True
    est = cost.estimate(run, prices)
    lines = {line.item: line.dollars for line in est.idle}
    assert lines["load balancer"] == pytest.approx(16.425) and lines["load balancer public IPv4"] == 0
    assert "$7.30" in next(x.detail for x in est.idle if x.item == "load balancer public IPv4")  # what it saves
    # 200,000 x $0.000001 + 200,000 x 8 KB (1.526 GB) x $0.085 + 0.1 GB x $0.02
    assert est.front_door is not None
    assert est.front_door.dollars == pytest.approx(0.2 + 200000 * 8 / 1024 / 1024 * 0.085 + 0.002)
    assert est.idle_total == pytest.approx(16.425 + 9.010025 + 3.65)


def test_a_warm_predictor_in_office_hours_costs_its_hours_only() -> None:
    lam = {"serviceNamespace": "lambda", "resourceId": "function:fn:live", "timezone": "America/New_York"}
    extra = (
        resource("aws:appautoscaling/scheduledAction:ScheduledAction", {
            **lam, "schedule": "cron(0 8 ? * MON-FRI *)", "scalableTargetAction": {"minCapacity": 2,
                                                                                  "maxCapacity": 2}}),
        resource("aws:appautoscaling/scheduledAction:ScheduledAction", {
            **lam, "schedule": "cron(0 18 ? * MON-FRI *)", "scalableTargetAction": {"minCapacity": 0,
                                                                                   "maxCapacity": 0}}),
    )
    est = cost.estimate(hand_run(extra=extra), PRICES)
    (warm,) = [line for line in est.idle if line.item == "predictor provisioned concurrency"]
    hours = 5 * 10 * 4.345  # Mon-Fri 08:00-18:00
    assert warm.dollars == pytest.approx(2 * 1 * hours * 3600 * 0.0000041667)  # 2 x 1 GB x seconds
    assert "America/New_York" in warm.detail and not est.options  # on: no option line
    # Off, its price is still shown: one instance all month (this stack keeps no office hours).
    (option,) = cost.estimate(hand_run(), PRICES).options
    assert option.dollars == pytest.approx(730 * 3600 * 0.0000041667)
def test_an_on_demand_floor_of_three_shows_what_spot_would_save_on_all_but_one() -> None:
    est = cost.estimate(hand_run(min_capacity=3), PRICES)
    lines = {line.item: line.dollars for line in est.idle}
    task_month = 730 * (0.25 * 0.04048 + 0.5 * 0.004445)  # 9.010025
    assert lines["dashboard tasks"] == pytest.approx(3 * task_month)
    cheaper = {line.item: line for line in est.cheaper}
    # FARGATE_SPOT with an on-demand base of 1: two of the three tasks at 30% of the price.
    assert cheaper["dashboard on Spot"].dollars == pytest.approx(2 * task_month * 0.7)
    assert "2 of 3 idle tasks on Spot" in cheaper["dashboard on Spot"].detail


def test_a_dashboard_already_on_spot_is_not_told_to_move_to_spot() -> None:
    strategy = {"launchType": None, "desiredCount": 3, "capacityProviderStrategies": [
        {"capacityProvider": "FARGATE", "base": 1, "weight": 0}, {"capacityProvider": "FARGATE_SPOT", "weight": 1}]}
    est = cost.estimate(hand_run(service=strategy, min_capacity=3), PRICES)
    assert "dashboard on Spot" not in {line.item for line in est.cheaper}
    lines = {line.item: line.dollars for line in est.idle}
    assert lines["dashboard tasks"] == pytest.approx(730 * 0.0123425 * (1 + 2 * 0.3))


def test_a_sleeping_dashboard_costs_its_sleeper_only() -> None:
    extra = (
        resource("aws:lb/targetGroupAttachment:TargetGroupAttachment", {"targetId": "sleeper"}),
        resource("aws:lambda/function:Function", {"packageType": "Zip", "memorySize": 128,
                                                  "architectures": ["arm64"]}, arn="sleeper", name="sleeper"),
        resource("aws:cloudwatch/eventRule:EventRule", {"scheduleExpression": "rate(5 minutes)"}, name="r"),
        resource("aws:cloudwatch/eventTarget:EventTarget", {"rule": "r", "arn": "sleeper"}),
    )
    est = cost.estimate(hand_run(extra=extra, min_capacity=0), PRICES)
    lines = {line.item: line.dollars for line in est.idle}
    assert lines["dashboard tasks"] == 0 and lines["dashboard tasks' public IPv4"] == 0
    looks = 730 * 60 / 5  # 8,760
    assert lines["sleeper looks"] == pytest.approx(looks * 0.125 * 0.5 * 0.0000133334 + looks * 0.0000002
                                                   + looks * 2 * (0.000000125 + 0.000000625))  # ledger I/O
    assert est.awake_hour.dollars == pytest.approx(0.0123425 + 0.005)
    assert est.first_visit.startswith("about a minute")


def test_prices_file_names_its_region_date_and_source() -> None:
    prices = cost.load_prices()
    assert prices["region"] == "us-east-1" and prices["checked"] and "pricing" in prices["source"]
    assert set(PRICES) - {"assumptions"} <= set(prices)


@pytest.fixture(scope="module")
def estimates() -> dict[str, cost.Estimate]:
    return {stack: cost.stack_estimate(stack) for stack in ("dev", "demo")}


def test_committed_stacks_meet_the_idle_goals(estimates: dict[str, cost.Estimate]) -> None:
    # Goals of issue 22: the internal load balancer behind CloudFront (no public address, ~$16.4) is the floor.
    assert estimates["dev"].idle_total <= 20
    assert estimates["demo"].idle_total <= 40
    for est in estimates.values():
        lines = {line.item: line.dollars for line in est.idle}
        assert lines["load balancer"] == pytest.approx(16.425) and lines["load balancer public IPv4"] == 0
        assert lines["CloudFront distribution + VPC origin"] == 0
        assert est.front_door is not None and 0 < est.front_door.dollars < 1  # pay per request, a prototype's month
        # The warm predictor is off in both, its price shown beside them.
        assert [line.item for line in est.options] == ["warm predictor (off)"] and est.options[0].dollars > 0
    # README's Cost section quotes these totals.
    readme = (ROOT / "README.md").read_text()
    for est in estimates.values():
        assert f"${est.idle_total:.2f}" in readme, est.stack


def test_make_cost_prints_the_table_without_importing_the_tests() -> None:
    done = subprocess.run([sys.executable, "-c", "import sys, runpy; sys.argv = ['cost', '--stack', 'dev']; "
                           "runpy.run_module('deploy.cost', run_name='__main__')"],
                          cwd=ROOT, capture_output=True, text=True, timeout=200)
    assert done.returncode == 0, done.stderr
    assert "idle total" in done.stdout and "one batch job" in done.stdout and "1,000 predictions" in done.stdout
    source = (ROOT / "deploy" / "cost.py").read_text() + (ROOT / "deploy" / "mock_program.py").read_text()
    assert "tests." not in source
    assert json.loads((ROOT / "deploy" / "prices.json").read_text())["region"] in done.stdout
