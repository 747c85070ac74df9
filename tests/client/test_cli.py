"""The `ml-proto` command against the local twin: its output, `--json`, and its exit codes
(0 done, 1 job failed or cancelled, 2 bad usage or refused input, 3 target not found)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from jobkit import JobStatus

from devstack.settings import REPO_ROOT
from mlproto.cli import main
from mlproto.progress import ProgressView


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    @property
    def json(self):
        return json.loads(self.out)


def cli(twin, *argv: str) -> Run:
    out, err = io.StringIO(), io.StringIO()
    code = main([*argv, "--devstack-dir", str(twin.settings.state_dir)], stdout=out, stderr=err)
    return Run(code, out.getvalue(), err.getvalue())


def test_predict_prints_the_label_and_json_for_scripts(twin):
    human = cli(twin, "predict", "weight_kg=1", "stops=0", "carrier=air", "priority=1")
    assert human.code == 0 and human.out.startswith("Ships on time  (model fixture-classifier-1,")
    scripted = cli(twin, "predict", "--example", "2", "--json")
    assert scripted.code == 0 and scripted.json["value"] == "late"
    assert scripted.json["model_version"] == "fixture-classifier-1"


def test_predict_many_from_a_csv(twin, tmp_path):
    records = tmp_path / "parcels.csv"
    records.write_text("weight_kg,stops,carrier,priority\n1,0,air,1\n25,9,rail,2\n")
    run = cli(twin, "predict", "--file", str(records), "--json")
    assert run.code == 0 and [a["value"] for a in run.json] == ["on time", "late"]


def test_a_bad_field_exits_2_and_names_it(twin):
    run = cli(twin, "predict", "--example", "1", "stops=99", "--json")
    assert run.code == 2
    assert run.json["error"]["type"] == "BadInput" and run.json["error"]["field"] == "stops"
    human = cli(twin, "predict", "--example", "1", "stops=99")
    assert human.code == 2 and human.err.startswith("ml-proto: ") and "stops" in human.err and not human.out


def test_submit_wait_then_fetch(twin, table, tmp_path):
    run = cli(twin, "submit", str(table), "--param", "top=4", "--wait", "--json")
    assert run.code == 0, run.err
    job = run.json
    assert job["status"] == "SUCCEEDED" and job["params"] == {"top": 4}
    assert f"{job['job_id']} SUCCEEDED 100% Done" in run.err.splitlines()  # plain lines: not a terminal
    fetched = cli(twin, "fetch", job["job_id"], "-o", str(tmp_path / "out"), "--json")
    assert fetched.code == 0 and fetched.json["summary"]["metrics"]["flagged"] == 4
    assert Path(fetched.json["result"]).read_text().splitlines()[0].endswith("score,flagged")
    status = cli(twin, "status", job["job_id"])
    assert status.code == 0 and "SUCCEEDED" in status.out
    listing = cli(twin, "jobs", "--json")
    assert listing.code == 0 and job["job_id"] in [j["job_id"] for j in listing.json]


def test_a_refused_file_exits_2_with_the_reason(twin, tmp_path):
    few = tmp_path / "few.csv"
    few.write_text("x1\n1\n")
    run = cli(twin, "submit", str(few))
    assert run.code == 2 and run.err == "ml-proto: few.csv has 1 data rows; Fixture scores needs at least 3.\n"
    scripted = cli(twin, "submit", str(few), "--json")
    assert scripted.code == 2 and scripted.json["error"]["type"] == "RefusedFile"


def test_a_failed_job_exits_1_with_its_reason(twin, tmp_path):
    path = tmp_path / "explode.csv"
    path.write_text("x1,explode\n1,2\n3,4\n5,6\n")
    run = cli(twin, "submit", str(path), "--wait", "--json")
    assert run.code == 1
    error = run.json["error"]
    assert error["type"] == "JobFailed" and error["status"] == "FAILED"
    assert "told to explode" in error["reason"]
    status = cli(twin, "status", error["job"]["job_id"])
    assert status.code == 1 and "FAILED" in status.out
    fetch = cli(twin, "fetch", error["job"]["job_id"], "-o", str(tmp_path))
    assert fetch.code == 1 and "told to explode" in fetch.err


def test_bad_usage_exits_2(twin, table):
    assert cli(twin).code == 2  # no command
    assert cli(twin, "submit", str(table), "--param", "top").code == 2  # not NAME=VALUE
    assert cli(twin, "submit", str(table), "--param", "top=0").code == 2
    assert cli(twin, "status", "f" * 32).code == 2  # no such job
    assert cli(twin, "cancel", "nope").code == 2


def test_a_missing_stack_exits_3(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    assert main(["jobs", "--devstack-dir", str(tmp_path)], stdout=out, stderr=err) == 3
    assert "make dev" in err.getvalue()


def test_python_dash_m_and_the_console_script(twin):
    env = {**os.environ, "DEVSTACK_DIR": str(twin.settings.state_dir)}
    for command in ([sys.executable, "-m", "mlproto"], [str(Path(sys.executable).parent / "ml-proto")]):
        done = subprocess.run([*command, "jobs", "--json", "--limit", "2"], env=env, cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        assert isinstance(json.loads(done.stdout), list)


def test_the_progress_bar_on_a_terminal():
    from jobkit import Job

    stream = io.StringIO()
    view = ProgressView(stream, tty=True)
    job = Job(job_id="a" * 32, status=JobStatus.RUNNING, owner="x", created_at="", input_key="", progress=0.5,
              message="Scoring the rows")
    view(job)
    view.close()
    line = stream.getvalue()
    assert line.startswith("\raaaaaaaa [") and " 50% RUNNING   Scoring the rows" in line and line.endswith("\n")
    assert line.count("#") * 2 == line.count("#") + line.split("[")[1].split("]")[0].count(".")


def test_wait_draws_a_bar_on_a_terminal(twin, table):
    """Under a real pseudo-terminal the progress is one redrawn line, not a line per change."""
    import pty

    leader, follower = pty.openpty()
    env = {**os.environ, "DEVSTACK_DIR": str(twin.settings.state_dir)}
    child = subprocess.Popen([sys.executable, "-m", "mlproto", "submit", str(table), "--wait"], env=env,
                             cwd=REPO_ROOT, stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    assert child.wait(timeout=60) == 0
    os.close(leader)
    text = seen.decode()
    assert "\r" in text and "[" + "#" * 10 in text and "100% SUCCEEDED" in text
    assert " SUCCEEDED in " in text and "PENDING 0%\n" not in text


def test_verbose_logs_json_lines_on_stderr(twin):
    run = cli(twin, "jobs", "-v", "--limit", "1")
    assert run.code == 0
    lines = [json.loads(line) for line in run.err.splitlines() if line.startswith("{")]
    assert lines and all(line["service"] == "mlproto" for line in lines)


def test_interrupting_wait_exits_130_and_leaves_the_job(twin, table, tmp_path):
    """Ctrl-C (SIGINT) during --wait exits 130, says how to follow the job, and leaves it to run:
    it is not cancelled. The twin's own workers may run it meanwhile; only an interrupt that lands
    after the job ended (exit 0) is tried again, with a new job."""
    import signal

    from mlproto import Client

    found = json.loads((twin.settings.state_dir / "target.json").read_text())
    found["worker"]["max_workers"] = 0  # this command starts no worker of its own
    paused = tmp_path / "paused"
    paused.mkdir()
    (paused / "target.json").write_text(json.dumps(found))
    client = Client.local(paused)
    for attempt in range(3):
        copy = Path(shutil.copy(table, tmp_path / f"interrupted-{attempt}.csv"))
        child = subprocess.Popen([sys.executable, "-m", "mlproto", "submit", str(copy), "--wait", "--json",
                                  "--devstack-dir", str(paused)], cwd=REPO_ROOT, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        submitted = child.stderr.readline()  # "Submitted <job id> (...); waiting for it to finish..."
        assert submitted.startswith("Submitted "), submitted
        job_id = submitted.split()[1]
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=30)
        if child.returncode == 0:  # the job ended before the interrupt landed: nothing was interrupted
            continue
        assert child.returncode == 130, submitted + err
        assert f"the job keeps running: ml-proto status {job_id}" in err
        job = client.status(job_id)
        assert job.status is not JobStatus.CANCELLED and not job.cancelled_by
        return
    pytest.fail("three jobs in a row finished before SIGINT reached the command")


def test_main_puts_logging_back_as_it_was(tmp_path):
    import logging

    root, botocore = logging.getLogger(), logging.getLogger("botocore")
    before = (root.handlers[:], root.level, botocore.level)
    assert main(["jobs", "-v", "--devstack-dir", str(tmp_path)], stdout=io.StringIO(), stderr=io.StringIO()) == 3
    assert (root.handlers[:], root.level, botocore.level) == before
