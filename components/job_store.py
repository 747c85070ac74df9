"""JobStore component: the DynamoDB job table, built from `jobkit.schema.TABLE`, and the S3 bucket.

The local stack builds its table from the same `TABLE` object, so cloud and laptop cannot drift.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
from jobkit import schema
from jobkit.schema import TableSchema

# The very object the local bootstrap uses; the infra tests assert this identity.
TABLE: TableSchema = schema.TABLE


@dataclass(frozen=True)
class JobStoreArgs:
    """How long job files live and how well the table is protected."""

    result_retention_days: int
    point_in_time_recovery: bool
    deletion_protection: bool
    table_schema: TableSchema = TABLE


class JobStore(pulumi.ComponentResource):
    """DynamoDB table (on-demand, TTL, GSIs) and a private, encrypted S3 bucket for job files."""

    table: aws.dynamodb.Table
    bucket: aws.s3.Bucket

    def __init__(self, name: str, args: JobStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-proto:index:JobStore", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        spec = args.table_schema

        self.table = aws.dynamodb.Table(
            f"{name}-table",
            billing_mode="PAY_PER_REQUEST",
            hash_key=spec.hash_key,
            range_key=spec.range_key,
            attributes=[aws.dynamodb.TableAttributeArgs(name=attr, type=kind)
                        for attr, kind in spec.attributes.items()],
            global_secondary_indexes=[
                aws.dynamodb.TableGlobalSecondaryIndexArgs(
                    name=index.name,
                    key_schemas=[
                        aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(attribute_name=index.hash_key,
                                                                            key_type="HASH"),
                        aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(attribute_name=index.range_key,
                                                                            key_type="RANGE"),
                    ],
                    projection_type="ALL",
                )
                for index in spec.indexes
            ],
            ttl=aws.dynamodb.TableTtlArgs(attribute_name=spec.ttl_attribute, enabled=True),
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(
                enabled=args.point_in_time_recovery),
            deletion_protection_enabled=args.deletion_protection,
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
            opts=child,
        )

        # Without deletion protection `pulumi destroy` empties the bucket; with it, a bucket that
        # still holds job files stops the destroy instead of losing them.
        self.bucket = aws.s3.Bucket(f"{name}-bucket", force_destroy=not args.deletion_protection, opts=child)
        bucket_child = pulumi.ResourceOptions(parent=self.bucket)

        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=bucket_child,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=self.bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=bucket_child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.
                BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256"),
                bucket_key_enabled=True,
            )],
            opts=bucket_child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-job-files",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=schema.JOBS_PREFIX),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                        days=args.result_retention_days),
                ),
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="abort-incomplete-uploads",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    abort_incomplete_multipart_upload=aws.s3.
                    BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(days_after_initiation=1),
                ),
            ],
            opts=bucket_child,
        )
        aws.s3.BucketPolicy(
            f"{name}-tls-only",
            bucket=self.bucket.id,
            policy=self.bucket.arn.apply(_deny_insecure_transport),
            # S3 refuses some policy writes while the public access block is being applied.
            opts=pulumi.ResourceOptions(parent=self.bucket, depends_on=[public_access]),
        )

        self.register_outputs({
            "tableName": self.table.name,
            "tableArn": self.table.arn,
            "bucketName": self.bucket.bucket,
            "bucketArn": self.bucket.arn,
        })


def _deny_insecure_transport(bucket_arn: str) -> str:
    """A bucket policy refusing every request that is not made over TLS."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }],
    })
