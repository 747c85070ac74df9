"""The kit's side inside the copy of apps/: `python -m contractkit.probe GROUP --out FILE ...` runs
one group of checks on the copy's predictor/model.py or worker/algorithm.py and writes its
findings to FILE as JSON lines. Whatever user code does, it reports and never shows a traceback.

Groups: model (declarations), train, serve, predict, algorithm (declarations, run(), boundaries).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from pathlib import Path
from types import ModuleType

from contractkit import algorithm_checks, boundary, declarations, model_checks
from contractkit.report import Finding, describe_error, fail, skipped, user_line
from contractkit.source import Source

GROUPS = ("model", "train", "serve", "predict", "algorithm")


def _import(name: str, source: Source) -> ModuleType | Finding:
    try:
        return importlib.import_module(name)
    except BaseException as error:  # noqa: BLE001 - SystemExit included: the import is user code
        where = user_line(error, {source.copy.resolve(): source.shown}) or source.at(1)
        return fail(where, f"{source.copy.name} import", f"raised {describe_error(error)}", _import_fix(error, source))


def _import_fix(error: BaseException, source: Source) -> str:
    """A missing package is the day-one error: say where its pin goes."""
    app = source.copy.parent.name  # predictor or worker
    if isinstance(error, ModuleNotFoundError) and error.name and error.name.split(".")[0] not in {app, "jobkit"}:
        package = error.name.split(".")[0]
        return (f"add {package} to apps/{app}/requirements.in, then make lock "
                "(README: Add a dependency)")
    return f"{source.copy.name} must import cleanly with only its app's requirements.txt installed"


def findings_for(group: str, apps: Path, model_shown: str, algorithm_shown: str) -> list[Finding]:
    if group == "serve":
        return model_checks.serve_checks(apps, Source(apps / "predictor" / "model.py", model_shown))
    if group == "algorithm":
        source = Source(apps / "worker" / "algorithm.py", algorithm_shown)
        module = _import("worker.algorithm", source)
        if isinstance(module, Finding):
            return [module]
        imported = {m for imp in source.top_level_imports() for m in imp.modules} | \
            {m for f in source.functions() for imp in source.imports_inside(f) for m in imp.modules}
        found = [*declarations.check_algorithm(module, source),
                 *model_checks.unpinned(apps, "worker", source, imported, "algorithm.py imports",
                                        "the algorithm imports")]
        if any(not f.ok for f in found):
            return [*found, skipped("run() and boundary checks: skipped until the declarations pass")]
        return [*found, *algorithm_checks.run_checks(module, source, apps), *boundary.boundary_checks(module, source),
                *boundary.param_checks(module, source)]
    source = Source(apps / "predictor" / "model.py", model_shown)
    module = _import("predictor.model", source)
    if isinstance(module, Finding):
        return [module]
    if group == "model":
        return declarations.check_model(module, source)
    if group == "train":
        return model_checks.train_checks(module, source, model_checks.environment_model_dir())
    return model_checks.predict_checks(module, source)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contractkit.probe")
    parser.add_argument("group", choices=GROUPS)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--model-shown", default="apps/predictor/model.py")
    parser.add_argument("--algorithm-shown", default="apps/worker/algorithm.py")
    args = parser.parse_args(argv)
    logging.disable(logging.CRITICAL)  # the apps' own logs are not the kit's report
    apps = Path(importlib.import_module("predictor").__file__).resolve().parents[1]
    try:
        findings = findings_for(args.group, apps, args.model_shown, args.algorithm_shown)
    except BaseException as error:  # noqa: BLE001 - the kit reports, it never shows a traceback
        shown = args.algorithm_shown if args.group == "algorithm" else args.model_shown
        findings = [fail(shown, f"{args.group} checks", f"stopped on {describe_error(error)}",
                         "run the function named above by hand on the same input to see why")]
    args.out.write_text("".join(f.to_json() + "\n" for f in findings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
