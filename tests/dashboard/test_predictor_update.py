"""The predict form says a new version is being trained while the predictor function's
LastUpdateStatus is InProgress; a status it cannot read is no update, never an error.
(The local Lambda's side, during a real retrain: tests/devstack/test_lambda_update.py.)"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from botocore.exceptions import ClientError
from dashboard.pages import predict
from dashboard.predictor_client import PredictorClient
from dashboard.predictor_update import TRAINING_NOTE, UpdateWatch, watch_for

from tests.dashboard.conftest import predictor_for


class FakeLambda:
    """AWS's GetFunctionConfiguration, scripted: the statuses to answer, one per call."""

    def __init__(self, *statuses: str | Exception) -> None:
        self.statuses = list(statuses)
        self.calls: list[dict[str, Any]] = []

    def get_function_configuration(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        status = self.statuses.pop(0)
        if isinstance(status, Exception):
            raise status
        return {"FunctionName": kwargs["FunctionName"], "State": "Active", "LastUpdateStatus": status}


def test_in_progress_follows_the_functions_last_update_status():
    client = FakeLambda("InProgress", "Successful", "Failed")
    watch = UpdateWatch(client, "fn", ttl=0)
    assert [watch.in_progress() for _ in range(3)] == [True, False, False]
    assert client.calls == [{"FunctionName": "fn"}] * 3


def test_one_read_serves_every_viewer_for_its_ttl():
    client = FakeLambda("InProgress", "Successful")
    watch = UpdateWatch(client, "fn", ttl=60)
    assert all(watch.in_progress() for _ in range(5))
    assert len(client.calls) == 1


def test_a_refused_read_is_no_update():
    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}},
                         "GetFunctionConfiguration")
    assert UpdateWatch(FakeLambda(denied), "fn", ttl=0).in_progress() is False


def test_an_endpoint_without_the_operation_is_no_update(lambda_stub):
    # The stub speaks only the Invoke API, as an endpoint that does not offer this call.
    assert UpdateWatch(predictor_for(lambda_stub).client, "stub-predictor", ttl=0).in_progress() is False


def test_the_form_shows_the_note_only_while_an_update_is_in_progress():
    client = FakeLambda("InProgress", "Successful")
    services = SimpleNamespace(predictor=PredictorClient(client, "fn"))
    watch_for(services.predictor)._cache.ttl = 0
    assert TRAINING_NOTE in str(predict.update_note(services))
    assert predict.update_note(services) is None
    assert watch_for(services.predictor) is watch_for(services.predictor)
