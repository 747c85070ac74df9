"""Does the account's Lambda concurrency leave room for the predictor's reserved/provisioned concurrency?

Lambda keeps 100 concurrent executions unreserved for functions without a reservation, and both
reserved and provisioned concurrency come out of the rest (PutFunctionConcurrency and "Configuring
reserved concurrency" in the Lambda docs). A new account's quota can be 10: then nothing can be
reserved at all, and `pulumi up` would fail halfway with "decreases account's
UnreservedConcurrentExecution below its minimum value".
"""

from __future__ import annotations

from typing import Any

from components.settings import NAMESPACE, PredictorSettings

MIN_UNRESERVED = 100


def concurrency_problem(predictor: PredictorSettings, limit: int, unreserved: int, already_reserved: int = 0) -> str:
    """Why the account cannot give the predictor its concurrency settings ('' when it can).

    `limit` and `unreserved` are GetAccountSettings' ConcurrentExecutions and
    UnreservedConcurrentExecutions; `already_reserved` is what this stack's predictor holds today
    (a redeploy gets it back).
    """
    # Provisioned concurrency comes out of a reservation when there is one, else out of the account.
    reserved = predictor.reserved_concurrency >= 0
    wanted = predictor.reserved_concurrency if reserved else predictor.provisioned_concurrency
    if wanted <= 0:
        return ""
    key = "predictorReservedConcurrency" if reserved else "predictorProvisionedConcurrency"
    # Accounts whose whole quota is below 100 must keep all of it unreserved.
    available = max(0, unreserved + already_reserved - min(MIN_UNRESERVED, limit))
    if wanted <= available:
        return ""
    off = "-1" if key == "predictorReservedConcurrency" else "0"
    return (f"{NAMESPACE}:{key}: {wanted} concurrent executions asked, but this account's Lambda concurrency "
            f"quota is {limit} with {unreserved} unreserved, and Lambda keeps {min(MIN_UNRESERVED, limit)} of "
            f"those free, so at most {available} can be set aside. Set {key} to {off} (off) or at most "
            f"{available}, or ask for a higher 'Concurrent executions' quota in Service Quotas.")


def account_concurrency(lambda_client: Any) -> tuple[int, int]:
    """(ConcurrentExecutions, UnreservedConcurrentExecutions) of the account in the client's region."""
    limits = lambda_client.get_account_settings()["AccountLimit"]
    return int(limits["ConcurrentExecutions"]), int(limits["UnreservedConcurrentExecutions"])
