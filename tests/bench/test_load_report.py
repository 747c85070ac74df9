"""The load benchmark's bookkeeping, without a stack: Server-Timing parsing and summaries, the
regression check's reference and ratios, BENCHMARKS.md keeping the sections a run did not
measure, and the profile's sorting of py-spy samples."""

from __future__ import annotations

import subprocess

import pytest

from bench import profile, regression, server_timing
from bench.report import Section, write


def test_server_timing_is_parsed_and_summarized_per_request_and_in_all():
    assert server_timing.parse("dynamodb;dur=3.5, s3;dur=1, total;dur=10.25, junk, x;dur=y") == {
        "dynamodb": 3.5, "s3": 1.0, "total": 10.25}
    summary = server_timing.summarize({
        "log in": [{"dynamodb": 8.0, "total": 10.0}, {"dynamodb": 2.0, "total": 4.0}],
        "poll": [{"total": 2.0}],
    })
    assert summary["log in"]["aws_share"] == pytest.approx(10 / 14)
    assert summary["poll"]["aws_p50"] == 0 and summary["poll"]["app_p50"] == 2.0
    assert summary["Aggregated"]["aws_share"] == pytest.approx(10 / 16)


def test_the_reference_is_the_commit_the_previous_load_section_names(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    assert regression.previous_commit(path) is None
    path.write_text("# Benchmarks\n\nProduced by `make bench` on x, commit abc1234.\n\n## 3. Other\n\nhi\n")
    assert regression.previous_commit(path) == "abc1234"  # the header's, when the section names none
    path.write_text(path.read_text() + "\n## 4. Load\n\nMeasured at commit def5678.\n\n| a |\n")
    assert regression.previous_commit(path) == "def5678"


def test_a_ratio_past_the_limit_is_flagged_and_so_is_any_error():
    reference = [{"name": "Aggregated", "p95": 400.0, "errors": 0}, {"name": "log in", "p95": 100.0}]
    same = [{"name": "Aggregated", "p95": 440.0, "errors": 0}, {"name": "log in", "p95": 120.0}]
    assert "no regression" in regression.verdict(regression.compare(same, reference), 200)
    slower = [{"name": "Aggregated", "p95": 520.0, "errors": 0}, {"name": "log in", "p95": 100.0}]
    line = regression.verdict(regression.compare(slower, reference), 200)
    assert "REGRESSION" in line and "Aggregated p95 x1.30" in line
    failing = [{"name": "Aggregated", "p95": 400.0, "errors": 3}, {"name": "log in", "p95": 100.0}]
    assert "errors 3" in regression.verdict(regression.compare(failing, reference), 100)


def test_the_reference_apps_come_from_git(tmp_path):
    root = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True).stdout.strip()
    assert regression.short_commit("HEAD", root) in subprocess.run(
        ["git", "log", "-1", "--format=%H"], capture_output=True, text=True).stdout
    apps = regression.export_apps("HEAD", tmp_path, root)
    assert (apps / "dashboard" / "app.py").exists()
    with pytest.raises(subprocess.CalledProcessError):
        regression.export_apps("0" * 40, tmp_path, root)


def test_a_partial_run_keeps_the_other_sections(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    write(path, "make bench", [Section("1. One", "first", [("a", "a")], [{"a": 1}]),
                                Section("4. Load", "old load", [("a", "a")], [{"a": 2}])])
    write(path, "python -m bench --only load", [Section("4. Load", "new load", [("a", "a")], [{"a": 3}])])
    text = path.read_text()
    assert "first" in text and "new load" in text and "old load" not in text
    assert text.index("## 1. One") < text.index("## 4. Load")
    assert "sections 4; the others are from earlier runs" in text


def test_profile_samples_are_sorted_by_process_and_part():
    gunicorn = 'process 1:"python -m bench";process 2:"python -m gunicorn dashboard.app:server"'
    bench = 'process 1:"python -m bench --only load"'
    lines = [
        f"{gunicorn};sign_in (dashboard/auth.py:1);attempt (jobkit/login_throttle.py:2);"
        "_make_api_call (botocore/client.py:3) 7",
        f"{gunicorn};full_dispatch (flask/app.py:1);protect (flask_wtf/csrf.py:9) 2",
        f"{gunicorn};run (gunicorn/workers/gthread.py:1);select (selectors.py:415) 50",
        f"{gunicorn};Thread.run (threading.py:982);_worker (concurrent/futures/thread.py:81) 30",
        f"{bench};__call__ (devstack/local_aws.py:80);TrafficMiddleware._forward (devstack/local_aws.py:94) 4",
        f"{bench};__call__ (devstack/strict_aws.py:155);get_item (moto/dynamodb/models/table.py:1) 3",
        f"{bench};__call__ (devstack/strict_aws.py:155);loads (json/decoder.py:1) 1",
        f'{gunicorn};process 3:"python -m worker --drain";fit (sklearn/cluster/_kmeans.py:1) 9',
        f'{bench};process 4:"python -m awslambdaric predictor.handler.handler";predict (predictor/model.py:1) 6',
        'process 1:"";get_item (moto/dynamodb/models/table.py:1) 2',  # py-spy could not read the root's command
    ]
    samples = profile.parse_raw(lines)
    assert samples[("dashboard", "login throttle")] == 7  # the throttle's own store calls included
    assert samples[("dashboard", "CSRF check")] == 2
    assert samples[("dashboard", profile.WAITING)] == 80  # an idle pool thread is waiting, not computing
    assert samples[("local AWS", "waiting for the one-DynamoDB-call-at-a-time lock")] == 4
    assert samples[("local AWS", "moto DynamoDB")] == 5
    assert samples[("local AWS", "strict layer (its own checks)")] == 1
    assert samples[("other", "batch workers (the jobs' own computing, at nice 10)")] == 9  # one the dashboard started
    assert samples[("other", "predictor instances (the model)")] == 6
    rows = {row["part"]: row for row in profile.breakdown(samples, rate=100, requests=10)}
    assert rows["login throttle"]["ms_per_request"] == pytest.approx(7.0)


def test_before_and_after_are_set_side_by_side_with_shares_of_each_process():
    before = [{"process": "dashboard", "part": "login throttle", "ms_per_request": 3.0},
              {"process": "dashboard", "part": "Flask, werkzeug, gunicorn", "ms_per_request": 9.0},
              {"process": "dashboard", "part": profile.WAITING, "ms_per_request": 50.0}]
    after = [{"process": "dashboard", "part": "login throttle", "ms_per_request": 1.0},
             {"process": "dashboard", "part": "Flask, werkzeug, gunicorn", "ms_per_request": 9.0}]
    rows = {row["part"]: row for row in profile.side_by_side(before, after)}
    assert rows["login throttle"]["before_share"] == "25.0%" and rows["login throttle"]["after_share"] == "10.0%"
    assert rows[profile.WAITING]["after_ms"] == 0.0 and "before_share" not in rows[profile.WAITING]
