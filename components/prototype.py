"""MlPrototype: the whole stack -- job store, three images, predictor, cluster, worker, dashboard."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
from jobkit import schema
from jobkit.settings import StoreSettings as AppStoreSettings

from components.app_image import AppImage, AppImageArgs
from components.dashboard import Dashboard, DashboardArgs
from components.job_store import JobStore, JobStoreArgs
from components.network import private_subnets, resolve_network
from components.predictor import PredictorArgs, RealtimePredictor
from components.settings import Settings
from components.shared import Cluster, Image, Shared, StackNames, StoreLink
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
        if s.dashboard.behind_cloudfront:
            network = dataclasses.replace(network, load_balancer_subnet_ids=tuple(
                s.network.load_balancer_subnet_ids
                or private_subnets("dashboard-lb", network, s.network.private_subnet_cidrs, parent=self)))
        region = aws.get_region(opts=pulumi.InvokeOptions(parent=self)).region

        self.store = JobStore("jobs", JobStoreArgs(
            result_retention_days=s.store.result_retention_days,
            point_in_time_recovery=s.store.point_in_time_recovery,
            deletion_protection=s.store.deletion_protection,
        ), opts=child)
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
        shared = Shared(
            names=StackNames(args.project, args.stack),
            log_retention_days=s.log_retention_days,
            log_level=s.log_level,
            network=network,
            store=StoreLink(self.store.table.arn, self.store.bucket.arn, schema.JOBS_PREFIX, app_store),
        )

        self.images = {
            # GPU workers get the image with a CUDA-bundling torch (apps/worker/Dockerfile.gpu).
            app: AppImage(app, AppImageArgs(app=app, platform=s.app_platform(app), images_to_keep=s.images_to_keep,
                                            variant="gpu" if app == "worker" and s.worker.on_gpu else ""),
                          opts=child)
            for app in APPS
        }
        images = {app: Image(image.image_uri, image.repository.arn, image.repository.name)
                  for app, image in self.images.items()}

        self.predictor = RealtimePredictor("predictor", PredictorArgs(
            s.predictor, shared, images["predictor"], architecture=s.lambda_architecture("predictor")), opts=child)

        # One cluster for the dashboard service and the worker tasks; both Fargate providers are
        # associated so RunTask may ask for either (and the GPU workers' provider, with workerCompute gpu).
        self.cluster = aws.ecs.Cluster(
            "cluster",
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="disabled")],
            opts=child,
        )
        self.worker = BatchWorker("worker", WorkerArgs(
            s.worker, shared, images["worker"], cpu_architecture=s.cpu_architecture("worker"),
            cluster_name=self.cluster.name), opts=child)
        gpu_provider = [self.worker.gpu.capacity_provider.name] if self.worker.gpu is not None else []
        cluster_capacity = aws.ecs.ClusterCapacityProviders(
            "cluster-capacity",
            cluster_name=self.cluster.name,
            capacity_providers=["FARGATE", "FARGATE_SPOT", *gpu_provider],
            default_capacity_provider_strategies=[aws.ecs.ClusterCapacityProvidersDefaultCapacityProviderStrategyArgs(
                capacity_provider=s.worker.capacity_provider, weight=1)],
            opts=pulumi.ResourceOptions(parent=self.cluster),
        )

        self.dashboard = Dashboard("dashboard", DashboardArgs(
            s.dashboard, shared, images["dashboard"], cpu_architecture=s.cpu_architecture("dashboard"),
            cluster=Cluster(self.cluster.arn, self.cluster.name, cluster_capacity),
            predictor=self.predictor.link,
            worker=self.worker.launch,
        ), opts=child)

        self.register_outputs({
            "url": self.dashboard.url,
            "table": self.store.table.name,
            "bucket": self.store.bucket.bucket,
            "predictorFunction": self.predictor.function.name,
            "cluster": self.cluster.name,
            "workerTaskDefinition": self.worker.task_definition.family,
        })
