"""What `docker build -f apps/<app>/Dockerfile apps` would see, computed without Docker.

`Dockerfile` parses instructions (continuations joined, comments dropped, JSON or shell form);
`DockerIgnore` applies .dockerignore rules the way Docker does (moby's patternmatcher: Go
filepath.Match globs plus `**`, `!` re-includes, the last matching rule wins, a rule that
matches a parent folder matches everything inside it); `stage()` copies the folders an image
takes from the context into a temp folder, filtered by those rules, as COPY would.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

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
        words = [w for w in self.final_stage[0].words() if not w.startswith("--")]
        return words[0]

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


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """Docker's pattern syntax as a regex over slash-separated relative paths."""
    out, i = "", 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):
                i += 1
                out += "(?:.*/)?"
            else:
                out += ".*"
            continue
        if char == "*":
            out += "[^/]*"
        elif char == "?":
            out += "[^/]"
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out += re.escape(char)
            else:
                body = pattern[i + 1:end]
                out += "[" + ("^" + body[1:] if body.startswith("^") else body) + "]"
                i = end
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            out += re.escape(pattern[i])
        else:
            out += re.escape(char)
        i += 1
    return re.compile(out + r"\Z")


class DockerIgnore:
    """The rules of one .dockerignore file."""

    def __init__(self, text: str) -> None:
        self.rules: list[tuple[bool, re.Pattern[str], str]] = []
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            exclude = not line.startswith("!")
            pattern = line if exclude else line[1:].strip()
            cleaned = str(PurePosixPath("/" + pattern)).lstrip("/") or "."
            self.rules.append((exclude, _pattern_regex(cleaned), line))

    @classmethod
    def for_dockerfile(cls, dockerfile: Path, context: Path = APPS_DIR) -> tuple[Path | None, DockerIgnore]:
        """The file BuildKit uses: `<Dockerfile>.dockerignore` next to it, else the context's."""
        for candidate in (dockerfile.with_name(dockerfile.name + ".dockerignore"), context / ".dockerignore"):
            if candidate.is_file():
                return candidate, cls(candidate.read_text())
        return None, cls("")

    def ignored(self, relative: str) -> bool:
        """True when a path (relative to the context, slash-separated) stays out of the context."""
        parts = PurePosixPath(relative).parts
        prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        verdict = False
        for exclude, regex, _ in self.rules:
            if any(regex.match(prefix) for prefix in prefixes):
                verdict = exclude
        return verdict


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
        for path in sorted((context / folder).rglob("*")):
            relative = path.relative_to(context).as_posix()
            if path.is_file() and not rules.ignored(relative):
                target = destination / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
    return destination
