"""`make cost` for a GPU stack: one job On-Demand and on Spot, computed by hand, and 0 when no job runs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from deploy import cost
from deploy.mock_program import ROOT
from tests.deploy.test_cost import PRICES, hand_run, resource

pytestmark = pytest.mark.timeout(300)

GPU_PRICES = {**PRICES, "gpu_spot_factor": 0.4, "ebs_gp3_gb_month": 0.08,
              "assumptions": {**PRICES["assumptions"], "gpu_instance_start_minutes": 5},
              "gpu_instances": [
                  {"type": "g4dn.xlarge", "vcpu": 4, "memory_gib": 16, "gpus": 1, "gpu": "t4", "on_demand_hour": 0.5},
                  {"type": "g5.xlarge", "vcpu": 4, "memory_gib": 16, "gpus": 1, "gpu": "a10g", "on_demand_hour": 1.0},
                  {"type": "g4dn.2xlarge", "vcpu": 8, "memory_gib": 32, "gpus": 1, "gpu": "t4",
                   "on_demand_hour": 0.75},
                  {"type": "g4dn.12xlarge", "vcpu": 48, "memory_gib": 192, "gpus": 4, "gpu": "t4",
                   "on_demand_hour": 4.0}]}


def gpu_provider(spot: bool, vcpu: int = 1, memory_mib: int = 3072, gpus: int = 1) -> dict:
    return resource("aws:ecs/capacityProvider:CapacityProvider", {"managedInstancesProvider": {
        "infrastructureOptimization": {"scaleInAfter": 300},
        "instanceLaunchTemplate": {
            "capacityOptionType": "SPOT" if spot else "ON_DEMAND",
            "instanceRequirements": {"vcpuCount": {"min": vcpu}, "memoryMib": {"min": memory_mib},
                                     "acceleratorCount": {"min": gpus, "max": gpus}},
            "storageConfiguration": {"storageSizeGib": 60}}}})


def test_a_gpu_job_is_priced_per_instance_minute_on_demand_and_spot() -> None:
    est = cost.estimate(hand_run(extra=(gpu_provider(spot=False),)), GPU_PRICES)
    minutes = 5 + 5 + 1 + 5  # start-up + work + worker idle (60 s) + scale-in (300 s)
    extras = 60 * 0.08 / 730 + 0.005  # the 60 GiB volume and the instance's public IPv4, per hour
    on_demand, spot = est.gpu_jobs
    assert on_demand.dollars == pytest.approx(minutes / 60 * (0.5 + extras))  # the cheapest fit: g4dn.xlarge
    assert spot.dollars == pytest.approx(minutes / 60 * (0.5 * 0.4 + extras))
    assert est.batch_job == on_demand  # the stack's own option
    assert "g4dn.xlarge" in on_demand.detail and "16 instance-min" in on_demand.detail
    idle = {line.item: line for line in est.idle}
    assert idle["GPU worker instances"].dollars == 0 and "after 300 s" in idle["GPU worker instances"].detail
    assert "batch worker on arm64" not in {line.item for line in est.cheaper}
    assert est.batch_job == cost.estimate(hand_run(extra=(gpu_provider(spot=True),)), GPU_PRICES).gpu_jobs[0]
    assert cost.estimate(hand_run(extra=(gpu_provider(spot=True),)), GPU_PRICES).batch_job.item.endswith("Spot")


def test_the_priced_instance_meets_the_workers_needs() -> None:
    bigger = cost.estimate(hand_run(extra=(gpu_provider(False, vcpu=5, memory_mib=9216),)), GPU_PRICES)
    assert "g4dn.2xlarge" in bigger.batch_job.detail  # 5 vCPUs: no xlarge fits
    four = cost.estimate(hand_run(extra=(gpu_provider(False, gpus=4),)), GPU_PRICES)
    assert "g4dn.12xlarge" in four.batch_job.detail
    with pytest.raises(cost.CostError, match="no G instance .* has 2 GPU"):
        cost.estimate(hand_run(extra=(gpu_provider(False, gpus=2),)), GPU_PRICES)


def test_make_cost_prices_a_gpu_stack_from_cost_args() -> None:
    make = shutil.which("make")
    assert make, "make is needed to run the Makefile"
    venv = Path(sys.prefix)
    done = subprocess.run([make, "--no-print-directory", "-C", str(ROOT), f"VENV={venv}", "-o",
                           f"{venv}/.installed-stamp", "cost", "STACK=dev",
                           "COST_ARGS=--set workerCompute=gpu --set workerGpus=1"],
                          capture_output=True, text=True, timeout=250)
    assert done.returncode == 0, done.stderr
    print(f"\n{done.stdout}")
    assert "one GPU job, On-Demand" in done.stdout and "one GPU job, Spot" in done.stdout
    assert "GPU worker instances" in done.stdout and "g4dn.xlarge" in done.stdout
