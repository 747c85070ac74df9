"""Typed dashboard settings, read once from the environment and written back by `to_env()`."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from jobkit import StoreSettings
from jobkit.settings import SettingsError, env_number, merge_env

DEFAULT_UPLOAD_MAX_BYTES = 5 * 1024 * 1024
# Never written as plain environment in the cloud: the task definition reads them from SSM.
SECRET_VARIABLES = frozenset({"DASHBOARD_LOGINS", "DASHBOARD_SESSION_KEY"})


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def parse_logins(raw: str) -> dict[str, str]:
    """DASHBOARD_LOGINS as {user: password}; refuses anything but a non-empty JSON object of strings."""
    try:
        logins = json.loads(raw)
    except ValueError as error:
        raise SettingsError("DASHBOARD_LOGINS is not valid JSON (expected {\"user\": \"password\"})") from error
    if not isinstance(logins, dict) or not logins:
        raise SettingsError("DASHBOARD_LOGINS must be a non-empty JSON object {\"user\": \"password\"}")
    if not all(isinstance(k, str) and k and isinstance(v, str) and v for k, v in logins.items()):
        raise SettingsError("DASHBOARD_LOGINS: every user name and password must be a non-empty string")
    return logins


NETWORK_MODES = ("awsvpc", "host")


@dataclass(frozen=True)
class EcsWorkerSettings:
    """How to RunTask one batch worker on Fargate, or on the GPU workers' capacity provider (cloud only).

    network_mode "awsvpc" (Fargate) sends the subnets and security groups with RunTask; "host" (the
    GPU worker's task uses its instance's network) sends none: the capacity provider holds them.
    """

    cluster: str
    task_definition: str
    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]
    capacity_provider: str = "FARGATE"
    assign_public_ip: bool = False
    container_name: str = ""
    network_mode: str = "awsvpc"

    def to_env(self) -> dict[str, str]:
        """The WORKER_* and ECS_CLUSTER variables DashboardSettings.from_env reads when WORKER_LAUNCHER=ecs."""
        env = {
            "ECS_CLUSTER": self.cluster,
            "WORKER_TASK_DEFINITION": self.task_definition,
            "WORKER_SUBNETS": ",".join(self.subnets),
            "WORKER_CAPACITY_PROVIDER": self.capacity_provider,
            "WORKER_ASSIGN_PUBLIC_IP": "ENABLED" if self.assign_public_ip else "DISABLED",
        }
        if self.security_groups:
            env["WORKER_SECURITY_GROUPS"] = ",".join(self.security_groups)
        if self.container_name:
            env["WORKER_CONTAINER_NAME"] = self.container_name
        if self.network_mode != "awsvpc":
            env["WORKER_NETWORK_MODE"] = self.network_mode
        return env


@dataclass(frozen=True)
class DashboardSettings:
    """Everything the dashboard reads from its environment."""

    store: StoreSettings
    logins: dict[str, str] = field(repr=False)
    predictor_function: str
    region: str = "us-east-1"
    upload_max_bytes: int = DEFAULT_UPLOAD_MAX_BYTES
    # Uploads decoded and parsed at once per process (the rest wait): bounds the memory a few
    # concurrent big uploads take (cloud: 512 MiB for 2 workers).
    upload_parse_slots: int = 2
    launcher: str = "subprocess"  # or "ecs"
    max_workers: int = 2
    ecs: EcsWorkerSettings | None = None
    worker_command: tuple[str, ...] = ()
    worker_log_group: str = ""
    predictor_log_group: str = ""
    local_log_dir: Path | None = None
    log_level: str = "INFO"
    describe_cache_seconds: float = 30.0
    predictor_timeout_seconds: float = 20.0
    reconcile_seconds: float = 15.0
    proxy_hops: int = 1
    # Visitors come over HTTPS even where the last hop is plain HTTP (CloudFront to the load balancer, whose
    # X-Forwarded-Proto then says http): the session cookie is then always Secure.
    secure_cookies: bool = False
    jobs_page_size: int = 25
    session_hours: float = 12.0
    # The cookie-signing key: DASHBOARD_SESSION_KEY (an ECS secret from SSM in the cloud), else
    # the owner-only file DASHBOARD_SESSION_KEY_FILE (created with a random key on first use).
    session_key: bytes = field(default=b"", repr=False)
    session_key_file: Path | None = None
    # A Server-Timing header with the time each request waited on AWS (the load benchmark's).
    server_timing: bool = False

    def signing_key(self) -> bytes:
        """The session key, from the file when none was given; SettingsError when neither is set or usable."""
        key = self.session_key
        if not key and self.session_key_file is None:
            raise SettingsError("Set DASHBOARD_SESSION_KEY (the cloud: an SSM SecureString) or "
                                "DASHBOARD_SESSION_KEY_FILE (locally: an owner-only file, created if missing) "
                                "to sign session cookies")
        if not key:
            key = owner_only_secret(self.session_key_file, "DASHBOARD_SESSION_KEY_FILE").encode()
        if len(key) < MIN_SESSION_KEY_CHARS:
            raise SettingsError(f"The session key must have at least {MIN_SESSION_KEY_CHARS} characters")
        return key

    @property
    def max_request_bytes(self) -> int:
        """The largest request body served: the biggest upload, base64-encoded, plus room for the callback around it."""
        return self.upload_max_bytes * 4 // 3 + 64 * 1024

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> DashboardSettings:
        """Read the variables; a missing or malformed one raises SettingsError naming it."""
        store = StoreSettings.from_env(environ)
        missing = [name for name in ("DASHBOARD_LOGINS", "PREDICTOR_FUNCTION") if not environ.get(name)]
        if missing:
            raise SettingsError(f"Missing required environment variable(s): {', '.join(missing)}")
        launcher = environ.get("WORKER_LAUNCHER", "subprocess")
        if launcher not in ("subprocess", "ecs"):
            raise SettingsError(f"WORKER_LAUNCHER must be 'ecs' or 'subprocess', not {launcher!r}")
        ecs = None
        if launcher == "ecs":
            needed = ["ECS_CLUSTER", "WORKER_TASK_DEFINITION", "WORKER_SUBNETS"]
            missing = [name for name in needed if not environ.get(name)]
            if missing:
                raise SettingsError(f"WORKER_LAUNCHER=ecs needs: {', '.join(missing)}")
            ecs = EcsWorkerSettings(
                cluster=environ["ECS_CLUSTER"],
                task_definition=environ["WORKER_TASK_DEFINITION"],
                subnets=_split(environ["WORKER_SUBNETS"]),
                security_groups=_split(environ.get("WORKER_SECURITY_GROUPS", "")),
                capacity_provider=environ.get("WORKER_CAPACITY_PROVIDER", "") or "FARGATE",
                assign_public_ip=environ.get("WORKER_ASSIGN_PUBLIC_IP", "").lower() in ("1", "true", "yes", "enabled"),
                container_name=environ.get("WORKER_CONTAINER_NAME", ""),
                network_mode=environ.get("WORKER_NETWORK_MODE", "") or "awsvpc",
            )
            if ecs.network_mode not in NETWORK_MODES:
                raise SettingsError(f"WORKER_NETWORK_MODE must be one of {', '.join(NETWORK_MODES)}, "
                                    f"not {ecs.network_mode!r}")
        command = tuple(shlex.split(environ.get("WORKER_COMMAND", "")))
        if launcher == "subprocess" and not command:
            command = ("python", "-m", "worker", "--drain")
        log_dir = environ.get("LOCAL_LOG_DIR")
        try:
            return cls(
                store=store,
                logins=parse_logins(environ["DASHBOARD_LOGINS"]),
                predictor_function=environ["PREDICTOR_FUNCTION"],
                region=store.region,
                upload_max_bytes=int(environ.get("UPLOAD_MAX_BYTES", DEFAULT_UPLOAD_MAX_BYTES)),
                upload_parse_slots=int(environ.get("UPLOAD_PARSE_SLOTS", 2)),
                launcher=launcher,
                max_workers=int(environ.get("MAX_WORKERS", 2)),
                ecs=ecs,
                worker_command=command,
                worker_log_group=environ.get("WORKER_LOG_GROUP", ""),
                predictor_log_group=environ.get("PREDICTOR_LOG_GROUP", ""),
                local_log_dir=Path(log_dir) if log_dir else None,
                log_level=environ.get("LOG_LEVEL", "INFO"),
                describe_cache_seconds=float(environ.get("DESCRIBE_CACHE_SECONDS", 30)),
                predictor_timeout_seconds=float(environ.get("PREDICTOR_TIMEOUT_SECONDS", 20)),
                reconcile_seconds=float(environ.get("RECONCILE_SECONDS", 15)),
                proxy_hops=int(environ.get("DASHBOARD_PROXY_HOPS", 1)),
                secure_cookies=environ.get("DASHBOARD_SECURE_COOKIES", "").lower() == "true",
                session_key=environ.get("DASHBOARD_SESSION_KEY", "").encode(),
                session_key_file=Path(key_file) if (key_file := environ.get("DASHBOARD_SESSION_KEY_FILE")) else None,
                server_timing=environ.get("DASHBOARD_SERVER_TIMING", "") == "1",
            )
        except ValueError as error:
            raise SettingsError(f"A numeric dashboard setting is not a number: {error}") from error

    def to_env(self) -> dict[str, str]:
        """The variables `from_env` reads, holding these settings: from_env(s.to_env()) == s.

        Pulumi and the local stack build the dashboard's environment only through this; both keep
        SECRET_VARIABLES (logins, session key) out of every other process (the cloud passes them from SSM).
        """
        env = {
            "PREDICTOR_FUNCTION": self.predictor_function,
            "UPLOAD_MAX_BYTES": str(self.upload_max_bytes),
            "UPLOAD_PARSE_SLOTS": str(self.upload_parse_slots),
            "WORKER_LAUNCHER": self.launcher,
            "MAX_WORKERS": str(self.max_workers),
            "LOG_LEVEL": self.log_level,
            "DESCRIBE_CACHE_SECONDS": env_number(self.describe_cache_seconds),
            "PREDICTOR_TIMEOUT_SECONDS": env_number(self.predictor_timeout_seconds),
            "RECONCILE_SECONDS": env_number(self.reconcile_seconds),
            "DASHBOARD_PROXY_HOPS": str(self.proxy_hops),
            "DASHBOARD_SECURE_COOKIES": "true" if self.secure_cookies else "false",
            "DASHBOARD_LOGINS": json.dumps(self.logins),
            "DASHBOARD_SERVER_TIMING": "1" if self.server_timing else "0",
        }
        if self.worker_command:
            env["WORKER_COMMAND"] = shlex.join(self.worker_command)
        if self.worker_log_group:
            env["WORKER_LOG_GROUP"] = self.worker_log_group
        if self.predictor_log_group:
            env["PREDICTOR_LOG_GROUP"] = self.predictor_log_group
        if self.local_log_dir is not None:
            env["LOCAL_LOG_DIR"] = str(self.local_log_dir)
        if self.session_key:
            env["DASHBOARD_SESSION_KEY"] = self.session_key.decode()
        if self.session_key_file is not None:
            env["DASHBOARD_SESSION_KEY_FILE"] = str(self.session_key_file)
        if self.ecs is not None:
            env.update(self.ecs.to_env())
        return merge_env(self.store.to_env(), env)


MIN_SESSION_KEY_CHARS = 32


def owner_only_secret(path: Path, variable: str) -> str:
    """The secret in `path`, created (mode 0600, never readable by others) with a random value if missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError), os.fdopen(
            os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w"
        ) as file:
            file.write(secrets.token_urlsafe(48))
    if path.stat().st_mode & 0o077:
        raise SettingsError(f"{variable}: {path} may be read by others; make it owner-only (chmod 600)")
    return path.read_text().strip()


