"""Sleep when idle, wake on visit: the dashboard's scale-to-zero, as one small zip Lambda.

Plain Python on boto3 only (the Lambda runtime provides it), no Pulumi: `components.sleepwake` is
packaged as the function's code by components/sleep.py.
"""
