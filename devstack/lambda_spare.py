"""A local Lambda instance started before its code exists: `python lambda_spare.py '["sklearn", ...]' HANDLER`,
run through the sandbox's launcher like any instance (memory limit applied, user dropped).

It imports the named third-party libraries (those the image's build imported), says {"ready": true}
on its original stdout (then points stdout at its log, stderr, as a cold instance's), waits for one
line on stdin, {"root": image folder, "env": {...}}: it moves into the image, puts it first on
sys.path, adds `env` (LAMBDA_TASK_ROOT, PYTHONPATH) to its environment and runs AWS's runtime
interface client in-process, as `python -m awslambdaric HANDLER` would. Only the libraries' import
moves earlier: awslambdaric (which reads its settings from the environment at import) and the
function's own code are imported after the image is known, so the handler's init still runs, and
fails, through awslambdaric as on Lambda. It imports only the standard library before then.
"""

from __future__ import annotations

import importlib
import json
import os
import sys


def main(argv: list[str]) -> int:
    for name in json.loads(argv[1]):
        if name == "awslambdaric":
            continue  # it reads its settings from the environment at import: only once the image is known
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001, S112 - a preload is only a head start
            continue
    print(json.dumps({"ready": True}), flush=True)  # to the pool; from here on, stdout is the log (stderr)
    os.dup2(2, 1)
    line = sys.stdin.readline()
    if not line.strip():
        return 0  # the pool stopped before it needed this instance
    request = json.loads(line)
    quiet = os.open(os.devnull, os.O_RDONLY)
    os.dup2(quiet, 0)  # from here on, stdin as a cold instance has it
    os.close(quiet)
    os.environ.update(request["env"])
    os.chdir(request["root"])
    sys.path.insert(0, request["root"])
    importlib.invalidate_caches()
    handler = argv[2]
    sys.argv = ["awslambdaric", handler]
    from awslambdaric.__main__ import main as awslambdaric_main  # noqa: PLC0415 - after the environment is set

    awslambdaric_main(sys.argv)
    return 0


if __name__ == "__main__":
    del sys.path[0]  # this script's folder (devstack): the function must not import the twin's modules
    sys.exit(main(sys.argv))
