"""The worker's chart helpers escape every string they are given: plotly draws text as HTML."""

from __future__ import annotations

import json

from worker import charts

LINK = '<a href="https://evil.example">x</a>'


def test_labels_names_and_titles_from_the_data_are_escaped():
    made = [
        charts.bars([LINK, "b"], [1, 2], title=LINK, x_title=LINK, y_title="n"),
        charts.bars([LINK], [1], title="t", x_title="x", y_title="y", horizontal=True),
        charts.scatter_groups({LINK: ([1.0], [2.0])}, title="t", x_title=LINK, y_title="y"),
        charts.heatmap([[0.5]], [LINK], ["<b>seg</b>"], title="t", colorbar=LINK),
        charts.line_with_pick([1, 2], [0.5, 0.7], 2, title="t", x_title=LINK, y_title=LINK),
    ]
    for chart in made:
        text = json.dumps({k: v for k, v in chart.items() if k != "hovertemplate"})
        assert "<a " not in text and "<b>" not in text, text
        assert "&lt;a href=" in text or "&lt;b&gt;" in text
    assert made[0]["data"][0]["x"] == ['&lt;a href="https://evil.example"&gt;x&lt;/a&gt;', "b"]
    assert made[3]["data"][0]["hovertemplate"].startswith("%{y}<br>")  # its own markup stays
    assert charts.plain(3) == 3 and charts.plain("a & b") == "a &amp; b"
