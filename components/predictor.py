"""RealtimePredictor component: the container-image Lambda that answers predictions."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
from predictor.settings import PredictorSettings as PredictorAppSettings

from components.environment import LAMBDA_RESERVED, app_env
from components.iam import log_statement, service_role
from components.settings import OfficeHours, PredictorSettings
from components.shared import Image, Shared

LIVE_ALIAS = "live"


@dataclass(frozen=True)
class PredictorArgs:
    """The predictor's settings group, what the stack shares, its image and the Lambda architecture it runs on.

    The function's environment is exactly what `PredictorAppSettings.to_env()` writes (less names Lambda
    reserves); the predictor reads no job-store variable, so its role grants no job-store access.
    """

    settings: PredictorSettings
    shared: Shared
    image: Image
    architecture: str


@dataclass(frozen=True)
class PredictorLink:
    """What the dashboard needs to call the predictor: the name or ARN to invoke, the ARNs to grant, its timeout."""

    invoke_target: pulumi.Input[str]
    invoke_arns: list[pulumi.Output[str]]
    timeout_seconds: int
    log_group_name: pulumi.Input[str] = ""


class RealtimePredictor(pulumi.ComponentResource):
    """Image-based Lambda with its own log group and least-privilege role.

    `invoke_target` is what the dashboard invokes: the `live` alias when provisioned concurrency
    keeps instances warm, else the function name.
    """

    function: aws.lambda_.Function
    log_group: aws.cloudwatch.LogGroup
    invoke_target: pulumi.Output[str]
    invoke_arns: list[pulumi.Output[str]]
    link: PredictorLink

    def __init__(self, name: str, args: PredictorArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-proto:index:RealtimePredictor", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        s = args.settings
        function_name = args.shared.names.aws("predictor")

        # Created before the function so Lambda does not make one that never expires.
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/lambda/{function_name}",
            retention_in_days=args.shared.log_retention_days,
            opts=child,
        )
        role, role_policy = service_role(
            f"{name}-role",
            "lambda.amazonaws.com",
            [log_statement(self.log_group.arn)],
            parent=self,
            description="ml-proto predictor: write its own log group",
        )
        pull = aws.ecr.RepositoryPolicy(
            f"{name}-lambda-pull",
            repository=args.image.repository_name,
            policy=pulumi.Output.from_input(args.image.repository_arn).apply(_lambda_pull_policy),
            opts=child,
        )

        provisioned = s.provisioned_concurrency > 0
        app = PredictorAppSettings(log_level=args.shared.log_level)
        self.function = aws.lambda_.Function(
            f"{name}-function",
            name=function_name,
            package_type="Image",
            image_uri=args.image.uri,
            architectures=[args.architecture],
            role=role.arn,
            memory_size=s.memory_mb,
            timeout=s.timeout_seconds,
            reserved_concurrent_executions=s.reserved_concurrency,
            publish=provisioned,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=app_env(app, leave_out=LAMBDA_RESERVED)),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="Text",
                                                                 log_group=self.log_group.name),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.log_group, role_policy, pull]),
        )
        self.invoke_target = self.function.name
        self.invoke_arns = [self.function.arn]
        if provisioned:
            alias = aws.lambda_.Alias(
                f"{name}-live",
                name=LIVE_ALIAS,
                function_name=self.function.name,
                function_version=self.function.version,
                opts=child,
            )
            if s.warm_hours is None:
                aws.lambda_.ProvisionedConcurrencyConfig(
                    f"{name}-warm",
                    function_name=self.function.name,
                    qualifier=alias.name,
                    provisioned_concurrent_executions=s.provisioned_concurrency,
                    opts=pulumi.ResourceOptions(parent=alias),
                )
            else:
                warm_in_hours(f"{name}-warm", self.function.name, alias, s.provisioned_concurrency, s.warm_hours)
            self.invoke_target = alias.arn
            self.invoke_arns = [self.function.arn, alias.arn]
        self.link = PredictorLink(self.invoke_target, self.invoke_arns, s.timeout_seconds, self.log_group.name)

        self.register_outputs({
            "functionName": self.function.name,
            "invokeTarget": self.invoke_target,
            "logGroup": self.log_group.name,
        })


def warm_in_hours(name: str, function_name: pulumi.Input[str], alias: aws.lambda_.Alias, count: int,
                  hours: OfficeHours) -> None:
    """`count` warm instances on the alias inside `hours` only: Application Auto Scaling's scheduled actions set
    its provisioned concurrency at the opening and back to 0 at the close (in the hours' time zone).

    Application Auto Scaling then owns the alias's provisioned concurrency, so the program declares no
    ProvisionedConcurrencyConfig of its own (the two would undo each other). Lambda's provisioned concurrency is
    a scalable dimension (lambda:function:ProvisionedConcurrency, resource function:<name>:<alias>) with a
    minimum of 0 (AWS: "AWS Lambda and Application Auto Scaling").
    """
    resource_id = pulumi.Output.concat("function:", function_name, ":", alias.name)
    target = aws.appautoscaling.Target(
        name,
        service_namespace="lambda",
        scalable_dimension="lambda:function:ProvisionedConcurrency",
        resource_id=resource_id,
        min_capacity=0,
        max_capacity=count,
        opts=pulumi.ResourceOptions(parent=alias),
    )
    for suffix, schedule, capacity in (("open", hours.open_cron, count), ("close", hours.close_cron, 0)):
        aws.appautoscaling.ScheduledAction(
            f"{name}-{suffix}",
            name=pulumi.Output.concat(function_name, f"-warm-{suffix}"),
            service_namespace=target.service_namespace,
            scalable_dimension=target.scalable_dimension,
            resource_id=target.resource_id,
            schedule=schedule,
            timezone=hours.time_zone,
            scalable_target_action=aws.appautoscaling.ScheduledActionScalableTargetActionArgs(
                min_capacity=capacity, max_capacity=capacity),
            opts=pulumi.ResourceOptions(parent=target),
        )


def _lambda_pull_policy(repository_arn: str) -> str:
    """Repository policy letting Lambda functions of this account and region pull the image."""
    _, partition, _, region, account, _ = repository_arn.split(":", 5)
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "LambdaPull",
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            "Condition": {"StringLike": {"aws:sourceArn": f"arn:{partition}:lambda:{region}:{account}:function:*"}},
        }],
    })
