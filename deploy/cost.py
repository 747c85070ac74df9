"""`python -m deploy.cost --stack dev`: what a stack costs a month when nobody uses it, and per use.

Read from the resources the real program declares (run under Pulumi mocks by deploy.mock_program,
as the infra tests do) and the stack's config; priced from deploy/prices.json, the one place
prices and the assumptions behind them live.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
PRICES = Path(__file__).resolve().parent / "prices.json"
RUN_TIMEOUT_SECONDS = 120
CRON = re.compile(r"^cron\((?P<minute>\d+) (?P<hour>\d+) \? \* (?P<days>[A-Z]{3}(?:-[A-Z]{3})?) \*\)$")
RATE = re.compile(r"^rate\((?P<n>\d+) minutes?\)$")
WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


class CostError(RuntimeError):
    """The program could not be read (its own error is in the message)."""


@dataclass(frozen=True)
class Line:
    """One priced item: what it is, how it was counted, and dollars."""

    item: str
    detail: str
    dollars: float


@dataclass(frozen=True)
class Estimate:
    """A stack's idle month, one batch job, 1,000 predictions, and an awake dashboard hour."""

    stack: str
    idle: tuple[Line, ...]
    batch_job: Line
    predictions: Line
    awake_hour: Line
    first_visit: str
    cheaper: tuple[Line, ...] = ()  # what Spot and arm64 would change (dollars saved)
    gpu_jobs: tuple[Line, ...] = ()  # workerCompute gpu: one job On-Demand and on Spot
    front_door: Line | None = None  # CloudFront at prototype volume (pay per request)
    options: tuple[Line, ...] = ()  # what settings this stack leaves off would add a month

    @property
    def idle_total(self) -> float:
        return sum(line.dollars for line in self.idle)


def load_prices(path: Path = PRICES) -> dict[str, Any]:
    return json.loads(path.read_text())


def program_resources(stack: str, overrides: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What the real __main__.py declares for `stack`, run under mocks in a fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run.json"
        command = [sys.executable, "-m", "deploy.mock_program", "--stack", stack, "--out", str(out)]
        for key, value in (overrides or {}).items():
            command += ["--set", f"{key}={value}"]
        done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS)
        if done.returncode != 0:
            raise CostError(f"could not run the program for stack {stack}:\n{done.stderr[-2000:]}")
        run = json.loads(out.read_text())
    if run["error"]:
        raise CostError(f"stack {stack}: {run['error']['message']}")
    return run


# --- reading the declared resources --------------------------------------------------------------

def _of(run: Mapping[str, Any], type_: str) -> list[dict[str, Any]]:
    return [r for r in run["resources"] if r["type"] == type_]


def _plain(value: Any) -> Any:
    """The value inside Pulumi's secret wrapper, if it is wrapped."""
    return value["value"] if isinstance(value, dict) and "value" in value and len(value) == 2 else value


@dataclass(frozen=True)
class TaskSize:
    vcpu: float
    gb: float
    arm64: bool

    @classmethod
    def of(cls, task_definition: Mapping[str, Any]) -> TaskSize:
        inputs = task_definition["inputs"]
        arch = (inputs.get("runtimePlatform") or {}).get("cpuArchitecture", "X86_64")
        return cls(int(inputs["cpu"]) / 1024, int(inputs["memory"]) / 1024, arch == "ARM64")

    def on_arm64(self) -> TaskSize:
        return TaskSize(self.vcpu, self.gb, True)

    def hourly(self, prices: Mapping[str, Any], spot: bool) -> float:
        rate = self.vcpu * prices["fargate_vcpu_hour"] + self.gb * prices["fargate_gb_hour"]
        if self.arm64:
            rate *= prices["fargate_arm64_factor"]
        if spot:
            rate *= prices["fargate_spot_factor"]
        return rate

    def describe(self) -> str:
        return f"{self.vcpu:g} vCPU/{self.gb:g} GB {'arm64' if self.arm64 else 'x86_64'}"


