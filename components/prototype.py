"""MlPrototype: the whole stack -- job store, three images, predictor, cluster, worker, dashboard."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
from jobkit import schema
from jobkit.settings import StoreSettings as AppStoreSettings
from predictor.settings import PredictorSettings as PredictorAppSettings
from worker.settings import WorkerSettings as WorkerAppSettings

from components.app_image import AppImage, AppImageArgs
from components.dashboard import Dashboard, DashboardArgs, WorkerLaunch
from components.job_store import JobStore, JobStoreArgs
from components.network import resolve_network
from components.predictor import PredictorArgs, RealtimePredictor
from components.settings import Settings
from components.worker import BatchWorker, WorkerArgs

APPS = ("dashboard", "predictor", "worker")


@dataclass(frozen=True)
class MlPrototypeArgs:
    """Validated settings and the project and stack names."""

    settings: Settings
    project: str
    stack: str


class MlPrototype(pulumi.ComponentResource):
    """Wires the components so each gets exactly the names and permissions it needs."""

    def __init__(self, name: str, args: MlPrototypeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-proto:index:MlPrototype", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        s = args.settings
        network = resolve_network(s.network, parent=self)
        region = aws.get_region(opts=pulumi.InvokeOptions(parent=self)).region
        # Names other resources must know before creation (function, families, log groups).
        prefix = f"{args.project}-{args.stack}"
        log_root = f"/{args.project}/{args.stack}"

        self.store = JobStore("jobs", JobStoreArgs(
            result_retention_days=s.store.result_retention_days,
            point_in_time_recovery=s.store.point_in_time_recovery,
            deletion_protection=s.store.deletion_protection,
        ), opts=child)
        table_arn, bucket_arn = self.store.table.arn, self.store.bucket.arn
        # What every app is told about the job store: jobkit's own settings, names still Outputs.
        app_store = AppStoreSettings(
            table=self.store.table.name,
            bucket=self.store.bucket.bucket,
            region=region,
            lease_seconds=s.store.job_lease_seconds,
            max_attempts=s.store.job_max_attempts,
            retention_days=s.store.result_retention_days,
            retry_backoff_seconds=s.store.job_retry_backoff_seconds,
        )

        self.images = {
            app: AppImage(app, AppImageArgs(app=app, platform=s.app_platform(app), images_to_keep=s.images_to_keep),
                          opts=child)
            for app in APPS
        }

        self.predictor = RealtimePredictor("predictor", PredictorArgs(
            function_name=f"{prefix}-predictor",
            image_uri=self.images["predictor"].image_uri,
            repository_arn=self.images["predictor"].repository.arn,
            repository_name=self.images["predictor"].repository.name,
            architecture=s.lambda_architecture("predictor"),
            memory_mb=s.predictor.memory_mb,
            timeout_seconds=s.predictor.timeout_seconds,
            provisioned_concurrency=s.predictor.provisioned_concurrency,
            reserved_concurrency=s.predictor.reserved_concurrency,
            log_retention_days=s.log_retention_days,
            app=PredictorAppSettings(log_level=s.log_level),
        ), opts=child)

        # One cluster for the dashboard service and the worker tasks; both Fargate providers are
        # associated so RunTask may ask for either.
        self.cluster = aws.ecs.Cluster(
            "cluster",
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="disabled")],
            opts=child,
        )
        cluster_capacity = aws.ecs.ClusterCapacityProviders(
            "cluster-capacity",
            cluster_name=self.cluster.name,
            capacity_providers=["FARGATE", "FARGATE_SPOT"],
            default_capacity_provider_strategies=[aws.ecs.ClusterCapacityProvidersDefaultCapacityProviderStrategyArgs(
                capacity_provider=s.worker.capacity_provider, weight=1)],
            opts=pulumi.ResourceOptions(parent=self.cluster),
        )

        self.worker = BatchWorker("worker", WorkerArgs(
            family=f"{prefix}-worker",
            log_group_name=f"{log_root}/worker",
            image_uri=self.images["worker"].image_uri,
            repository_arn=self.images["worker"].repository.arn,
            cpu=s.worker.cpu,
            memory_mb=s.worker.memory_mb,
            cpu_architecture=s.cpu_architecture("worker"),
            log_retention_days=s.log_retention_days,
            network=network,
            table_arn=table_arn,
            bucket_arn=bucket_arn,
            jobs_prefix=schema.JOBS_PREFIX,
            app=WorkerAppSettings(
                store=app_store,
                idle_seconds=s.worker.idle_seconds,
                heartbeat_seconds=s.worker.heartbeat_seconds,
                log_level=s.log_level,
            ),
        ), opts=child)

        d = s.dashboard
        self.dashboard = Dashboard("dashboard", DashboardArgs(
            family=f"{prefix}-dashboard",
            logins_parameter_name=f"{log_root}/dashboard-logins",
            log_group_name=f"{log_root}/dashboard",
            image_uri=self.images["dashboard"].image_uri,
            repository_arn=self.images["dashboard"].repository.arn,
            cpu=d.cpu,
            memory_mb=d.memory_mb,
            cpu_architecture=s.cpu_architecture("dashboard"),
            desired_count=d.desired_count,
            min_count=d.min_count,
            max_count=d.max_count,
            cpu_target_percent=d.cpu_target_percent,
            server_workers=d.server_workers,
            server_threads=d.server_threads,
            allowed_cidrs=d.allowed_cidrs,
            certificate_arn=d.certificate_arn,
            domain_name=d.domain_name,
            upload_max_bytes=d.upload_max_bytes,
            users=d.users,
            passwords=d.passwords,
            log_retention_days=s.log_retention_days,
            network=network,
            cluster_arn=self.cluster.arn,
            cluster_name=self.cluster.name,
            table_arn=table_arn,
            bucket_arn=bucket_arn,
            jobs_prefix=schema.JOBS_PREFIX,
            store=app_store,
            log_level=s.log_level,
            predictor_target=self.predictor.invoke_target,
            predictor_timeout_seconds=s.predictor.timeout_seconds,
            predictor_arns=self.predictor.invoke_arns,
            worker=WorkerLaunch(
                family=self.worker.task_definition.family,
                task_definition_arn_without_revision=self.worker.task_definition.arn_without_revision,
                container_name=self.worker.container_name,
                security_group_id=self.worker.security_group.id,
                capacity_provider=s.worker.capacity_provider,
                log_group_name=self.worker.log_group.name,
                task_role_arn=self.worker.task_role.arn,
                execution_role_arn=self.worker.execution_role.arn,
                max_workers=s.worker.max_workers,
            ),
            sleep_function_name=f"{prefix}-dashboard-sleep",
            office_hours=d.office_hours,
            sleep_after_minutes=d.sleep_after_minutes,
            capacity_provider=d.capacity_provider,
            on_demand_base=d.on_demand_base,
            cluster_capacity=cluster_capacity,
        ), opts=child)

        self.register_outputs({
            "url": self.dashboard.url,
            "table": self.store.table.name,
            "bucket": self.store.bucket.bucket,
            "predictorFunction": self.predictor.function.name,
            "cluster": self.cluster.name,
            "workerTaskDefinition": self.worker.task_definition.family,
        })
