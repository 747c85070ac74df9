"""Docker's .dockerignore rules, applied without Docker, so a local copy of an image's code holds
exactly what `docker build` would send (moby's patternmatcher: Go filepath.Match globs plus `**`,
`!` re-includes, the last matching rule wins, a rule that matches a parent folder matches
everything inside it).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path, PurePosixPath


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
    def for_dockerfile(cls, dockerfile: Path, context: Path) -> tuple[Path | None, DockerIgnore]:
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

    def copy(self, context: Path, folder: str, destination: Path) -> None:
        """Copy `context/folder` to `destination/folder` as COPY would: ignored files left out,
        file modes kept."""
        for path in sorted((context / folder).rglob("*")):
            relative = path.relative_to(context).as_posix()
            if path.is_file() and not self.ignored(relative):
                target = destination / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
