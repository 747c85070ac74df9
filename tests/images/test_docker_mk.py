"""docker.mk's targets, run through the real Makefile with a stand-in `docker` that records
each call (argv and the environment compose would read) instead of talking to an engine."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys

import pytest

from tests.images.context import APPS, REPO_ROOT

RECORDER = """#!{python}
import json, os, sys
with open({log!r}, "a") as log:
    log.write(json.dumps({{"argv": sys.argv[1:], "tag": os.environ.get("IMAGE_TAG"),
                          "logins": os.environ.get("DASHBOARD_LOGINS")}}) + "\\n")
"""


@pytest.fixture
def make(tmp_path):
    """Run `make <target>` with DOCKER pointing at the recorder; returns (stdout, calls)."""
    log = tmp_path / "docker-calls.jsonl"
    docker = tmp_path / "docker"
    docker.write_text(RECORDER.format(python=sys.executable, log=str(log)))
    docker.chmod(0o755)

    def run(*args: str) -> tuple[str, list[dict]]:
        done = subprocess.run(["make", "--no-print-directory", "-C", str(REPO_ROOT), f"DOCKER={docker}", *args],
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        log.unlink(missing_ok=True)
        return done.stdout, calls

    return run


def build_call(app: str, tag: str = "dev") -> list[str]:
    return ["build", "-f", f"apps/{app}/Dockerfile", "-t", f"ml-proto-{app}:{tag}", "apps"]


def test_docker_build_builds_each_app_from_the_apps_context(make):
    _, calls = make("docker-build")
    assert [call["argv"] for call in calls] == [build_call(app) for app in APPS]


@pytest.mark.parametrize("app", APPS)
def test_one_app_builds_alone_with_a_chosen_platform_and_tag(make, app):
    _, calls = make(f"docker-build-{app}", "DOCKER_PLATFORM=linux/amd64", "IMAGE_TAG=v7")
    expected = build_call(app, "v7")
    assert [call["argv"] for call in calls] == [expected[:1] + ["--platform", "linux/amd64"] + expected[1:]]


def test_run_predictor_serves_the_emulator_on_9000_and_prints_the_curl(make):
    out, calls = make("docker-run-predictor")
    curl = ("curl -XPOST localhost:9000/2015-03-31/functions/function/invocations -d "
            """'{"action":"describe"}'""")
    assert curl in out
    assert shlex.split(curl)[-1] == '{"action":"describe"}'  # what the shell hands curl
    assert [call["argv"] for call in calls] == [build_call("predictor"),
                                               ["run", "--rm", "-p", "9000:8080", "ml-proto-predictor:dev"]]


@pytest.mark.parametrize(("target", "compose_args"), [
    ("docker-run-dashboard", ["compose", "up", "dashboard"]),
    ("docker-run-worker", ["compose", "up", "worker"]),
    ("docker-up", ["compose", "up"]),
])
def test_compose_targets_pass_tag_and_logins_without_echoing_the_password(make, target, compose_args):
    logins = '{"demo": "s3cret-it\'s"}'
    out, calls = make(target, f"DASHBOARD_LOGINS={logins}", "IMAGE_TAG=v3")
    assert calls[-1] == {"argv": compose_args, "tag": "v3", "logins": logins}
    assert all(call["argv"][0] == "build" for call in calls[:-1]) and calls[:-1]
    assert "s3cret" not in out
