# A stand-in for public.ecr.aws/lambda/python:3.12 (make images-test): the Debian stand-in Python
# plus AWS's runtime interface client as the entry point, where the real image runs
# /lambda-entrypoint.sh (its /var/runtime bootstrap, or the Runtime Interface Emulator when no
# AWS_LAMBDA_RUNTIME_API is set). The function code goes to LAMBDA_TASK_ROOT, as there.
ARG PYTHON_BASE=ml-proto-python-stand-in:bookworm
FROM ${PYTHON_BASE}
COPY awslambdaric.txt /tmp/awslambdaric.txt
RUN pip install --no-cache-dir --require-hashes -r /tmp/awslambdaric.txt && rm /tmp/awslambdaric.txt
ENV LAMBDA_TASK_ROOT=/var/task LAMBDA_RUNTIME_DIR=/var/runtime
WORKDIR /var/task
ENTRYPOINT ["python", "-m", "awslambdaric"]
