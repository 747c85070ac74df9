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
        notes = "".join(f"\n{note}\n" for note in self.notes)
        return f"## {self.title}\n\n{self.intro}\n\n" + table(self.columns, self.rows) + "\n" + notes


def table(columns: list[tuple[str, str]], rows: list[dict[str, Any]]) -> str:
    """A markdown table: one column per (row key, heading), one line per row."""
    head = "| " + " | ".join(heading for _, heading in columns) + " |"
    rule = "|" + "---|" * len(columns)
    body = ["| " + " | ".join(_cell(row.get(key)) for key, _ in columns) + " |" for row in rows]
    return "\n".join([head, rule, *body])


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


def _number(heading: str) -> str:
    """A section's number: "4" for "## 4. 100 concurrent stakeholders"."""
    return heading.removeprefix("## ").split(".", 1)[0]


def kept_sections(text: str, replaced: set[str]) -> dict[str, str]:
    """The sections of an existing BENCHMARKS.md by number, less the numbers in `replaced`."""
    parts = text.split("\n## ")[1:]
    sections = {_number(part): "## " + part.rstrip() + "\n" for part in parts}
    return {number: body for number, body in sections.items() if number not in replaced}


def write(path: Path, command: str, sections: list[Section]) -> None:
    """Write `sections` into `path`, keeping the sections of the file this run did not measure."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    fresh = {_number(section.title): section.markdown() for section in sections}
    kept = kept_sections(path.read_text(), set(fresh)) if path.exists() else {}
    merged = {**kept, **fresh}
    order = sorted(merged, key=lambda number: (not number.isdigit(), int(number) if number.isdigit() else 0, number))
    partial = f" (sections {', '.join(sorted(fresh))}; the others are from earlier runs)" if kept else ""
    header = (
        "# Benchmarks\n\n"
        f"Produced by `{command}` on {now}, commit {commit()}{partial}.\n\n"
        f"Machine: {machine()}.\n\n"
        "Everything runs against the local stack on loopback (moto's server as AWS, the local Lambda\n"
        "endpoint, gunicorn). Compare ratios within one run; absolute times vary between runs and machines.\n\n"
    )
    path.write_text(header + "\n".join(merged[number] for number in order))
