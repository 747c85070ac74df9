"""The load benchmark's regression check: the commit that wrote the previous BENCHMARKS.md runs
again, in the same run, on the same machine, under the same load, and the figures compare as
ratios (this commit's / that one's), never as absolute times, which vary between runs and machines.

The reference commit is the one the load section of the previous BENCHMARKS.md names (else its
header's); its `apps/` is exported with `git archive` and served by this checkout's local stack.
"""

from __future__ import annotations

import re
import subprocess
import tarfile
from pathlib import Path
from typing import Any

# A figure this much slower than the reference's, in the same run, is flagged.
LIMIT = 1.25
CHECKED = (("Aggregated", "p95"), ("log in", "p95"))

_SECTION_COMMIT = re.compile(r"^Measured at commit `?([0-9a-f]{7,40})`?", re.MULTILINE)
_HEADER_COMMIT = re.compile(r"commit `?([0-9a-f]{7,40})`?")


def previous_commit(benchmarks: Path, section_heading: str = "## 4.") -> str | None:
    """The commit the previous BENCHMARKS.md's load section was measured at (None without one)."""
    if not benchmarks.exists():
        return None
    text = benchmarks.read_text()
    start = text.find(section_heading)
    if start >= 0:
        end = text.find("\n## ", start + 1)
        found = _SECTION_COMMIT.search(text[start:end if end > 0 else None])
        if found:
            return found.group(1)
    found = _HEADER_COMMIT.search(text[:1000])
    return found.group(1) if found else None


def short_commit(name: str, repo: Path) -> str:
    """A commit's short hash (for a branch or tag name too); CalledProcessError for no such commit."""
    done = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", f"{name}^{{commit}}"],
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def export_apps(commit: str, dest: Path, repo: Path) -> Path:
    """`commit`'s apps/ under `dest` (git archive); raises CalledProcessError for an unknown commit."""
    archive = dest / "apps.tar"
    with open(archive, "wb") as handle:
        subprocess.run(["git", "-C", str(repo), "archive", "--format=tar", commit, "apps"],
                       stdout=handle, stderr=subprocess.PIPE, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
    return dest / "apps"


def compare(ours: list[dict[str, Any]], reference: list[dict[str, Any]], limit: float = LIMIT) -> list[dict[str, Any]]:
    """Per checked figure: this commit's, the reference's, their ratio, and whether it regressed."""
    def figure(rows: list[dict[str, Any]], name: str, key: str) -> float | None:
        row = next((row for row in rows if row.get("name") == name), None)
        return row.get(key) if row else None

    checks = []
    for name, key in CHECKED:
        mine, theirs = figure(ours, name, key), figure(reference, name, key)
        ratio = mine / theirs if mine is not None and theirs else None
        checks.append({"figure": f"{name} {key}", "ours": mine, "reference": theirs, "ratio": ratio,
                       "regressed": ratio is not None and ratio > limit})
    errors = sum(row.get("errors", 0) for row in ours if row.get("name") == "Aggregated")
    checks.append({"figure": "errors", "ours": errors, "reference": None, "ratio": None, "regressed": errors > 0})
    return checks


def verdict(checks: list[dict[str, Any]], users: int, limit: float = LIMIT) -> str:
    """One line for the report: what regressed against the reference at `users` users, or that nothing did."""
    bad = [check for check in checks if check["regressed"]]
    if not bad:
        return f"{users} users: no regression (every checked ratio at most {limit:.2f}, 0 errors)."
    described = ", ".join(f"{c['figure']} x{c['ratio']:.2f}" if c["ratio"] else f"{c['figure']} {c['ours']}"
                          for c in bad)
    return f"**REGRESSION** at {users} users: {described} (limit x{limit:.2f})."
