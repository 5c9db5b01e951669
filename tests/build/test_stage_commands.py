"""`pym-lambda url`, `logs` and `invoke` on a stage deployed by `pym-lambda deploy`, in a service
made by `pym-lambda new`: each command runs as a process, as a user runs it, against a moto
server on 127.0.0.1.

What moto can and cannot show: it runs no Lambda code without Docker. Its "simple" Lambda
backend (switched on through /moto-api/config) answers an invocation with the event it was
sent, which shows that `invoke` reached the deployed function with the event read from stdin.
Log lines are put into the functions' log groups by the test, as Lambda would write them.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator

import boto3
import pytest
from click.testing import CliRunner

from pym_lambda.build.deploy.cli import deploy
from pym_lambda.build.scaffold import new
from pym_lambda.tasks.envelope import decode_envelope
from tests.build.deploy.deploy_fixtures import (
    REGION,
    fake_aws_environment,
    framework_state_sandbox,
    moto_server,
    patch_moto_apigateway,
)

EVENTS = Path(__file__).resolve().parents[2] / "pym_lambda" / "build" / "deploy" / "events"
NAME = "shop"
STAGE = "prod"


@dataclass(frozen=True)
class Deployed:
    project: Path
    endpoint: str

    def environ(self) -> Dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AWS_", "PYM_", "JWT_"))}
        env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                   AWS_DEFAULT_REGION=REGION, AWS_EC2_METADATA_DISABLED="true",
                   AWS_ENDPOINT_URL=self.endpoint)
        return env

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=self.endpoint,
                            aws_access_key_id="testing", aws_secret_access_key="testing")


def _moto_config(endpoint: str, use_docker: bool) -> None:
    request = urllib.request.Request(
        f"{endpoint}/moto-api/config", method="POST",
        data=json.dumps({"lambda": {"use_docker": use_docker}}).encode(),
        headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).read()


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    parent = tmp_path_factory.mktemp("stage-commands")
    made = CliRunner().invoke(new, [NAME, "--dir", str(parent)])
    assert made.exit_code == 0, made.output
    project = parent / NAME
    with pytest.MonkeyPatch.context() as patch, framework_state_sandbox(), \
            moto_server() as endpoint:
        patch_moto_apigateway(patch)
        fake_aws_environment(patch, endpoint=endpoint)
        _moto_config(endpoint, use_docker=False)  # functions in the simple backend
        try:
            boto3.client("ssm", region_name=REGION).put_parameter(
                Name=f"/{NAME}/prod/jwt-secret", Type="SecureString",
                Value="a-stage-commands-secret-0123456789abcdef")
            result = CliRunner().invoke(deploy, ["--stage", STAGE, "--yes", "--skip-verify",
                                                 "--project-dir", str(project)],
                                        catch_exceptions=False)
            assert result.exit_code == 0, result.output
            yield Deployed(project, endpoint)
        finally:
            _moto_config(endpoint, use_docker=True)


def run(deployed: Deployed, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pym_lambda.build.cli", *args],
                          cwd=deployed.project, env=deployed.environ(), input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_url_prints_the_deployed_rest_api_from_the_bucket(deployed: Deployed) -> None:
    [api] = deployed.client("apigateway").get_rest_apis()["items"]
    expected = f"https://{api['id']}.execute-api.{REGION}.amazonaws.com/api/"
    # The state is read from the deployments bucket: a fresh clone has no local cache.
    cache = deployed.project / ".chalice" / "deployed" / f"{STAGE}.json"
    cache.unlink()
    result = run(deployed, "url", "--stage", STAGE)
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected + "\n"
    assert cache.is_file()  # refreshed


def test_url_of_a_stage_never_deployed_is_one_line(deployed: Deployed) -> None:
    result = run(deployed, "url", "--stage", "dev")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: url: stage dev of shop is not deployed: `pym-lambda deploy --stage dev` first"]


def _put_log_lines(deployed: Deployed, function: str, *lines: str) -> None:
    logs = deployed.client("logs")
    group = f"/aws/lambda/{function}"
    if not logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]:
        logs.create_log_group(logGroupName=group)
    stream = f"2026/12/03/[$LATEST]{time.monotonic_ns():x}"
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
        {"timestamp": now + i, "message": line} for i, line in enumerate(lines)])


def test_logs_prints_the_api_functions_lines_or_a_workers(deployed: Deployed) -> None:
    _put_log_lines(deployed, f"{NAME}-{STAGE}", "START RequestId: 1 Version: $LATEST",
                   '{"level": "INFO", "message": "POST /v1/greetings 201"}',
                   "END RequestId: 1")
    _put_log_lines(deployed, f"{NAME}-{STAGE}-pym_task_worker_default",
                   '{"level": "INFO", "message": "greeting card for Ann sent"}')
    api = run(deployed, "logs", "--stage", STAGE)
    assert api.returncode == 0, api.stderr
    assert '"POST /v1/greetings 201"' in api.stdout
    assert "START RequestId" not in api.stdout  # Lambda's own lines, as chalice logs hides them
    assert "greeting card" not in api.stdout
    worker = run(deployed, "logs", "--stage", STAGE, "-n", "pym_task_worker_default",
                 "--include-lambda-messages")
    assert worker.returncode == 0, worker.stderr
    assert "greeting card for Ann sent" in worker.stdout
    unknown = run(deployed, "logs", "--stage", STAGE, "-n", "nope")
    assert unknown.returncode == 1
    assert unknown.stderr.strip().splitlines() == [
        "error: logs: no function 'nope' in stage prod; deployed: api_handler, "
        "pym_task_worker_default"]


def test_logs_follow_prints_new_lines_as_they_come(deployed: Deployed) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "pym_lambda.build.cli", "logs", "--stage", STAGE, "--follow",
         "-n", "pym_task_worker_default"],
        cwd=deployed.project, env=deployed.environ(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        time.sleep(2)
        _put_log_lines(deployed, f"{NAME}-{STAGE}-pym_task_worker_default", "a line after")
        assert process.stdout is not None
        deadline = time.monotonic() + 30
        line = ""
        while "a line after" not in line and time.monotonic() < deadline:
            line = process.stdout.readline()
        assert "a line after" in line
    finally:
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C
        _, errors = process.communicate(timeout=20)
    assert "Traceback" not in errors, errors


def test_invoke_sends_stdin_to_the_deployed_function(deployed: Deployed) -> None:
    event = (EVENTS / "apigateway-aws-proxy.json").read_text()
    result = run(deployed, "invoke", "--stage", STAGE, stdin=event)
    assert result.returncode == 0, result.stderr
    # moto's simple backend answers with the event the function got.
    assert json.loads(result.stdout) == json.loads(event)
    unknown = run(deployed, "invoke", "--stage", STAGE, "-n", "nope", stdin="{}")
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("error: invoke: no function 'nope' in stage prod")


def test_invoke_task_sends_it_to_the_stages_queue(deployed: Deployed) -> None:
    # moto's event source mapping would take the message away (to a worker it cannot run);
    # deleting the mapping leaves it on moto's queue object, which the server (in this
    # process) holds.
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sqs.models import sqs_backends

    queue = sqs_backends[DEFAULT_ACCOUNT_ID][REGION].queues[f"{NAME}-{STAGE}-default"]
    queue.lambda_event_source_mappings.clear()
    result = run(deployed, "invoke", "--stage", STAGE, "--task", "send_greeting_card",
                 "--args", '["Ann"]')
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        "sent chalicelib.tasks:send_greeting_card to queue default: task id ")
    sqs = deployed.client("sqs")
    url = sqs.get_queue_url(QueueName=f"{NAME}-{STAGE}-default")["QueueUrl"]
    [message] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    envelope = decode_envelope(message["Body"])  # as the worker reads it
    assert (envelope.task, envelope.args, envelope.kwargs) == (
        "chalicelib.tasks:send_greeting_card", ["Ann"], {})
    assert envelope.task_id in result.stdout


@pytest.mark.parametrize("args, error", [
    (("--task", "nope"), "--task 'nope' is not a task of the app; its tasks: "
                         "chalicelib.tasks:send_greeting_card"),
    (("--task", "send_greeting_card", "--args", "{"), "Invalid value for --args: not JSON"),
    (("--task", "send_greeting_card", "--args", "{}"),
     "Invalid value for --args: expected a JSON list"),
])
def test_invoke_task_mistakes_are_one_line(deployed: Deployed, args: Any, error: str) -> None:
    result = run(deployed, "invoke", "--stage", STAGE, *args)
    assert result.returncode != 0
    assert error in result.stderr
    assert "Traceback" not in result.stderr
