"""Each app image's dependency set, measured without a Docker engine.

An image installs only its own `apps/<app>/requirements.txt`. `app_venv()` builds a fresh
virtualenv from exactly that file, with the Python minor version the Dockerfile's base image
names when this machine has it (cached under `.cache/venvs/`, keyed by that version and the
requirement lines, so repeated runs are instant); the isolation tests run each app in it and
`measure(apps_dir)` reports its installed size: site-packages minus pip and setuptools, which
`python -m venv` brings and no image is charged for.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import re
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

APPS = ("dashboard", "predictor", "worker")

# What `python -m venv` installs by itself; not part of any app's dependency set.
TOOLING = frozenset({"pip", "setuptools", "wheel"})

READY_MARKER = ".ml-proto-ready"
MB = 1024 * 1024
# A cached venv no run has used for this long belongs to an old requirement set: delete it.
STALE_SECONDS = 14 * 24 * 3600


class VenvBuildError(RuntimeError):
    """pip could not install an app's requirements; the message carries pip's output."""


def requirement_lines(requirements: Path) -> list[str]:
    """The requirements of a requirements file or a hashed lock (`make lock`), one `name==version`
    line each, without comments, blanks, continuations and `--hash` options, sorted."""
    lines = []
    for raw in re.sub(r"\\\n", " ", requirements.read_text()).splitlines():
        line = re.sub(r"\s--hash=\S+", "", " " + raw.split("#", 1)[0]).strip()
        if line:
            lines.append(line)
    return sorted(lines)


def venv_key(requirements: Path, python_version: str) -> str:
    """Cache key: Python version plus the requirement set (two apps with one set share a venv)."""
    digest = hashlib.sha256("\n".join(requirement_lines(requirements)).encode()).hexdigest()[:16]
    return f"py{python_version}-{digest}"


def image_python_version(dockerfile: Path) -> str | None:
    """The Python minor version of a Dockerfile's last base image (`python:3.12.11-slim`,
    `public.ecr.aws/lambda/python:3.12`), or None when it names none."""
    if not dockerfile.is_file():
        return None
    text = dockerfile.read_text()
    defaults = dict(re.findall(r"^\s*ARG\s+(\w+)=(\S+)", text, re.MULTILINE | re.IGNORECASE))  # FROM ${BASE_IMAGE}
    bases = [re.sub(r"\$\{?(\w+)\}?", lambda m: defaults.get(m.group(1), m.group(0)), base)
             for base in re.findall(r"^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)", text, re.MULTILINE | re.IGNORECASE)]
    found = re.search(r"python:(\d+\.\d+)", bases[-1]) if bases else None
    return found.group(1) if found else None


@functools.cache
def find_python(version: str | None) -> tuple[str, str]:
    """(interpreter, its X.Y version): one of `version` if this machine has it, else this one."""
    if version:
        candidates = [
            *sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python{version}"), reverse=True),
            *(found for found in [shutil.which(f"python{version}")] if found),
        ]
        for candidate in candidates:
            done = subprocess.run(
                [str(candidate), "-c", "import sys, venv; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True, text=True, check=False,
            )
            if done.returncode == 0 and done.stdout.strip() == version:
                return str(candidate), version
    return sys.executable, f"{sys.version_info.major}.{sys.version_info.minor}"


def default_cache_dir(apps_dir: Path) -> Path:
    return Path(apps_dir).resolve().parent / ".cache" / "venvs"


def app_venv(apps_dir: Path, app: str, cache_dir: Path | None = None) -> Path:
    """A virtualenv holding only `apps/<app>/requirements.txt`; built once, then reused.

    A lock file serialises concurrent builders; the ready marker is written last, so a build
    that was interrupted is thrown away and redone rather than trusted.
    """
    requirements = Path(apps_dir) / app / "requirements.txt"
    if not requirements.is_file():
        raise FileNotFoundError(f"{app} has no requirements.txt at {requirements}")
    python, version = find_python(image_python_version(Path(apps_dir) / app / "Dockerfile"))
    cache_dir = Path(cache_dir or default_cache_dir(apps_dir))
    cache_dir.mkdir(parents=True, exist_ok=True)
    venv = cache_dir / venv_key(requirements, version)
    with open(cache_dir / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (venv / READY_MARKER).is_file():
            (venv / READY_MARKER).touch()  # last used: keeps it from being pruned
            return venv
        shutil.rmtree(venv, ignore_errors=True)
        _run([python, "-m", "venv", str(venv)], f"create the venv for {app}")
        _run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "-r", str(requirements)],
            f"install {requirements}",
        )
        (venv / READY_MARKER).write_text("\n".join(requirement_lines(requirements)) + "\n")
    _prune(cache_dir, keep=venv)
    return venv


def _prune(cache_dir: Path, keep: Path) -> None:
    """Delete cached venvs unused for STALE_SECONDS (each is a few hundred MB)."""
    now = time.time()
    for marker in cache_dir.glob(f"*/{READY_MARKER}"):
        venv = marker.parent
        if venv != keep and now - marker.stat().st_mtime > STALE_SECONDS:
            shutil.rmtree(venv, ignore_errors=True)
            (cache_dir / f"{venv.name}.lock").unlink(missing_ok=True)


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise VenvBuildError(f"Could not {what} (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")


def venv_python_version(venv: Path) -> str:
    """X.Y of the interpreter a venv was made with (from its site-packages folder name)."""
    return site_packages(venv).parent.name.removeprefix("python")


def site_packages(venv: Path) -> Path:
    found = sorted(Path(venv).glob("lib/python*/site-packages"))
    if not found:
        raise FileNotFoundError(f"No site-packages under {venv}")
    return found[0]


def _distributions(venv: Path) -> list[metadata.Distribution]:
    return list(metadata.distributions(path=[str(site_packages(venv))]))


def _name(dist: metadata.Distribution) -> str:
    return dist.metadata["Name"].lower().replace("_", "-")


def installed_packages(venv: Path) -> dict[str, str]:
    """{normalised name: version} of every distribution in the venv except pip and setuptools."""
    return {_name(d): d.version for d in _distributions(venv) if _name(d) not in TOOLING}


def _size(path: Path) -> int:
    if path.is_symlink() or path.is_file():
        return path.lstat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() or p.is_symlink())


def _top_level(dist: metadata.Distribution) -> set[str]:
    """First path components of every file a distribution installed (its RECORD)."""
    names = {Path(str(f)).parts[0] for f in dist.files or () if not str(f).startswith("..")}
    return {name for name in names if name != "__pycache__"}


def installed_bytes(venv: Path) -> int:
    """Bytes in site-packages, leaving out everything pip and setuptools installed."""
    root = site_packages(venv)
    tooling: set[str] = set()
    for dist in _distributions(venv):
        if _name(dist) in TOOLING:
            tooling |= _top_level(dist)
    return sum(_size(entry) for entry in root.iterdir() if entry.name not in tooling)


def package_bytes(venv: Path) -> dict[str, int]:
    """Installed bytes per distribution (the files its RECORD lists), pip and setuptools left out."""
    root = site_packages(venv)
    sizes = {}
    for dist in _distributions(venv):
        if _name(dist) in TOOLING:
            continue
        files = (root / str(f) for f in dist.files or ())
        sizes[_name(dist)] = sum(f.lstat().st_size for f in files if f.is_file())
    return sizes


def measure(apps_dir: Path, cache_dir: Path | None = None) -> list[dict[str, Any]]:
    """One row per app: `app`, `python`, installed `mb`, `packages` (count), `largest` (top three),
    `names` (every name==version)."""
    rows = []
    for app in APPS:
        venv = app_venv(apps_dir, app, cache_dir)
        packages = installed_packages(venv)
        largest = sorted(package_bytes(venv).items(), key=lambda item: -item[1])[:3]
        rows.append(
            {
                "app": app,
                "python": venv_python_version(venv),
                "mb": round(installed_bytes(venv) / MB, 1),
                "packages": len(packages),
                "largest": ", ".join(f"{name} {size / MB:.0f} MB" for name, size in largest),
                "names": sorted(f"{name}=={version}" for name, version in packages.items()),
            }
        )
    return rows


def section(_aws: Any = None, _quick: bool = False) -> Any:
    """The BENCHMARKS.md section (same signature as the runner's other sections)."""
    from bench.report import Section

    apps_dir = Path(__file__).resolve().parent.parent / "apps"
    return Section(
        title="5. Image dependency sizes",
        intro=(
            "Installed size of each app image's dependency set: a fresh virtualenv built from only\n"
            "`apps/<app>/requirements.txt` (what its Dockerfile installs), site-packages without pip and\n"
            "setuptools. The base image and the app's own code come on top."
        ),
        columns=[("app", "app"), ("python", "python"), ("mb", "installed MB"), ("packages", "packages"),
                 ("largest", "largest")],
        rows=measure(apps_dir),
        notes=[
            "Budget: the predictor's set under 350 MB (Lambda's image limit is 10 GB, but every MB\n"
            "is cold-start pull time). The Lambda base image already carries boto3."
        ],
    )
