"""Helpers of the artifact tests: a project's Lambda package built by the command a user runs
(`pym-lambda package`, in a subprocess), unpacked and run in the emulated Lambda runtime, with
AWS on a moto server on 127.0.0.1."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, Mapping, Tuple

import pytest

from pym_lambda.build.deploy.artifact import (
    FunctionSpec,
    find_interpreter,
    function_specs,
    load_template,
    queue_urls,
    runtime_libraries,
    unpack,
)
from pym_lambda.build.deploy.lambda_events import RestApi
from pym_lambda.build.deploy.lambda_process import LambdaProcess

from .deploy_fixtures import REGION, moto_server

FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@dataclass(frozen=True)
class Built:
    zip: Path
    sam: Path
    template: Dict[str, Any]


@dataclass(frozen=True)
class ExamplePackage:
    """The example's prod package (the session's example_package fixture, conftest.py)."""
    project: Path  # the copy of the example it was built from (its .chalice/ cache with it)
    built: Built


@dataclass(frozen=True)
class Runtime:
    task_root: Path
    interpreter: str
    libraries: Path
    functions: Mapping[str, FunctionSpec]
    api: RestApi
    template: Mapping[str, Any]
    parameters: Mapping[str, str]


def pym_lambda_command() -> list[str]:
    beside = Path(sys.executable).with_name("pym-lambda")
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "pym_lambda.build.cli"]


def clean_environ(**extra: str) -> Dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYM_"))}
    environ.update(AWS_DEFAULT_REGION=REGION, AWS_EC2_METADATA_DISABLED="true", **extra)
    return environ


def build(project: Path, out: Path, stage: str, **environ: str) -> Built:
    """The package, built the one way deploy builds it, by the command a user runs."""
    run = subprocess.run([*pym_lambda_command(), "package", "--stage", stage, "--out",
                          str(out)], cwd=project, env=clean_environ(**environ),
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    sam = out / "sam.json"
    return Built(out / "deployment.zip", sam, load_template(sam))


def open_runtime(built: Built, base: Path, parameters: Mapping[str, str]) -> Runtime:
    specs = function_specs(built.template, parameters, region=REGION)
    runtimes = {s.runtime for s in specs}
    assert len(runtimes) == 1
    interpreter = find_interpreter(runtimes.pop())
    if not interpreter.available:
        pytest.skip(interpreter.reason)
    libraries, missing = runtime_libraries(base / "runtime")
    assert missing == ()
    return Runtime(unpack(built.zip, base), str(interpreter.executable), libraries,
                   {s.logical_id: s for s in specs}, RestApi.from_template(built.template),
                   built.template, dict(parameters))


def start(runtime: Runtime, logical_id: str, url: str) -> LambdaProcess:
    """The function with the stage's queues as the moto server at `url` names them."""
    specs = function_specs(runtime.template,
                           {**runtime.parameters, **queue_urls(runtime.template, url)},
                           region=REGION)
    return LambdaProcess(next(s for s in specs if s.logical_id == logical_id),
                         runtime.task_root, interpreter=runtime.interpreter,
                         libraries=runtime.libraries,
                         environment={**FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": url},
                         region=REGION, invoke_timeout=30).start()


def moto_sqs(url: str) -> Any:
    import boto3

    return boto3.client("sqs", region_name=REGION, endpoint_url=url,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@contextlib.contextmanager
def moto_queues(*names: str) -> Iterator[Tuple[str, Any]]:
    """A moto server on 127.0.0.1 with these queues, and an SQS client of it."""
    with moto_server() as url:
        sqs = moto_sqs(url)
        for name in names:
            sqs.create_queue(QueueName=name)
        yield url, sqs
