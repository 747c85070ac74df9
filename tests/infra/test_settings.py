"""Stack settings: every key declared once in Pulumi.yaml, and a bad value refused by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml

from components.network import choose_subnets
from components.settings import NAMESPACE, ConfigError, Settings
from deploy.concurrency import MIN_UNRESERVED, concurrency_problem
from deploy.mock_program import ROOT, project_schema, stack_config
from tests.infra.stackview import Deployment

pytestmark = pytest.mark.timeout(120)


class Source(dict):
    """Raw config values by short key, remembering which keys were read and which are secret."""

    def __init__(self, values: dict[str, Any], secret: tuple[str, ...] = ()) -> None:
        super().__init__(values)
        self.read: set[str] = set()
        self.secret = set(secret)

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return super().__getitem__(key)

    def is_secret(self, key: str) -> bool:
        return key in self.secret


def defaults(stack: str = "dev", **overrides: Any) -> Source:
    values = {k.split(":", 1)[1]: v for k, v in stack_config(stack).items() if k.startswith(f"{NAMESPACE}:")}
    values.update(overrides)
    return Source(values)


def test_pulumi_yaml_runs_python_from_the_project_virtualenv() -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["name"] == NAMESPACE
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": ".venv"}}


def test_every_declared_key_is_read_and_every_read_key_is_declared() -> None:
    schema = project_schema()
    source = defaults()
    Settings.from_values(source)
    assert source.read == set(schema)
    for key, spec in schema.items():
        assert {"type", "default", "description"} <= set(spec), key
        assert spec["type"] in ("string", "integer", "boolean", "array"), key
        default_type = {"string": str, "integer": int, "boolean": bool, "array": list}[spec["type"]]
        assert isinstance(spec["default"], default_type), key


@pytest.mark.parametrize("stack", ["dev", "demo"])
def test_stack_files_set_only_declared_keys(stack: str) -> None:
    config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    declared = set(project_schema())
    for key in config:
        namespace, _, name = key.partition(":")
        assert namespace in (NAMESPACE, "aws"), key
        if namespace == NAMESPACE:
            assert name in declared, f"{key} is not declared in Pulumi.yaml"
    Settings.from_values(defaults(stack))  # and the result is valid


def test_defaults_read_into_typed_values() -> None:
    settings = Settings.from_values(defaults("demo"))
    assert settings.dashboard.desired_count == 2 and settings.store.point_in_time_recovery is True
    assert settings.dashboard.allowed_cidrs == ("0.0.0.0/0",)
    assert settings.lambda_architecture("predictor") == "x86_64" and settings.cpu_architecture("worker") == "X86_64"
    arm = Settings.from_values(defaults("demo", platform="linux/arm64"))
    assert arm.lambda_architecture("predictor") == "arm64" and arm.cpu_architecture("dashboard") == "ARM64"
    one = Settings.from_values(defaults("demo", arm64Apps=["predictor"]))
    assert one.lambda_architecture("predictor") == "arm64" and one.app_platform("predictor") == "linux/arm64"
    assert one.cpu_architecture("dashboard") == "X86_64" and one.app_platform("worker") == "linux/amd64"
    assert settings.dashboard.office_hours is not None and settings.dashboard.office_hours.hours_per_week == 55


BAD_VALUES = [
    ("workerMemoryMb", {"workerCpu": 1024, "workerMemoryMb": 3000}),   # not a Fargate pair
    ("dashboardMemoryMb", {"dashboardCpu": 256, "dashboardMemoryMb": 4096}),
    ("dashboardCpu", {"dashboardCpu": 300}),
    ("predictorMemoryMb", {"predictorMemoryMb": 10241}),               # over Lambda's maximum
    ("predictorMemoryMb", {"predictorMemoryMb": 64}),                  # under Lambda's minimum
    ("predictorTimeoutSeconds", {"predictorTimeoutSeconds": 901}),
    ("platform", {"platform": "linux/s390x"}),
    ("allowedCidrs", {"allowedCidrs": ["10.0.0.300/8"]}),
    ("allowedCidrs", {"allowedCidrs": ["10.0.0.1/8"]}),                 # host bits set
    ("allowedCidrs", {"allowedCidrs": []}),
    ("logRetentionDays", {"logRetentionDays": 10}),                     # not a CloudWatch value
    ("workerCapacityProvider", {"workerCapacityProvider": "EC2"}),
    ("workerCapacityProvider", {"workerCapacityProvider": "FARGATE_SPOT", "platform": "linux/arm64"}),
    ("maxWorkers", {"maxWorkers": "many"}),
    ("assignPublicIp", {"assignPublicIp": "yes"}),
    ("dashboardDesiredCount", {"dashboardDesiredCount": 5, "dashboardMaxCount": 2}),
    ("subnetIds", {"vpcId": "vpc-123"}),
    ("subnetIds", {"subnetIds": ["subnet-1", "subnet-1"]}),               # one subnet named twice
    ("subnetIds", {"subnetIds": ["subnet-1"]}),                           # an ALB needs two zones
    ("predictorReservedConcurrency", {"predictorReservedConcurrency": 0}),  # would throttle every call
    ("dashboardUsers", {"dashboardUsers": ["ok", "not ok"]}),
    ("dashboardUsers", {"dashboardUsers": []}),
    ("certificateArn", {"certificateArn": "my-cert"}),
    ("predictorProvisionedConcurrency", {"predictorProvisionedConcurrency": 5, "predictorReservedConcurrency": 2}),
    ("frontDoor", {"frontDoor": "nginx"}),
    ("allowedCidrs", {"allowedCidrs": ["203.0.113.0/24"]}),             # CloudFront admits every address
    ("certificateArn", {"certificateArn": "arn:aws:acm:eu-west-1:1:certificate/x", "domainName": "a.example"}),
    ("predictorTimeoutSeconds", {"predictorTimeoutSeconds": 51}),         # CloudFront waits 60 s at most
    ("loadBalancerSubnetIds", {"vpcId": "vpc-1", "subnetIds": ["subnet-1", "subnet-2"]}),
    ("loadBalancerSubnetIds", {"frontDoor": "alb", "loadBalancerSubnetIds": ["subnet-1", "subnet-2"]}),
    ("privateSubnetCidrs", {"privateSubnetCidrs": ["172.31.240.0/26"]}),  # an ALB needs two zones
    ("privateSubnetCidrs", {"privateSubnetCidrs": ["172.31.240.0/28", "172.31.240.16/28"]}),
    ("predictorWarmHours", {"predictorWarmHours": "Mon-Fri 08:00-19:00"}),  # with no warm instance
    ("predictorWarmHours", {"predictorWarmHours": "weekdays", "predictorProvisionedConcurrency": 1}),
    ("allowPlainHttp", {"allowPlainHttp": "sure"}),
]


@pytest.mark.parametrize(("key", "values"), BAD_VALUES, ids=[f"{k}-{i}" for i, (k, _) in enumerate(BAD_VALUES)])
def test_a_bad_value_is_refused_with_its_key_name(key: str, values: dict[str, Any]) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_values(defaults(**values))
    assert str(caught.value).startswith(f"{NAMESPACE}:{key}"), str(caught.value)


def test_a_missing_key_names_the_key() -> None:
    source = defaults()
    del source["workerCpu"]
    with pytest.raises(ConfigError, match=f"^{NAMESPACE}:workerCpu is not set"):
        Settings.from_values(source)


def test_passwords_must_be_a_secret_and_are_never_echoed() -> None:
    password = "correct-horse-battery"
    plain = defaults(dashboardPasswords=f'{{"scientist": "{password}"}}')
    with pytest.raises(ConfigError, match="--secret") as caught:
        Settings.from_values(plain)
    assert password not in str(caught.value)
    secret = Source(dict(plain), secret=("dashboardPasswords",))
    settings = Settings.from_values(secret)
    assert settings.dashboard.passwords == {"scientist": password}
    assert password not in repr(settings)
    bad = Source({**plain, "dashboardPasswords": '{"scientist": "short"}'}, secret=("dashboardPasswords",))
    with pytest.raises(ConfigError) as caught:
        Settings.from_values(bad)
    assert "short" not in str(caught.value)
    stranger = Source({**plain, "dashboardPasswords": f'{{"stranger": "{password}"}}'}, secret=("dashboardPasswords",))
    with pytest.raises(ConfigError, match="stranger"):
        Settings.from_values(stranger)


@pytest.mark.parametrize(("key", "value"), [
    ("workerMemoryMb", "3000"),
    ("predictorMemoryMb", "20000"),
    ("platform", "linux/386"),
    ("allowedCidrs", '["203.0.113.0/33"]'),
])
def test_the_real_program_refuses_a_bad_value_before_creating_anything(
        run_with: Callable[..., Deployment], key: str, value: str) -> None:
    run = run_with("dev", **{key: value})
    assert run.error is not None, "the program accepted a bad value"
    assert run.error["type"] == "ConfigError"
    assert run.error["message"].startswith(f"{NAMESPACE}:{key}"), run.error["message"]
    assert run.resources == [], [r.name for r in run.resources]


def test_subnets_are_chosen_by_zone_then_id_whatever_order_they_come_in() -> None:
    import itertools

    listed = [("subnet-9", "us-east-1b"), ("subnet-1", "us-east-1c"), ("subnet-5", "us-east-1a"),
              ("subnet-2", "us-east-1a"), ("subnet-7", "us-east-1d")]
    for order in itertools.permutations(listed):
        assert choose_subnets(order) == ("subnet-2", "subnet-9")  # 1a's first id, then 1b's
    with pytest.raises(Exception, match="availability zone"):
        choose_subnets([("subnet-1", "us-east-1a"), ("subnet-2", "us-east-1a")])


@pytest.mark.parametrize("stack", ["dev", "demo"])
def test_the_committed_stacks_deploy_in_a_new_account_with_a_quota_of_ten(stack: str) -> None:
    """Neither stack reserves or provisions Lambda concurrency, so `make up`'s pre-flight passes them there."""
    settings = Settings.from_values(defaults(stack))
    assert concurrency_problem(settings.predictor, limit=10, unreserved=10) == ""


def test_the_concurrency_rule_is_documented_where_the_keys_are() -> None:
    schema = project_schema()
    for key in ("predictorReservedConcurrency", "predictorProvisionedConcurrency"):
        assert f"minus {MIN_UNRESERVED}" in schema[key]["description"] or \
            f"keeps {MIN_UNRESERVED} free" in schema[key]["description"], key
        assert "new accounts may have 10" in schema[key]["description"], key
