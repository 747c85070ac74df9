"""Reading the dashboard's `Server-Timing` headers (dashboard/server_timing.py) in the load test:
per request type, how much of the time the dashboard measured was spent waiting on the local AWS.

The locust process collects one sample per answer (`collect`), writes them out when it quits
(`dump`); bench/load.py folds their medians and 95th percentiles into its rows (`summarize`).
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

AWS_SERVICES = ("dynamodb", "s3", "lambda")


def parse(header: str) -> dict[str, float]:
    """`dynamodb;dur=3.2, total;dur=9.0` as {"dynamodb": 3.2, "total": 9.0} (ms); junk is skipped."""
    timings: dict[str, float] = {}
    for part in header.split(","):
        name, _, rest = part.strip().partition(";")
        for param in rest.split(";"):
            key, _, value = param.strip().partition("=")
            if name and key == "dur":
                try:
                    timings[name] = float(value)
                except ValueError:
                    continue
    return timings


class Collector:
    """Server-Timing samples per request name, from one locust process."""

    def __init__(self) -> None:
        self.samples: dict[str, list[dict[str, float]]] = defaultdict(list)

    def collect(self, name: str, headers: Mapping[str, str] | None) -> None:
        header = (headers or {}).get("Server-Timing")
        if header:
            self.samples[name].append(parse(header))

    def dump(self, path: Path) -> None:
        path.write_text(json.dumps(self.samples))


def _percentile(values: list[float], fraction: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


def summarize(samples: Mapping[str, Iterable[Mapping[str, float]]]) -> dict[str, dict[str, float]]:
    """Per request name (and "Aggregated" over all): p50/p95 of the time in the app (`app_p50`),
    of the part waiting on AWS (`aws_p50`), and AWS's share of all the time in the app."""
    summary: dict[str, dict[str, float]] = {}
    every = [entry for entries in samples.values() for entry in entries]
    for name, entries in [*samples.items(), ("Aggregated", every)]:
        entries = list(entries)
        if not entries:
            continue
        app = [entry.get("total", 0.0) for entry in entries]
        aws = [sum(entry.get(service, 0.0) for service in AWS_SERVICES) for entry in entries]
        summary[name] = {"app_p50": _percentile(app, 0.5), "app_p95": _percentile(app, 0.95),
                         "aws_p50": _percentile(aws, 0.5), "aws_p95": _percentile(aws, 0.95),
                         "aws_share": sum(aws) / sum(app) if sum(app) else 0.0}
    return summary


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}
