"""`python -m devstack` (what `make dev` runs): start the local stack, restore what the last run
left, print how to use it, watch over it (a part that dies is reported and restarted), and stop
everything cleanly on Ctrl-C."""

from __future__ import annotations

import dataclasses
import os
import signal
import sys
import threading

from jobkit import logs

from devstack import requirements_watch
from devstack.persistence import AwsRecording, point_recorder_at, recording_path
from devstack.settings import DevSettings


def say(message: str) -> None:
    print(message, flush=True)


def _keep_recording(state: AwsRecording, stop: threading.Event, interval: float = 5.0) -> None:
    """Until `stop`: say so, and record again, if moto's recorder was stopped (only a token holder can)."""
    while not stop.wait(interval):
        try:
            if state.keep_recording():
                say("The local AWS's recorder had stopped; recording again. Changes made meanwhile "
                    "will not survive a restart.")
        except Exception as error:  # noqa: BLE001 - say it and look again next time
            say(f"Could not check the local AWS's recorder: {error}")


def main() -> int:
    logs.configure("devstack", level="WARNING")
    settings = DevSettings.from_env()
    recording = recording_path(settings.state_dir)
    point_recorder_at(recording)  # before moto is imported, below
    from devstack import sleep
    from devstack.stack import DevStack

    resting = sleep.LocalSleepSettings.from_env(os.environ, settings.dashboard_port)  # DEVSTACK_SLEEP_AFTER
    stack = DevStack(dataclasses.replace(settings, dashboard_port=resting.back_port) if resting else settings,
                     report=say)
    front = None
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    say("Starting the local stack (moto, predictor, dashboard)...")
    try:
        stack.start()
        state = AwsRecording(settings.aws_url, recording, stack.aws.control_token)
        restored = state.restore()
        state.record()
        front = sleep.attach(stack, settings, resting) if resting else None
        threading.Thread(target=_keep_recording, args=(state, stop), name="recorder-check", daemon=True).start()
    except Exception as error:  # noqa: BLE001 - say what failed, in one line, and exit
        stack.stop()
        print(f"Could not start the local stack: {error}", file=sys.stderr)
        return 1
    user, password = stack.login
    kept = f"restored {restored} recorded changes" if restored else "nothing recorded yet"
    say(
        f"""
ml-proto is running on this machine.

  Dashboard   {settings.dashboard_url}
  Login       user: {user}   password: {password}
  Local AWS   {settings.aws_url}  (moto: table and bucket {settings.table})
  Predictor   {settings.lambda_url}  (Lambda Invoke API, function {settings.function_name})
  Logs        {settings.log_dir}/  (dashboard.log, predictor.log, worker.log: JSON lines)
  State       {recording}  ({kept})
              Jobs, results and feedback survive a restart; `make dev-reset` starts clean.

Edit apps/predictor/model.py or apps/worker/algorithm.py: the next prediction or job runs it.
Save a new apps/<app>/requirements.txt (make lock): it is installed and that app restarted.
A part that stops is reported here and restarted. Press Ctrl-C to stop everything."""
    )
    if resting:
        say(f"The dashboard sleeps after {resting.sleep_after_seconds:g} s without a signed-in request; the next "
            f"page load wakes it. Its moves: {settings.log_dir / 'sleep.log'}")
    stack.supervise(stop, say, tick=requirements_watch.for_stack(stack, say).poll)
    say("\nStopping...")
    if front is not None:
        front.stop()
    stack.stop()
    say("Stopped. Jobs, results and feedback are kept for the next `make dev`.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
