"""AppImage component: one app's ECR repository (with image expiry) and its image, built and pushed.

Every image is built from the repository's `apps/` folder as context, so each Dockerfile can copy
the shared job contract (`apps/jobkit`) beside its own app.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_awsx as awsx

APPS_CONTEXT = "apps"


def dockerfile_path(app: str, variant: str = "") -> str:
    """The app's Dockerfile (or `Dockerfile.<variant>`, e.g. the worker's gpu image), relative to the project folder
    (where `pulumi up` runs)."""
    return f"{APPS_CONTEXT}/{app}/Dockerfile" + (f".{variant}" if variant else "")


@dataclass(frozen=True)
class AppImageArgs:
    """Which app to build (and which Dockerfile variant: "" or "gpu"), for which platform, and how many old images
    to keep."""

    app: str
    platform: str
    images_to_keep: int
    variant: str = ""


class AppImage(pulumi.ComponentResource):
    """ECR repository + lifecycle policy + `awsx.ecr.Image`; `image_uri` is `repo@sha256:digest`."""

    repository: aws.ecr.Repository
    image_uri: pulumi.Output[str]

    def __init__(self, name: str, args: AppImageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-proto:index:AppImage", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.repository = aws.ecr.Repository(
            f"{name}-repo",
            # Images are rebuilt from source on every `pulumi up`; nothing in them needs keeping.
            force_delete=True,
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
            opts=child,
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-expiry",
            repository=self.repository.name,
            policy=json.dumps({"rules": [{
                "rulePriority": 1,
                "description": f"keep the last {args.images_to_keep} images",
                "selection": {"tagStatus": "any", "countType": "imageCountMoreThan",
                              "countNumber": args.images_to_keep},
                "action": {"type": "expire"},
            }]}),
            opts=pulumi.ResourceOptions(parent=self.repository),
        )
        image = awsx.ecr.Image(
            f"{name}-image",
            repository_url=self.repository.repository_url,
            context=APPS_CONTEXT,
            dockerfile=dockerfile_path(args.app, args.variant),
            # Always explicit: an image built on an arm64 laptop would not start on amd64 Fargate.
            platform=args.platform,
            opts=child,
        )
        self.image_uri = image.image_uri

        self.register_outputs({"repositoryUrl": self.repository.repository_url, "imageUri": self.image_uri})
