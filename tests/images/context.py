"""What `docker build -f apps/<app>/Dockerfile apps` would see, computed without Docker.

`Dockerfile` parses instructions (continuations joined, comments dropped, JSON or shell form);
`DockerIgnore` (devstack.dockerignore, which the local Lambda's image copy uses too) applies
.dockerignore rules the way Docker does; `stage()` copies the folders an image
takes from the context into a temp folder, filtered by those rules, as COPY would.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from devstack.dockerignore import DockerIgnore

REPO_ROOT = Path(__file__).resolve().parents[2]
APPS_DIR = REPO_ROOT / "apps"
APPS = ("dashboard", "predictor", "worker")


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str

    def words(self) -> list[str]:
        """Exec-form JSON arrays as their items, shell form split like a shell would."""
        text = self.args.strip()
        if text.startswith("["):
            try:
                return [str(word) for word in json.loads(text)]
            except ValueError:
                pass
        return shlex.split(text)


class Dockerfile:
    """The instructions of one Dockerfile, and the final stage's (what the image ships)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        text = re.sub(r"\\\n", " ", path.read_text())
        self.instructions = []
        for line in text.splitlines():
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            keyword, _, args = stripped.partition(" ")
            self.instructions.append(Instruction(keyword.upper(), args.strip()))

    @property
    def final_stage(self) -> list[Instruction]:
        starts = [i for i, step in enumerate(self.instructions) if step.keyword == "FROM"]
        return self.instructions[starts[-1]:] if starts else self.instructions

    def base_image(self) -> str:
        """The final stage's base as a default build would use it (`ARG` defaults before the
        first FROM filled in)."""
        words = [w for w in self.final_stage[0].words() if not w.startswith("--")]
        return re.sub(r"\$\{?(\w+)\}?", lambda m: self.build_args().get(m.group(1), m.group(0)), words[0])

    def build_args(self) -> dict[str, str]:
        """The `ARG NAME=default` values declared before the first FROM (what FROM may use)."""
        found: dict[str, str] = {}
        for step in self.instructions:
            if step.keyword == "FROM":
                break
            if step.keyword == "ARG" and "=" in step.args:
                name, _, value = step.args.partition("=")
                found[name.strip()] = value.strip().strip('"')
        return found

    def last(self, keyword: str) -> Instruction | None:
        found = [step for step in self.final_stage if step.keyword == keyword]
        return found[-1] if found else None

    def copy_sources(self) -> list[str]:
        """Context paths the COPY/ADD instructions of every stage read (not --from copies)."""
        sources = []
        for step in self.instructions:
            if step.keyword not in ("COPY", "ADD"):
                continue
            words = step.words()
            if any(w.startswith("--from") for w in words):
                continue
            sources += [w for w in words if not w.startswith("--")][:-1]
        return sources


def ignore_rules(dockerfile: Path, context: Path = APPS_DIR) -> tuple[Path | None, DockerIgnore]:
    """The ignore file BuildKit uses for `dockerfile`, and its rules."""
    return DockerIgnore.for_dockerfile(dockerfile, context)


def context_files(dockerfile: Path, context: Path = APPS_DIR) -> list[str]:
    """Every file under the context that the build would receive (relative, sorted)."""
    _, rules = DockerIgnore.for_dockerfile(dockerfile, context)
    return sorted(
        rel for path in context.rglob("*")
        if path.is_file() and not rules.ignored(rel := path.relative_to(context).as_posix())
    )


def stage(app: str, destination: Path, context: Path = APPS_DIR) -> Path:
    """Copy `jobkit/` and `<app>/` as the image's COPY would (ignored files left out).

    The result is the folder the image runs from: put it on PYTHONPATH.
    """
    dockerfile = context / app / "Dockerfile"
    _, rules = DockerIgnore.for_dockerfile(dockerfile, context)
    for folder in ("jobkit", app):
        rules.copy(context, folder, destination)
    return destination
