"""CPU target tracking for an ECS service, with office-hours scheduled actions and room for zero tasks when asleep."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pulumi
import pulumi_aws as aws

from components.settings import DashboardSettings, OfficeHours
from components.settings.office_hours import WEEKDAYS


def is_open(hours: OfficeHours, at: dt.datetime) -> bool:
    """Whether `at` falls inside the weekly window, read in the hours' own time zone."""
    local = at.astimezone(ZoneInfo(hours.time_zone))
    first, last = WEEKDAYS.index(hours.first_day), WEEKDAYS.index(hours.last_day)
    return first <= local.weekday() <= last and hours.start <= (local.hour, local.minute) < hours.end


def capacity_range(settings: DashboardSettings, at: dt.datetime) -> tuple[int, int]:
    """The scalable target's (min, max) when it is created or updated at `at`.

    A sleeping dashboard may always have 0 tasks (asleep) and up to its maximum (a visitor's wake
    after hours included; the sleeper, not autoscaling, closes it). With office hours alone, the
    range is the one the schedule would have set by now: the floor holds from the first day, not
    only from the first opening after `pulumi up`.
    """
    if settings.sleep_after_minutes > 0:
        return 0, settings.max_count
    if settings.office_hours and not is_open(settings.office_hours, at):
        return 0, 0
    return settings.min_count, settings.max_count


def service_scaling(name: str, cluster_name: pulumi.Input[str], service: aws.ecs.Service, family: str,
                    settings: DashboardSettings, parent: pulumi.Resource,
                    now: dt.datetime | None = None) -> aws.appautoscaling.Target:
    """The service's scalable target (its range as of `now`), the opening and closing actions of its office
    hours unless it sleeps (then its sleeper closes it), and a policy tracking its average CPU."""
    low, high = capacity_range(settings, now or dt.datetime.now(dt.UTC))
    scheduled = bool(settings.office_hours) and settings.sleep_after_minutes == 0
    scaling = aws.appautoscaling.Target(
        f"{name}-scaling",
        service_namespace="ecs",
        scalable_dimension="ecs:service:DesiredCount",
        resource_id=pulumi.Output.concat("service/", cluster_name, "/", service.name),
        min_capacity=low,
        max_capacity=high,
        # With a schedule, the schedule owns the range: a later `pulumi up` must not undo today's opening.
        opts=pulumi.ResourceOptions(parent=parent,
                                    ignore_changes=["minCapacity", "maxCapacity"] if scheduled else None),
    )
    if scheduled:
        hours = settings.office_hours
        assert hours is not None
        for action, cron, low, high in (("open", hours.open_cron, settings.min_count, settings.max_count),
                                        ("close", hours.close_cron, 0, 0)):
            aws.appautoscaling.ScheduledAction(
                f"{name}-{action}",
                name=pulumi.Output.concat(family, f"-{action}"),
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
            target_value=float(settings.cpu_target_percent),
            predefined_metric_specification=aws.appautoscaling.
            PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                predefined_metric_type="ECSServiceAverageCPUUtilization"),
            scale_in_cooldown=300,
            scale_out_cooldown=60,
        ),
        opts=pulumi.ResourceOptions(parent=scaling),
    )
    return scaling
