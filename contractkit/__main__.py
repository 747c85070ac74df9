"""`python -m contractkit [--model PATH] [--algorithm PATH]` (`make check`): check a model and an
algorithm (by default apps/predictor/model.py and apps/worker/algorithm.py) against the
framework's contracts. Prints one line per check and exits 1 if any FAILs."""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from contractkit.report import Finding, fail, skipped
from contractkit.workspace import Workspace, make_workspace, run_probe

STRICT_UMASK = 0o077  # a checkout made under umask 077: the artifact must still be world-readable


def model_findings(workspace: Workspace) -> Iterator[Finding]:
    declared = run_probe(workspace, "model")
    yield from declared
    if any(not f.ok and not _only_a_default(f) for f in declared):
        yield skipped("train(), serve-time and predict() checks: skipped until the declarations pass")
        return
    trained = run_probe(workspace, "train", umask=STRICT_UMASK)
    yield from trained
    if any(not f.ok for f in trained):
        yield skipped("serve-time and predict() checks: skipped until train() passes")
        return
    yield from run_probe(workspace, "serve")
    yield from run_probe(workspace, "predict")


def _only_a_default(finding: Finding) -> bool:
    """A refused default stops nothing else: predict() is still tried on records its field accepts."""
    return finding.subject.startswith("INPUTS ") and finding.problem.startswith("default ")


def check(model: Path | None = None, algorithm: Path | None = None, out=sys.stdout) -> int:
    """Run every check, print its line to `out`; 0 when all pass, 1 otherwise."""
    started = time.perf_counter()
    try:
        workspace = make_workspace(model, algorithm)
    except FileNotFoundError as error:
        print(fail("", "contractkit", str(error), "give the path of an existing file").line(), file=out)
        return 1
    failed = 0
    try:
        print(f"Checking {workspace.model} and {workspace.algorithm}", file=out, flush=True)
        with ThreadPoolExecutor(max_workers=1) as pool:  # the algorithm's probe runs beside the model's
            algorithm_findings = pool.submit(run_probe, workspace, "algorithm")
            for finding in [*model_findings(workspace), *algorithm_findings.result()]:
                failed += not finding.ok
                print(finding.line(), file=out, flush=True)
    finally:
        shutil.rmtree(workspace.root, ignore_errors=True)
    took = time.perf_counter() - started
    verdict = f"{failed} check(s) FAILED" if failed else "all checks passed"
    print(f"make check: {verdict} in {took:.1f} s", file=out)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contractkit", description=__doc__)
    parser.add_argument("--model", type=Path, help="a model module (default apps/predictor/model.py)")
    parser.add_argument("--algorithm", type=Path, help="an algorithm module (default apps/worker/algorithm.py)")
    args = parser.parse_args(argv)
    return check(args.model, args.algorithm)


if __name__ == "__main__":
    sys.exit(main())
