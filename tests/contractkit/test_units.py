"""The kit's parts on their own: step grids, generated records for every field kind, chart rules,
boundary tables, the one-line report, and the line of a declaration."""

from __future__ import annotations

from pathlib import Path

from predictor.interface import Choice, Integer, Number
from worker.interface import Column, TableInput
from worker.tabular import read_table

from contractkit import records, tables
from contractkit.boundary import cases
from contractkit.charts import chart_problem
from contractkit.declarations import on_step
from contractkit.report import fail, ok, user_line
from contractkit.source import Source
from contractkit.workspace import make_workspace
from tests.fixtures.apps import APPS, CLASSIFIER, EVERY_PARAM


def test_the_step_grid_starts_at_min_as_a_browser_number_input_does():
    assert on_step(5.8, 4.0, 0.1) and on_step(0.5, 0.5, 0.5) and on_step(30.0, 0.5, 0.5)
    assert not on_step(2.25, 0.5, 0.5) and not on_step(3, 0, 2)


def test_generated_records_cover_every_boundary_and_choice_and_stay_valid():
    fields = [Number("w", "W", min=0.5, max=30.0, step=0.5, default=2.0), Integer("n", "N", min=0, max=12, default=2),
              Choice("c", "C", choices=("road", "air"), default="road"), Choice("p", "P", choices=(1, 2), default=2)]
    made = [record for _what, record in records.generated(fields)]
    for name, wanted in (("w", {0.5, 30.0}), ("n", {0, 12}), ("c", {"road", "air"}), ("p", {1, 2})):
        assert wanted <= {record[name] for record in made}
    for record in made:
        assert all(field.parse(record[field.name]) == record[field.name] for field in fields)
        assert on_step(record["w"], 0.5, 0.5)
    assert len({tuple(sorted(r.items())) for r in made}) == len(made)  # no record twice


def test_a_subclass_is_checked_as_its_base_and_an_unknown_kind_contributes_its_default():
    class Slider(Number):
        pass

    class Colour:
        name, label, default = "colour", "Colour", "#ffffff"

    made = records.generated([Slider("s", "S", min=0, max=1, step=0.5, default=0.5), Colour()], count=3)
    assert {record["s"] for _what, record in made} == {0.0, 0.5, 1.0}
    assert {record["colour"] for _what, record in made} == {"#ffffff"}


def test_charts_must_be_plotly_json_that_draws_without_webgl():
    assert chart_problem({"data": [{"type": "bar", "x": ["a"], "y": [1]}], "layout": {}}) is None
    assert "WebGL" in chart_problem({"data": [{"type": "scattergl", "x": [1], "y": [1]}]})[0]
    assert "WebGL" in chart_problem({"data": [{"type": "scatter3d", "x": [1], "y": [1], "z": [1]}]})[0]
    assert "not plain JSON" in chart_problem({"data": [{"type": "bar", "y": [float("nan")]}]})[0]
    assert "not plotly JSON" in chart_problem([1, 2])[0]
    assert "plotly refuses" in chart_problem({"data": [{"type": "bar", "colour": "red"}]})[0]


def test_boundary_tables_sit_exactly_at_and_just_past_each_limit():
    spec = TableInput(min_rows=3, max_rows=8, max_columns=5, min_numeric_columns=2,
                      columns=(Column("id", type="text"),))
    made = {case.what: case.data for case in cases(spec)}
    assert len(read_table(made["exactly min_rows (3) rows"], min_rows=1, min_numeric=0).rows) == 3
    assert len(read_table(made["max_rows + 1 (9) rows"], min_rows=1, max_rows=100, min_numeric=0).rows) == 9
    assert len(read_table(made["exactly max_columns (5) columns"], min_rows=1, min_numeric=0).header) == 5
    assert len(read_table(made["max_columns + 1 (6) columns"], min_rows=1, min_numeric=0).header) == 6
    fewer = read_table(made["min_numeric_columns - 1 (1) numeric columns"], min_rows=1, min_numeric=0)
    assert len(fewer.numeric) == 1 and "id" in fewer.header
    assert tables.meeting(spec, rows=100).count(b"\n") == 1 + 8  # clamped to max_rows


def test_a_finding_is_one_line_with_its_place_subject_and_fix():
    line = fail("m.py:3", "predict()", "raised KeyError: 'x'\n on the defaults.", "read only declared fields").line()
    assert line == "FAIL m.py:3 predict(): raised KeyError: 'x' on the defaults. Fix: read only declared fields"
    assert ok("INPUTS well formed").line() == "ok   INPUTS well formed"


def test_an_error_is_placed_at_the_deepest_line_of_user_code(tmp_path: Path):
    user = tmp_path / "model.py"
    user.write_text("def inner(r):\n    return r['x']\n\ndef predict(r):\n    return inner(r)\n")
    namespace: dict = {}
    exec(compile(user.read_text(), str(user), "exec"), namespace)  # noqa: S102 - a file this test wrote
    try:
        namespace["predict"]({})
    except KeyError as error:
        assert user_line(error, {user.resolve(): "shown.py"}) == "shown.py:2"


def test_a_field_is_found_by_its_name_in_the_source():
    source = Source(CLASSIFIER, "classifier.py")
    text = CLASSIFIER.read_text().splitlines()
    assert 'Choice("priority"' in text[source.line_of_call("priority", "INPUTS") - 1]
    assert text[source.line_of("predict") - 1].startswith("def predict")


def test_the_workspace_is_a_copy_of_apps_with_the_pair_and_what_travels_beside_it(tmp_path: Path):
    mine = tmp_path / "mine"
    (mine / "pretrained").mkdir(parents=True)
    (mine / "samples").mkdir()
    (mine / "model.py").write_text(CLASSIFIER.read_text())
    (mine / "algorithm.py").write_text(EVERY_PARAM.read_text())
    (mine / "pretrained" / "weights.txt").write_text("1 2 3")
    (mine / "samples" / "mine.csv").write_text("a\n1\n")
    workspace = make_workspace(mine / "model.py", mine / "algorithm.py", root=tmp_path / "ws")
    assert workspace.model_copy.read_text() == CLASSIFIER.read_text()
    assert workspace.algorithm_copy.read_text() == EVERY_PARAM.read_text()
    assert (workspace.apps / "predictor" / "pretrained" / "weights.txt").read_text() == "1 2 3"
    assert (workspace.apps / "worker" / "samples" / "mine.csv").is_file()
    assert (workspace.apps / "dashboard" / "app.py").is_file() and (workspace.apps / "jobkit").is_dir()
    assert "fixture-classifier-1" not in (APPS / "predictor" / "model.py").read_text()  # apps/ untouched


def test_column_parameters_are_picked_from_each_table_header_as_a_stakeholder_would():
    from worker.interface import ColumnChoice
    from worker.interface import Integer as WorkerInteger

    params = [ColumnChoice("group", "Group by"), ColumnChoice("value", "Add up", type="number"),
              ColumnChoice("name", "Name", type="text"), WorkerInteger("top", "Top", 1, 5, 2)]
    data = b"shop,sales,region\nNorth,10,EU\nSouth,12.5,US\n"
    assert tables.column_params(params, data) == {"group": "shop", "value": "sales", "name": "shop"}
    assert tables.column_params(params, b"a,b\n1,2\n") == {"group": "a", "value": "a"}  # no text column to name
    assert tables.column_params(params, b"\xff\xfe") == {}
