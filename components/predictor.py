"""RealtimePredictor component: the container-image Lambda that answers predictions."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
from predictor.settings import PredictorSettings as PredictorAppSettings

from components.environment import LAMBDA_RESERVED, app_env
from components.iam import log_statement, service_role

LIVE_ALIAS = "live"


@dataclass(frozen=True)
class PredictorArgs:
    """The predictor image, its size and concurrency, and what it is told.

    The function's environment is exactly what `app.to_env()` writes (less names Lambda reserves);
    the predictor reads no job-store variable, so its role grants no job-store access.
    """

    function_name: str
    image_uri: pulumi.Input[str]
    repository_arn: pulumi.Input[str]
    repository_name: pulumi.Input[str]
    architecture: str
    memory_mb: int
    timeout_seconds: int
    provisioned_concurrency: int
    reserved_concurrency: int
    log_retention_days: int
    app: PredictorAppSettings


class RealtimePredictor(pulumi.ComponentResource):
    """Image-based Lambda with its own log group and least-privilege role.

    `invoke_target` is what the dashboard invokes: the `live` alias when provisioned concurrency
    keeps instances warm, else the function name.
    """

    function: aws.lambda_.Function
    log_group: aws.cloudwatch.LogGroup
    invoke_target: pulumi.Output[str]
    invoke_arns: list[pulumi.Output[str]]

    def __init__(self, name: str, args: PredictorArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-proto:index:RealtimePredictor", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        # Created before the function so Lambda does not make one that never expires.
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/lambda/{args.function_name}",
            retention_in_days=args.log_retention_days,
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
            repository=args.repository_name,
            policy=pulumi.Output.from_input(args.repository_arn).apply(_lambda_pull_policy),
            opts=child,
        )

        provisioned = args.provisioned_concurrency > 0
        self.function = aws.lambda_.Function(
            f"{name}-function",
            name=args.function_name,
            package_type="Image",
            image_uri=args.image_uri,
            architectures=[args.architecture],
            role=role.arn,
            memory_size=args.memory_mb,
            timeout=args.timeout_seconds,
            reserved_concurrent_executions=args.reserved_concurrency,
            publish=provisioned,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=app_env(args.app, leave_out=LAMBDA_RESERVED)),
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
            aws.lambda_.ProvisionedConcurrencyConfig(
                f"{name}-warm",
                function_name=self.function.name,
                qualifier=alias.name,
                provisioned_concurrent_executions=args.provisioned_concurrency,
                opts=pulumi.ResourceOptions(parent=alias),
            )
            self.invoke_target = alias.arn
            self.invoke_arns = [self.function.arn, alias.arn]

        self.register_outputs({
            "functionName": self.function.name,
            "invokeTarget": self.invoke_target,
            "logGroup": self.log_group.name,
        })


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
