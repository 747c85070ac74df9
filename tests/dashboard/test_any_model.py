"""The dashboard fits any model: every input kind (numeric Choice included), typed outputs beside
the label, charts without WebGL, and a batch form with choices, a column picker and the
algorithm's own samples. Everything here runs on fixtures (tests/fixtures), never the example."""

from __future__ import annotations

import base64
import json

import plotly.utils
import pytest
from dashboard import charts
from dashboard.outputs import typed_output
from worker import charts as worker_charts
from worker.interface import load_algorithm

from tests.dashboard.conftest import prop
from tests.dashboard.lambda_stub import answers_of, fixture_predictor
from tests.fixtures.apps import EVERY_PARAM_MODULE
from tests.fixtures.models import classifier, regressor


def page(dash_call, path="/predict"):
    return json.dumps(dash_call.call("page.children", [prop("url", "pathname", path)]))


def predict(dash_call, module, values):
    """A click on Predict with the form showing `module`'s inputs set to `values`."""
    specs = [field.describe() for field in module.INPUTS]
    names = [spec["name"] for spec in specs]
    ids = [{"type": "predict-input", "name": n} for n in names]
    error_ids = [{"type": "field-error", "name": n} for n in names]
    response = dash_call(
        "predict-result.children", [prop("predict-button", "n_clicks", 1)],
        state=[[prop(i, "value", values.get(i["name"])) for i in ids], [prop(i, "id", i) for i in ids],
               prop("predict-schema", "data", specs), [prop(i, "id", i) for i in error_ids]],
        changed=["predict-button.n_clicks"],
        outputs=[{"id": "predict-result", "property": "children"},
                 [{"id": i, "property": "children"} for i in error_ids],
                 {"id": "predict-message", "property": "children"}],
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    body = json.loads(response.get_data())["response"]
    keys = [json.dumps({"name": n, "type": "field-error"}, separators=(",", ":")) for n in names]
    errors = {n: body[k]["children"] for n, k in zip(names, keys, strict=True) if k in body}
    return body.get("predict-result", {}).get("children"), errors, body.get("predict-message", {}).get("children")


def rendered(component) -> str:
    """A component tree as the JSON the browser receives."""
    return json.dumps(component, cls=plotly.utils.PlotlyJSONEncoder)


def serve(lambda_stub, module):
    lambda_stub.respond = answers_of(fixture_predictor(module))


# --- every input kind -------------------------------------------------------------------------

def test_a_numeric_choice_keeps_its_type_in_the_dropdown_and_is_accepted(dash_call, lambda_stub):
    serve(lambda_stub, classifier)
    text = page(dash_call)
    # The dropdown's value is the number 2 (the describe's default), and each option keeps its type.
    assert '"options": [{"label": "1", "value": 1}, {"label": "2", "value": 2}], "value": 2' in text
    assert '{"label": "road", "value": "road"}' in text
    result, errors, message = predict(dash_call, classifier,
                                      {"weight_kg": 3.5, "stops": 2, "carrier": "air", "priority": 2})
    assert message is None and not any(errors.values()), (errors, message)
    sent = [e for e in lambda_stub.events if e["action"] == "predict"][-1]["inputs"]
    assert sent["priority"] == 2 and isinstance(sent["priority"], int)
    assert "Ships" in json.dumps(result)


def test_the_text_of_a_numeric_choice_from_an_older_form_is_sent_as_the_number(dash_call, lambda_stub):
    serve(lambda_stub, classifier)
    result, errors, message = predict(dash_call, classifier,
                                      {"weight_kg": 3.5, "stops": 2, "carrier": "air", "priority": "1"})
    assert message is None and result is not None
    assert [e for e in lambda_stub.events if e["action"] == "predict"][-1]["inputs"]["priority"] == 1


def test_a_number_off_its_step_is_refused_naming_the_step_before_invoking(dash_call, lambda_stub):
    serve(lambda_stub, classifier)
    _, errors, message = predict(dash_call, classifier,
                                 {"weight_kg": 0.75, "stops": 2, "carrier": "air", "priority": 1})
    assert errors["weight_kg"] == "Must be a multiple of 0.5 from 0.5 (got 0.75)."
    assert "correct" in json.dumps(message)
    assert [e["action"] for e in lambda_stub.events] == []  # the check is the dashboard's, no invoke


# --- typed outputs ----------------------------------------------------------------------------

def test_a_regression_answer_shows_its_number_and_interval_beside_the_label(dash_call, lambda_stub):
    serve(lambda_stub, regressor)
    assert regressor.TITLE in page(dash_call)
    inputs = {"area_m2": 60.0, "rooms": 2, "district": "north", "floor_band": 1}
    result, errors, message = predict(dash_call, regressor, inputs)
    text = json.dumps(result, ensure_ascii=False)
    assert message is None and not any(errors.values())
    rent = 200 + 14 * 60 + 60 * 2 + 40 * 1  # the fixture's coefficients
    assert f"About €{rent:,}" in text  # the label
    assert f'"children": "{rent:,} €", "id": "output-number"' in text
    assert f"between {rent * 0.9:,.0f} € and {rent * 1.1:,.0f} €" in text
    assert "What moved the rent" in text and '"orientation": "h"' in text  # charts.contributions


def test_class_probabilities_show_as_percentages_largest_first():
    shown = rendered(typed_output({"label": "x", "probabilities": {"a": 0.2, "b": 0.8, "c": "n/a"}},
                                  {"kind": "probabilities", "label": "Species"}))
    assert shown.index('"b"') < shown.index('"a"') and "80%" in shown and "20%" in shown and '"c"' not in shown


def test_a_table_output_shows_its_rows_and_anything_unusable_shows_nothing():
    rows = [{"store": "North", "sales": 1200.5}, {"store": "South", "sales": 900, "note": "closed Mondays"}]
    table = rendered(typed_output({"rows": rows}, {"kind": "table", "label": "Nearby stores"}))
    for text in ("Nearby stores", "North", "1,200", "closed Mondays", '"note"'):
        assert text in table
    assert typed_output({"rows": "not rows"}, {"kind": "table"}) is None
    assert typed_output({"value": "n/a"}, {"kind": "number"}) is None
    assert typed_output({"value": 3}, {"kind": "something new"}) is None
    assert typed_output("garbage", {"kind": "number"}) is None


# --- no chart needs WebGL ---------------------------------------------------------------------

def test_webgl_traces_are_drawn_as_their_svg_twins_and_the_worker_never_asks_for_webgl():
    graph = charts.graph({"data": [{"type": "scattergl", "x": [1], "y": [2]}, {"type": "bar", "x": [1]}],
                          "layout": {}})
    assert [trace["type"] for trace in graph.figure["data"]] == ["scatter", "bar"]
    scatter = worker_charts.scatter_groups({"A": ([1.0], [2.0])}, title="t", x_title="x", y_title="y")
    assert {trace["type"] for trace in scatter["data"]} == {"scatter"}
    only_webgl = charts.graph({"data": [{"type": "scatter3d", "x": [1], "y": [1], "z": [1]}], "layout": {}})
    assert "need WebGL" in str(only_webgl.children)  # said in words, not plotly's blank "WebGL is not supported"


# --- the batch form: choices, a column picker, the algorithm's own samples ----------------------

def description():
    return load_algorithm(EVERY_PARAM_MODULE).description


def fill_columns(dash_call, *, contents=None, sample=None, trigger="job-upload.contents", picked=None):
    wraps = [{"type": "batch-column", "name": "rank_by"}]
    ids = [{"type": "batch-param", "name": n} for n in ("top", "scale", "direction", "bands", "rank_by")]
    values = [3, 1.0, "highest", 2, picked]
    return dash_call.call(
        '{"name":["ALL"],"type":"batch-column"}.children',
        [prop("job-upload", "contents", contents), prop("sample-choice", "value", sample)],
        state=[[prop(w, "id", w) for w in wraps], [prop(i, "value", v) for i, v in zip(ids, values, strict=True)],
               [prop(i, "id", i) for i in ids]],
        changed=[trigger], outputs=[[{"id": w, "property": "children"} for w in wraps]],
    )


def picker(out):
    [(_, value)] = out.items()
    return value["children"]["props"]


def test_the_column_picker_offers_the_uploaded_files_numeric_columns(dash_call, store):
    store.publish_description(description())
    data = b"shop,visits,revenue\nA,3,10.5\nB,4,12\nC,1,3\n"
    out = fill_columns(dash_call, contents="data:text/csv;base64," + base64.b64encode(data).decode(),
                       picked="revenue")
    props = picker(out)
    assert [o["value"] for o in props["options"]] == ["visits", "revenue"]  # 'shop' is text: the column wants numbers
    assert props["value"] == "revenue"  # a pick the new file also has is kept


def test_the_column_picker_follows_the_chosen_sample(dash_call, store):
    store.publish_description(description())
    out = fill_columns(dash_call, sample="fixture-scores.csv", trigger="sample-choice.value", picked="nowhere")
    props = picker(out)
    assert [o["value"] for o in props["options"]] == ["weight", "height", "price"]
    assert props["value"] is None  # a pick the sample lacks is cleared


def test_a_sample_declared_beside_the_algorithm_is_offered_and_submitted(dash_call, store):
    store.publish_description(description())
    out = dash_call.call(
        "submit-message.children",
        [prop("job-upload", "contents", None), prop("sample-submit", "n_clicks", 1)],
        state=[prop("job-upload", "filename", None), prop("sample-choice", "value", "fixture-scores.csv"),
               prop("submit-token", "data", "sample-token"),
               [{"id": {"type": "batch-param", "name": n}, "property": "value", "value": v}
                for n, v in (("direction", "lowest"), ("rank_by", "price"))],
               [prop({"type": "batch-param", "name": n}, "id", {"type": "batch-param", "name": n})
                for n in ("direction", "rank_by")],
               prop("job-note", "value", "")],
        changed=["sample-submit.n_clicks"],
    )
    assert "Job submitted" in json.dumps(out["submit-message"]["children"])
    [job] = store.list_recent().items
    assert job.input_name == "fixture-scores.csv" and job.params == {"direction": "lowest", "rank_by": "price"}
    from tests.fixtures.apps import FIXTURES
    shipped = (FIXTURES / "algorithms" / "samples" / "fixture-scores.csv").read_bytes()
    assert store.read_input(job) == shipped


@pytest.mark.parametrize("unpublished", ["another-algorithms-sample.csv", "../samples/fixture-scores.csv",
                                         "FIXTURE-SCORES.CSV"])
def test_only_the_algorithms_published_samples_can_be_run(dash_call, store, unpublished):
    store.publish_description(description())
    out = dash_call.call(
        "submit-message.children",
        [prop("job-upload", "contents", None), prop("sample-submit", "n_clicks", 1)],
        state=[prop("job-upload", "filename", None), prop("sample-choice", "value", unpublished),
               prop("submit-token", "data", "t"), [], [],
               prop("job-note", "value", "")],
        changed=["sample-submit.n_clicks"],
    )
    assert "Please choose one of the samples." in json.dumps(out["submit-message"]["children"])
    assert store.list_recent().items == []


def test_the_smoke_tests_table_from_the_published_rules_is_accepted_with_its_columns_picked(dash_call, store,
                                                                                           alice):
    from bench.dash_calls import find
    from deploy import smoke_input

    store.publish_description(description())
    jobs_page = json.loads(page(dash_call, "/jobs"))
    published = find(jobs_page, "batch-published")["data"]
    assert published["samples"] == ["fixture-scores.csv"] and "item,weight" not in json.dumps(published)
    data = smoke_input.table_from_rules(published["input"])
    _, numeric = smoke_input.header_and_numeric(data)
    output = smoke_input.file_submit_output(alice.get("/_dash-dependencies").get_json())
    assert output and "submit-message.children@" in output
    body = smoke_input.submit_file_body(output, data, "smoke-table.csv", smoke_input.column_params(published, numeric))
    answer = alice.post("/_dash-update-component", json=body).get_json()
    assert answer["response"]["jobs-changed"]["data"]
    [job] = store.list_recent().items
    assert job.params == {"rank_by": "x1"} and job.input_name == "smoke-table.csv"
