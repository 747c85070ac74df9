"""docker-compose.yml can't be run here (no Docker engine): parse it, check it against the
apps' contract, and run its bootstrap script for real against moto in the worker image's venv."""

from __future__ import annotations

import re
import uuid

import boto3
import pytest
import yaml
from jobkit.schema import TABLE

from tests.envcheck import every_app_variable
from tests.images.context import APPS, REPO_ROOT

COMPOSE = REPO_ROOT / "docker-compose.yml"
# boto3's own settings, which the apps rely on without reading them themselves.
BOTO3_STANDARD = {"AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
REQUIRED = {
    "dashboard": {"JOBS_TABLE", "JOBS_BUCKET", "AWS_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA",
                  "PREDICTOR_FUNCTION", "DASHBOARD_LOGINS", "WORKER_LAUNCHER"},
    "worker": {"JOBS_TABLE", "JOBS_BUCKET", "AWS_REGION", "AWS_ENDPOINT_URL"},
    "bootstrap": {"JOBS_TABLE", "JOBS_BUCKET", "AWS_REGION", "AWS_ENDPOINT_URL"},
}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def contract_variables() -> set[str]:
    """Every variable an app reads, as the apps' own settings classes write them (tests/envcheck.py)."""
    return every_app_variable() | {"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA"}


def interpolate(value: str, environ: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?message} substitution."""
    def substitute(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3) or ""
        if environ.get(name):
            return environ[name]
        if op == ":?":
            raise ValueError(arg)
        return arg
    return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", substitute, str(value))


def test_services_are_the_stack(compose):
    assert set(compose["services"]) == {"moto", "bootstrap", "predictor", "dashboard", "worker"}


def test_moto_image_is_the_pinned_release_the_dev_venv_uses(compose):
    dev = re.search(r"^moto\[server\]==(\S+)", (REPO_ROOT / "requirements-dev.txt").read_text(), re.MULTILINE)
    assert compose["services"]["moto"]["image"] == f"motoserver/moto:{dev.group(1)}"


@pytest.mark.parametrize("service", ["bootstrap", "predictor", "dashboard", "worker"])
def test_each_app_service_builds_from_apps_with_its_own_dockerfile(compose, service):
    spec = compose["services"][service]
    app = service if service in APPS else "worker"  # bootstrap runs in the worker image
    context = (COMPOSE.parent / spec["build"]["context"]).resolve()
    assert context == REPO_ROOT / "apps", "the same context `pulumi up` builds with"
    assert spec["build"]["dockerfile"] == f"{app}/Dockerfile"
    assert (context / spec["build"]["dockerfile"]).is_file(), f"apps/{app}/Dockerfile is missing"
    assert interpolate(spec["image"], {}) == f"ml-proto-{app}:dev"  # the tag docker.mk builds


def test_environment_uses_only_contract_variables_and_what_each_app_needs(compose):
    known = contract_variables() | BOTO3_STANDARD
    assert {"JOBS_TABLE", "AWS_ENDPOINT_URL_LAMBDA", "DASHBOARD_LOGINS", "WORKER_IDLE_SECONDS"} <= known
    for name, spec in compose["services"].items():
        env = spec.get("environment") or {}
        unknown = set(env) - known if name != "moto" else set()
        assert not unknown, f"{name} sets variables no app's settings read: {unknown}"
        missing = REQUIRED.get(name, set()) - set(env)
        assert not missing, f"{name} lacks {missing}"


def test_apps_reach_each_other_through_aws_endpoints_only(compose):
    services = compose["services"]
    for name in ("bootstrap", "predictor", "dashboard", "worker"):
        assert services[name]["environment"]["AWS_ENDPOINT_URL"] == "http://moto:5000"
    dashboard = services["dashboard"]["environment"]
    assert dashboard["AWS_ENDPOINT_URL_LAMBDA"] == "http://predictor:8080"
    assert dashboard["PREDICTOR_FUNCTION"] == "function"  # the name the emulator answers to
    assert dashboard["MAX_WORKERS"] == "0"  # the worker service drains; the dashboard starts none
    assert services["predictor"]["ports"] == ["9000:8080"]
    assert services["worker"]["command"] == ["--drain"] and services["worker"]["restart"] == "unless-stopped"


def test_start_order_waits_for_moto_and_the_table(compose):
    services = compose["services"]
    for name, spec in services.items():
        for dependency in spec.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"
    assert services["bootstrap"]["depends_on"]["moto"]["condition"] == "service_healthy"
    assert "healthcheck" in services["moto"]
    for name in ("dashboard", "worker"):
        assert services[name]["depends_on"]["bootstrap"]["condition"] == "service_completed_successfully"


def test_dashboard_logins_are_never_written_in_the_file(compose):
    logins = compose["services"]["dashboard"]["environment"]["DASHBOARD_LOGINS"]
    assert re.fullmatch(r"\$\{DASHBOARD_LOGINS(:-|:\?)[^}]*\}", logins)
    assert interpolate(logins, {"DASHBOARD_LOGINS": '{"a": "b"}'}) == '{"a": "b"}'


@pytest.mark.slow
def test_bootstrap_creates_the_schema_table_and_bucket_idempotently(compose, app_image, aws_endpoint):
    spec = compose["services"]["bootstrap"]
    assert spec["entrypoint"][:2] == ["python", "-c"] and "jobkit.schema import TABLE" in spec["entrypoint"][2]
    name = f"compose-{uuid.uuid4().hex[:10]}"
    env = {key: interpolate(value, {}) for key, value in spec["environment"].items()}
    env.update({"AWS_ENDPOINT_URL": aws_endpoint, "JOBS_TABLE": name, "JOBS_BUCKET": name})
    image = app_image("worker")
    for _ in range(2):  # compose may run it again on every `up`
        done = image.run(["-c", spec["entrypoint"][2]], env, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"table {name} and bucket {name} are ready" in done.stdout

    dynamodb = boto3.client("dynamodb", endpoint_url=aws_endpoint, region_name="us-east-1")
    table = dynamodb.describe_table(TableName=name)["Table"]
    expected = TABLE.create_table_kwargs(name)
    assert table["KeySchema"] == expected["KeySchema"]
    assert sorted(table["AttributeDefinitions"], key=str) == sorted(expected["AttributeDefinitions"], key=str)
    assert {i["IndexName"]: i["KeySchema"] for i in table["GlobalSecondaryIndexes"]} == {
        i["IndexName"]: i["KeySchema"] for i in expected["GlobalSecondaryIndexes"]
    }
    ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == TABLE.ttl_attribute and ttl["TimeToLiveStatus"] == "ENABLED"
    boto3.client("s3", endpoint_url=aws_endpoint, region_name="us-east-1").head_bucket(Bucket=name)
