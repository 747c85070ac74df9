"""The dashboard app's own settings objects as the program fills them: they write the task's environment."""

from __future__ import annotations

from dashboard.settings import DashboardSettings as DashboardAppSettings
from dashboard.settings import EcsWorkerSettings, ServerSettings

from components.predictor import PredictorLink
from components.settings import DashboardSettings
from components.shared import Cluster, Shared
from components.worker import WorkerLaunch


def app_settings(s: DashboardSettings, shared: Shared, cluster: Cluster, predictor: PredictorLink,
                 worker: WorkerLaunch) -> tuple[DashboardAppSettings, ServerSettings]:
    """The dashboard app's and its server's own settings objects, which write its environment (logins: from SSM)."""
    app = DashboardAppSettings(
        store=shared.store.app,
        logins={},
        predictor_function=predictor.invoke_target,
        region=shared.store.app.region,
        upload_max_bytes=s.upload_max_bytes,
        launcher="ecs",
        max_workers=worker.max_workers,
        ecs=EcsWorkerSettings(
            cluster=cluster.name,
            task_definition=worker.family,
            subnets=tuple(shared.network.subnet_ids),
            security_groups=(worker.security_group_id,),
            capacity_provider=worker.capacity_provider,
            assign_public_ip=shared.network.assign_public_ip,
            container_name=worker.container_name,
            network_mode=worker.network_mode,
        ),
        worker_log_group=worker.log_group_name,
        predictor_log_group=predictor.log_group_name,  # the predict page links a model error's log lines
        log_level=shared.log_level,
        # The dashboard waits a little longer than the Lambda may run, so a slow answer is not cut off.
        predictor_timeout_seconds=dashboard_wait_seconds(predictor),
        # CloudFront appends the visitor's address to X-Forwarded-For, then the load balancer appends CloudFront's.
        proxy_hops=2 if s.behind_cloudfront else 1,
        secure_cookies=s.serves_https,
    )
    server = ServerSettings(
        workers=s.server_workers,
        threads=s.server_threads,
        # gunicorn must keep idle connections open longer than the ALB does, or the ALB reuses
        # a connection gunicorn just closed and the stakeholder gets a 502.
        keepalive=alb_idle_timeout(predictor) + 5,
        log_level=shared.log_level.lower(),
    )
    return app, server


def dashboard_wait_seconds(predictor: PredictorLink) -> int:
    """How long the dashboard waits for one prediction: a little longer than the Lambda may run."""
    return predictor.timeout_seconds + 5


def alb_idle_timeout(predictor: PredictorLink) -> int:
    """Outlasts the slowest prediction the dashboard waits for, and batch uploads."""
    return max(120, predictor.timeout_seconds + 30)
