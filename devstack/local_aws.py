"""The embedded local AWS: moto's server in this process, with the table and bucket created
from the job contract's own definitions (the same objects the Pulumi JobStore uses)."""

from __future__ import annotations

import logging
from typing import Any

import boto3
from botocore.exceptions import ClientError
from jobkit.schema import TABLE
from moto.server import ThreadedMotoServer

log = logging.getLogger("devstack.aws")

# Moto answers any key pair; these exist only so boto3 signs requests to the local server.
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}


def start_moto(host: str, port: int) -> ThreadedMotoServer:
    """Start moto's server on host:port in a background thread (quietly) and return it."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    return server


def local_client(service: str, endpoint: str, region: str) -> Any:
    return boto3.session.Session(
        aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    ).client(service, endpoint_url=endpoint, region_name=region)


def bootstrap(endpoint: str, region: str, table: str, bucket: str) -> dict[str, Any]:
    """Create the jobs table (from jobkit.schema.TABLE) and the bucket; safe to call twice.

    Returns the create_table arguments used, so tests can compare them with the cloud's.
    """
    dynamodb = local_client("dynamodb", endpoint, region)
    kwargs = TABLE.create_table_kwargs(table)
    try:
        dynamodb.create_table(**kwargs)
        dynamodb.update_time_to_live(
            TableName=table,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": TABLE.ttl_attribute},
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceInUseException":
            raise
    s3 = local_client("s3", endpoint, region)
    try:
        s3.create_bucket(Bucket=bucket)
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    log.info("local table and bucket ready", extra={"table": table, "bucket": bucket})
    return kwargs
