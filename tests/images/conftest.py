"""Fixtures for the image tests: each app's own virtualenv and its staged build context."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.image_sizes import app_venv
from tests.images.context import APPS_DIR, Dockerfile, stage


@dataclass(frozen=True)
class AppImage:
    """One app as its image would hold it: a venv with only its requirements, and its code."""

    app: str
    venv: Path
    root: Path  # the staged jobkit/ and <app>/: the image's code folder

    @property
    def python(self) -> str:
        return str(self.venv / "bin" / "python")

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """A clean environment: nothing from the dev venv, only the image's code on the path."""
        return {
            "PATH": f"{self.venv / 'bin'}:/usr/bin:/bin",
            "HOME": str(self.root.parent),
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(self.root),
            "PYTHONNOUSERSITE": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            **(extra or {}),
        }

    def run(self, args: list[str], extra_env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.python, *args], cwd=self.root, env=self.env(extra_env),
            capture_output=True, text=True, timeout=timeout, check=False,
        )

    def run_json(self, code: str, extra_env: dict[str, str] | None = None, timeout: float = 120) -> dict:
        """Run a snippet that prints one JSON object as its last stdout line; fail with its output."""
        done = self.run(["-c", code], extra_env, timeout)
        assert done.returncode == 0, f"{self.app} smoke failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
        return json.loads(done.stdout.strip().splitlines()[-1])


def build_steps(app: str) -> list[list[str]]:
    """The final stage's `RUN python ...` steps (e.g. training the model), to replay after staging."""
    steps: list[list[str]] = []
    if not (APPS_DIR / app / "Dockerfile").is_file():
        return steps  # test_dockerfiles says so; the dependency set can still be proven
    for step in Dockerfile(APPS_DIR / app / "Dockerfile").final_stage:
        if step.keyword == "RUN":
            words = step.words()
            if words and words[0] in ("python", "python3") and "&&" not in words:
                steps.append(words[1:])
    return steps


@pytest.fixture(scope="session")
def app_image(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Factory: `app_image("worker")` -> AppImage (venv cached across runs in .cache/venvs)."""
    made: dict[str, AppImage] = {}

    def make(app: str) -> AppImage:
        if app not in made:
            venv = app_venv(APPS_DIR, app)
            root = stage(app, tmp_path_factory.mktemp(f"{app}-image") / "app")
            image = AppImage(app, venv, root)
            for args in build_steps(app):
                done = image.run(args, timeout=300)
                assert done.returncode == 0, f"build step {args} failed:\n{done.stdout}\n{done.stderr}"
            made[app] = image
        return made[app]

    return make
