"""One image build, in a process started before the build is needed:
`python -m devstack.lambda_build_worker '["sklearn", ...]'`.

It imports the named third-party packages (those the previous build used), says {"ready": true}
on its original stdout, then waits for one line on stdin, {"root": image folder, "modules": [...],
"env": {...}}, runs each module there as `python -m module` would, and answers one line,
{"status": exit status, "loaded": [the third-party packages this build imported]}. The build's
own output goes to stderr (the function's log). Only the import of libraries moves earlier: the
function's code is imported fresh, from the image, by the build itself.
"""

from __future__ import annotations

import importlib
import json
import os
import runpy
import site
import sys
import traceback


def _third_party() -> list[str]:
    places = tuple(os.path.join(path, "") for path in site.getsitepackages())
    names = set()
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None) or ""
        if path.startswith(places):
            names.add(name.split(".")[0])
    return sorted(names)


def _run(module: str) -> int:
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except BaseException:  # noqa: BLE001 - a failing build is reported by its exit status
        traceback.print_exc()
        return 1
    return 0


def main(argv: list[str]) -> int:
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # the build's prints go to the log
    for name in json.loads(argv[1]) if len(argv) > 1 else []:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001, S112 - a preload is only a head start
            continue
    replies.write(json.dumps({"ready": True}) + "\n")
    replies.flush()
    line = sys.stdin.readline()
    if not line.strip():
        return 0
    request = json.loads(line)
    os.environ.update(request["env"])
    os.chdir(request["root"])
    sys.path.insert(0, request["root"])
    status = 0
    for module in request["modules"]:
        status = _run(module)
        if status:
            break
    sys.stdout.flush()
    replies.write(json.dumps({"status": status, "loaded": _third_party()}) + "\n")
    replies.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
