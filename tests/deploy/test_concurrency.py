"""Lambda concurrency: a stack asking for more reserved/provisioned concurrency than the account
can set aside is refused before `pulumi up`, with the key to change and the number allowed."""

from __future__ import annotations

import dataclasses

import pytest

from components.settings import PredictorSettings
from deploy.concurrency import account_concurrency, concurrency_problem
from tests.deploy.conftest import NewAccountLambda

OFF = PredictorSettings(memory_mb=1024, timeout_seconds=30, provisioned_concurrency=0, reserved_concurrency=-1)


@pytest.mark.parametrize("reserved, provisioned", [(-1, 0), (0, 0)])
def test_no_reservation_fits_any_account(reserved, provisioned):
    asked = dataclasses.replace(OFF, reserved_concurrency=reserved, provisioned_concurrency=provisioned)
    assert concurrency_problem(asked, limit=10, unreserved=10) == ""


def test_a_new_account_with_a_quota_of_10_cannot_reserve_anything():
    problem = concurrency_problem(dataclasses.replace(OFF, reserved_concurrency=2), limit=10, unreserved=10)
    assert problem.startswith("ml-proto:predictorReservedConcurrency: 2 concurrent executions asked")
    assert "quota is 10" in problem and "at most 0" in problem and "to -1 (off)" in problem


def test_provisioned_concurrency_without_a_reservation_comes_out_of_the_unreserved_pool():
    asked = dataclasses.replace(OFF, provisioned_concurrency=5)
    assert "ml-proto:predictorProvisionedConcurrency: 5" in concurrency_problem(asked, limit=10, unreserved=10)
    assert concurrency_problem(asked, limit=1000, unreserved=105) == ""
    assert "at most 4" in concurrency_problem(asked, limit=1000, unreserved=104)


def test_lambda_keeps_100_unreserved_and_a_redeploy_gets_its_own_reservation_back():
    asked = dataclasses.replace(OFF, reserved_concurrency=50)
    assert concurrency_problem(asked, limit=1000, unreserved=150) == ""
    assert "at most 49" in concurrency_problem(asked, limit=1000, unreserved=149)
    # The deployed predictor already holds its 50: they are not in `unreserved` any more.
    assert concurrency_problem(asked, limit=1000, unreserved=100, already_reserved=50) == ""


def test_account_concurrency_reads_the_quota_and_the_unreserved_part():
    assert account_concurrency(NewAccountLambda()) == (10, 10)
