"""Samples belong to the batch algorithm: the worker image ships every file its `SAMPLES` names
(staged as the image's COPY would, then described from there), and the dashboard image carries no
sample files of its own (it offers only what the worker publishes)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.images.context import stage

DESCRIBE = """
import importlib, json
from worker.interface import load_algorithm
algorithm = load_algorithm("worker.algorithm")
module = importlib.import_module("worker.algorithm")
print(json.dumps({"declared": list(getattr(module, "SAMPLES", None) or []),
                  "published": [s["name"] for s in algorithm.description["samples"]]}))
"""


def test_the_worker_image_ships_the_samples_its_algorithm_declares(tmp_path):
    root = stage("worker", tmp_path / "app")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-c", DESCRIBE], env=env, cwd=root, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, f"describing the staged worker failed:\n{done.stderr[-3000:]}"
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert [name.rsplit("/", 1)[-1] for name in found["declared"]] == found["published"]
    for relative in found["declared"]:
        assert (root / "worker" / relative).is_file(), f"the worker image lacks its sample {relative}"


def test_the_dashboard_image_carries_no_sample_files(tmp_path):
    root = stage("dashboard", tmp_path / "app")
    assert not (root / "dashboard" / "samples").exists()
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*.csv")) == []
