"""Every Dockerfile lints clean, has the shape a container engineer expects, and its entry point
names code that exists (no Docker engine here: parse, lint, and import instead of build)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.images.context import APPS, APPS_DIR, Dockerfile, ignore_rules, stage

HADOLINT = Path(sys.executable).parent / "hadolint"
LAMBDA_BASE = "public.ecr.aws/lambda/python"
BUILD_TOOLS = re.compile(r"\b(build-essential|gcc|g\+\+|clang|make|cmake|[\w.+-]+-dev)\b")


def dockerfile(app: str) -> Dockerfile:
    path = APPS_DIR / app / "Dockerfile"
    if not path.is_file():
        pytest.fail(f"apps/{app}/Dockerfile is missing: every app ships as its own image")
    return Dockerfile(path)


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(HADOLINT), "--no-color", str(path)], capture_output=True, text=True, timeout=60,
                          check=False)


@pytest.mark.parametrize("app", APPS)
def test_hadolint_passes(app):
    path = dockerfile(app).path
    result = hadolint(path)
    assert result.returncode == 0, f"hadolint {path}:\n{result.stdout}{result.stderr}"


def test_hadolint_does_flag_a_bad_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get install gcc\nCMD python app.py\n")
    result = hadolint(bad)
    assert result.returncode != 0 and "DL3007" in result.stdout  # so a pass above means something


@pytest.mark.parametrize("app", APPS)
def test_base_image_is_pinned(app):
    image = dockerfile(app).base_image()
    name, _, tag = image.partition("@")[0].rpartition(":")
    assert "@sha256:" in image or (name and re.match(r"\d+\.\d+", tag)), f"{app}: base image {image!r} is not pinned"
    if app == "predictor":
        assert name == LAMBDA_BASE, f"the predictor must build on the Lambda Python base image, not {image}"
    else:
        assert name in ("python", "docker.io/library/python") and "slim" in tag, f"{app}: want python:X.Y.Z-slim"
        assert re.match(r"\d+\.\d+\.\d+", tag), f"{app}: pin the patch release too ({image})"


@pytest.mark.parametrize("app", APPS)
def test_dependencies_install_in_a_layer_before_the_code(app):
    steps = dockerfile(app).final_stage
    installs = [i for i, s in enumerate(steps) if s.keyword == "RUN" and "pip install" in s.args]
    assert len(installs) == 1, f"{app}: expected one pip install step, found {len(installs)}"
    install = steps[installs[0]]
    assert re.search(r"-r\s+\S*requirements\.txt", install.args), f"{app}: pip install -r <requirements.txt>"
    assert "--no-cache-dir" in install.args, f"{app}: pip's cache would stay in the image"
    copies = [(i, s) for i, s in enumerate(steps) if s.keyword == "COPY"]
    before = [s for i, s in copies if i < installs[0]]
    after = [s for i, s in copies if i > installs[0]]
    assert before and all(src.endswith("requirements.txt") for s in before for src in _sources(s)), (
        f"{app}: only requirements.txt may be copied before pip install (a code change must not reinstall)"
    )
    assert after, f"{app}: the code is copied after the dependencies"


def _sources(step) -> list[str]:
    return [w for w in step.words() if not w.startswith("--")][:-1]


@pytest.mark.parametrize("app", APPS)
def test_every_copy_source_is_in_the_build_context(app):
    image = dockerfile(app)
    _, rules = ignore_rules(image.path)
    for source in image.copy_sources():
        relative = source.strip("/").rstrip("/")
        assert (APPS_DIR / relative).exists(), f"{app}: COPY {source} does not exist in apps/"
        assert not rules.ignored(relative), f"{app}: COPY {source} is excluded by the ignore file"


@pytest.mark.parametrize("app", [a for a in APPS if a != "predictor"])
def test_runs_as_a_non_root_user_with_no_build_tools(app):
    steps = dockerfile(app).final_stage
    users = [(i, s.args.split(":")[0]) for i, s in enumerate(steps) if s.keyword == "USER"]
    assert users, f"{app}: no USER instruction, so it runs as root"
    index, user = users[-1]
    assert user not in ("root", "0"), f"{app}: the final USER is root"
    last_copy = max(i for i, s in enumerate(steps) if s.keyword in ("COPY", "ADD"))
    assert index > last_copy or all(s.keyword != "RUN" for s in steps[index:]), f"{app}: USER comes too early"
    for step in steps:
        if step.keyword == "RUN" and "install" in step.args and ("apt-get" in step.args or "apk" in step.args):
            tools = BUILD_TOOLS.findall(step.args)
            assert not tools or "purge" in step.args, f"{app}: build tools {tools} stay in the final image"


def entry_point(app: str) -> list[str]:
    """What the container runs: ENTRYPOINT + CMD (Lambda images: the handler name in CMD)."""
    image = dockerfile(app)
    entry, cmd = image.last("ENTRYPOINT"), image.last("CMD")
    words = (entry.words() if entry else []) + (cmd.words() if cmd else [])
    assert words, f"{app}: no ENTRYPOINT or CMD"
    return words


def targets(app: str, words: list[str]) -> tuple[list[str], list[str]]:
    """(module:attribute names to resolve, packages that must have a __main__) an entry point names."""
    if dockerfile(app).base_image().startswith(LAMBDA_BASE):
        module, _, function = words[-1].rpartition(".")
        return [f"{module}:{function}"], []
    attrs = [w for w in words if re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*", w)]
    attrs += [f"{w.removeprefix('python:')}:__name__" for w in words if w.startswith("python:")]
    mains = [words[i + 1] for i, w in enumerate(words[:-1]) if w == "-m" and words[0].startswith("python")]
    mains = [m for m in mains if m not in ("gunicorn", "pip")]
    if words[0] in ("gunicorn",) or "gunicorn" in words[:3]:
        assert attrs, f"{app}: gunicorn needs a module:app argument in {words}"
    return attrs, mains


RESOLVE = """
import importlib, json, sys
found = {}
for target in sys.argv[1:]:
    module, _, attribute = target.partition(":")
    found[target] = callable(getattr(importlib.import_module(module), attribute)) or attribute == "__name__"
print(json.dumps(found))
"""


@pytest.mark.parametrize("app", APPS)
def test_entry_point_names_code_that_exists(app, tmp_path):
    words = entry_point(app)
    attrs, mains = targets(app, words)
    assert attrs or mains, f"{app}: cannot tell what {words} runs"
    root = stage(app, tmp_path / "app")
    for package in mains:
        assert (root / package.replace(".", "/") / "__main__.py").is_file() or (
            root / f"{package.replace('.', '/')}.py").is_file(), f"{app}: python -m {package} has no module"
    if attrs:
        env = {
            "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1",
            "JOBS_TABLE": "entrypoint-check", "JOBS_BUCKET": "entrypoint-check", "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "MODEL_DIR": str(tmp_path / "model"),
            "DASHBOARD_LOGINS": '{"check": "a-test-password"}', "PREDICTOR_FUNCTION": "check", "MAX_WORKERS": "0",
            "DASHBOARD_SESSION_KEY": "an-entry-point-check-session-key-32-chars",
        }
        done = subprocess.run([sys.executable, "-c", RESOLVE, *attrs], env=env, cwd=root, capture_output=True,
                              text=True, timeout=120, check=False)
        assert done.returncode == 0, f"{app}: importing {attrs} failed:\n{done.stderr[-3000:]}"
        found = json.loads(done.stdout.strip().splitlines()[-1])
        assert all(found.values()), f"{app}: not callable: {found}"
