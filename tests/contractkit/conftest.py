"""Running the contract kit in tests: the whole kit (`kit`) or one probe group (`probe`)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from contractkit.__main__ import check
from contractkit.report import Finding
from contractkit.workspace import make_workspace, run_probe
from tests.fixtures.apps import CLASSIFIER, EVERY_PARAM, FIXTURES

BROKEN = FIXTURES / "broken"


def kit(model: Path | None = None, algorithm: Path | None = None) -> tuple[int, list[str]]:
    """The kit's exit code and printed lines for this pair (None: what apps/ holds)."""
    out = io.StringIO()
    code = check(model, algorithm, out=out)
    return code, out.getvalue().splitlines()


def probe(group: str, model: Path = CLASSIFIER, algorithm: Path = EVERY_PARAM, **kwargs) -> list[Finding]:
    """One probe group's findings on a copy of apps/ with this pair."""
    workspace = make_workspace(model, algorithm)
    try:
        if group in ("serve", "predict"):
            assert all(f.ok for f in run_probe(workspace, "train"))
        return run_probe(workspace, group, **kwargs)
    finally:
        shutil.rmtree(workspace.root, ignore_errors=True)


def failures(findings: list[Finding]) -> list[str]:
    return [f.line() for f in findings if not f.ok]
