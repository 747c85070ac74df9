"""Checks that run the model's code, each in a probe process inside the copy of apps/.

- `train_checks`: train() as the image build does, under a strict umask; the artifact must be
  readable by Lambda's non-root user.
- `serve_checks`: the cold start as Lambda runs it (import the handler, which loads the artifact):
  its time against a budget, and what it imports (nothing only train() needs; nothing the
  predictor's requirements.txt does not install).
- `predict_checks`: predict() on the defaults, each example and generated records, under the
  no-I/O guard; each answer must be a valid `Answer` the predictor's own service turns into JSON,
  with a chart that draws without WebGL.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import re
import stat
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from contractkit import records
from contractkit.charts import chart_problem
from contractkit.guard import Guard
from contractkit.report import Finding, describe_error, fail, ok, user_line
from contractkit.source import Source

COLD_INIT_BUDGET_MS = 3000
FRAMEWORK = frozenset({"predictor", "jobkit", "contractkit"})
OTHER_READERS = stat.S_IROTH


def _raised(error: BaseException, source: Source, function: str, case: str, fix: str) -> Finding:
    where = user_line(error, {source.copy.resolve(): source.shown}) or source.at(source.line_of(function))
    return fail(where, f"{function}()", f"raised {describe_error(error)} {case}".strip(), fix)


def train_checks(model: ModuleType, source: Source, model_dir: Path) -> list[Finding]:
    from predictor.artifact import artifact_path, train_and_save

    path = artifact_path(model, model_dir)
    started = time.perf_counter()
    try:
        train_and_save(model, path)
    except Exception as error:  # noqa: BLE001 - reported as the user's error, by line
        return [_raised(error, source, "train", "while training as the image build does",
                        "train() must return a picklable model (no lambdas, open files or connections)")]
    train_ms = (time.perf_counter() - started) * 1000
    where = source.at(source.line_of("train"))
    if not path.exists():
        return [fail(where, "train()", f"its model could not be saved to {path}",
                     "return a model pickle can write (no lambdas, open files or connections)")]
    unreadable = [p for p in (path, path.parent) if not p.stat().st_mode & OTHER_READERS]
    if unreadable:
        mode = stat.S_IMODE(unreadable[0].stat().st_mode)
        return [fail(where, "train()", f"the artifact {unreadable[0].name} has mode {mode:04o}: Lambda's non-root "
                     "user cannot read it", "write the artifact with mode 0644 (predictor.artifact does)")]
    mode = stat.S_IMODE(path.stat().st_mode)
    return [ok(f"train() as the image build does (umask 077): artifact readable by Lambda's non-root user "
               f"(mode {mode:04o}, {path.stat().st_size:,} bytes, {train_ms:.0f} ms)")]


def _pinned(requirements: Path) -> set[str]:
    names = set()
    for line in requirements.read_text().splitlines():
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line.split("#", 1)[0])
        if match:
            names.add(_canonical(match.group(1)))
    return names


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _third_party(apps: Path, names: set[str]) -> dict[str, Path]:
    """Those of the top-level modules `names` imported now that come from outside the copy and the
    standard library."""
    found = {}
    for top in sorted(names):
        module = sys.modules.get(top)
        if module is None or top in sys.stdlib_module_names or top in FRAMEWORK or top.startswith("_"):
            continue
        file = getattr(module, "__file__", None)
        if not file or Path(file).resolve().is_relative_to(apps.resolve()):
            continue
        found[top] = Path(file)
    return found


def serve_checks(apps: Path, source: Source) -> list[Finding]:
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        handler = importlib.import_module("predictor.handler")
    except Exception as error:  # noqa: BLE001
        return [_raised(error, source, "predictor.handler import", "at cold start",
                        "model.py must import with only the predictor's requirements installed")]
    init_ms = getattr(handler, "INIT_MS", (time.perf_counter() - started) * 1000)
    cpu_ms = (time.process_time() - cpu_started) * 1000
    findings = []
    if handler.PREDICTOR.loaded.trained:
        findings.append(fail(source.at(source.line_of("train")), "train()", "the cold start had to train: "
                             "no artifact was found for this MODEL_VERSION and what train() depends on",
                             "keep train() deterministic in what it reads (only files under pretrained/)"))
    model = handler.PREDICTOR.model_module
    try:
        handler.handler({"action": "describe"}, None)
        handler.handler({"action": "predict", "inputs": records.defaults(model.INPUTS)}, None)
    except Exception:  # noqa: BLE001,S110 - predict_checks reports predict's own errors by line
        pass
    needed, pickled = _artifact_needs(handler.PREDICTOR.loaded.path)
    findings.extend(_training_only(source, needed))
    findings.extend(_unpinned(apps, source, pickled))
    if init_ms > COLD_INIT_BUDGET_MS:  # a busy machine is not a slow model: the best of two more tries
        wall, cpu = zip(*[(init_ms, cpu_ms), *(_cold_init_ms() for _ in range(2))], strict=True)
        init_ms, cpu_ms = min(wall), min(cpu)
    # Judged by wall time; by CPU time only while this machine is saturated (load average at or above
    # its CPU count): Lambda gives the instance its CPU, a shared test machine may not. A model that
    # waits (sleeps, network) at import is judged by the wall clock whenever the machine is not busy.
    busy_machine = os.getloadavg()[0] >= (os.cpu_count() or 1)
    if (cpu_ms if busy_machine else init_ms) > COLD_INIT_BUDGET_MS:
        findings.append(fail(source.at(1), "cold init", f"{init_ms:.0f} ms ({cpu_ms:.0f} ms CPU), over the "
                             f"{COLD_INIT_BUDGET_MS} ms budget (handler import + artifact load)",
                             "import less at module level and keep the artifact small"))
    else:
        busy = f"; {cpu_ms:.0f} ms CPU, judged so as this machine is saturated (load " \
               f"{os.getloadavg()[0]:.1f})" if init_ms > COLD_INIT_BUDGET_MS else ""
        findings.append(ok(f"cold init {init_ms:.0f} ms (budget {COLD_INIT_BUDGET_MS} ms: handler import "
                           f"+ artifact load{busy})"))
    return findings


_NEEDS = (
    "import json, pickle, sys\n"
    "pickled = set()\n"
    "class Recorder(pickle.Unpickler):\n"
    "    def find_class(self, module, name):\n"
    "        pickled.add(module)\n"
    "        return super().find_class(module, name)\n"
    "with open(sys.argv[1], 'rb') as file:\n"
    "    Recorder(file).load()\n"
    "print(json.dumps([sorted(sys.modules), sorted(pickled)]))\n"
)


def _artifact_needs(path: Path) -> tuple[set[str], set[str]]:
    """(modules that loading the artifact alone imports, in a fresh process: what serving needs
    whatever model.py imports; the modules its pickled classes live in)."""
    import subprocess

    done = subprocess.run([sys.executable, "-c", _NEEDS, str(path)], capture_output=True, text=True,
                          timeout=120, env=os.environ.copy())
    if done.returncode != 0:
        return set(sys.modules), set()
    imported, pickled = json.loads(done.stdout)
    return set(imported), set(pickled)


_TIME_INIT = ("import time; cpu = time.process_time(); import predictor.handler as h; "
              "print(h.INIT_MS, (time.process_time() - cpu) * 1000)")


def _cold_init_ms() -> tuple[float, float]:
    """(wall ms, CPU ms) of one more cold start in a fresh process."""
    import subprocess

    done = subprocess.run([sys.executable, "-c", _TIME_INIT], capture_output=True, text=True, timeout=120,
                          env=os.environ.copy())
    try:
        wall, cpu = done.stdout.strip().splitlines()[-1].split()
        return float(wall), float(cpu)
    except (ValueError, IndexError):
        return float("inf"), float("inf")


def _training_only(source: Source, needed: set[str]) -> list[Finding]:
    findings = []
    lazy = {m: imp.line for imp in source.imports_inside("train") for m in imp.modules}
    for module_name, line in lazy.items():
        if module_name in sys.modules and module_name not in needed and module_name not in _outside_train(source):
            findings.append(fail(source.at(line), "serve-time imports", f"serving imports {module_name}, which "
                                 "only train() needs", f"import {module_name} inside train() only; "
                                 "predict() and module-level code must not import it"))
            break
    used = source.names_used_outside("train")
    in_train = source.names_used_in("train")
    for imp in source.top_level_imports():
        only_train = [name for name in imp.bound if name in in_train and name not in used]
        if only_train:
            findings.append(fail(source.at(imp.line), "serve-time imports",
                                 f"'{', '.join(imp.modules)}' is imported at module level but only train() uses "
                                 f"{', '.join(only_train)}, so every cold start pays for it",
                                 "move this import inside train()"))
    if not findings:
        findings.append(ok("serve-time imports leave out what only train() needs"))
    return findings


def _outside_train(source: Source) -> set[str]:
    return {m for name in ("predict",) for imp in source.imports_inside(name) for m in imp.modules} | \
           {m for imp in source.top_level_imports() for m in imp.modules}


def _unpinned(apps: Path, source: Source, pickled: set[str]) -> list[Finding]:
    """What model.py imports to serve (at module level, or in any function but train()) and what the
    artifact's classes need must be pinned in the predictor's requirements.txt; what those
    packages import in turn is theirs to declare (tests/images checks the image's set)."""
    lazy_train = {m for imp in source.imports_inside("train") for m in imp.modules}
    own = {m for imp in source.top_level_imports() for m in imp.modules}
    own |= {m for f in source.functions() if f != "train" for imp in source.imports_inside(f) for m in imp.modules}
    return unpinned(apps, "predictor", source, (own - lazy_train) | pickled, "serve-time imports", "serving imports")


def unpinned(apps: Path, app: str, source: Source, modules: set[str], subject: str, verb: str) -> list[Finding]:
    """A FAIL at the import's line when a third-party package among `modules` (imported now) is not
    pinned in apps/<app>/requirements.txt, naming the pin to add; else an ok listing what is used."""
    requirements = apps / app / "requirements.txt"
    pinned = _pinned(requirements)
    owners = importlib.metadata.packages_distributions()
    used = _third_party(apps, {m.split(".")[0] for m in modules})
    missing = []
    for top in sorted(used):
        dists = owners.get(top, [])
        if dists and not any(_canonical(d) in pinned for d in dists):
            missing.append((top, dists[0]))
    shown = f"apps/{app}/requirements.txt"
    if missing:
        top, dist = missing[0]
        try:
            version = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            version = "<version>"
        listed = ", ".join(f"{t} ({d})" for t, d in missing)
        imports = [*source.top_level_imports(), *(i for f in source.functions() for i in source.imports_inside(f))]
        line = min((i.line for i in imports if any(m.split(".")[0] == top for m in i.modules)), default=1)
        return [fail(source.at(line), subject, f"{verb} {listed}, which {shown} does not pin: the image will not "
                     "have it", f"add {dist} to apps/{app}/requirements.in (the dev venv has {version}), then "
                     "make lock (README: Add a dependency), or stop importing it")]
    return [ok(f"what {verb} is pinned in {shown} "
               f"({', '.join(sorted(used)) or 'no third-party package'})")]


def _answer_problem(answer: Any, response: dict[str, Any] | None) -> tuple[str, str] | None:
    from predictor.interface import Answer

    if not isinstance(answer, Answer):
        return (f"returned {type(answer).__name__}, not an Answer",
                "return Answer(label=..., value=..., chart=..., details={...})")
    if not isinstance(answer.label, str) or not answer.label.strip():
        return (f"the Answer's label is {answer.label!r}", "give a short text for stakeholders as label")
    if not isinstance(answer.details, dict):
        return (f"the Answer's details is {type(answer.details).__name__}", "give details as a dict (or omit it)")
    try:
        json.dumps(response, allow_nan=False)
    except (TypeError, ValueError) as error:
        return (f"the answer is not JSON ({error})", "use plain numbers, strings, lists and dicts in value/details")
    if answer.chart is not None:
        return chart_problem((response or {}).get("chart"))
    return None


def predict_checks(model: ModuleType, source: Source) -> list[Finding]:
    from predictor.artifact import load_or_train
    from predictor.service import Predictor
    from predictor.settings import PredictorSettings
    from predictor.validation import RequestError, check_inputs

    settings = PredictorSettings.from_env()
    try:
        loaded = load_or_train(model, settings.model_dir)
    except Exception as error:  # noqa: BLE001
        return [_raised(error, source, "train", "", "train() must return a picklable model")]
    predictor = Predictor(model, loaded, settings)
    guard = Guard({source.copy.resolve(): source.shown})
    guard.install()
    cases = [("on the defaults", records.defaults(model.INPUTS))]
    cases += [(f"on example {e.label!r}", dict(e.inputs)) for e in getattr(model, "EXAMPLES", ())]
    generated = records.generated(model.INPUTS)
    cases += [(f"on generated record {what}", record) for what, record in generated]
    for case, inputs in cases:
        try:
            record = check_inputs(inputs, model.INPUTS)
        except RequestError as error:
            if case.startswith("on generated"):
                continue  # a declaration problem, reported by the declaration checks
            return [fail(source.at(source.line_of("INPUTS")), "INPUTS", f"the predictor refuses the record "
                         f"{case[3:]}: {error.message}", "make every default and example valid for INPUTS")]
        try:
            with guard.on():
                answer = model.predict(loaded.model, dict(record))
                response = predictor.predict(dict(inputs))
        except Exception as error:  # noqa: BLE001
            if guard.blocked:
                problem, where = guard.blocked[0]
                return [fail(where or source.at(source.line_of("predict")), "predict()", f"{problem} {case}",
                             "predict() runs per request and must not do I/O: load files in train() "
                             "(or at import) instead")]
            return [_raised(error, source, "predict", f"{case} {json.dumps(inputs)[:120]}",
                            _predict_fix(error))]
        if guard.blocked:
            problem, where = guard.blocked[0]
            return [fail(where or source.at(source.line_of("predict")), "predict()", f"{problem} {case}",
                         "predict() runs per request and must not do I/O: do it in train() or at import")]
        problem = _answer_problem(answer, response)
        if problem:
            return [fail(source.at(source.line_of("predict")), "predict()", f"{problem[0]} {case}", problem[1])]
    examples = len(getattr(model, "EXAMPLES", ()))
    return [ok(f"predict() on the defaults, {examples} examples and {len(generated)} generated records: valid "
               "Answers, charts draw without WebGL, no I/O")]


def _predict_fix(error: BaseException) -> str:
    if isinstance(error, KeyError):
        return "read only the fields INPUTS declares, by their exact names (record[field.name])"
    if isinstance(error, ZeroDivisionError | ValueError | ArithmeticError):
        return "predict() must answer every value INPUTS allows, boundaries included (guard the edge case)"
    return "predict() must answer every record INPUTS allows; run it on the record shown to see why it fails"


def model_module_source(apps: Path, shown: str) -> Source:
    return Source(apps / "predictor" / "model.py", shown)


def environment_model_dir() -> Path:
    return Path(os.environ["MODEL_DIR"])
