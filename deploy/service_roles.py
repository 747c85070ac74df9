"""The service-linked roles a first deploy needs: check each, create only what the account lacks.

A fresh account has none of them until a service first creates its own, and the first ECS or
Application Auto Scaling call can then fail with "Unable to assume the service linked role".
Declaring them as Pulumi resources fails in the many accounts that already have them (one such
role per account), so the deploy checks and creates them before `pulumi up` instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import botocore.exceptions

log = logging.getLogger("deploy.service_roles")


@dataclass(frozen=True)
class ServiceLinkedRole:
    """An AWS-named role and the service principal that creates it."""

    name: str
    service: str
    needed_by: str


# Names and service principals from each service's "service-linked roles" page.
REQUIRED = (
    ServiceLinkedRole("AWSServiceRoleForECS", "ecs.amazonaws.com", "the ECS cluster, dashboard and worker tasks"),
    ServiceLinkedRole("AWSServiceRoleForApplicationAutoScaling_ECSService", "ecs.application-autoscaling.amazonaws.com",
                      "the dashboard service's autoscaling"),
    ServiceLinkedRole("AWSServiceRoleForElasticLoadBalancing", "elasticloadbalancing.amazonaws.com",
                      "the dashboard's load balancer"),
)
# Only a stack that keeps a warm predictor in office hours (predictorWarmHours) scales Lambda.
LAMBDA_SCALING = ServiceLinkedRole("AWSServiceRoleForApplicationAutoScaling_LambdaConcurrency",
                                   "lambda.application-autoscaling.amazonaws.com",
                                   "the predictor's office-hours provisioned concurrency")


class ServiceRoleError(Exception):
    """A missing role that could not be created; the message says who can create it and how."""


def ensure_service_linked_roles(iam: Any, roles: tuple[ServiceLinkedRole, ...] = REQUIRED) -> list[str]:
    """Create each role the account lacks (leaving existing ones alone); return the names created."""
    created = []
    for role in roles:
        if _exists(iam, role):
            log.info("service-linked role %s is present; left alone", role.name)
            continue
        try:
            iam.create_service_linked_role(AWSServiceName=role.service)
        except botocore.exceptions.ClientError as error:
            if _already_taken(error):  # created meanwhile, e.g. by the service itself
                continue
            code = error.response["Error"].get("Code", "")
            why = "these credentials may not create it" if "AccessDenied" in code else f"creating it failed: {error}"
            raise ServiceRoleError(
                f"The account has no {role.name} (needed by {role.needed_by}) and {why}. Ask an administrator "
                f"to run once: aws iam create-service-linked-role --aws-service-name {role.service}"
            ) from error
        log.info("created service-linked role %s (%s), needed by %s", role.name, role.service, role.needed_by)
        created.append(role.name)
    return created


def _exists(iam: Any, role: ServiceLinkedRole) -> bool:
    try:
        iam.get_role(RoleName=role.name)
    except botocore.exceptions.ClientError as error:
        if error.response["Error"].get("Code") == "NoSuchEntity":
            return False
        raise ServiceRoleError(f"Could not check for the service-linked role {role.name}: {error}") from error
    return True


def _already_taken(error: botocore.exceptions.ClientError) -> bool:
    message = error.response["Error"].get("Message", "")
    return error.response["Error"].get("Code") == "InvalidInput" and "has been taken" in message
