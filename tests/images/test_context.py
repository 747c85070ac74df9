"""The build context (apps/) sends each image its code and nothing else: no tests, virtualenvs,
caches, local data or models. Checked with Docker's own matching rules for every Dockerfile's
ignore file (BuildKit prefers `<Dockerfile>.dockerignore` over apps/.dockerignore)."""

from __future__ import annotations

import pytest

from tests.images.context import APPS, APPS_DIR, DockerIgnore, ignore_rules

JUNK = [
    "{app}/tests/test_handler.py",
    "{app}/test_settings.py",
    "{app}/conftest.py",
    "{app}/__pycache__/settings.cpython-312.pyc",
    "jobkit/__pycache__/store.cpython-312.pyc",
    "{app}/.pytest_cache/v/cache/nodeids",
    "{app}/.venv/bin/python",
    ".venv/lib/python3.12/site-packages/numpy/__init__.py",
    "{app}/venv/pyvenv.cfg",
    "{app}/.ruff_cache/content",
    "{app}/.hypothesis/examples/x",
    "{app}/data/customers-2026.csv",
    "{app}/model.pkl",
    "predictor/artifacts/iris-logreg-abc123.pkl",
    "{app}/.ipynb_checkpoints/notes-checkpoint.ipynb",
    "{app}/.env",
    "notebooks/exploration.ipynb",
    ".git/HEAD",
]


def needed_files(app: str) -> list[str]:
    """Every file of the shared contract and the app that the image runs or serves."""
    files = []
    for folder in ("jobkit", app):
        for path in (APPS_DIR / folder).rglob("*"):
            relative = path.relative_to(APPS_DIR).as_posix()
            if path.is_file() and "__pycache__" not in relative and not relative.endswith((".pyc", ".pkl")):
                files.append(relative)
    return files


@pytest.mark.parametrize("app", APPS)
def test_ignore_file_keeps_out_tests_venvs_caches_and_data(app):
    source, rules = ignore_rules(APPS_DIR / app / "Dockerfile")
    assert source is not None, f"no ignore file applies to {app}'s build"
    kept = [junk.format(app=app) for junk in JUNK if not rules.ignored(junk.format(app=app))]
    assert kept == [], f"{source.relative_to(APPS_DIR.parent)} lets these into {app}'s build context: {kept}"


@pytest.mark.parametrize("app", APPS)
def test_ignore_file_keeps_every_file_the_app_needs(app):
    source, rules = ignore_rules(APPS_DIR / app / "Dockerfile")
    needed = needed_files(app)
    assert any(f.endswith("requirements.txt") for f in needed)
    dropped = [f for f in needed if rules.ignored(f)]
    assert dropped == [], f"{source} drops files {app} needs: {dropped}"


def test_the_predictors_pretrained_folder_ships_whatever_its_files_are_named():
    _, rules = ignore_rules(APPS_DIR / "predictor" / "Dockerfile")
    for shipped in ("predictor/pretrained/model.pkl", "predictor/pretrained/data/vocab.parquet",
                    "predictor/pretrained/weights.json"):
        assert not rules.ignored(shipped), shipped
    assert rules.ignored("predictor/pretrained/__pycache__/x.cpython-312.pyc")
    assert rules.ignored("predictor/data/customers-2026.csv")  # data elsewhere still stays out


@pytest.mark.parametrize(
    ("rules", "path", "ignored"),
    [
        ("*\n!jobkit", "jobkit/store.py", False),  # a re-included folder brings its contents
        ("*\n!jobkit", "worker/runner.py", True),
        ("**/__pycache__", "a/b/__pycache__/x.pyc", True),  # ** spans any depth, including none
        ("**/__pycache__", "__pycache__/x.pyc", True),
        ("*.pyc", "a/x.pyc", False),  # without ** a glob matches at the top level only
        ("/tests", "tests/x.py", True),  # a leading slash means the context root
        ("data?", "data1/x", True),
        ("**/*.pkl\n!keep.pkl", "keep.pkl", False),  # the last matching rule wins
        ("**/*.pkl\n!keep.pkl", "sub/keep.pkl", True),
        ("# comment\n\n", "anything", False),
    ],
)
def test_matching_follows_docker_rules(rules, path, ignored):
    assert DockerIgnore(rules).ignored(path) is ignored
