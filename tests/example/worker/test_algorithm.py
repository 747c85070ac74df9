"""The example batch algorithm on real data: it finds the segments make_blobs planted."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from jobkit import JobStore
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from worker import algorithm
from worker.interface import InvalidInput, Result, load_algorithm
from worker.runner import Mode, Outcome
from worker.tabular import read_table

from tests.support import wait_until
from tests.worker.conftest import REPO_ROOT
from tests.worker.test_csv_fuzz import tables
from tests.worker.test_runner import make_worker, submit


def blobs_csv(centers: int, rows: int = 300, seed: int = 7) -> tuple[bytes, np.ndarray]:
    """A CSV with an id column, numeric columns x0.. holding `centers` well-separated blobs (at the
    corners of a simplex, all equally far apart), and a name column; plus the true blob of each row."""
    features = max(3, centers)
    corners = 10.0 * np.eye(features)[:centers]
    points, truth = make_blobs(n_samples=rows, centers=corners, cluster_std=1.0, random_state=seed)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["customer_id", *(f"x{i}" for i in range(features)), "name"])
    for n, point in enumerate(points):
        writer.writerow([f"C{n:04d}", *(f"{value:.5f}" for value in point), f"Name, {n}"])
    return buffer.getvalue().encode(), truth


def run(data: bytes, params: dict | None = None) -> tuple[Result, list[tuple[float, str]]]:
    calls: list[tuple[float, str]] = []
    result = algorithm.run(data, params or {}, lambda fraction, message: calls.append((fraction, message)))
    return result, calls


def output_rows(result: Result) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(result.csv.decode())))


@pytest.mark.parametrize("centers", [3, 5])
def test_it_finds_the_planted_number_of_segments(centers):
    data, truth = blobs_csv(centers)
    result, _ = run(data)
    assert result.summary["metrics"]["segments found"] == centers
    segments = [int(row["segment"]) for row in output_rows(result)]
    assert adjusted_rand_score(truth, segments) > 0.95


def test_output_is_the_input_plus_segment_number_and_name_columns_numbered_by_size():
    data, _ = blobs_csv(4, rows=200)
    result, _ = run(data)
    source = list(csv.reader(io.StringIO(data.decode())))
    output = list(csv.reader(io.StringIO(result.csv.decode())))
    assert output[0] == [*source[0], "segment", "segment_name"]
    assert [row[:-2] for row in output[1:]] == source[1:]  # ids and names carried through untouched
    sizes = np.bincount([int(row[-2]) for row in output[1:]])[1:]
    assert list(sizes) == sorted(sizes, reverse=True)  # segment 1 is the largest
    names = {row[-2]: row[-1] for row in output[1:]}
    assert names == {str(s["number"]): s["name"] for s in result.summary["segments"]}


def test_summary_follows_the_contract_with_plotly_charts():
    data, _ = blobs_csv(3, rows=120)
    result, _ = run(data)
    summary = json.loads(json.dumps(result.summary))  # plain JSON, nothing numpy
    assert summary["model_version"] == algorithm.MODEL_VERSION
    assert summary["rows"] == 120
    metrics = summary["metrics"]
    assert metrics["columns used"] == "x0, x1, x2"
    assert metrics["columns kept, not used"] == "customer_id, name"
    assert 0.5 < metrics["separation"] <= 1
    assert set(summary["explanations"]) == set(metrics)  # every metric is explained in a sentence
    assert all(text.endswith(".") and len(text) < 160 for text in summary["explanations"].values())
    scatter, sizes, silhouette, profile = summary["charts"]
    for chart in summary["charts"]:
        assert set(chart) == {"data", "layout", "explanation"} and chart["layout"]["title"]["text"]
        assert chart["explanation"].endswith(".")
    names = [segment["name"] for segment in summary["segments"]]
    assert [trace["name"] for trace in scatter["data"]] == names and len(set(names)) == 3
    assert sum(len(trace["x"]) for trace in scatter["data"]) == 120
    assert sum(sizes["data"][0]["x"]) == 120 and sizes["data"][0]["y"] == names  # long names fit, horizontally
    assert silhouette["data"][0]["x"] == list(range(2, 9))
    assert silhouette["data"][1]["x"] == [3]  # the chosen k is marked
    assert max(silhouette["data"][0]["y"]) == silhouette["data"][1]["y"][0]
    assert profile["data"][0]["x"] == ["x0", "x1", "x2"] and len(profile["data"][0]["z"]) == 3
    assert profile["data"][0]["y"] == names and profile["layout"]["yaxis"]["automargin"]  # long labels fit


def test_segments_are_named_by_what_sets_them_apart():
    columns = ["annual_spend", "visits_per_month", "tenure"]
    profile = np.array([[1.4, 0.9, 0.1], [-1.2, 0.2, -0.3], [0.1, -0.2, 0.3], [0.1, -0.1, 0.2]])
    assert algorithm.segment_names(columns, profile) == [
        "High annual spend, high visits per month", "Low annual spend",
        "Close to average (3)", "Close to average (4)"]


def test_progress_goes_forward_and_names_each_k():
    data, _ = blobs_csv(3, rows=100)
    _, calls = run(data, {"k_min": 2, "k_max": 5})
    fractions = [fraction for fraction, _ in calls]
    assert fractions == sorted(fractions) and fractions[0] >= 0 and fractions[-1] < 1
    assert [message for _, message in calls if message.startswith("Trying")] == [
        f"Trying {k} segments ({n} of 4)" for n, k in enumerate(range(2, 6), start=1)
    ]


def test_params_set_the_k_range():
    data, _ = blobs_csv(5, rows=200)
    result, _ = run(data, {"k_min": "2", "k_max": 3})
    assert result.summary["metrics"]["segments found"] in (2, 3)
    assert result.summary["charts"][2]["data"][0]["x"] == [2, 3]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"k": 3}, "Unknown parameter(s) 'k'; this job takes k_max, k_min."),
        ({"k_min": 1}, "'Fewest segments' must be between 2 and 12, got 1."),
        ({"k_min": 5, "k_max": 4}, "'Fewest segments' (5) must not be more than 'Most segments' (4)."),
        ({"k_max": 40}, "'Most segments' must be between 2 and 12, got 40."),
        ({"k_max": "many"}, "'Most segments' must be a whole number, got 'many'."),
        ({"k_max": 3.5}, "'Most segments' must be a whole number, got 3.5."),
        ({"k_max": True}, "'Most segments' must be a whole number, got True."),
    ],
)
def test_bad_params_are_refused_before_any_work(params, message):
    calls = []
    with pytest.raises(InvalidInput) as error:
        algorithm.run(b"", params, lambda *args: calls.append(args))
    assert str(error.value) == message
    assert calls == []


def test_rows_too_alike_to_segment_get_a_clear_message():
    data = b"a,b\n" + b"1,2\n" * 8 + b"3,4\n" * 4
    with pytest.raises(InvalidInput, match=r"^The rows are too alike to find 3 segments: only 2 rows differ\.$"):
        run(data, {"k_min": 3})


def test_a_column_named_segment_is_kept_and_the_new_one_gets_another_name():
    data = b"segment,a,b\n" + b"".join(f"s{n},{n % 3},{n % 5}\n".encode() for n in range(30))
    result, _ = run(data)
    header = result.csv.decode().splitlines()[0]
    assert header == "segment,a,b,segment_2,segment_2_name"


def test_the_algorithm_describes_what_it_does_its_input_and_its_params():
    description = load_algorithm("worker.algorithm").description
    assert json.loads(json.dumps(description)) == description  # plain JSON, as published
    assert description["title"] == "Customer segments" and description["description"].endswith(".")
    assert description["model_version"] == algorithm.MODEL_VERSION
    rules = description["input"]
    assert (rules["min_rows"], rules["max_rows"], rules["min_numeric_columns"]) == (10, 100_000, 2)
    k_min, k_max = description["params"]
    assert (k_min["name"], k_min["label"], k_min["type"], k_min["min"], k_min["max"], k_min["default"]) == (
        "k_min", "Fewest segments", "integer", 2, 12, 2)
    assert (k_max["name"], k_max["default"]) == ("k_max", 8)


@pytest.mark.parametrize(("rows", "message"), [
    (b"a,b\n" + b"1,2\n" * 9, "The file has 9 data rows; at least 10 are needed."),
    (b"name,a\n" + b"x,2\n" * 12, "The model needs at least 2 numeric columns; this file has 1 ('a')."),
])
def test_the_description_is_what_run_enforces(rows, message):
    with pytest.raises(InvalidInput) as error:
        run(rows)
    assert str(error.value).startswith(message)


def test_a_worker_publishes_the_description_on_start_and_again_after_a_local_edit(store: JobStore, start_worker,
                                                                                  tmp_path):
    import shutil

    apps = tmp_path / "apps"
    for package in ("worker", "jobkit"):
        shutil.copytree(REPO_ROOT / "apps" / package, apps / package, ignore=shutil.ignore_patterns("__pycache__"))
    assert store.read_description() is None
    worker = start_worker("--drain", PYTHONPATH=f"{apps}:{REPO_ROOT}", WORKER_ALGORITHM="worker.algorithm",
                          WORKER_IDLE_SECONDS="120")
    first = wait_until(store.read_description, timeout=60, what="the description")
    assert first["title"] == "Customer segments" and first["params"][0]["label"] == "Fewest segments"
    source = (apps / "worker" / "algorithm.py").read_text()
    (apps / "worker" / "algorithm.py").write_text(source.replace('TITLE = "Customer segments"',
                                                                 'TITLE = "Edited segments"'))
    edited = wait_until(lambda: (d := store.read_description()) and d["title"] == "Edited segments" and d,
                        timeout=60, what="the edited description")
    assert edited["params"] == first["params"] and worker.popen.poll() is None  # the same worker, restarted


def test_the_real_algorithm_end_to_end_and_bad_data_does_not_stop_the_worker(store):
    csv_bytes, _ = blobs_csv(centers=3, rows=150)
    bad = submit(store, "bad", data=b"a,b\n1,x\n")
    good = submit(store, "good", data=csv_bytes, k_max=5)
    worker = make_worker(store, mode=Mode.DRAIN, algorithm="worker.algorithm", idle_seconds=0)
    assert worker.run() == 0
    assert sorted(worker.outcomes) == sorted([Outcome.FAILED, Outcome.SUCCEEDED])
    assert store.get(bad.job_id).error == "The file has 1 data rows; at least 10 are needed."
    done = store.get(good.job_id)
    summary = store.read_summary(done)
    assert done.model_version == summary["model_version"] == load_algorithm("worker.algorithm").model_version
    assert summary["metrics"]["segments found"] == 3 and len(summary["charts"]) == 4
    result = store.s3.get_object(Bucket=store.settings.bucket, Key=done.result_key)["Body"].read().decode()
    assert result.splitlines()[0] == "customer_id,x0,x1,x2,name,segment,segment_name"
    assert len(result.splitlines()) == 151


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables)
def test_the_algorithm_never_crashes_on_bad_input(data):
    try:
        result = algorithm.run(data, {}, lambda fraction, message: None)
    except InvalidInput as error:
        assert str(error).strip()
    else:
        assert result.csv and result.summary["model_version"] == algorithm.MODEL_VERSION


@pytest.mark.parametrize("data", [b"", b"a,b,c\n" + b"1,2,3\n" * 4, b"id,income,city\n" + b"c1,5,Paris\n" * 12])
def test_the_algorithm_passes_the_readers_message_on(data):
    with pytest.raises(InvalidInput) as read:
        read_table(data, min_rows=algorithm.INPUT.min_rows, min_numeric=algorithm.INPUT.min_numeric_columns)
    with pytest.raises(InvalidInput) as ran:
        algorithm.run(data, {}, lambda *_: None)
    assert str(ran.value) == str(read.value)
