"""Commands that take more than a second say what they do before doing it, as a user meets
them in a service made by `pym-lambda new`: `package` (~10 s: pip, the zip, running it) prints
each step as it starts, `worker` says which queues it polls before the first message comes.
Each command runs as a process; AWS is a moto server on 127.0.0.1."""
from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Dict, Iterator, List

import boto3
import pytest
from click.testing import CliRunner

from pym_lambda.build.scaffold import new
from tests.build.deploy.deploy_fixtures import moto_server


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Path:
    parent = tmp_path_factory.mktemp("svc")
    result = CliRunner().invoke(new, ["shop", "--dir", str(parent)])
    assert result.exit_code == 0, result.output
    return parent / "shop"


def environment(**extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYM_", "JWT_"))}
    env.update(PYTHONUNBUFFERED="1", **extra)
    return env


def start(service: Path, *args: str, env: Dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "pym_lambda.build.cli", *args], cwd=service,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)


def lines_until(stream: IO[str], marker: str, timeout: float = 30) -> Iterator[str]:
    """The lines up to the first holding `marker`; stops after `timeout` s without it."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in stream], daemon=True).start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        yield line
        if marker in line:
            return


def test_package_says_each_step_as_it_starts(service: Path, tmp_path: Path) -> None:
    process = start(service, "package", "--stage", "dev", "--out", str(tmp_path / "out"),
                    env=environment(AWS_DEFAULT_REGION="eu-west-1"))
    assert process.stdout is not None
    try:
        first = process.stdout.readline()
        # Said at once, while the build is still to come.
        assert first.startswith("build: stage dev: compiling apis/"), first
        assert process.poll() is None
        output = process.communicate(timeout=300)[0]
        rest: List[str] = output.splitlines(keepends=True)
        assert process.returncode == 0, output
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    steps = [line for line in rest if line.startswith("package: ")]
    assert steps[0].startswith("package: chalice package (the app"), rest
    assert any(line.startswith("package: running it as Lambda would") for line in steps)
    ran = next(i for i, line in enumerate(rest) if line.startswith("package: running it"))
    assert "runs as Lambda's python" in "".join(rest[ran + 1:])  # the result comes after
    assert rest[-1].startswith("wrote ") and rest[-1].rstrip().endswith("deployment.zip")


def test_worker_says_what_it_polls_before_any_message(service: Path) -> None:
    with moto_server() as endpoint:
        env = environment(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing",
                          AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=endpoint,
                           aws_access_key_id="testing", aws_secret_access_key="testing")
        sqs.create_queue(QueueName="shop-prod-default")
        process = start(service, "worker", "--stage", "prod", "--wait-seconds", "1",
                        env=env)
        try:
            assert process.stdout is not None
            said = "".join(lines_until(process.stdout, "worker: "))
            assert (f"worker: stage prod: polling default (shop-prod-default) on {endpoint}; "
                    "Ctrl-C stops") in said
            assert process.poll() is None  # still waiting for messages
        finally:
            os.killpg(process.pid, signal.SIGINT)
            output = process.communicate(timeout=30)[0]
        assert "Traceback" not in output, output