@dataclass(frozen=True)
class ServerSettings:
    """How gunicorn serves the dashboard: GUNICORN_BIND (or PORT), GUNICORN_WORKERS,
    GUNICORN_THREADS, GUNICORN_TIMEOUT, GUNICORN_KEEPALIVE, GUNICORN_HEADER_TIMEOUT,
    GUNICORN_REQUEST_TIMEOUT, GUNICORN_ACCESS_LOG and LOG_LEVEL."""

    bind: str = "0.0.0.0:8050"
    workers: int = 2
    threads: int = 16
    timeout: int = 60
    # Must outlast the load balancer's idle timeout (Pulumi sets it), so the ALB never reuses a
    # connection gunicorn already closed.
    keepalive: int = 75
    # A request's headers must be in this many seconds after its first byte, and all of it
    # (headers and body) in request_timeout: slow clients cannot hold the threads (slow_clients.py).
    header_timeout: int = 10
    request_timeout: int = 120
    access_log: bool = True  # one JSON line per request; GUNICORN_ACCESS_LOG=none turns it off
    log_level: str = "info"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> ServerSettings:
        """Read the variables; a malformed number raises SettingsError naming it."""
        numbers = {}
        for name, field_name in (("GUNICORN_WORKERS", "workers"), ("GUNICORN_THREADS", "threads"),
                                 ("GUNICORN_TIMEOUT", "timeout"), ("GUNICORN_KEEPALIVE", "keepalive"),
                                 ("GUNICORN_HEADER_TIMEOUT", "header_timeout"),
                                 ("GUNICORN_REQUEST_TIMEOUT", "request_timeout")):
            raw = environ.get(name, str(getattr(cls, field_name)))
            try:
                numbers[field_name] = int(raw)
            except ValueError:
                raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
            if numbers[field_name] < 1:
                raise SettingsError(f"{name} must be at least 1, not {raw!r}")
        return cls(
            bind=environ.get("GUNICORN_BIND") or f"0.0.0.0:{environ.get('PORT', '8050')}",
            access_log=environ.get("GUNICORN_ACCESS_LOG", "json") != "none",
            log_level=environ.get("LOG_LEVEL", "info").lower(),
            **numbers,
        )

    def to_env(self) -> dict[str, str]:
        """The variables `from_env` reads, holding these settings: from_env(s.to_env()) == s."""
        return {
            "GUNICORN_BIND": self.bind,
            "GUNICORN_WORKERS": str(self.workers),
            "GUNICORN_THREADS": str(self.threads),
            "GUNICORN_TIMEOUT": str(self.timeout),
            "GUNICORN_KEEPALIVE": str(self.keepalive),
            "GUNICORN_HEADER_TIMEOUT": str(self.header_timeout),
            "GUNICORN_REQUEST_TIMEOUT": str(self.request_timeout),
            "GUNICORN_ACCESS_LOG": "json" if self.access_log else "none",
            "LOG_LEVEL": self.log_level.upper(),
        }