def _task_definition(run: Mapping[str, Any], arn_or_family: str) -> dict[str, Any]:
    for td in _of(run, "aws:ecs/taskDefinition:TaskDefinition"):
        if arn_or_family in (td["outputs"].get("arn"), td["inputs"]["family"]):
            return td
    raise CostError(f"no task definition {arn_or_family}")


def open_hours_per_week(open_cron: str, close_cron: str) -> tuple[float, str]:
    """Hours a week between an opening and a closing cron on the same days, and the window as text."""
    opened, closed = CRON.match(open_cron), CRON.match(close_cron)
    if not opened or not closed or opened["days"] != closed["days"]:
        raise CostError(f"cannot read the office hours {open_cron} / {close_cron}")
    first, _, last = opened["days"].partition("-")
    days = WEEKDAYS.index(last or first) - WEEKDAYS.index(first) + 1
    start = int(opened["hour"]) + int(opened["minute"]) / 60
    end = int(closed["hour"]) + int(closed["minute"]) / 60
    window = f"{opened['days']} {int(opened['hour']):02d}:{int(opened['minute']):02d}-" \
             f"{int(closed['hour']):02d}:{int(closed['minute']):02d}"
    return days * (end - start), window


def _split_spot(service: Mapping[str, Any], tasks: int) -> tuple[int, int]:
    """(on-demand, Spot) tasks of `tasks` under the service's capacity provider strategy."""
    strategy = service["inputs"].get("capacityProviderStrategies") or []
    if not any(s["capacityProvider"] == "FARGATE_SPOT" for s in strategy):
        return tasks, 0
    base = int(sum(s.get("base", 0) for s in strategy if s["capacityProvider"] == "FARGATE"))
    on_demand = min(tasks, base)
    return on_demand, tasks - on_demand


# --- the estimate --------------------------------------------------------------------------------

