"""The cloud's parts of the dashboard for components.sleepwake.moves: its ECS service and its ALB listener.

Each method is one or two AWS calls on clients the caller passes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from components.sleepwake.ledger import Ledger
from components.sleepwake.moves import Dashboard
from components.sleepwake.settings import SleepWakeSettings


class EcsService:
    """The dashboard's ECS service, its target group's health and the batch workers it started."""

    def __init__(self, ecs: Any, elbv2: Any, s: SleepWakeSettings) -> None:
        self.ecs, self.elbv2, self.s = ecs, elbv2, s

    def _service(self) -> dict[str, Any]:
        (service,) = self.ecs.describe_services(cluster=self.s.cluster, services=[self.s.service])["services"]
        return service

    def desired(self) -> int:
        return int(self._service()["desiredCount"])

    def changed_at(self) -> dt.datetime | None:
        """When the task count last changed: the newest deployment's update."""
        stamps = [d[key] for d in self._service().get("deployments", []) for key in ("updatedAt", "createdAt")
                  if d.get(key)]
        return max(stamps) if stamps else None

    def healthy(self) -> int:
        health = self.elbv2.describe_target_health(TargetGroupArn=self.s.dashboard_target_group_arn)
        return sum(1 for t in health["TargetHealthDescriptions"] if t["TargetHealth"]["State"] == "healthy")

    def workers(self) -> int:
        # startedBy must be the only filter ListTasks is given; it lists RUNNING (and PENDING) tasks.
        return len(self.ecs.list_tasks(cluster=self.s.cluster, startedBy=self.s.workers_started_by)["taskArns"])

    def scale(self, count: int) -> None:
        self.ecs.update_service(cluster=self.s.cluster, service=self.s.service, desiredCount=count)


class ListenerRoute:
    """The forwarding listener's weights: 1/0 to the dashboard's target group, or 0/1 to the waker's."""

    def __init__(self, elbv2: Any, s: SleepWakeSettings) -> None:
        self.elbv2, self.s = elbv2, s

    def to_waker(self) -> bool:
        (listener,) = self.elbv2.describe_listeners(ListenerArns=[self.s.listener_arn])["Listeners"]
        weights: dict[str, int] = {}
        for action in listener["DefaultActions"]:
            if action["Type"] != "forward":
                continue
            if action.get("ForwardConfig"):
                weights.update({g["TargetGroupArn"]: int(g.get("Weight", 1))
                                for g in action["ForwardConfig"]["TargetGroups"]})
            elif action.get("TargetGroupArn"):
                weights[action["TargetGroupArn"]] = 1
        return (weights.get(self.s.waker_target_group_arn, 0) > 0
                and weights.get(self.s.dashboard_target_group_arn, 0) == 0)

    def send(self, to_waker: bool) -> None:
        self.elbv2.modify_listener(ListenerArn=self.s.listener_arn, DefaultActions=[{
            "Type": "forward",
            "ForwardConfig": {"TargetGroups": [
                {"TargetGroupArn": self.s.dashboard_target_group_arn, "Weight": 0 if to_waker else 1},
                {"TargetGroupArn": self.s.waker_target_group_arn, "Weight": 1 if to_waker else 0},
            ]},
        }])


def cloud_dashboard(ecs: Any, elbv2: Any, dynamodb: Any, s: SleepWakeSettings) -> Dashboard:
    """The dashboard as the Lambda sees it."""
    return Dashboard(service=EcsService(ecs, elbv2, s), route=ListenerRoute(elbv2, s), record=Ledger(dynamodb, s.table),
                     awake_count=s.awake_count, sleep_after_minutes=s.sleep_after_minutes)
