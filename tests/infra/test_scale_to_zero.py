"""Costs nothing it need not: office hours, sleep when idle, Spot and arm64, as the program declares them."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from dashboard.launcher import STARTED_BY

from components.service_scaling import capacity_range
from components.settings import NAMESPACE, ConfigError, Settings
from components.sleepwake.settings import SleepWakeSettings
from tests.infra.stackview import Deployment
from tests.infra.test_settings import defaults

pytestmark = pytest.mark.timeout(180)


def test_demo_keeps_office_hours_in_its_time_zone_with_its_floor_from_the_first_day(
        deployments: dict[str, Deployment]) -> None:
    demo = deployments["demo"]
    target = demo.one("aws:appautoscaling/target:Target")
    actions = demo.scheduled_actions()
    assert set(actions) == {"open", "close"}
    for action in actions.values():
        assert action["resourceId"] == target.inputs["resourceId"]
        assert action["scalableDimension"] == "ecs:service:DesiredCount" and action["serviceNamespace"] == "ecs"
        assert action["timezone"] == demo.setting("timeZone") == "America/New_York"
    assert actions["open"]["schedule"] == "cron(0 8 ? * MON-FRI *)"
    assert actions["close"]["schedule"] == "cron(0 19 ? * MON-FRI *)"
    assert actions["close"]["scalableTargetAction"] == {"minCapacity": 0, "maxCapacity": 0}
    assert actions["open"]["scalableTargetAction"] == {"minCapacity": demo.setting("dashboardMinCount"),
                                                       "maxCapacity": demo.setting("dashboardMaxCount")}
    # Created inside the hours, the floor holds at once; outside them the range is the close's.
    assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) in (
        (demo.setting("dashboardMinCount"), demo.setting("dashboardMaxCount")), (0, 0))
    # The schedule owns the range: a `pulumi up` in the afternoon must not undo the morning's opening.
    assert demo.data["resources"][demo.resources.index(target)]["ignore_changes"] == ["minCapacity", "maxCapacity"]


NEW_YORK_OPEN = [  # (UTC time, open on Mon-Fri 08:00-19:00 America/New_York?)
    (dt.datetime(2026, 12, 7, 12, 59, tzinfo=dt.UTC), False),  # Monday 07:59 EST
    (dt.datetime(2026, 12, 7, 13, 0, tzinfo=dt.UTC), True),  # Monday 08:00 EST
    (dt.datetime(2026, 7, 6, 12, 0, tzinfo=dt.UTC), True),  # Monday 08:00 EDT: daylight saving moves it
    (dt.datetime(2026, 12, 7, 23, 59, tzinfo=dt.UTC), True),  # Monday 18:59 EST (UTC: already Tuesday's 00:00 soon)
    (dt.datetime(2026, 12, 8, 0, 0, tzinfo=dt.UTC), False),  # Monday 19:00 EST
    (dt.datetime(2026, 12, 12, 15, 0, tzinfo=dt.UTC), False),  # Saturday
]


@pytest.mark.parametrize(("at", "is_open"), NEW_YORK_OPEN)
def test_the_range_at_creation_is_the_one_the_schedule_would_have_set(at: dt.datetime, is_open: bool) -> None:
    settings = Settings.from_values(defaults("demo", timeZone="America/New_York")).dashboard
    assert capacity_range(settings, at) == ((settings.min_count, settings.max_count) if is_open else (0, 0))
    sleeping = Settings.from_values(defaults("dev", timeZone="America/New_York")).dashboard
    assert capacity_range(sleeping, at) == (0, sleeping.max_count)  # asleep, or woken by a visit after hours


def test_a_sleeping_dashboard_is_closed_by_its_sleeper_in_the_stack_time_zone(
        deployments: dict[str, Deployment]) -> None:
    dev = deployments["dev"]
    assert dev.scheduled_actions() == {}  # no scaling action stops tasks under a listener that forwards to them
    target = dev.one("aws:appautoscaling/target:Target")
    assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == (0, dev.setting("dashboardMaxCount"))
    close = dev.one("aws:scheduler/schedule:Schedule").inputs
    function = dev.one("aws:lambda/function:Function", "dashboard-sleep-function")
    assert close["scheduleExpression"] == "cron(0 19 ? * MON-FRI *)"
    assert close["scheduleExpressionTimezone"] == dev.setting("timeZone") == "America/New_York"
    assert close["flexibleTimeWindow"] == {"mode": "OFF"}
    assert close["target"]["arn"] == function.outputs["arn"]
    assert json.loads(close["target"]["input"]) == {"sleepwake": "close"}
    statements = dev.role_statements()["dashboard-sleep-close-role"]
    assert statements == [{"Sid": "InvokeSleeper", "Effect": "Allow", "Action": ["lambda:InvokeFunction"],
                           "Resource": [function.outputs["arn"]]}]
    assert dev.sleep_env()["OFFICE_HOURS"] == "Mon-Fri 08:00-19:00 America/New_York"  # the waking page says so


def test_without_office_hours_there_is_no_schedule(run_with: Callable[..., Deployment]) -> None:
    run = run_with("demo", dashboardOfficeHours="")
    assert run.error is None, run.error
    assert run.scheduled_actions() == {}
    assert run.one("aws:appautoscaling/target:Target").inputs["minCapacity"] == run.setting("dashboardMinCount")


def check_sleep(d: Deployment) -> None:
    """The waker target group, the schedule, the function's settings and the listener's weights fit together."""
    function = d.one("aws:lambda/function:Function", "dashboard-sleep-function")
    inputs = function.inputs
    assert inputs["handler"] == "components.sleepwake.handler.handle" and inputs["runtime"].startswith("python3")
    assert inputs["architectures"] == ["arm64"] and inputs["memorySize"] == 128
    settings = SleepWakeSettings.from_env(inputs["environment"]["variables"])
    service = d.one("aws:ecs/service:Service")
    dashboard_tg = d.one("aws:lb/targetGroup:TargetGroup", "dashboard-tg")
    waker_tg = d.one("aws:lb/targetGroup:TargetGroup", "dashboard-waker-tg")
    (listener,) = [x for x in d.of_type("aws:lb/listener:Listener") if x.inputs["defaultActions"][0]["type"] ==
                   "forward"]
    table = d.one("aws:dynamodb/table:Table")
    assert settings == SleepWakeSettings(
        cluster=d.exports["cluster"], service=service.outputs["name"], listener_arn=listener.outputs["arn"],
        dashboard_target_group_arn=dashboard_tg.outputs["arn"], waker_target_group_arn=waker_tg.outputs["arn"],
        table=table.outputs["name"], awake_count=d.setting("dashboardMinCount"),
        sleep_after_minutes=d.setting("dashboardSleepAfterMinutes"), workers_started_by=STARTED_BY,
        log_level=d.setting("logLevel"), office_hours=settings.office_hours)
    assert waker_tg.inputs["targetType"] == "lambda"
    attachment = d.one("aws:lb/targetGroupAttachment:TargetGroupAttachment")
    assert attachment.inputs == {"targetGroupArn": waker_tg.outputs["arn"], "targetId": function.outputs["arn"]}
    permissions = {p.inputs["principal"]: p.inputs for p in d.of_type("aws:lambda/permission:Permission")}
    assert permissions["elasticloadbalancing.amazonaws.com"]["sourceArn"] == waker_tg.outputs["arn"]
    rule = d.one("aws:cloudwatch/eventRule:EventRule")
    assert rule.inputs["scheduleExpression"] == "rate(5 minutes)"
    assert permissions["events.amazonaws.com"]["sourceArn"] == rule.outputs["arn"]
    assert d.one("aws:cloudwatch/eventTarget:EventTarget").inputs == {"rule": rule.outputs["name"],
                                                                       "arn": function.outputs["arn"]}
    # Least privilege: the count of this one service, this one listener; reads where AWS has no resource.
    statements = {s["Sid"]: s for s in d.role_statements()["dashboard-sleep-role"]}
    assert statements["DashboardCount"]["Resource"] == [service.id]
    assert service.id.startswith(service.inputs["cluster"].replace(":cluster/", ":service/") + "/")
    assert statements["SwitchListener"]["Resource"] == [listener.outputs["arn"]]
    assert statements["ListWorkers"]["Condition"] == {"ArnEquals": {"ecs:cluster": service.inputs["cluster"]}}
    # The job table only for its two sleep/wake items, and no metrics any more: idle is the dashboard's record.
    assert statements["Ledger"]["Resource"] == [table.outputs["arn"]]
    assert statements["Ledger"]["Action"] == ["dynamodb:GetItem", "dynamodb:UpdateItem"]
    assert statements["Ledger"]["Condition"] == {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [
        "activity#dashboard", "sleepwake#dashboard"]}}
    assert not any(a.startswith("cloudwatch:") for s in statements.values() for a in s["Action"])
    log_group = d.one("aws:cloudwatch/logGroup:LogGroup", "dashboard-sleep-logs")
    assert inputs["loggingConfig"]["logGroup"] == log_group.inputs["name"]
    assert log_group.inputs["retentionInDays"] == d.setting("logRetentionDays")


def test_dev_sleeps_when_idle(deployments: dict[str, Deployment]) -> None:
    assert deployments["dev"].setting("dashboardSleepAfterMinutes") == 15
    check_sleep(deployments["dev"])
    assert not deployments["demo"].of_type("ml-proto:index:DashboardSleep")  # demo is awake in office hours


def test_demo_may_sleep_too_behind_https(run_with: Callable[..., Deployment]) -> None:
    run = run_with("demo", dashboardSleepAfterMinutes="30", frontDoor="alb",
                   certificateArn="arn:aws:acm:us-east-1:123456789012:certificate/abc")
    assert run.error is None, run.error
    check_sleep(run)
    (https,) = [x for x in run.of_type("aws:lb/listener:Listener") if x.inputs["port"] == 443]
    assert run.sleep_env()["LISTENER_ARN"] == https.outputs["arn"]  # the one that forwards; 80 redirects


def test_spot_dashboard_keeps_an_on_demand_base_and_arm64_is_per_app(run_with: Callable[..., Deployment]) -> None:
    run = run_with("dev", dashboardCapacityProvider="FARGATE_SPOT", dashboardOnDemandBase="1",
                   arm64Apps='["predictor", "worker"]', workerCapacityProvider="FARGATE")
    assert run.error is None, run.error
    service = run.one("aws:ecs/service:Service").inputs
    assert "launchType" not in service
    capacity = run.one("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")
    assert capacity.urn in run.one("aws:ecs/service:Service").dependencies  # providers associated first
    assert service["capacityProviderStrategies"] == [
        {"capacityProvider": "FARGATE", "base": 1, "weight": 0}, {"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    assert run.one("aws:lambda/function:Function", "predictor-function").inputs["architectures"] == ["arm64"]
    assert run.task_definition("-worker").inputs["runtimePlatform"]["cpuArchitecture"] == "ARM64"
    assert run.task_definition("-dashboard").inputs["runtimePlatform"]["cpuArchitecture"] == "X86_64"
    platforms = {r.name.split("-")[0]: r.inputs["platform"] for r in run.of_type("awsx:ecr:Image")}
    assert platforms == {"dashboard": "linux/amd64", "predictor": "linux/arm64", "worker": "linux/arm64"}


@pytest.mark.parametrize(("overrides", "message"), [
    ({"dashboardOfficeHours": "weekdays 8-19"}, "dashboardOfficeHours: 'weekdays 8-19' is not a weekly window"),
    ({"dashboardOfficeHours": "Fri-Mon 08:00-19:00"}, "dashboardOfficeHours"),
    ({"dashboardOfficeHours": "Mon-Fri 19:00-08:00"}, "dashboardOfficeHours"),
    ({"timeZone": "Mars/Olympus"}, "timeZone: 'Mars/Olympus' is not an IANA time zone"),
    ({"dashboardSleepAfterMinutes": 3}, "dashboardSleepAfterMinutes: 3 is shorter than the 5 minutes"),
    ({"dashboardCapacityProvider": "FARGATE_SPOT", "arm64Apps": ["dashboard"]},
     "dashboardCapacityProvider: FARGATE_SPOT does not run ARM64"),
    ({"arm64Apps": ["jobkit"]}, "arm64Apps: 'jobkit' is not an app name"),
])
def test_bad_cost_settings_are_refused_by_name(overrides: dict, message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_values(defaults("dev", **overrides))
    assert str(refused.value).startswith(f"{NAMESPACE}:") and message in str(refused.value)


def test_the_function_code_is_the_sleepwake_package_under_its_import_path() -> None:
    from components.sleep import code_archive
    assets = code_archive().assets
    assert {"components/__init__.py", "components/sleepwake/handler.py", "components/sleepwake/control.py",
            "components/sleepwake/page.py", "components/sleepwake/settings.py", "components/sleepwake/decision.py",
            "components/sleepwake/ledger.py", "components/sleepwake/moves.py"} <= set(assets)
    # boto3 is in the Lambda runtime; nothing else outside the standard library may be imported.
    for name, asset in assets.items():
        if name.endswith(".py") and name != "components/__init__.py":
            text = Path(asset.path).read_text()
            assert "import pulumi" not in text and "jobkit" not in text, name


def test_listener_weights_survive_an_update_while_asleep(deployments: dict[str, Deployment]) -> None:
    # The sleeper and the waker own the weights; `pulumi up` while asleep must not send visitors to no task.
    for stack, ignored in (("dev", ["defaultActions"]), ("demo", [])):
        (listener,) = deployments[stack].of_type("aws:lb/listener:Listener")
        assert deployments[stack].data["resources"][deployments[stack].resources.index(listener)][
            "ignore_changes"] == ignored
