"""Benchmark 7: from a fresh clone to a dashboard that answers, the way a newcomer meets it.

Clones the repository, runs `make dev` in the clone (which builds the virtualenv, then starts
the stack) and times the install and the start until `/health` answers 200. `PIP_NO_CACHE_DIR`
makes pip download every package, as on a new machine. Then it presses Ctrl-C (SIGINT to the
process group, as a terminal does) and checks that every process of that stack is gone.
In quick mode it runs `make dev` in this checkout, whose virtualenv is already built.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import dash_calls
from bench.support import free_port, processes_mentioning

ROOT = Path(__file__).resolve().parent.parent
STARTING = "Starting the local stack"  # devstack prints this once the install is done
_LOGIN = re.compile(r"Login\s+user: (\S+)\s+password: (\S+)")


@dataclass
class FirstRun:
    """What one `make dev` from a fresh clone took, said and left behind."""

    install_s: float = 0.0
    start_s: float = 0.0
    total_s: float = 0.0
    url: str = ""
    login_works: bool = False
    stopped_s: float = 0.0
    orphans: int = -1
    output: list[str] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        return {key: value for key, value in vars(self).items() if key != "output"}


def _health(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:  # noqa: S310 - loopback
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def _login_works(url: str, user: str, password: str) -> bool:
    """The printed login signs in: the dashboard redirects away from the login page."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPCookieProcessor())
    with opener.open(f"{url}/login", timeout=10) as page:  # noqa: S310 - loopback
        form = dash_calls.login_form(page.read().decode(), user, password)
    body = urllib.parse.urlencode(form).encode()
    try:
        opener.open(f"{url}/login", data=body, timeout=10)  # noqa: S310 - loopback
    except urllib.error.HTTPError as answer:
        return answer.code == 302 and "/login" not in answer.headers.get("Location", "")
    return False


def run(workdir: Path, *, fresh: bool, timeout: float = 900.0) -> FirstRun:
    """Time `make dev` to a healthy dashboard, then Ctrl-C it; `fresh` clones and installs anew."""
    workdir.mkdir(parents=True, exist_ok=True)
    state = workdir / "devstack-state"
    env = {name: value for name, value in os.environ.items() if name not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.update({"DASHBOARD_PORT": str(free_port()), "AWS_PORT": str(free_port()),
                "LAMBDA_PORT": str(free_port()), "DEVSTACK_DIR": str(state)})
    result = FirstRun(url=f"http://127.0.0.1:{env['DASHBOARD_PORT']}")
    started = time.monotonic()
    repo = ROOT
    if fresh:
        repo = workdir / "ml-proto"
        subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(repo)], check=True)
        env["PIP_NO_CACHE_DIR"] = "1"
    make = subprocess.Popen(["make", "dev"], cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    installed_at: list[float] = []
    login: list[tuple[str, str]] = []  # (user, password) once make dev printed them

    def read() -> None:
        assert make.stdout is not None
        for line in make.stdout:
            result.output.append(line.rstrip())
            if STARTING in line and not installed_at:
                installed_at.append(time.monotonic())
            if match := _LOGIN.search(line):
                login.append((match.group(1), match.group(2)))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = started + timeout
    try:
        while time.monotonic() < deadline and make.poll() is None:
            if login and _health(result.url):
                break
            time.sleep(0.2)
        healthy = time.monotonic()
        if make.poll() is not None or not login:
            raise RuntimeError("make dev did not bring the dashboard up:\n" + "\n".join(result.output[-30:]))
        result.total_s = healthy - started
        installed = installed_at[0] if installed_at else started
        result.install_s = installed - started
        result.start_s = healthy - installed
        result.login_works = _login_works(result.url, *login[0])
    finally:
        stopping = time.monotonic()
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the whole foreground group
        try:
            make.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait()
        result.stopped_s = time.monotonic() - stopping
        reader.join(timeout=5)
    for _ in range(50):  # children are reaped by their parents a moment after the parents exit
        left = processes_mentioning(str(state))
        if not left:
            break
        time.sleep(0.1)
    result.orphans = len(left)
    for pid in left:  # never leave a stray server behind a benchmark, whatever it found
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return result
