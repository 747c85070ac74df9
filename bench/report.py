"""BENCHMARKS.md: a header naming the machine, date and command, then one table per section."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


@dataclass
class Section:
    """One benchmark's results: a title, what it shows, and rows rendered as a table."""

    title: str
    intro: str
    columns: list[tuple[str, str]]  # (row key, column heading)
    rows: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        head = "| " + " | ".join(heading for _, heading in self.columns) + " |"
        rule = "|" + "---|" * len(self.columns)
        body = ["| " + " | ".join(_cell(row.get(key)) for key, _ in self.columns) + " |" for row in self.rows]
        notes = "".join(f"\n{note}\n" for note in self.notes)
        return f"## {self.title}\n\n{self.intro}\n\n" + "\n".join([head, rule, *body]) + "\n" + notes


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    system = f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    return f"{os.cpu_count()} cores ({cpu}){memory}, {system}"


def commit() -> str:
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
        return done.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def write(path: Path, command: str, sections: list[Section]) -> None:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = (
        "# Benchmarks\n\n"
        f"Produced by `{command}` on {now}, commit {commit()}.\n\n"
        f"Machine: {machine()}.\n\n"
        "Everything runs against the local stack on loopback (moto's server as AWS, the local Lambda\n"
        "endpoint, gunicorn). Compare ratios within one run; absolute times vary between runs and machines.\n\n"
    )
    path.write_text(header + "\n".join(section.markdown() for section in sections))
