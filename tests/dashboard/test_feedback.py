"""Feedback: thumbs on predictions and jobs, attributed to the user, summarised per model version."""

from __future__ import annotations

import json

from dashboard.charts import feedback_chart, summarise_feedback
from dashboard.services import FEEDBACK_MAX_PAGES, FEEDBACK_PAGE

from tests.dashboard.conftest import prop


def give(dash_call, kind, target, rating, comment=""):
    ids = {part: {"type": f"fb-{part}", "kind": kind, "target": target} for part in
           ("up", "down", "comment", "status")}
    return dash_call.call(
        json.dumps(ids["status"], separators=(",", ":"), sort_keys=True).replace(
            f'"{kind}"', '["MATCH"]').replace(f'"{target}"', '["MATCH"]') + ".children",
        [prop(ids["up"], "n_clicks", 1 if rating > 0 else 0), prop(ids["down"], "n_clicks", 1 if rating < 0 else 0)],
        state=[prop(ids["comment"], "value", comment)],
        changed=[json.dumps(ids["up" if rating > 0 else "down"], separators=(",", ":"), sort_keys=True)
                 + ".n_clicks"],
        outputs=[{"id": ids["status"], "property": "children"}, {"id": ids["comment"], "property": "value"}],
    )


def test_thumbs_are_recorded_for_the_signed_in_user_with_the_jobs_model_version(dash_call, store):
    store.submit(owner="bob", client_token="t", input_bytes=b"a\n1\n")
    job = store.claim("w")
    store.write_result(job, b"a\n1\n", {"charts": []})
    store.complete(job, "seg-2")
    # The page may have opened while the job ran, before it had a model version: the store knows it now.
    out = give(dash_call, "job", job.job_id, -1, "segments look off")
    assert "thumbs down was recorded" in json.dumps(out)
    (feedback,) = store.list_feedback("job", job.job_id)
    assert (feedback.user, feedback.rating, feedback.comment, feedback.model_version) == \
        ("alice", -1, "segments look off", "seg-2")


def record(store, version):
    return store.record_prediction(owner="alice", inputs={"x": 1}, output={"label": "a"},
                                   model_version=version, latency_ms=1.0).prediction_id


def test_feedback_counts_for_the_predictions_own_model_version_and_needs_a_real_target(dash_call, store):
    out = give(dash_call, "prediction", record(store, "iris-7"), 1)
    assert "thumbs up was recorded" in json.dumps(out)
    (feedback,) = store.list_recent_feedback().items
    assert (feedback.user, feedback.model_version) == ("alice", "iris-7")
    out = json.dumps(give(dash_call, "prediction", "b" * 32, 1))  # no such prediction
    assert "could not be saved" in out and "No prediction" in out
    assert len(store.list_recent_feedback().items) == 1


def test_feedback_page_summarises_per_model_version(dash_call, store):
    targets = {"v1": record(store, "v1"), "v2": record(store, "v2")}
    for user, rating, version in [("u1", 1, "v1"), ("u2", -1, "v1"), ("u3", 1, "v2"), ("u4", 1, "v2"),
                                  ("u5", 1, "v2")]:
        store.add_feedback(target_kind="prediction", target_id=targets[version], user=user, rating=rating,
                           comment=f"note from {user}")
    page = json.dumps(dash_call.call("page.children", [prop("url", "pathname", "/feedback")]))
    assert "5 feedback entries in all" in page and "feedback-chart" in page and "note from u5" in page
    assert "100%" in page and "50%" in page
    summary = {s.model_version: (s.up, s.down) for s in summarise_feedback(store.list_recent_feedback().items)}
    assert summary == {"v1": (1, 1), "v2": (3, 0)}


def test_feedback_summary_reads_a_bounded_number_of_pages(app, store):
    calls = []
    store.dynamodb.meta.events.register("provide-client-params.dynamodb.Query",
                                        lambda params, **kw: calls.append(dict(params)))
    app.services.recent_feedback()
    assert len(calls) == 1 and calls[0]["Limit"] == FEEDBACK_PAGE
    assert FEEDBACK_PAGE * FEEDBACK_MAX_PAGES <= 1000


def test_feedback_chart_stacks_up_and_down_per_version():
    class Item:
        def __init__(self, version, rating, when):
            self.model_version, self.rating, self.created_at = version, rating, when

    summary = summarise_feedback([Item("old", 1, "1"), Item("new", -1, "3"), Item("new", 1, "2")])
    assert [s.model_version for s in summary] == ["new", "old"]
    chart = feedback_chart(summary)
    assert chart["layout"]["barmode"] == "stack"
    assert chart["data"][0]["x"] == [1, 1] and chart["data"][1]["x"] == [0, 1]


def test_empty_feedback_page_says_how_to_give_some(dash_call):
    page = json.dumps(dash_call.call("page.children", [prop("url", "pathname", "/feedback")]))
    assert "No feedback yet" in page