def estimate(run: Mapping[str, Any], prices: Mapping[str, Any]) -> Estimate:
    """Price what one mocked run of the program declared (see deploy/mock_program.py)."""
    hours = prices["hours_per_month"]
    assume = prices["assumptions"]
    ipv4 = prices["public_ipv4_hour"]
    config = run["config"]
    idle: list[Line] = []

    for lb in _of(run, "aws:lb/loadBalancer:LoadBalancer"):
        subnets = len(lb["inputs"].get("subnets") or [])
        idle.append(Line("load balancer", f"{hours} h x ${prices['alb_hour']}/h (LCUs ~0 when idle)",
                         hours * prices["alb_hour"]))
        if lb["inputs"].get("internal"):
            idle.append(Line("load balancer public IPv4", f"none: internal, behind CloudFront (internet-facing it "
                             f"would hold {subnets} x {hours} h x ${ipv4}/h = ${subnets * hours * ipv4:.2f})", 0.0))
        else:
            idle.append(Line("load balancer public IPv4", f"{subnets} subnets x {hours} h x ${ipv4}/h",
                             subnets * hours * ipv4))
    front_door = _front_door(run, prices)
    if front_door is not None:
        idle.append(Line("CloudFront distribution + VPC origin", "no monthly fee; pay per request (see per use)", 0.0))

    first_visit = "none"
    cheaper: list[Line] = []
    awake = Line("dashboard awake hour", "no dashboard service", 0.0)
    sleeps = bool(_of(run, "aws:lb/targetGroupAttachment:TargetGroupAttachment"))
    for service in _of(run, "aws:ecs/service:Service"):
        size = TaskSize.of(_task_definition(run, service["inputs"]["taskDefinition"]))
        public = bool(service["inputs"]["networkConfiguration"].get("assignPublicIp"))
        resource_id = f"service/{_cluster_name(run)}/{service['outputs']['name']}"
        (target,) = [t for t in _of(run, "aws:appautoscaling/target:Target") if t["inputs"]["resourceId"] ==
                     resource_id] or [{"inputs": {"minCapacity": service["inputs"]["desiredCount"]}}]
        actions = {("close" if a["inputs"]["scalableTargetAction"]["maxCapacity"] == 0 else "open"): a
                   for a in _of(run, "aws:appautoscaling/scheduledAction:ScheduledAction")
                   if a["inputs"]["resourceId"] == resource_id}
        if "open" in actions and "close" in actions:
            weekly, window = open_hours_per_week(actions["open"]["inputs"]["schedule"],
                                                 actions["close"]["inputs"]["schedule"])
            open_hours = weekly * assume["weeks_per_month"]
            floor = int(actions["open"]["inputs"]["scalableTargetAction"]["minCapacity"])
            when = f"{open_hours:.0f} h/month ({window} {actions['open']['inputs'].get('timezone', 'UTC')})"
        else:
            open_hours, floor, when = hours, int(target["inputs"]["minCapacity"]), f"{hours} h"
            for close in _of(run, "aws:scheduler/schedule:Schedule"):  # a sleeping dashboard's close
                at = CRON.match(close["inputs"]["scheduleExpression"])
                zone = close["inputs"]["scheduleExpressionTimezone"]
                if at:
                    when += f", closed at {at['days']} {int(at['hour']):02d}:{int(at['minute']):02d} {zone}"
        on_demand, spot = _split_spot(service, floor)
        task_hours = floor * open_hours
        dollars = open_hours * (on_demand * size.hourly(prices, False) + spot * size.hourly(prices, True))
        how = f"{on_demand} on-demand + {spot} Spot" if spot else f"{floor} on-demand"
        idle.append(Line("dashboard tasks", f"{how} x {size.describe()} x {when}"
                         + (" (asleep when idle)" if sleeps and floor == 0 else ""), dollars))
        if public:
            idle.append(Line("dashboard tasks' public IPv4", f"{task_hours:.0f} task-h x ${ipv4}/h",
                             task_hours * ipv4))
        count = int(service["inputs"]["desiredCount"])
        od, sp = _split_spot(service, count)
        awake = Line("dashboard awake hour", f"{count} task(s) of {size.describe()}",
                     od * size.hourly(prices, False) + sp * size.hourly(prices, True) + (count * ipv4 if public else 0))
        spot_strategy = any(x["capacityProvider"] == "FARGATE_SPOT"
                            for x in service["inputs"].get("capacityProviderStrategies") or [])
        if not size.arm64:
            per_hour = size.hourly(prices, False) - size.on_arm64().hourly(prices, False)
            cheaper.append(Line("dashboard on arm64", f"arm64Apps: [dashboard]; saves per idle month, and per "
                                f"awake task-hour ${per_hour:.4f}", dollars * (1 - prices["fargate_arm64_factor"])))
        beyond_base = max(floor - 1, 0)
        if not spot_strategy and beyond_base:
            cheaper.append(Line("dashboard on Spot", f"dashboardCapacityProvider FARGATE_SPOT, on-demand base 1: "
                                f"{beyond_base} of {floor} idle tasks on Spot; saves per idle month",
                                beyond_base * open_hours * size.hourly(prices, False)
                                * (1 - prices["fargate_spot_factor"])))
        if sleeps:
            first_visit = "about a minute (waking page) after dashboardSleepAfterMinutes idle"
        elif actions:
            first_visit = "none inside office hours; the URL answers 503 outside them"

    idle.extend(_sleeper_lines(run, prices))
    idle.extend(_provisioned_lines(run, prices))
    idle.extend(_image_lines(run, prices))
    idle.append(Line("DynamoDB (on demand), S3, CloudWatch Logs", "pay per request/GB; ~0 when idle", 0.0))

    gpu_provider = _gpu_provider(run)
    gpu_jobs: tuple[Line, ...] = ()
    if gpu_provider is not None:
        spot = gpu_provider["inputs"]["managedInstancesProvider"]["instanceLaunchTemplate"].get(
            "capacityOptionType") == "SPOT"
        gpu_jobs = tuple(_gpu_job(gpu_provider, prices, config, spot=option) for option in (False, True))
        job = gpu_jobs[spot]
        idle.append(Line("GPU worker instances", "0 running when no job runs: ECS Managed Instances scales an idle "
                         f"instance in after {_scale_in_seconds(gpu_provider)} s", 0.0))
    else:
        job = _batch_job(run, prices, config)
    predictions = _predictions(run, prices)
    if "x86_64" in job.detail and gpu_provider is None:
        cheaper.append(Line("batch worker on arm64", "arm64Apps: [worker] (workerCapacityProvider FARGATE); "
                            "saves per job (before any Spot discount)", _worker_arm64_saving(run, prices, config)))
    if "x86_64" in predictions.detail:
        cheaper.append(Line("predictor on arm64", "arm64Apps: [predictor]; saves per 1,000 predictions",
                            _predictions(run, prices).dollars - _predictions(run, prices, arm64=True).dollars))
    options = () if _provisioned(run) else (_warm_option(run, prices),)
    return Estimate(run["stack"], tuple(idle), job, predictions, awake, first_visit, tuple(cheaper), gpu_jobs,
                    front_door, options)


