"""The callback guard checks each request against its callback's own definition and the types the
callback reads: what a browser sends passes, each forgery of issue 23 gets a 4xx and no stack trace."""

from __future__ import annotations

import json
import logging

import pytest
from dashboard.callback_guard import problem, suite_path_problem

from tests.dashboard.conftest import DashCaller, prop

FIELDS = ["weight", "colour"]
IDS = [{"type": "predict-input", "name": n} for n in FIELDS]
EXAMPLE_KEY = '{"name":["ALL"],"type":"predict-input"}.value'
FEEDBACK_TARGET = "a" * 32


def fill_example(*, examples=None, ids=IDS, values=None, value_ids=IDS, clicked=0, output_ids=IDS):
    """fill_example as the browser posts it (two form fields, one example), with parts replaced."""
    values = [None] * len(value_ids) if values is None else values
    return {
        "output": EXAMPLE_KEY,
        "outputs": [{"id": i, "property": "value"} for i in output_ids],
        "inputs": [[prop({"type": "predict-example", "index": 0}, "n_clicks", 1)]],
        "changedPropIds": [json.dumps({"index": clicked, "type": "predict-example"}, separators=(",", ":"))
                           + ".n_clicks"],
        "state": [prop("predict-example-inputs", "data", [{"weight": 2}] if examples is None else examples),
                  [prop(i, "id", i) for i in ids],
                  [prop(i, "value", v) for i, v in zip(value_ids, values, strict=False)]],
    }


def feedback_key(app):
    return DashCaller(app, None).key_for('"type":"fb-status"}.children')


def vote(app, comment="fine", target=FEEDBACK_TARGET, *, comment_target=None):
    ids = {part: {"type": f"fb-{part}", "kind": "job", "target": target} for part in ("up", "down", "status")}
    ids["comment"] = {"type": "fb-comment", "kind": "job", "target": comment_target or target}
    return {
        "output": feedback_key(app),
        "outputs": [{"id": ids["status"], "property": "children"}, {"id": ids["comment"], "property": "value"},
                    {"id": ids["up"], "property": "className"}, {"id": ids["down"], "property": "className"}],
        "inputs": [prop(ids["up"], "n_clicks", 1), prop(ids["down"], "n_clicks", 0)],
        "changedPropIds": [json.dumps(ids["up"], separators=(",", ":"), sort_keys=True) + ".n_clicks"],
        "state": [prop(ids["comment"], "value", comment)],
    }


def jobs_refresh(app, paging):
    key = DashCaller(app, None).key_for("jobs-grid.rowData")
    return {"output": key,
            "outputs": [dict(zip(("id", "property"), p.rsplit(".", 1), strict=True))
                        for p in key.strip(".").split("...")],
            "inputs": [prop("jobs-refresh", "n_intervals", 1), prop("jobs-older", "n_clicks", 0),
                       prop("jobs-newer", "n_clicks", 0), prop("jobs-changed", "data", None)],
            "changedPropIds": ["jobs-refresh.n_intervals"], "state": [prop("jobs-paging", "data", paging)]}


