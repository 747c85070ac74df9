"""Pre-flight reads a stack's settings as `pulumi up` would: Pulumi.yaml defaults, the stack file,
then overrides, through components.settings."""

from __future__ import annotations

import pytest

from components.settings import ConfigError
from deploy.stack_config import REPO_ROOT, raw_config, stack_region, stack_settings


def test_dev_and_demo_read_their_stack_files_over_the_project_defaults():
    dev, demo = stack_settings("dev"), stack_settings("demo")
    assert dev.worker.capacity_provider == "FARGATE_SPOT" and demo.worker.capacity_provider == "FARGATE"
    assert dev.dashboard.users == ("scientist",) and demo.dashboard.min_count == 2
    assert dev.predictor.reserved_concurrency == -1  # Pulumi.yaml's default: neither file sets it
    assert stack_region("dev") == "us-east-1"


def test_overrides_win_and_a_bad_value_names_its_key():
    settings = stack_settings("dev", {"ml-proto:predictorReservedConcurrency": 7})
    assert settings.predictor.reserved_concurrency == 7
    with pytest.raises(ConfigError, match="ml-proto:workerMemoryMb"):
        stack_settings("dev", {"ml-proto:workerMemoryMb": 512})


def test_a_new_stack_has_the_project_defaults_and_secrets_stay_encrypted(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text((REPO_ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.s.yaml").write_text("config:\n  ml-proto:dashboardPasswords:\n    secure: v1:abc\n")
    assert raw_config("s", root=tmp_path)["ml-proto:dashboardPasswords"] == {"secure": "v1:abc"}
    assert stack_settings("s", root=tmp_path).dashboard.passwords == {}
    assert stack_region("s", root=tmp_path) is None