def _front_door(run: Mapping[str, Any], prices: Mapping[str, Any]) -> Line | None:
    """A prototype month through CloudFront: requests, answers out, uploads in (volume from prices.json)."""
    if not _of(run, "aws:cloudfront/distribution:Distribution"):
        return None
    assume = prices["assumptions"]
    requests = assume["cloudfront_requests_per_month"]
    gb_out = requests * assume["cloudfront_kb_per_request"] / 1024 / 1024
    gb_in = assume["cloudfront_upload_gb_per_month"]
    dollars = (requests * prices["cloudfront_https_request"] + gb_out * prices["cloudfront_gb_out"]
               + gb_in * prices["cloudfront_gb_to_origin"])
    per_10k = prices["cloudfront_https_request"] * 1e4
    return Line("CloudFront, a prototype month", f"{requests:,} HTTPS requests x ${per_10k:g}/10k + "
                f"{gb_out:.1f} GB out x ${prices['cloudfront_gb_out']}/GB + {gb_in:g} GB uploaded x "
                f"${prices['cloudfront_gb_to_origin']}/GB (volume assumed; free tier ignored)", dollars)


def _cluster_name(run: Mapping[str, Any]) -> str:
    (cluster,) = _of(run, "aws:ecs/cluster:Cluster")
    return cluster["outputs"]["name"]


def _lambda_rate(function: Mapping[str, Any], prices: Mapping[str, Any], kind: str = "") -> float:
    arm = (function["inputs"].get("architectures") or ["x86_64"]) == ["arm64"]
    key = f"lambda_{'arm64_' if arm else ''}{kind}gb_second"
    return prices[key]


def _sleeper_lines(run: Mapping[str, Any], prices: Mapping[str, Any]) -> Iterable[Line]:
    functions = {f["outputs"]["arn"]: f for f in _of(run, "aws:lambda/function:Function")}
    rules = {r["outputs"]["name"]: r for r in _of(run, "aws:cloudwatch/eventRule:EventRule")}
    for target in _of(run, "aws:cloudwatch/eventTarget:EventTarget"):
        rate = RATE.match(rules[target["inputs"]["rule"]]["inputs"].get("scheduleExpression", ""))
        function = functions.get(target["inputs"]["arn"])
        if not rate or function is None:
            continue
        looks = prices["hours_per_month"] * 60 / int(rate["n"])
        gb_s = looks * function["inputs"]["memorySize"] / 1024 * prices["assumptions"]["sleep_look_ms"] / 1000
        # Per look: two reads (the activity record, the ledger) and two writes (take and free the lock).
        dollars = (gb_s * _lambda_rate(function, prices) + looks * prices["lambda_request"]
                   + looks * 2 * (prices["dynamodb_read_request"] + prices["dynamodb_write_request"]))
        yield Line("sleeper looks", f"{looks:.0f} Lambda runs of {int(function['inputs']['memorySize'])} MB "
                   f"+ {2 * looks:.0f} DynamoDB reads and writes each", dollars)


def _provisioned(run: Mapping[str, Any]) -> bool:
    return bool(_of(run, "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig")
                or _lambda_schedule(run))