def forgeries(app):
    """Issue 23's forged callbacks, and their near kin."""
    good = jobs_refresh(app, {"tokens": [None], "index": 0, "next": None})
    return {
        "fill_example with unequal lists": fill_example(values=[1]),
        "fill_example with more values than ids": fill_example(ids=IDS[:1], output_ids=IDS[:1]),
        "fill_example outputs for other fields": fill_example(output_ids=IDS[:1]),
        "fill_example with a non-dict example": fill_example(examples=[5]),
        "fill_example with examples as a dict": fill_example(examples={"0": {"weight": 2}}),
        "fill_example with string ids": fill_example() | {"state": [
            prop("predict-example-inputs", "data", [{"weight": 2}]), [prop(i, "id", "weight") for i in IDS],
            [prop(i, "value", None) for i in IDS]]},
        "fill_example with a string example id": fill_example() | {
            "inputs": [[prop("predict-example", "n_clicks", 1)]]},
        "fill_example triggered by a button it does not have": fill_example(clicked=7),
        "a dict comment": vote(app, {"text": "x"}),
        "a list comment": vote(app, ["x"]),
        "MATCH parts that differ": vote(app, comment_target="b" * 32),
        "jobs-paging null": jobs_refresh(app, None),
        "outputs of another callback": good | {"outputs": [{"id": "page", "property": "children"}] * 6},
        "an output property the callback lacks": good | {"outputs": [
            {"id": "jobs-grid", "property": "style"}, *good["outputs"][1:]]},
        "inputs in the wrong order": good | {"inputs": good["inputs"][::-1]},
        "a missing state entry": good | {"state": []},
        "changedPropIds naming no input": good | {"changedPropIds": ["job-id.data"]},
        "changedPropIds as text": good | {"changedPropIds": "jobs-refresh.n_intervals"},
    }


def test_each_forged_callback_gets_a_4xx_and_no_stack_trace(app, alice, caplog):
    caplog.set_level(logging.INFO)
    answers = {name: alice.post("/_dash-update-component", json=body).status_code
               for name, body in forgeries(app).items()}
    assert {name: code for name, code in answers.items() if code != 400} == {}
    traces = [r.getMessage() for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    assert not traces
    assert any(r.getMessage() == "callback refused" for r in caplog.records)


def test_what_the_browser_sends_passes_the_guard(app):
    assert problem(app, fill_example()) is None
    assert problem(app, vote(app)) is None
    assert problem(app, vote(app, None)) is None
    assert problem(app, jobs_refresh(app, {"tokens": [None], "index": 0, "next": None})) is None
    assert problem(app, jobs_refresh(app, {})) is None  # the load test's first page
    unset = jobs_refresh(app, {})
    del unset["inputs"][3]["value"]  # a store with no data yet: the renderer sends no value at all
    assert problem(app, unset) is None


def test_a_real_example_fill_and_vote_still_work(app, alice, store):
    response = alice.post("/_dash-update-component", json=fill_example())
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    filled = json.loads(response.get_data())["response"]
    assert [filled[json.dumps(i, separators=(",", ":"), sort_keys=True)]["value"] for i in IDS] == [2, None]
    answer = alice.post("/_dash-update-component", json=vote(app))
    assert answer.status_code == 200 and "could not be saved" in answer.get_data(as_text=True)  # no such job


def test_every_callback_states_the_types_it_reads(app):
    from dashboard.callback_guard import VALUE_CHECKS, _name

    read = {f"{_name(spec['id'])}.{spec['property']}" for definition in app.callback_map.values()
            for part in ("inputs", "state") for spec in definition[part] if spec["property"] != "id"}
    assert read - set(VALUE_CHECKS) == set()


@pytest.mark.parametrize("path", ["/_dash-component-suites/dash/..%2f..%2fapp.py",
                                  "/_dash-component-suites/dash/..%2F__init__.py",
                                  "/_dash-component-suites/dash/dcc/%2e%2e/%2e%2e/version.py",
                                  "/_dash-component-suites/dash//etc/passwd",
                                  "/_dash-component-suites/dash/dcc/not-a-file.js"])
def test_a_component_suite_path_that_climbs_out_is_not_found(alice, path, caplog):
    caplog.set_level(logging.INFO)
    response = alice.get(path)
    assert response.status_code == 404
    assert not [r for r in caplog.records if r.exc_info]


def test_dash_own_component_suites_are_still_served(alice):
    assert alice.get("/_dash-component-suites/dash/dcc/dash_core_components.js").status_code == 200
    assert suite_path_problem("/_dash-component-suites/dash/dcc/dash_core_components.js") is None
    assert suite_path_problem("/_dash-component-suites/dash/../x.js") is not None
