"""Realtime predictions and feedback: the votes on jobs and predictions and the per-version counters.

`PredictionsAndFeedback` is a part of `JobStore` (which mixes it in): it uses the store's `_ddb`,
`_list_kind`, `_expiry`, `clock` and `get`.
"""

from __future__ import annotations

import uuid
from typing import Any

from jobkit import schema
from jobkit.codec import deserialize, serialize
from jobkit.errors import InvalidRequest, PredictionNotFound
from jobkit.records import Feedback, JobStatus, Page, Prediction, utc_now_iso

_MAX_COMMENT = 2000


class PredictionsAndFeedback:
    """The predictions and feedback operations of JobStore."""

    def record_prediction(
        self,
        *,
        owner: str,
        inputs: dict[str, Any],
        output: dict[str, Any],
        model_version: str,
        latency_ms: float,
    ) -> Prediction:
        """Keep a realtime prediction so it can be shown again and get feedback."""
        now = self.clock()
        prediction = Prediction(
            prediction_id=uuid.uuid4().hex,
            owner=owner,
            created_at=utc_now_iso(now),
            model_version=model_version,
            inputs=inputs,
            output=output,
            latency_ms=float(latency_ms),
        )
        item = {
            **schema.prediction_key(prediction.prediction_id),
            "kind": "prediction",
            "expires_at": self._expiry(now),
            **vars(prediction),
        }
        self._ddb("PutItem", {"prediction_id": prediction.prediction_id}, Item=serialize(item))
        return prediction

    def get_prediction(self, prediction_id: str) -> Prediction:
        """The prediction with this id, or PredictionNotFound."""
        response = self._ddb(
            "GetItem",
            {"prediction_id": prediction_id},
            Key=serialize(schema.prediction_key(prediction_id)),
        )
        if "Item" not in response:
            raise PredictionNotFound(f"No prediction {prediction_id}")
        return Prediction.from_item(deserialize(response["Item"]))

    def add_feedback(
        self,
        *,
        target_kind: str,
        target_id: str,
        user: str,
        rating: int,
        comment: str = "",
    ) -> Feedback:
        """Record `user`'s thumbs up (+1) or down (-1) on an existing job or prediction.

        One vote per user per target: a second vote replaces the first (an empty comment keeps the
        earlier one), and the per-version counters move by the difference, so every vote counts
        once. The vote counts for the model version the target itself records (JobNotFound or
        PredictionNotFound if there is no such target), whatever the caller believes that version to be.
        """
        if target_kind not in schema.TARGET_KINDS:
            raise InvalidRequest("Feedback goes on a job or a prediction")
        if rating not in (1, -1):
            raise InvalidRequest("A rating is +1 (thumbs up) or -1 (thumbs down)")
        if not user:
            raise InvalidRequest("Feedback needs a user")
        target = self.get(target_id) if target_kind == "job" else self.get_prediction(target_id)
        if target_kind == "job" and target.status is not JobStatus.SUCCEEDED:
            # Feedback is about a result: a failed or unfinished job has none (and no model version).
            raise InvalidRequest("Only a job that succeeded can get feedback")
        earlier = self.get_vote(target_kind, target_id, user)
        now = self.clock()
        feedback = Feedback(
            target_kind=target_kind,
            target_id=target_id,
            user=user,
            rating=rating,
            comment=str(comment or "")[:_MAX_COMMENT] or (earlier.comment if earlier else ""),
            model_version=target.model_version,
            created_at=utc_now_iso(now),
        )
        context = {"target_id": target_id, "user": user}
        item = {**schema.vote_key(target_kind, target_id, user), "kind": "feedback", **vars(feedback)}
        response = self._ddb("PutItem", context, Item=serialize(item), ReturnValues="ALL_OLD")
        # The replaced vote comes back with the write itself: two racing clicks each see exactly
        # the vote they replaced, so the counters' sum of differences stays right.
        old = deserialize(response["Attributes"]).get("rating") if response.get("Attributes") else None
        up = (rating == 1) - (old == 1)
        down = (rating == -1) - (old == -1)
        voters = self._count_voter(feedback) if old is None else 0
        if up or down:
            self._ddb(
                "UpdateItem",
                context,
                Key=serialize(schema.vote_count_key(feedback.model_version)),
                UpdateExpression="ADD up :up, down :down, voters :voters "
                                 "SET model_version = :version, latest = :latest",
                ExpressionAttributeValues=serialize({":up": up, ":down": down, ":voters": voters,
                                                     ":version": feedback.model_version,
                                                     ":latest": feedback.created_at}),
            )
        return feedback

    def _count_voter(self, feedback: Feedback) -> int:
        """1 when this is the user's first vote for the target's model version, else 0. The atomic
        ADD answers each of two racing first votes with a different count, so one user counts once."""
        response = self._ddb(
            "UpdateItem",
            {"target_id": feedback.target_id, "user": feedback.user},
            Key=serialize(schema.voter_key(feedback.model_version, feedback.user)),
            UpdateExpression="ADD targets :one",
            ExpressionAttributeValues=serialize({":one": 1}),
            ReturnValues="UPDATED_NEW",
        )
        return int(deserialize(response["Attributes"])["targets"] == 1)

    def get_vote(self, target_kind: str, target_id: str, user: str) -> Feedback | None:
        """`user`'s current vote on one job or prediction, or None."""
        response = self._ddb(
            "GetItem",
            {"target_id": target_id, "user": user},
            Key=serialize(schema.vote_key(target_kind, target_id, user)),
        )
        return Feedback.from_item(deserialize(response["Item"])) if "Item" in response else None

    def feedback_summary(self) -> list[dict[str, Any]]:
        """Thumbs up and down per model version, over every vote ever given, and how many people
        gave them (newest version first)."""
        rows = self._query_all({"listing": "feedback-summary"}, KeyConditionExpression="pk = :pk",
                               ExpressionAttributeValues={":pk": {"S": schema.FEEDBACK_SUMMARY}})
        summary = [{"model_version": row.get("model_version", ""), "up": int(row.get("up", 0)),
                    "down": int(row.get("down", 0)), "voters": int(row.get("voters", 0)),
                    "latest": row.get("latest", "")} for row in rows]
        return sorted(summary, key=lambda row: row["latest"], reverse=True)

    def list_feedback(self, target_kind: str, target_id: str) -> list[Feedback]:
        """All feedback on one job or prediction, oldest first (every page of it)."""
        rows = self._query_all(
            {"target_id": target_id},
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": schema.target_pk(target_kind, target_id)},
                                       ":prefix": {"S": schema.VOTE_PREFIX}},
        )
        return [Feedback.from_item(row) for row in rows]

    def _query_all(self, context: dict[str, Any], **kwargs: Any) -> list[dict[str, Any]]:
        """Every item a Query on the table finds, page after page, as plain dicts."""
        rows: list[dict[str, Any]] = []
        start: dict[str, Any] = {}
        while True:
            response = self._ddb("Query", context, **kwargs, **start)
            rows += [deserialize(item) for item in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                return rows
            start = {"ExclusiveStartKey": response["LastEvaluatedKey"]}

    def list_recent_feedback(self, limit: int = 200, page_token: str | None = None) -> Page:
        """Newest feedback first, across every job and prediction."""
        return self._list_kind("feedback", Feedback, limit, page_token)

    def list_recent_predictions(self, limit: int = 50, page_token: str | None = None) -> Page:
        return self._list_kind("prediction", Prediction, limit, page_token)