def _lambda_schedule(run: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The predictor's warm-hours scheduled actions by kind (open, close); empty when it has none."""
    return {("close" if a["inputs"]["scalableTargetAction"]["maxCapacity"] == 0 else "open"): a
            for a in _of(run, "aws:appautoscaling/scheduledAction:ScheduledAction")
            if a["inputs"].get("serviceNamespace") == "lambda"}


def _warm_month(function: Mapping[str, Any], count: int, hours: float, prices: Mapping[str, Any]) -> float:
    gb_s = count * function["inputs"]["memorySize"] / 1024 * hours * 3600
    return gb_s * _lambda_rate(function, prices, "provisioned_")


def _predictor_function(run: Mapping[str, Any]) -> dict[str, Any]:
    (function,) = [f for f in _of(run, "aws:lambda/function:Function") if f["inputs"].get("packageType") == "Image"]
    return function


def _provisioned_lines(run: Mapping[str, Any], prices: Mapping[str, Any]) -> Iterable[Line]:
    functions = {f["outputs"]["name"]: f for f in _of(run, "aws:lambda/function:Function")}
    for warm in _of(run, "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig"):
        function = functions[warm["inputs"]["functionName"]]
        count = int(warm["inputs"]["provisionedConcurrentExecutions"])
        yield Line("predictor provisioned concurrency", f"{count} warm x {int(function['inputs']['memorySize'])} MB "
                   f"all month", _warm_month(function, count, prices["hours_per_month"], prices))
    schedule = _lambda_schedule(run)
    if schedule:
        function = _predictor_function(run)
        count = int(schedule["open"]["inputs"]["scalableTargetAction"]["minCapacity"])
        weekly, window = open_hours_per_week(schedule["open"]["inputs"]["schedule"],
                                             schedule["close"]["inputs"]["schedule"])
        hours = weekly * prices["assumptions"]["weeks_per_month"]
        yield Line("predictor provisioned concurrency", f"{count} warm x {int(function['inputs']['memorySize'])} MB "
                   f"x {hours:.0f} h/month ({window} {schedule['open']['inputs'].get('timezone', 'UTC')}, "
                   f"predictorWarmHours)", _warm_month(function, count, hours, prices))


def _warm_option(run: Mapping[str, Any], prices: Mapping[str, Any]) -> Line:
    """What one warm predictor instance would add a month, kept in the dashboard's office hours (else all month)."""
    function = _predictor_function(run)
    hours_setting = str(run["config"].get("ml-proto:dashboardOfficeHours") or "")
    zone = run["config"].get("ml-proto:timeZone", "UTC")
    dashboard_hours = [a for a in _of(run, "aws:appautoscaling/scheduledAction:ScheduledAction")
                       if a["inputs"].get("serviceNamespace", "ecs") == "ecs"]
    opens = [a for a in dashboard_hours if a["inputs"]["scalableTargetAction"]["maxCapacity"] != 0]
    closes = [a for a in dashboard_hours if a["inputs"]["scalableTargetAction"]["maxCapacity"] == 0]
    if hours_setting and opens and closes:
        weekly, window = open_hours_per_week(opens[0]["inputs"]["schedule"], closes[0]["inputs"]["schedule"])
        hours = weekly * prices["assumptions"]["weeks_per_month"]
        how = (f"predictorProvisionedConcurrency: 1, predictorWarmHours: '{hours_setting}' -> {hours:.0f} h/month "
               f"({window} {zone})")
    else:
        hours = prices["hours_per_month"]
        how = f"predictorProvisionedConcurrency: 1, all month ({hours} h)"
    return Line("warm predictor (off)", f"{how} x {int(function['inputs']['memorySize'])} MB: no cold start",
                _warm_month(function, 1, hours, prices))


def _image_lines(run: Mapping[str, Any], prices: Mapping[str, Any]) -> Iterable[Line]:
    assume = prices["assumptions"]
    total_gb, kept = 0.0, []
    for policy in _of(run, "aws:ecr/lifecyclePolicy:LifecyclePolicy"):
        app = policy["inputs"]["repository"].rsplit("-repo", 1)[0]
        keep = json.loads(policy["inputs"]["policy"])["rules"][0]["selection"]["countNumber"]
        total_gb += assume["image_base_gb"].get(app, 0.3) + (keep - 1) * assume["image_layer_gb_per_build"]
        kept.append(f"{app} {keep}")
    kept.sort()
    if kept:
        yield Line("ECR images", f"~{total_gb:.2f} GB (images kept: {', '.join(kept)}; sizes assumed)",
                   total_gb * prices["ecr_gb_month"])


def _batch_job(run: Mapping[str, Any], prices: Mapping[str, Any], config: Mapping[str, Any]) -> Line:
    assume = prices["assumptions"]
    family = next(td["inputs"]["family"] for td in _of(run, "aws:ecs/taskDefinition:TaskDefinition")
                  if td["inputs"]["family"].endswith("-worker"))
    size = TaskSize.of(_task_definition(run, family))
    (providers,) = _of(run, "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")
    spot = providers["inputs"]["defaultCapacityProviderStrategies"][0]["capacityProvider"] == "FARGATE_SPOT"
    minutes = assume["batch_job_minutes"] + assume["worker_start_minutes"] + \
        int(config.get("ml-proto:workerIdleSeconds", 60)) / 60
    public = _plain(config.get("ml-proto:assignPublicIp", True)) in (True, "true")
    dollars = minutes / 60 * (size.hourly(prices, spot) + (prices["public_ipv4_hour"] if public else 0))
    return Line("one batch job", f"{size.describe()} {'Spot' if spot else 'on-demand'} worker x {minutes:g} min "
                f"({assume['batch_job_minutes']} min of work assumed)", dollars)


def _gpu_provider(run: Mapping[str, Any]) -> dict[str, Any] | None:
    """The GPU workers' Managed Instances capacity provider (workerCompute gpu), or None."""
    found = [cp for cp in _of(run, "aws:ecs/capacityProvider:CapacityProvider")
             if cp["inputs"].get("managedInstancesProvider")]
    return found[0] if found else None


def _scale_in_seconds(provider: Mapping[str, Any]) -> int:
    optimization = provider["inputs"]["managedInstancesProvider"].get("infrastructureOptimization") or {}
    return int(optimization.get("scaleInAfter", 0))


def _gpu_job(provider: Mapping[str, Any], prices: Mapping[str, Any], config: Mapping[str, Any], spot: bool) -> Line:
    """One job on a fresh GPU instance: start-up + work + the worker's idle wait + the instance's scale-in delay."""
    from components.gpu_worker import GpuNeeds
    from deploy.gpu_instances import NoGpuInstance, cheapest

    assume = prices["assumptions"]
    template = provider["inputs"]["managedInstancesProvider"]["instanceLaunchTemplate"]
    req = template["instanceRequirements"]
    needs = GpuNeeds(vcpu=int(req["vcpuCount"]["min"]), memory_mib=int(req["memoryMib"]["min"]),
                     gpus=int(req["acceleratorCount"]["min"]))
    try:
        instance = cheapest(needs, prices)
    except NoGpuInstance as error:
        raise CostError(str(error)) from None
    start, work = assume["gpu_instance_start_minutes"], assume["batch_job_minutes"]
    idle = int(config.get("ml-proto:workerIdleSeconds", 60)) / 60
    scale_in = _scale_in_seconds(provider) / 60
    minutes = start + work + idle + scale_in
    volume_gib = int((template.get("storageConfiguration") or {}).get("storageSizeGib", 0))
    public = _plain(config.get("ml-proto:assignPublicIp", True)) in (True, "true")
    hourly = (instance.on_demand_hour * (prices["gpu_spot_factor"] if spot else 1)
              + volume_gib * prices["ebs_gp3_gb_month"] / prices["hours_per_month"]
              + (prices["public_ipv4_hour"] if public else 0))
    option = f"Spot (~{prices['gpu_spot_factor']:g} x On-Demand)" if spot else "On-Demand"
    return Line(f"one GPU job, {'Spot' if spot else 'On-Demand'}",
                f"{instance.type} ({instance.gpus} {instance.gpu.upper()}, {instance.vcpu} vCPU/{instance.memory_gib} "
                f"GiB, ${instance.on_demand_hour}/h On-Demand) {option} x {minutes:g} instance-min ({start:g} start-up "
                f"+ {work:g} of work assumed + {idle:g} worker idle + {scale_in:g} before scale-in) + {volume_gib} GiB "
                f"volume; ECS Managed Instances fee not priced", minutes / 60 * hourly)


def _worker_arm64_saving(run: Mapping[str, Any], prices: Mapping[str, Any], config: Mapping[str, Any]) -> float:
    family = next(td["inputs"]["family"] for td in _of(run, "aws:ecs/taskDefinition:TaskDefinition")
                  if td["inputs"]["family"].endswith("-worker"))
    size = TaskSize.of(_task_definition(run, family))
    assume = prices["assumptions"]
    minutes = assume["batch_job_minutes"] + assume["worker_start_minutes"] + \
        int(config.get("ml-proto:workerIdleSeconds", 60)) / 60
    return minutes / 60 * (size.hourly(prices, False) - size.on_arm64().hourly(prices, False))


def _predictions(run: Mapping[str, Any], prices: Mapping[str, Any], count: int = 1000, arm64: bool = False) -> Line:
    (function,) = [f for f in _of(run, "aws:lambda/function:Function") if f["inputs"].get("packageType") == "Image"]
    ms = prices["assumptions"]["prediction_ms"]
    memory = int(function["inputs"]["memorySize"])
    arch = "arm64" if arm64 else (function["inputs"].get("architectures") or ["x86_64"])[0]
    gb_s = count * memory / 1024 * ms / 1000
    rate = prices["lambda_arm64_gb_second"] if arm64 else _lambda_rate(function, prices)
    dollars = gb_s * rate + count * prices["lambda_request"] \
        + count * prices["dynamodb_write_request"]
    return Line(f"{count:,} predictions", f"{memory} MB {arch} Lambda x {ms} ms each (assumed) + requests "
                f"+ one DynamoDB write each", dollars)


# --- output --------------------------------------------------------------------------------------

def render(est: Estimate, prices: Mapping[str, Any]) -> str:
    """The table `make cost` prints."""
    width = max(len(line.item) for line in est.idle)
    rows = [f"Stack {est.stack}: monthly cost when nobody uses it ({prices['region']} list prices of "
            f"{prices['checked']}, deploy/prices.json)"]
    rows += [f"  {line.item:<{width}}  ${line.dollars:>7.2f}  {line.detail}" for line in est.idle]
    rows.append(f"  {'idle total':<{width}}  ${est.idle_total:>7.2f}")
    rows.append("Per use:")
    for line in (est.awake_hour, *(est.gpu_jobs or (est.batch_job,)), est.predictions,
                 *((est.front_door,) if est.front_door else ())):
        rows.append(f"  {line.item:<{width}}  ${line.dollars:>7.4f}  {line.detail}")
    rows.append(f"First visit after a quiet spell: {est.first_visit}")
    if est.options:
        rows.append("Options (a month, settings this stack leaves off):")
        rows += [f"  {line.item:<{width}}  ${line.dollars:>7.2f}  {line.detail}" for line in est.options]
    if est.cheaper:
        rows.append("Cheaper capacity (settings not used by this stack):")
        rows += [f"  {line.item:<{width}}  ${line.dollars:>7.4f}  {line.detail}" for line in est.cheaper]
    return "\n".join(rows)


def stack_estimate(stack: str, overrides: Mapping[str, str] | None = None) -> Estimate:
    return estimate(program_resources(stack, overrides), load_prices())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.cost", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="price the stack as if this config key were set (e.g. --set workerCompute=gpu)")
    options = parser.parse_args(argv)
    overrides = dict(item.partition("=")[::2] for item in options.set)
    try:
        print(render(stack_estimate(options.stack, overrides), load_prices()))
    except CostError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
