"""CPU target tracking for an ECS service, with office-hours scheduled actions and room for zero tasks when asleep."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.settings import DashboardSettings


def service_scaling(name: str, cluster_name: pulumi.Input[str], service: aws.ecs.Service, family: str,
                    settings: DashboardSettings, parent: pulumi.Resource) -> aws.appautoscaling.Target:
    """The service's scalable target between its min and max counts (0 when it keeps hours or sleeps), the
    opening and closing actions of its office hours, and a policy tracking its average CPU."""
    sleeps = settings.sleep_after_minutes > 0
    scaling = aws.appautoscaling.Target(
        f"{name}-scaling",
        service_namespace="ecs",
        scalable_dimension="ecs:service:DesiredCount",
        resource_id=pulumi.Output.concat("service/", cluster_name, "/", service.name),
        # Office hours and sleep need room for zero tasks; the opening action raises the floor by day.
        min_capacity=0 if settings.office_hours or sleeps else settings.min_count,
        max_capacity=settings.max_count,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    if settings.office_hours:
        hours = settings.office_hours
        # A sleeping dashboard is not started at opening: the first visit wakes it.
        opening_floor = 0 if sleeps else settings.min_count
        for action, cron, low, high in (("open", hours.open_cron, opening_floor, settings.max_count),
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
