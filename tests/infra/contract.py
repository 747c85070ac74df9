"""The environment variables docs/contracts.md says each app reads, parsed from its table."""

from __future__ import annotations

import re

from tests.infra.harness import ROOT

APPS = ("dashboard", "predictor", "worker")


def contract_variables() -> dict[str, set[str]]:
    """app -> variables it reads in the cloud (rows marked `local` are the laptop's business)."""
    text = (ROOT / "docs" / "contracts.md").read_text()
    section = text.split("## Environment variables", 1)[1].split("\n## ", 1)[0]
    needed: dict[str, set[str]] = {app: set() for app in APPS}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        names = re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[0])
        readers = cells[1].lower()
        if "local" in readers:
            continue
        apps = APPS if "all three" in readers else tuple(app for app in APPS if app in readers)
        for app in apps:
            needed[app].update(names)
    return needed
