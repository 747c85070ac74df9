"""What the sleeper and the waker see (ECS, the ALB listener, CloudWatch) and the one decision they take.

`decide` is pure; `observe`, `apply` and `wake` make the AWS calls, on clients the caller passes.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any

from components.sleepwake.settings import SleepWakeSettings

NAMESPACE = "AWS/ApplicationELB"


class Action(enum.Enum):
    """What one look at the dashboard leads to."""

    STAY = "stay"
    SLEEP = "sleep"  # desiredCount 0, visitors to the waker
    ROUTE_TO_WAKER = "route-to-waker"  # already stopped (office hours closed it): visitors to the waker
    ROUTE_TO_DASHBOARD = "route-to-dashboard"  # awake and healthy: visitors straight in


@dataclass(frozen=True)
class Observation:
    """The dashboard's state at one moment."""

    desired: int
    healthy: int  # healthy targets in the dashboard's target group
    routed_to_waker: bool  # the listener sends visitors to the waking page
    requests: float  # requests to the dashboard and the waking page in the last sleep_after_minutes
    changed_at: dt.datetime | None  # when the service's task count last changed (its newest deployment)
    workers: int = 0  # batch worker tasks running; the dashboard re-launches a worker a job lost


def decide(seen: Observation, sleep_after_minutes: int, now: dt.datetime) -> Action:
    """Sleep after `sleep_after_minutes` with no request, no change of the service and no worker running.

    While a worker runs, the dashboard stays up: its reconciler starts another worker if this one
    dies (a Spot interruption) with jobs left, which a sleeping dashboard could not.
    """
    if seen.desired == 0:
        return Action.STAY if seen.routed_to_waker else Action.ROUTE_TO_WAKER
    quiet_since = now - dt.timedelta(minutes=sleep_after_minutes)
    settled = seen.changed_at is None or seen.changed_at <= quiet_since
    if seen.requests == 0 and settled and seen.workers == 0:
        return Action.SLEEP
    if seen.routed_to_waker and seen.healthy > 0:
        return Action.ROUTE_TO_DASHBOARD
    return Action.STAY


def observe(ecs: Any, elbv2: Any, cloudwatch: Any, s: SleepWakeSettings, now: dt.datetime) -> Observation:
    """Read the service, the listener, the target group's health and the request metrics."""
    (service,) = ecs.describe_services(cluster=s.cluster, services=[s.service])["services"]
    stamps = [d[key] for d in service.get("deployments", []) for key in ("updatedAt", "createdAt") if d.get(key)]
    health = elbv2.describe_target_health(TargetGroupArn=s.dashboard_target_group_arn)["TargetHealthDescriptions"]
    start = now - dt.timedelta(minutes=s.sleep_after_minutes)
    requests = 0.0
    for group in (s.dashboard_target_group_dimension, s.waker_target_group_dimension):
        points = cloudwatch.get_metric_statistics(
            Namespace=NAMESPACE, MetricName="RequestCount",
            Dimensions=[{"Name": "LoadBalancer", "Value": s.load_balancer_dimension},
                        {"Name": "TargetGroup", "Value": group}],
            StartTime=start, EndTime=now, Period=60, Statistics=["Sum"])["Datapoints"]
        requests += sum(point["Sum"] for point in points)  # the ALB writes no datapoint for a quiet minute
    return Observation(
        desired=int(service["desiredCount"]),
        healthy=sum(1 for t in health if t["TargetHealth"]["State"] == "healthy"),
        routed_to_waker=_routed_to_waker(elbv2, s),
        requests=requests,
        changed_at=max(stamps) if stamps else None,
        # startedBy must be the only filter ListTasks is given; it lists RUNNING (and PENDING) tasks.
        workers=len(ecs.list_tasks(cluster=s.cluster, startedBy=s.workers_started_by)["taskArns"]),
    )


def _routed_to_waker(elbv2: Any, s: SleepWakeSettings) -> bool:
    (listener,) = elbv2.describe_listeners(ListenerArns=[s.listener_arn])["Listeners"]
    weights: dict[str, int] = {}
    for action in listener["DefaultActions"]:
        if action["Type"] != "forward":
            continue
        if action.get("ForwardConfig"):
            weights.update({g["TargetGroupArn"]: int(g.get("Weight", 1)) for g in action["ForwardConfig"]
                            ["TargetGroups"]})
        elif action.get("TargetGroupArn"):
            weights[action["TargetGroupArn"]] = 1
    return weights.get(s.waker_target_group_arn, 0) > 0 and weights.get(s.dashboard_target_group_arn, 0) == 0


def route(elbv2: Any, s: SleepWakeSettings, to_waker: bool) -> None:
    """Send the listener's visitors to the waking page, or to the dashboard (weights 0/1 or 1/0)."""
    elbv2.modify_listener(ListenerArn=s.listener_arn, DefaultActions=[{
        "Type": "forward",
        "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": s.dashboard_target_group_arn, "Weight": 0 if to_waker else 1},
            {"TargetGroupArn": s.waker_target_group_arn, "Weight": 1 if to_waker else 0},
        ]},
    }])


def apply(ecs: Any, elbv2: Any, s: SleepWakeSettings, action: Action) -> None:
    """Carry out one decision. Sleeping routes visitors to the waker first, so none meets a 503."""
    if action in (Action.SLEEP, Action.ROUTE_TO_WAKER):
        route(elbv2, s, to_waker=True)
    if action is Action.SLEEP:
        ecs.update_service(cluster=s.cluster, service=s.service, desiredCount=0)
    if action is Action.ROUTE_TO_DASHBOARD:
        route(elbv2, s, to_waker=False)


def wake(ecs: Any, elbv2: Any, s: SleepWakeSettings) -> bool:
    """A visit: start the dashboard if it sleeps; once a task is healthy, route visitors to it. True when ready."""
    (service,) = ecs.describe_services(cluster=s.cluster, services=[s.service])["services"]
    if int(service["desiredCount"]) == 0:
        ecs.update_service(cluster=s.cluster, service=s.service, desiredCount=s.awake_count)
        return False
    health = elbv2.describe_target_health(TargetGroupArn=s.dashboard_target_group_arn)["TargetHealthDescriptions"]
    if any(t["TargetHealth"]["State"] == "healthy" for t in health):
        route(elbv2, s, to_waker=False)
        return True
    return False
