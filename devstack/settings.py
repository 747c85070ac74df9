"""Typed settings for the local stack: ports, folders, names; ports, folder and counts from env."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
LOG_FILES = ("dashboard.log", "predictor.log", "worker.log")


@dataclass(frozen=True)
class DevSettings:
    """What `make dev` runs and where. Ports are configurable (DASHBOARD_PORT, AWS_PORT...)."""

    dashboard_port: int = 8050
    aws_port: int = 5055
    lambda_port: int = 9055
    host: str = "127.0.0.1"
    apps_dir: Path = REPO_ROOT / "apps"
    state_dir: Path = REPO_ROOT / ".devstack"
    table: str = "ml-proto-local-jobs"
    bucket: str = "ml-proto-local-jobs"
    function_name: str = "ml-proto-local-predictor"
    region: str = "us-east-1"
    user: str = "demo"
    lambda_instances: int = 2
    # The predictor's Lambda limits, enforced locally; Pulumi.yaml's predictorTimeoutSeconds and
    # predictorMemoryMb defaults.
    predictor_timeout_seconds: int = 30
    predictor_memory_mb: int = 1024
    max_workers: int = 2
    worker_idle_seconds: float = 30.0  # local workers give up sooner than the cloud's
    # Batch work yields the laptop's cores to the dashboard and the predictor: in the cloud the
    # workers run on Fargate tasks of their own and never slow a stakeholder's page.
    worker_niceness: int = 10
    log_level: str = "INFO"
    # Test and benchmark knobs laid over every app's environment (e.g. a shorter idle time).
    extra_env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> DevSettings:
        defaults = cls()
        return cls(
            dashboard_port=int(environ.get("DASHBOARD_PORT", defaults.dashboard_port)),
            aws_port=int(environ.get("AWS_PORT", defaults.aws_port)),
            lambda_port=int(environ.get("LAMBDA_PORT", defaults.lambda_port)),
            state_dir=Path(environ.get("DEVSTACK_DIR", defaults.state_dir)),
            apps_dir=Path(environ.get("DEVSTACK_APPS_DIR", defaults.apps_dir)),
            lambda_instances=int(environ.get("LAMBDA_INSTANCES", defaults.lambda_instances)),
            predictor_timeout_seconds=int(environ.get("PREDICTOR_TIMEOUT_SECONDS", defaults.predictor_timeout_seconds)),
            predictor_memory_mb=int(environ.get("PREDICTOR_MEMORY_MB", defaults.predictor_memory_mb)),
            max_workers=int(environ.get("MAX_WORKERS", defaults.max_workers)),
            worker_idle_seconds=float(environ.get("WORKER_IDLE_SECONDS", defaults.worker_idle_seconds)),
        )

    @property
    def aws_url(self) -> str:
        return f"http://{self.host}:{self.aws_port}"

    @property
    def lambda_url(self) -> str:
        return f"http://{self.host}:{self.lambda_port}"

    @property
    def dashboard_url(self) -> str:
        return f"http://{self.host}:{self.dashboard_port}"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    def prepare_state_dir(self) -> Path:
        """The state folder and its logs folder, created owner-only (0700), and every file directly in
        them made owner-only (0600): they hold the AWS recording (every upload), logs and keys. What
        an older run left readable is tightened too. The build cache's own files keep their modes
        (which outputs may be cached depends on them); the 0700 folder closes them to others."""
        for folder in (self.state_dir, self.log_dir):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(folder, 0o700)
            for entry in folder.iterdir():
                if entry.is_file() and not entry.is_symlink():
                    os.chmod(entry, 0o600)
        for name in LOG_FILES:  # created owner-only before the parts open them for appending
            os.close(os.open(self.log_dir / name, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        return self.state_dir

    def login_password(self) -> str:
        """The local login's password: generated once, kept in .devstack/ so it stays stable."""
        path = self.state_dir / "password"
        if not path.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            # Created owner-only: the password is never readable by others, not even briefly.
            with contextlib.suppress(FileExistsError), os.fdopen(
                os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w"
            ) as file:
                file.write(secrets.token_urlsafe(12))
        return path.read_text().strip()
