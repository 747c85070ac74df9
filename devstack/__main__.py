"""`python -m devstack` (what `make dev` runs): start the local stack, print how to use it,
and stop everything cleanly on Ctrl-C."""

from __future__ import annotations

import signal
import sys
import threading

from jobkit import logs

from devstack.settings import DevSettings
from devstack.stack import LocalStack


def main() -> int:
    logs.configure("devstack", level="WARNING")
    settings = DevSettings.from_env()
    stack = LocalStack(settings)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    print("Starting the local stack (moto, predictor, dashboard)...", flush=True)
    try:
        stack.start()
    except Exception as error:  # noqa: BLE001 - say what failed, in one line, and exit
        print(f"Could not start the local stack: {error}", file=sys.stderr)
        return 1
    user, password = stack.login
    print(
        f"""
ml-proto is running on this machine.

  Dashboard   {settings.dashboard_url}
  Login       user: {user}   password: {password}
  Local AWS   {settings.aws_url}  (moto: table and bucket {settings.table})
  Predictor   {settings.lambda_url}  (Lambda Invoke API, function {settings.function_name})
  Logs        {settings.log_dir}/  (dashboard.log, predictor.log, worker.log: JSON lines)

Edit apps/predictor/model.py or apps/worker/algorithm.py: the next prediction or job runs it.
Press Ctrl-C to stop everything.""",
        flush=True,
    )
    stop.wait()
    print("\nStopping...", flush=True)
    stack.stop()
    print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
