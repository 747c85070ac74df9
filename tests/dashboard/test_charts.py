"""Chart text taken from the data is shown as text, never as plotly's HTML subset."""

from __future__ import annotations

import json

from dashboard.charts import as_text, feedback_chart, graph, summarise_feedback, text_only

LINK = '<a href="https://evil.example">click</a>'


def test_markup_in_a_chart_description_reaches_the_browser_escaped():
    chart = {"data": [{"type": "bar", "x": [LINK, "plain"], "y": [1, 2], "name": "<b>bold</b>",
                       "text": ["<br>"], "hovertemplate": "%{x}<br>%{y}<extra></extra>"}],
             "layout": {"title": {"text": "Rows by <i>column</i>"}, "xaxis": {"title": {"text": LINK}}}}
    figure = json.loads(json.dumps(graph(chart).figure))
    shown = json.dumps(figure)
    assert "<a" not in shown and "<b>" not in shown and "<i>" not in shown
    assert figure["data"][0]["x"][0] == "&lt;a href=\"https://evil.example\"&gt;click&lt;/a&gt;"
    assert figure["data"][0]["hovertemplate"] == "%{x}<br>%{y}<extra></extra>"  # the code's own markup stays


def test_escaping_twice_changes_nothing_and_plain_ampersands_are_escaped():
    assert as_text("Tom & Jerry <3") == "Tom &amp; Jerry &lt;3"
    assert as_text(as_text("Tom & Jerry <3")) == as_text("Tom & Jerry <3")  # the worker escaped it already
    assert text_only({"a": ["x&lt;y", 1, None]}) == {"a": ["x&lt;y", 1, None]}


def test_a_model_version_with_markup_is_escaped_in_the_feedback_chart():
    summary = summarise_feedback([{"model_version": "<a href=x>v1</a>", "up": 1, "down": 0, "voters": 1}])
    shown = json.dumps(graph(feedback_chart(summary)).figure)
    assert "<a" not in shown and "&lt;a href=x&gt;v1&lt;/a&gt;" in shown
