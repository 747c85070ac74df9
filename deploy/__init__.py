"""Deploy ml-proto to AWS: pre-flight checks, `pulumi up`/`destroy` and the cloud acceptance test."""
