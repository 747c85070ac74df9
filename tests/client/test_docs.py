"""docs/client.md's Python blocks run, in order and in one namespace, against the local twin."""

from __future__ import annotations

import re
from pathlib import Path

from devstack.settings import REPO_ROOT
from tests.fixtures.algorithms import every_param
from tests.fixtures.tables import table_for

DOC = REPO_ROOT / "docs" / "client.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_the_walk_through_runs_against_the_local_twin(twin, tmp_path, monkeypatch, capsys):
    blocks = python_blocks(DOC.read_text())
    assert len(blocks) >= 5
    work = tmp_path / "notebook"
    # The walk-through submits the shipped example's sample; the twin runs the fixture algorithm, so
    # that path holds a table meeting the fixture's INPUT (whatever example apps/ ships).
    sample = work / "apps" / "worker" / "samples" / "customer-segments.csv"
    sample.parent.mkdir(parents=True)
    sample.write_bytes(table_for(every_param, rows=12))
    monkeypatch.chdir(work)
    monkeypatch.setenv("DEVSTACK_DIR", str(twin.settings.state_dir))
    namespace: dict = {}
    for number, block in enumerate(blocks, start=1):
        exec(compile(block, f"docs/client.md block {number}", "exec"), namespace)  # noqa: S102 - our own docs
    printed = capsys.readouterr().out
    assert "Fixture classifier fixture-classifier-1" in printed
    assert "refused: empty.csv needs a header row and at least one row of data." in printed
    assert "SUCCEEDED 100%" in printed
    result = namespace["result"]
    assert Path(result.result_path).is_file() and result.summary["metrics"]
    assert namespace["job"].note == "from the notebook"
    assert not (work / "empty.csv").exists()
