"""The values stack config may take: namespaces, platforms, providers, levels, ranges and name patterns."""

from __future__ import annotations

import re

NAMESPACE = "ml-proto"

PLATFORMS = {"linux/amd64": "x86_64", "linux/arm64": "arm64"}
CAPACITY_PROVIDERS = ("FARGATE", "FARGATE_SPOT")
# cloudfront: a distribution with its default certificate in front of an internal load balancer; alb: the
# load balancer faces the internet (allowedCidrs, certificateArn).
FRONT_DOORS = ("cloudfront", "alb")
WORKER_COMPUTE = ("fargate", "gpu")
# ECS Managed Instances keeps an idle instance at most this long before scaling it in (InfrastructureOptimization).
GPU_SCALE_IN_SECONDS = (0, 3600)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                      3288, 3653)
LAMBDA_MEMORY_MB = (128, 10240)
LAMBDA_TIMEOUT_SECONDS = (1, 900)
USER_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
APPS = ("dashboard", "predictor", "worker")
# The sleeper looks every this many minutes, so a shorter idle time could not be honoured.
SLEEPER_PERIOD_MINUTES = 5
