"""A temporary copy of apps/ with the model and algorithm under check, and running a probe in it.

The copy is what the images hold (apps/<app> side by side, code only), so the probe imports
`predictor.model` and `worker.algorithm` exactly as the predictor and the worker do.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from contractkit.report import Finding, fail

REPO = Path(__file__).resolve().parents[1]
APPS = REPO / "apps"
MODEL = APPS / "predictor" / "model.py"
ALGORITHM = APPS / "worker" / "algorithm.py"
PROBE_TIMEOUT_S = 300
ORIGINAL_ALGORITHM_DIR = "CONTRACTKIT_ALGORITHM_DIR"


def shown_path(path: Path) -> str:
    """A path as the report shows it: relative to the repository when inside it."""
    path = path.resolve()
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class Workspace:
    """`apps`: the copy; `model` / `algorithm`: the files under check as the report names them."""

    root: Path
    apps: Path
    model: str
    algorithm: str
    algorithm_dir: Path  # the given algorithm's own folder: its SAMPLES paths may point beside it

    @property
    def model_copy(self) -> Path:
        return self.apps / "predictor" / "model.py"

    @property
    def algorithm_copy(self) -> Path:
        return self.apps / "worker" / "algorithm.py"

    @property
    def model_dir(self) -> Path:
        return self.apps / "predictor" / "artifacts"  # where the image build puts it

    def env(self) -> dict[str, str]:
        """A clean environment: the copy (then the repository, for contractkit) on the path, no AWS."""
        keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
        return {**keep, "PYTHONPATH": os.pathsep.join([str(self.apps), str(REPO)]), "PYTHONDONTWRITEBYTECODE": "1",
                "MODEL_DIR": str(self.model_dir), "LOG_LEVEL": "WARNING", "PYTHONHASHSEED": "0",
                ORIGINAL_ALGORITHM_DIR: str(self.algorithm_dir)}


def declared_samples(algorithm: Path) -> list[str]:
    """The relative paths of a literal `SAMPLES = [...]` in the algorithm file (read, not imported)."""
    try:
        tree = ast.parse(algorithm.read_text(), filename=str(algorithm))
    except (SyntaxError, UnicodeDecodeError):
        return []  # the probe reports it
    found: list[str] = []
    for node in tree.body:  # the last assignment wins, as when the module runs
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "SAMPLES" for t in node.targets):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                value = []
            found = [v for v in value if isinstance(v, str) and not Path(v).is_absolute()] \
                if isinstance(value, list | tuple) else []
    return found


def make_workspace(model: Path | None = None, algorithm: Path | None = None, root: Path | None = None) -> Workspace:
    """Copy apps/ into `root` (a new temporary folder by default) with `model` as predictor/model.py
    (and a `pretrained/` folder beside it, if any) and `algorithm` as worker/algorithm.py."""
    model = (model or MODEL).resolve()
    algorithm = (algorithm or ALGORITHM).resolve()
    for path, what in ((model, "--model"), (algorithm, "--algorithm")):
        if not path.is_file():
            raise FileNotFoundError(f"{what} {path}: no such file")
    root = Path(root or tempfile.mkdtemp(prefix="contractkit-"))
    apps = root / "apps"
    shutil.copytree(APPS, apps, ignore=shutil.ignore_patterns("__pycache__", "*.pkl", ".tmp-*"))
    if model != MODEL.resolve():
        shutil.copyfile(model, apps / "predictor" / "model.py")
        pretrained = model.parent / "pretrained"
        if pretrained.is_dir() and pretrained.resolve() != (APPS / "predictor" / "pretrained").resolve():
            shutil.rmtree(apps / "predictor" / "pretrained", ignore_errors=True)
            shutil.copytree(pretrained, apps / "predictor" / "pretrained")
    if algorithm != ALGORITHM.resolve():
        shutil.copyfile(algorithm, apps / "worker" / "algorithm.py")
        samples = algorithm.parent / "samples"  # samples the algorithm ships beside it
        if samples.is_dir() and samples.resolve() != (APPS / "worker" / "samples").resolve():
            shutil.rmtree(apps / "worker" / "samples", ignore_errors=True)
            shutil.copytree(samples, apps / "worker" / "samples")
        for relative in declared_samples(algorithm):  # and any it declares elsewhere beside it
            source, copy = algorithm.parent / relative, apps / "worker" / relative
            if source.is_file() and copy.resolve().is_relative_to(apps.resolve()):
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, copy)
    return Workspace(root, apps, shown_path(model), shown_path(algorithm), algorithm.parent)


def run_probe(workspace: Workspace, group: str, timeout: float = PROBE_TIMEOUT_S,
              umask: int | None = None) -> list[Finding]:
    """Run `python -m contractkit.probe <group>` in the copy; its findings, or one FAIL saying why
    the probe itself could not report (a crash, a timeout)."""
    out = workspace.root / f"findings-{group}.jsonl"
    out.unlink(missing_ok=True)
    command = [sys.executable, "-m", "contractkit.probe", group, "--out", str(out),
               "--model-shown", workspace.model, "--algorithm-shown", workspace.algorithm]
    subject = f"{workspace.model if group in ('model', 'train', 'serve', 'predict') else workspace.algorithm}"

    def set_umask() -> None:
        if umask is not None:
            os.umask(umask)

    try:
        done = subprocess.run(command, cwd=workspace.root, env=workspace.env(), capture_output=True, text=True,
                              timeout=timeout, preexec_fn=set_umask if umask is not None else None)  # noqa: PLW1509
    except subprocess.TimeoutExpired:
        return [fail(subject, f"{group} checks", f"did not finish within {timeout:.0f} s",
                     "make train()/predict()/run() faster on small inputs, or look for an endless loop")]
    findings = [Finding.from_json(line) for line in out.read_text().splitlines() if line] if out.exists() else []
    if done.returncode != 0 and not any(not f.ok for f in findings):
        last = next((line for line in reversed(done.stderr.splitlines()) if line.strip()), "no output")
        findings.append(fail(subject, f"{group} checks", f"the check process stopped (exit {done.returncode}): "
                             f"{last[:300]}", "run the failing function by hand; it must not exit the process"))
    return findings
