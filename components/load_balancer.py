"""LoadBalancer component: the dashboard's ALB, its security group, target groups and listeners.

Internet-facing (frontDoor alb: allowedCidrs, an optional certificate), or internal in private subnets with
only CloudFront's origin-facing addresses let in (frontDoor cloudfront: see components/front_door.py).

Its resources were first declared directly under the Dashboard; each top-level child carries an alias to that
old parent (its children follow), so Pulumi keeps the existing load balancer rather than replacing it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.network import Network

TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


@dataclass(frozen=True)
class LoadBalancerArgs:
    """Who may connect, HTTPS (a certificate, a domain) or plain HTTP, and the targets' port, health path and group.

    With `waker` a second, Lambda target group gets weight 0 beside the targets' (see components/sleep.py).
    """

    network: Network
    allowed_cidrs: Sequence[str]
    certificate_arn: str  # "": HTTP only
    domain_name: str  # "": the ALB's own DNS name
    target_port: int
    health_path: str
    targets_security_group: aws.ec2.SecurityGroup
    idle_timeout_seconds: int
    waker: bool
    # Behind CloudFront: internal, in these private subnets, open on port 80 to this managed prefix list only.
    internal: bool = False
    subnet_ids: Sequence[pulumi.Input[str]] = ()
    origin_prefix_list_id: pulumi.Input[str] | None = None


class LoadBalancer(pulumi.ComponentResource):
    """The only way in: HTTP(S) from the allowed CIDRs, or (internal) HTTP from CloudFront only, to the targets' port.

    It also opens the targets' security group to itself (that rule stays a child of the targets' group).
    """

    load_balancer: aws.lb.LoadBalancer
    security_group: aws.ec2.SecurityGroup
    target_group: aws.lb.TargetGroup
    waker_target_group: aws.lb.TargetGroup | None
    listeners: list[aws.lb.Listener]  # the forwarding one first: HTTPS when there is a certificate
    url: pulumi.Output[str]

    def __init__(self, name: str, args: LoadBalancerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-proto:index:LoadBalancer", name, None, opts)
        # Declared under the component's parent before this component existed: same names, no replacement.
        child = pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(parent=opts.parent if opts else None)])
        # Behind CloudFront the certificate is CloudFront's; CloudFront reaches the ALB over HTTP inside the VPC.
        https = bool(args.certificate_arn) and not args.internal
        port = args.target_port

        # --- the world (or CloudFront) reaches the ALB; the ALB reaches only the targets' port -------
        self.security_group = alb_sg = aws.ec2.SecurityGroup(
            f"{name}-alb-sg", vpc_id=args.network.vpc_id,
            description=("ml-proto dashboard load balancer: HTTP from CloudFront only" if args.internal
                         else "ml-proto dashboard load balancer: HTTP(S) from allowed CIDRs"), opts=child)
        if args.internal:
            if args.origin_prefix_list_id is None:
                raise ValueError("an internal load balancer behind CloudFront needs origin_prefix_list_id")
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-alb-in-cloudfront",
                security_group_id=alb_sg.id,
                description="port 80 from CloudFront (origin-facing managed prefix list) only",
                ip_protocol="tcp", from_port=80, to_port=80,
                prefix_list_id=args.origin_prefix_list_id,
                opts=pulumi.ResourceOptions(parent=alb_sg),
            )
        for listen_port in () if args.internal else (80, 443) if https else (80,):
            for i, cidr in enumerate(args.allowed_cidrs):
                v6 = ipaddress.ip_network(cidr).version == 6
                aws.vpc.SecurityGroupIngressRule(
                    f"{name}-alb-in-{listen_port}-{i}",
                    security_group_id=alb_sg.id,
                    description=f"port {listen_port} from {cidr}",
                    ip_protocol="tcp", from_port=listen_port, to_port=listen_port,
                    cidr_ipv4=None if v6 else cidr,
                    cidr_ipv6=cidr if v6 else None,
                    opts=pulumi.ResourceOptions(parent=alb_sg),
                )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-alb-to-tasks",
            security_group_id=alb_sg.id,
            description="to dashboard tasks",
            ip_protocol="tcp", from_port=port, to_port=port,
            referenced_security_group_id=args.targets_security_group.id,
            opts=pulumi.ResourceOptions(parent=alb_sg),
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-tasks-from-alb",
            security_group_id=args.targets_security_group.id,
            description="from the load balancer",
            ip_protocol="tcp", from_port=port, to_port=port,
            referenced_security_group_id=alb_sg.id,
            opts=pulumi.ResourceOptions(parent=args.targets_security_group),
        )

        self.load_balancer = aws.lb.LoadBalancer(
            f"{name}-alb",
            load_balancer_type="application",
            internal=args.internal,
            security_groups=[alb_sg.id],
            subnets=list(args.subnet_ids or args.network.subnet_ids),
            drop_invalid_header_fields=True,
            idle_timeout=args.idle_timeout_seconds,
            opts=child,
        )
        self.target_group = aws.lb.TargetGroup(
            f"{name}-tg",
            port=port,
            protocol="HTTP",
            target_type="ip",
            vpc_id=args.network.vpc_id,
            deregistration_delay=30,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                path=args.health_path, port="traffic-port", protocol="HTTP", matcher="200",
                interval=15, timeout=5, healthy_threshold=2, unhealthy_threshold=3),
            opts=child,
        )
        self.waker_target_group = None
        if args.waker:
            # While the dashboard sleeps the listener's weights send visitors here (see components/sleep.py).
            self.waker_target_group = aws.lb.TargetGroup(f"{name}-waker-tg", target_type="lambda", opts=child)
            forward = [aws.lb.ListenerDefaultActionArgs(type="forward", forward=aws.lb.ListenerDefaultActionForwardArgs(
                target_groups=[
                    aws.lb.ListenerDefaultActionForwardTargetGroupArgs(arn=self.target_group.arn, weight=1),
                    aws.lb.ListenerDefaultActionForwardTargetGroupArgs(arn=self.waker_target_group.arn, weight=0),
                ]))]
        else:
            forward = [aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=self.target_group.arn)]
        # The sleeper and the waker own the weights once created: an update must not undo a sleep.
        forwarding = pulumi.ResourceOptions(parent=self.load_balancer,
                                            ignore_changes=["defaultActions"] if args.waker else None)
        self.listeners = []
        if https:
            self.listeners.append(aws.lb.Listener(
                f"{name}-https", load_balancer_arn=self.load_balancer.arn, port=443, protocol="HTTPS",
                ssl_policy=TLS_POLICY, certificate_arn=args.certificate_arn, default_actions=forward,
                opts=forwarding))
            http_actions = [aws.lb.ListenerDefaultActionArgs(
                type="redirect",
                redirect=aws.lb.ListenerDefaultActionRedirectArgs(port="443", protocol="HTTPS",
                                                                  status_code="HTTP_301"))]
        else:
            http_actions = forward
        self.listeners.append(aws.lb.Listener(
            f"{name}-http", load_balancer_arn=self.load_balancer.arn, port=80, protocol="HTTP",
            default_actions=http_actions,
            opts=pulumi.ResourceOptions(parent=self.load_balancer) if https else forwarding))

        host = args.domain_name or self.load_balancer.dns_name
        self.url = pulumi.Output.concat("https://" if https else "http://", host)
        self.register_outputs({"url": self.url, "dnsName": self.load_balancer.dns_name})
