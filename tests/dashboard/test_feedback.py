"""Feedback: thumbs on predictions and jobs, attributed to the user, summarised per model version."""

from __future__ import annotations

import json

from dashboard.charts import feedback_chart, summarise_feedback

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
        outputs=[{"id": ids["status"], "property": "children"}, {"id": ids["comment"], "property": "value"},
                 {"id": ids["up"], "property": "className"}, {"id": ids["down"], "property": "className"}],
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
    assert "5 votes in all" in page and "feedback-chart" in page and "note from u5" in page
    assert "100%" in page and "50%" in page
    summary = {s.model_version: (s.up, s.down) for s in summarise_feedback(store.feedback_summary())}
    assert summary == {"v1": (1, 1), "v2": (3, 0)}


def test_one_users_40_thumbs_up_count_once(dash_call, store):
    target = record(store, "iris-7")
    for _ in range(40):
        give(dash_call, "prediction", target, 1)
    assert [(s.up, s.down) for s in summarise_feedback(store.feedback_summary())] == [(1, 0)]
    assert len(store.list_feedback("prediction", target)) == 1
    page = json.dumps(dash_call.call("page.children", [prop("url", "pathname", "/feedback")]))
    assert "1 votes in all" in page


def test_a_second_click_changes_the_vote_and_the_buttons_show_the_choice(dash_call, store):
    target = record(store, "iris-7")
    out = give(dash_call, "prediction", target, 1, "nice")
    key = json.dumps({"kind": "prediction", "target": target, "type": "fb-up"}, separators=(",", ":"))
    assert out[key]["className"] == "thumb up chosen"
    out = give(dash_call, "prediction", target, -1)
    assert out[key]["className"] == "thumb up" and out[key.replace("fb-up", "fb-down")]["className"] == \
        "thumb down chosen"
    assert [(s.up, s.down) for s in summarise_feedback(store.feedback_summary())] == [(0, 1)]
    (vote,) = store.list_feedback("prediction", target)
    assert (vote.rating, vote.comment) == (-1, "nice")  # the earlier comment stays with the changed vote


def test_a_job_page_shows_the_users_current_vote(dash_call, store):
    store.submit(owner="bob", client_token="t", input_bytes=b"a\n1\n")
    job = store.claim("w")
    store.write_result(job, b"a\n1\n", {"charts": []})
    store.complete(job, "seg-2")
    store.add_feedback(target_kind="job", target_id=job.job_id, user="bob", rating=1)  # someone else's vote
    page = json.dumps(dash_call.call("page.children", [prop("url", "pathname", f"/jobs/{job.job_id}")]))
    assert "chosen" not in page
    store.add_feedback(target_kind="job", target_id=job.job_id, user="alice", rating=-1)
    page = json.dumps(dash_call.call("page.children", [prop("url", "pathname", f"/jobs/{job.job_id}")]))
    assert '"thumb down chosen"' in page and '"thumb up"' in page and "Your vote: thumbs down" in page


def test_the_summary_counts_every_vote_not_only_the_newest_thousand(store):
    targets = [record(store, "v1") for _ in range(3)]
    for n in range(1_005):
        store.add_feedback(target_kind="prediction", target_id=targets[n % 3], user=f"u{n}", rating=1 if n % 5 else -1)
    [summary] = summarise_feedback(store.feedback_summary())
    assert (summary.up, summary.down) == (804, 201)


def test_feedback_chart_stacks_up_and_down_per_version():
    rows = [{"model_version": "new", "up": 1, "down": 1, "latest": "3"},
            {"model_version": "old", "up": 1, "down": 0, "latest": "1"},
            {"model_version": "gone", "up": 0, "down": 0, "latest": "0"}]  # every vote on it was changed away
    summary = summarise_feedback(rows)
    assert [s.model_version for s in summary] == ["new", "old"]
    chart = feedback_chart(summary)
    assert chart["layout"]["barmode"] == "stack"
    assert chart["data"][0]["x"] == [1, 1] and chart["data"][1]["x"] == [0, 1]
    legend, axis = chart["layout"]["legend"], chart["layout"]["xaxis"]
    assert legend["x"] > 1 and legend["yanchor"] == "top" and axis["title"]["text"]  # legend beside, title below


def test_empty_feedback_page_says_how_to_give_some(dash_call):
    page = json.dumps(dash_call.call("page.children", [prop("url", "pathname", "/feedback")]))
    assert "No feedback yet" in page


def test_votes_on_a_failed_or_unfinished_job_are_refused_and_not_counted(dash_call, store):
    pending = store.submit(owner="bob", client_token="p", input_bytes=b"a\n1\n")
    store.submit(owner="bob", client_token="f", input_bytes=b"a\n2\n")
    claimed = store.claim("w")
    failed = store.fail(claimed, "broken", retryable=False)
    for job in (failed, pending if pending.job_id != failed.job_id else store.get(pending.job_id)):
        out = json.dumps(give(dash_call, "job", job.job_id, 1))
        assert "could not be saved" in out and "succeeded" in out
    assert store.feedback_summary() == [] and store.list_recent_feedback().items == []


def test_the_summary_counts_voters_as_well_as_votes(dash_call, store):
    targets = [record(store, "v1") for _ in range(20)]
    for target in targets:  # one user voting on 20 of their own predictions
        store.add_feedback(target_kind="prediction", target_id=target, user="alice", rating=1)
    store.add_feedback(target_kind="prediction", target_id=targets[0], user="bob", rating=-1)
    store.add_feedback(target_kind="prediction", target_id=targets[0], user="alice", rating=-1)  # changed: same voter
    (row,) = store.feedback_summary()
    assert (row["up"], row["down"], row["voters"]) == (19, 2, 2)
    page = json.dumps(dash_call.call("page.children", [prop("url", "pathname", "/feedback")]))
    assert '"Voters"' in page and '"num voter-count"' in page
    (shown,) = summarise_feedback(store.feedback_summary())
    assert shown.voters == 2
