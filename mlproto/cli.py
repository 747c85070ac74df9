"""`ml-proto`: predictions and batch jobs from a shell, over `mlproto.Client`.

    ml-proto predict NAME=VALUE ...            one prediction (or --file records.csv|.json for many)
    ml-proto submit FILE [--param NAME=VALUE ...] [--note TEXT] [--wait]
    ml-proto status JOB | fetch JOB -o DIR | jobs | cancel JOB | describe

The target is `--local` (the running `make dev`, the default) or `--stack NAME` (a deployed
Pulumi stack; AWS credentials from the environment). `--json` prints one JSON document on
stdout for scripts. Exit codes: 0 done; 1 the job failed or was cancelled; 2 bad usage or
refused input (a bad field, a refused file, an unknown job); 3 the target is not found or does
not answer; 130 interrupted (the job keeps running).
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

from jobkit import Job, logs

from mlproto.checks import parse_value
from mlproto.client import DESCRIPTION_WAIT_SECONDS, Client
from mlproto.errors import BadInput, ClientError, JobFailed, RefusedFile
from mlproto.progress import ProgressView
from mlproto.targets import Target

OK, JOB_FAILED, USAGE, UNREACHABLE, INTERRUPTED = 0, 1, 2, 3, 130
NOISY_LOGGERS = ("botocore", "boto3", "urllib3", "werkzeug")  # the loggers jobkit.logs.configure quietens


def _pairs(values: Sequence[str] | None, what: str) -> dict[str, Any]:
    pairs = {}
    for item in values or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise BadInput(f"{what} {item!r} is not NAME=VALUE.")
        pairs[name.strip()] = parse_value(value)
    return pairs


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    where = common.add_mutually_exclusive_group()
    where.add_argument("--local", action="store_true", default=argparse.SUPPRESS,
                       help="the running `make dev` (default), found from .devstack/")
    where.add_argument("--stack", metavar="NAME", default=argparse.SUPPRESS,
                       help="a deployed Pulumi stack (its outputs; AWS credentials from the environment)")
    common.add_argument("--devstack-dir", metavar="DIR", default=argparse.SUPPRESS,
                        help="the local stack's state folder (default: DEVSTACK_DIR or .devstack/)")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print one JSON document on stdout")
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="JSON log lines on stderr")

    top = argparse.ArgumentParser(prog="ml-proto", parents=[common], description=__doc__.split("\n\n")[0],
                                  epilog="Exit codes: 0 done, 1 job failed or cancelled, 2 bad usage or refused "
                                         "input, 3 target not found or unreachable.")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    predict = commands.add_parser("predict", parents=[common], help="predict one record, or many from a file")
    predict.add_argument("inputs", nargs="*", metavar="NAME=VALUE", help="the record's inputs")
    predict.add_argument("--file", type=Path, help="many records: a CSV with a header row, or a JSON list")
    predict.add_argument("--example", type=int, metavar="N", help="the model's N-th example (from 1)")

    submit = commands.add_parser("submit", parents=[common], help="submit a CSV file as a batch job")
    submit.add_argument("file", type=Path)
    submit.add_argument("--param", action="append", metavar="NAME=VALUE", help="a job parameter (repeatable)")
    submit.add_argument("--note", default="", help="a name or note for the job")
    submit.add_argument("--token", help="a client token: the same token submits one job only")
    submit.add_argument("--wait", action="store_true", help="watch the job until it ends")

    for name, text in (("status", "a job's status"), ("cancel", "cancel a pending or running job")):
        command = commands.add_parser(name, parents=[common], help=text)
        command.add_argument("job")
    fetch = commands.add_parser("fetch", parents=[common], help="download a finished job's result and summary")
    fetch.add_argument("job")
    fetch.add_argument("-o", "--output", type=Path, default=Path("."), metavar="DIR")
    jobs = commands.add_parser("jobs", parents=[common], help="the newest jobs")
    jobs.add_argument("--limit", type=int, default=20)
    commands.add_parser("describe", parents=[common], help="what the model and the batch job need")
    return top


def target_for(args: argparse.Namespace) -> Target:
    if getattr(args, "stack", None):
        return Target.stack(args.stack)
    return Target.local(getattr(args, "devstack_dir", None))


def job_json(job: Job) -> dict[str, Any]:
    data = asdict(job)
    data["status"] = job.status.value
    return data


def job_line(job: Job) -> str:
    detail = job.error or job.message
    return (f"{job.job_id}  {job.status.value:<9} {job.progress:4.0%}  {job.input_name}"
            + (f"  ({job.note})" if job.note else "") + (f"  {detail}" if detail else ""))


def records_from(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise RefusedFile(f"{path} cannot be read: {error}.", str(path)) from None
    if path.suffix.lower() in (".json", ".jsonl"):
        try:
            loaded = [json.loads(line) for line in text.splitlines() if line.strip()] \
                if path.suffix.lower() == ".jsonl" else json.loads(text)
        except ValueError as error:
            raise RefusedFile(f"{path} is not valid JSON: {error}.", str(path)) from None
        records = loaded if isinstance(loaded, list) else [loaded]
    else:
        records = [{k: parse_value(v) for k, v in row.items()} for row in csv.DictReader(text.splitlines())]
    if not records:
        raise RefusedFile(f"{path} holds no records.", str(path))
    return records


class Output:
    """Human lines on stdout, or one JSON document when --json."""

    def __init__(self, as_json: bool, out: IO[str]) -> None:
        self.as_json, self.out = as_json, out

    def show(self, document: Any, text: str) -> None:
        self.out.write((json.dumps(document, indent=2, default=str) if self.as_json else text) + "\n")


def run(args: argparse.Namespace, client: Client, out: Output, err: IO[str]) -> int:
    command = args.command
    if command == "predict":
        if args.example is not None:
            examples = client.describe().get("examples") or []
            if not 1 <= args.example <= len(examples):
                raise BadInput(f"The model has {len(examples)} examples; --example takes 1 to {len(examples)}.")
            record = dict(examples[args.example - 1].get("inputs") or {})
            record.update(_pairs(args.inputs, "Input"))
        elif args.file is not None:
            answers = client.predict(records_from(args.file))
            lines = "\n".join(f"{n}: {a.label}" for n, a in enumerate(answers))
            out.show([a.as_dict() for a in answers], f"{lines}\n(model {answers[0].model_version})")
            return OK
        else:
            record = _pairs(args.inputs, "Input")
            if not record:
                fields = ", ".join(f"{i['name']}" for i in client.describe().get("inputs", []))
                raise BadInput(f"Give the inputs as NAME=VALUE (this model takes: {fields}), or --example N.")
        answer = client.predict(record)
        details = "".join(f"\n  {k}: {v}" for k, v in answer.details.items()) if answer.details else ""
        out.show(answer.as_dict(), f"{answer.label}  (model {answer.model_version}, {answer.latency_ms:.0f} ms)"
                 + details)
        return OK
    if command == "submit":
        params = _pairs(args.param, "Parameter")
        job = client.submit(args.file, params, note=args.note, token=args.token)
        if not args.wait:
            out.show(job_json(job), f"Submitted {job.job_id} ({job.input_name}). "
                     f"Watch it: ml-proto status {job.job_id}")
            return OK
        view = None
        try:  # from here on an interrupt leaves a submitted job running, and says how to follow it
            err.write(f"Submitted {job.job_id} ({job.input_name}); waiting for it to finish...\n")
            view = ProgressView(err)
            job = client.watch(job.job_id, view)
        except KeyboardInterrupt:
            if view is not None:
                view.close()
            err.write(f"Stopped watching; the job keeps running: ml-proto status {job.job_id}\n")
            return INTERRUPTED
        except JobFailed:
            view.close()
            raise
        view.close()
        out.show(job_json(job), f"{job.job_id} SUCCEEDED in {job.duration_seconds or 0:.1f}s. "
                 f"Fetch it: ml-proto fetch {job.job_id} -o DIR")
        return OK
    if command == "status":
        job = client.status(args.job)
        out.show(job_json(job), job_line(job))
        return OK if job.status.value in ("PENDING", "RUNNING", "SUCCEEDED") else JOB_FAILED
    if command == "fetch":
        fetched = client.fetch(args.job, args.output)
        out.show({"job_id": fetched.job.job_id, "result": str(fetched.result_path),
                  "summary_file": str(fetched.summary_path), "summary": fetched.summary},
                 f"{fetched.result_path}\n{fetched.summary_path}\n"
                 + "  ".join(f"{k}={v}" for k, v in (fetched.summary.get("metrics") or {}).items()))
        return OK
    if command == "jobs":
        page = client.jobs(limit=args.limit)
        out.show([job_json(j) for j in page.items], "\n".join(job_line(j) for j in page.items) or "No jobs yet.")
        return OK
    if command == "cancel":
        job = client.cancel(args.job)
        out.show(job_json(job), f"Cancelled {job.job_id}.")
        return OK
    if command == "describe":
        # As the batch page does: when no worker has described the job yet, start one and wait for it.
        model, batch = client.describe(), client.batch_description(wait=DESCRIPTION_WAIT_SECONDS)
        out.show({"model": model, "batch": batch},
                 f"Model: {model.get('title')} ({model.get('model_version')}); inputs: "
                 + ", ".join(i["name"] for i in model.get("inputs", []))
                 + (f"\nBatch: {batch.get('title')}; params: " + ", ".join(p["name"] for p in batch.get("params", []))
                    if batch else "\nBatch: no worker has described the batch job yet."))
        return OK
    raise AssertionError(command)


def main(argv: Sequence[str] | None = None, stdout: IO[str] | None = None, stderr: IO[str] | None = None) -> int:
    """Run one command; returns its exit code (0, 1, 2, 3 or 130: see the module's docstring)."""
    out_stream, err = stdout or sys.stdout, stderr or sys.stderr
    try:
        args = parser().parse_args(argv)
    except SystemExit as exit_:  # argparse printed its usage message
        return int(exit_.code or 0)
    as_json = bool(getattr(args, "json", False))
    # Logging is put back as it was on return: main() may run inside a notebook or a test.
    loggers = [logging.getLogger(name) for name in ("", *NOISY_LOGGERS)]
    saved = [(logger, logger.handlers[:], logger.level) for logger in loggers]
    logs.configure("mlproto", level="INFO" if getattr(args, "verbose", False) else
                   os.environ.get("MLPROTO_LOG_LEVEL", "CRITICAL"), stream=err)
    try:
        return _main(args, as_json, Output(as_json, out_stream), err)
    finally:
        for logger, handlers, level in saved:
            logger.handlers[:] = handlers
            logger.setLevel(level)


def _main(args: argparse.Namespace, as_json: bool, out: Output, err: IO[str]) -> int:
    try:
        client = Client(target_for(args))
        return run(args, client, out, err)
    except ClientError as error:
        document: dict[str, Any] = {"error": {"type": type(error).__name__, "message": str(error)}}
        if isinstance(error, BadInput):
            document["error"].update(field=error.field, problems=error.problems, record=error.record)
        if isinstance(error, JobFailed):
            document["error"].update(job=job_json(error.job), status=error.status, reason=error.reason)
        if as_json:
            out.show(document, "")
        else:
            err.write(f"ml-proto: {error}\n")
        return error.exit_code
    except KeyboardInterrupt:
        err.write("ml-proto: interrupted\n")
        return INTERRUPTED
