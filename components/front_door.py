"""FrontDoor component: a CloudFront distribution serving HTTPS (its default certificate, or a domain's) in front
of the internal load balancer, reached through a CloudFront VPC origin.

Why this shape (AWS CloudFront Developer Guide, "Restrict access with VPC origins" and "Use managed cache / origin
request policies"): a VPC origin lets CloudFront reach an internal Application Load Balancer in private subnets,
so the load balancer has no public address at all and CloudFront is the only way in. The dashboard is dynamic
and signed-in, so nothing is cached (CachingDisabled) and every viewer header but Host, every cookie and query
string passes to the origin (AllViewerExceptHostHeader: the load balancer keeps its own Host). All methods are
allowed: Dash's callbacks and the login form POST.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

# Managed policies: fixed, documented IDs the same in every account.
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
# The prefix list of CloudFront's origin-facing addresses: the internal load balancer's security group admits it.
ORIGIN_FACING_PREFIX_LIST = "com.amazonaws.global.cloudfront.origin-facing"
# CloudFront waits at most this long for the origin's answer unless the account's quota is raised.
MAX_ORIGIN_READ_TIMEOUT = 60
# North America and Europe only: the cheapest price class; stakeholders elsewhere still get served, from there.
PRICE_CLASS = "PriceClass_100"
TLS_POLICY = "TLSv1.2_2021"


@dataclass(frozen=True)
class FrontDoorArgs:
    """The internal load balancer to reach, how long an answer may take, and an optional domain with its
    (us-east-1 ACM) certificate; without one visitors use https://<id>.cloudfront.net."""

    load_balancer: aws.lb.LoadBalancer
    read_timeout_seconds: int
    origin_name: str  # unique in the account: two stacks' VPC origins must not share it
    domain_name: str = ""
    certificate_arn: str = ""


class FrontDoor(pulumi.ComponentResource):
    """HTTPS for visitors, HTTP to the load balancer over CloudFront's private connection into the VPC."""

    vpc_origin: aws.cloudfront.VpcOrigin
    distribution: aws.cloudfront.Distribution
    url: pulumi.Output[str]

    def __init__(self, name: str, args: FrontDoorArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-proto:index:FrontDoor", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.vpc_origin = aws.cloudfront.VpcOrigin(
            f"{name}-vpc-origin",
            vpc_origin_endpoint_config=aws.cloudfront.VpcOriginVpcOriginEndpointConfigArgs(
                name=args.origin_name,
                arn=args.load_balancer.arn,
                http_port=80,
                https_port=443,
                # Inside the VPC, on AWS's network; TLS ends at CloudFront.
                origin_protocol_policy="http-only",
                origin_ssl_protocols=aws.cloudfront.VpcOriginVpcOriginEndpointConfigOriginSslProtocolsArgs(
                    items=["TLSv1.2"], quantity=1),
            ),
            opts=child,
        )
        origin_id = "dashboard-load-balancer"
        domain = bool(args.domain_name)
        self.distribution = aws.cloudfront.Distribution(
            f"{name}-distribution",
            enabled=True,
            comment=f"{name}: HTTPS in front of the dashboard's internal load balancer",
            price_class=PRICE_CLASS,
            http_version="http2and3",
            is_ipv6_enabled=True,
            aliases=[args.domain_name] if domain else None,
            origins=[aws.cloudfront.DistributionOriginArgs(
                origin_id=origin_id,
                domain_name=args.load_balancer.dns_name,
                vpc_origin_config=aws.cloudfront.DistributionOriginVpcOriginConfigArgs(
                    vpc_origin_id=self.vpc_origin.id,
                    origin_read_timeout=min(args.read_timeout_seconds, MAX_ORIGIN_READ_TIMEOUT),
                    origin_keepalive_timeout=60,
                ),
            )],
            default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
                target_origin_id=origin_id,
                viewer_protocol_policy="redirect-to-https",
                allowed_methods=ALL_METHODS,
                cached_methods=["GET", "HEAD"],
                cache_policy_id=CACHING_DISABLED,
                origin_request_policy_id=ALL_VIEWER_EXCEPT_HOST_HEADER,
                compress=False,  # CachingDisabled: CloudFront would not compress anyway; the dashboard does not
            ),
            restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(restriction_type="none")),
            viewer_certificate=(
                aws.cloudfront.DistributionViewerCertificateArgs(
                    acm_certificate_arn=args.certificate_arn, ssl_support_method="sni-only",
                    minimum_protocol_version=TLS_POLICY)
                if domain else aws.cloudfront.DistributionViewerCertificateArgs(cloudfront_default_certificate=True)),
            opts=child,
        )
        self.url = pulumi.Output.concat("https://", args.domain_name or self.distribution.domain_name)
        self.register_outputs({"url": self.url, "distributionId": self.distribution.id})


def origin_facing_prefix_list(parent: pulumi.Resource) -> pulumi.Output[str]:
    """The id of CloudFront's origin-facing managed prefix list in the stack's region."""
    found = aws.ec2.get_managed_prefix_list_output(name=ORIGIN_FACING_PREFIX_LIST,
                                                   opts=pulumi.InvokeOptions(parent=parent))
    return found.id
