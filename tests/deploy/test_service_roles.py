"""Service-linked roles against moto's IAM: a missing role is created, an existing one left alone.

moto names the roles it creates after its own rule (e.g. `AWSServiceRoleForecs`), not AWS's names,
so the test finds created roles by their service path, which both agree on.
"""

from __future__ import annotations

import json

import pytest

from deploy.service_roles import REQUIRED, ensure_service_linked_roles


def _slr_paths(iam) -> dict[str, list[str]]:
    """Role names under each /aws-service-role/<service>/ path."""
    found: dict[str, list[str]] = {}
    for role in iam.list_roles(PathPrefix="/aws-service-role/")["Roles"]:
        found.setdefault(role["Path"], []).append(role["RoleName"])
    return found


@pytest.fixture
def iam(clean_iam):
    return clean_iam


def test_missing_roles_are_created_and_an_existing_one_is_left_alone(iam, caplog):
    ecs = REQUIRED[0]
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                       "Principal": {"Service": ecs.service}}]}
    existing = iam.create_role(RoleName=ecs.name, Path=f"/aws-service-role/{ecs.service}/",
                               AssumeRolePolicyDocument=json.dumps(trust))["Role"]

    with caplog.at_level("INFO", logger="deploy.service_roles"):
        created = ensure_service_linked_roles(iam)

    assert created == [role.name for role in REQUIRED[1:]]
    paths = _slr_paths(iam)
    assert paths[f"/aws-service-role/{ecs.service}/"] == [ecs.name]  # not replaced, no second ECS role
    assert iam.get_role(RoleName=ecs.name)["Role"]["RoleId"] == existing["RoleId"]
    for role in REQUIRED[1:]:
        assert len(paths[f"/aws-service-role/{role.service}/"]) == 1, paths
    assert f"service-linked role {ecs.name} is present; left alone" in caplog.text
    assert all(f"created service-linked role {role.name}" in caplog.text for role in REQUIRED[1:])


def test_nothing_is_created_when_every_role_exists(iam):
    for role in REQUIRED:
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                           "Principal": {"Service": role.service}}]}
        iam.create_role(RoleName=role.name, Path=f"/aws-service-role/{role.service}/",
                        AssumeRolePolicyDocument=json.dumps(trust))
    assert ensure_service_linked_roles(iam) == []
    assert sum(len(names) for names in _slr_paths(iam).values()) == len(REQUIRED)


def test_the_roles_are_the_ones_aws_names():
    assert {(role.name, role.service) for role in REQUIRED} == {
        ("AWSServiceRoleForECS", "ecs.amazonaws.com"),
        ("AWSServiceRoleForApplicationAutoScaling_ECSService", "ecs.application-autoscaling.amazonaws.com"),
        ("AWSServiceRoleForElasticLoadBalancing", "elasticloadbalancing.amazonaws.com"),
    }
