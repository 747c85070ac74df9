"""Links into the CloudWatch console, where the cloud's log lines are."""

from __future__ import annotations

from urllib.parse import quote


def cloudwatch_url(region: str, log_group: str, mention: str) -> str:
    """The CloudWatch console's view of `log_group`, filtered to lines mentioning `mention`
    (a job id, a Lambda request id)."""

    def console_escape(text: str) -> str:  # the console's fragment encodes '%' as '$'
        return quote(quote(text, safe=""), safe="").replace("%", "$")

    return (f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
            f"#logsV2:log-groups/log-group/{console_escape(log_group)}/log-events"
            f"$3FfilterPattern$3D{console_escape(mention)}")
