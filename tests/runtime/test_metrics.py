"""Metrics in CloudWatch Embedded Metric Format (issue #20 item 2): a service run as Lambda runs
it (a fresh process, JSON logs on stdout, API Gateway and SQS events of the shapes in
pym_lambda/build/deploy/events/, the task queue on moto), its stdout read as CloudWatch Logs
reads it (tests/emf.py)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from tests.conftest import make_project
from tests.emf import Datum, all_data, documents

ROOT = Path(__file__).resolve().parents[2]
SPEC = """
openapi: 3.0.3
info: {title: pets, version: '1'}
paths:
  /pets:
    post:
      operationId: createPet
      x-bind-server: chalicelib.pets.create
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: '#/components/schemas/Pet'}}}
      responses:
        '201':
          description: ok
          content: {application/json: {schema: {$ref: '#/components/schemas/Pet'}}}
  /pets/{name}:
    get:
      operationId: getPet
      x-bind-server: chalicelib.pets.get
      parameters:
      - {name: name, in: path, required: true, schema: {type: string}}
      responses:
        '200':
          description: ok
          content: {application/json: {schema: {$ref: '#/components/schemas/Pet'}}}
components:
  schemas:
    Pet:
      type: object
      required: [name]
      properties:
        name: {type: string, minLength: 1}
"""
IMPL = """
from pym_lambda import PermanentFailure, async_task

@async_task
def remember(name):
    if name == "flaky":
        raise RuntimeError("not now")
    if name == "never":
        raise PermanentFailure("never")

def create(pet):
    remember.delay(pet.name)
    return 201, {"name": pet.name}

def get(name):
    if name == "boom":
        raise RuntimeError("a bug")
    return {"name": name}
"""
APP = ("from pym_lambda import create_app, task_workers\n"
       "app = create_app(__file__)\n"
       "globals().update(task_workers(app))\n")

# Run in a fresh process, as a Lambda's first invocations: requests through the API function,
# then the queue's messages through the worker handler. Prints what stdout got.
SCRIPT = """
import json, sys
from moto import mock_aws
with mock_aws():
    import boto3
    sqs = boto3.client("sqs", region_name="us-east-1")
    for name in ("pets-prod-default-dlq", "pets-prod-default"):
        sqs.create_queue(QueueName=name)
    sys.path.insert(0, ".")
    import app
    from pym_lambda.aws_events import LambdaContext, queue_arn
    from pym_lambda.build.deploy.lambda_events import RestApi, api_gateway_event, sqs_event
    from pym_lambda.tasks.naming import handler_name
    api = RestApi("RestAPI", "api", {"/pets": frozenset({"POST"}),
                                      "/pets/{name}": frozenset({"GET"})})
    calls = [("POST", "/pets", {"name": n}) for n in ("rex", "flaky", "never")]
    calls += [("POST", "/pets", {"name": ""}), ("GET", "/pets/boom", None),
              ("GET", "/pets/rex", None)]
    for method, path, body in calls:
        kwargs = {} if body is None else {"json_body": body}
        reply = app.app(api_gateway_event(api, method, path, **kwargs), LambdaContext("api"))
        print("STATUS", reply["statusCode"], file=sys.stderr)
    url = sqs.get_queue_url(QueueName="pets-prod-default")["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                   MessageSystemAttributeNames=["All"],
                                   MessageAttributeNames=["All"]).get("Messages", [])
    print("MESSAGES", len(messages), file=sys.stderr)
    worker = getattr(app, handler_name("default"))
    event = sqs_event(messages, queue_arn("pets-prod-default"))
    result = worker(event, LambdaContext("worker"))
    print("RESULT", json.dumps(result), file=sys.stderr)
    loaded = sorted(m for m in sys.modules if m.startswith("pym_lambda.metrics"))
    print("MODULES", json.dumps(loaded), file=sys.stderr)
"""


def _project(tmp_path: Path, config: str) -> Path:
    project = make_project(tmp_path / "pets", {"pets": SPEC}, app_name="pets")
    (project / "chalicelib").mkdir()
    (project / "chalicelib" / "__init__.py").write_text("")
    (project / "chalicelib" / "pets.py").write_text(IMPL)
    (project / "app.py").write_text(APP)
    (project / "pym-config.yaml").write_text(config)
    return project


def run_service(tmp_path: Path, config: str, **environ: str) -> Tuple[str, str]:
    """stdout (what CloudWatch Logs gets) and stderr of the script, in the project."""
    project = _project(tmp_path, config)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYM_"))}
    env.update(AWS_LAMBDA_FUNCTION_NAME="pets-prod", AWS_DEFAULT_REGION="us-east-1",
               AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               PYM_STAGE="prod", PYM_APP_NAME="pets", PYTHONPATH=str(ROOT), **environ)
    run = subprocess.run([sys.executable, "-c", SCRIPT], cwd=project, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout, run.stderr


def _report(stderr: str, key: str) -> List[str]:
    return [line.split(" ", 1)[1] for line in stderr.splitlines() if line.startswith(key + " ")]


def _sums(data: List[Datum], operation: str) -> Dict[str, float]:
    """Each metric's sum over the (service, stage, operation) data of `operation`."""
    sums: Counter[str] = Counter()
    for datum in data:
        if dict(datum.dimensions).get("operation") == operation:
            sums[datum.name] += datum.value
    return dict(sums)


CONFIG = "metrics:\n  enabled: true\n  namespace: Pets\n"


def test_one_line_per_request_and_per_task_record_that_cloudwatch_parses(tmp_path: Path) -> None:
    stdout, stderr = run_service(tmp_path, CONFIG)
    assert _report(stderr, "STATUS") == ["201", "201", "201", "400", "500", "200"]
    assert _report(stderr, "MESSAGES") == ["3"]
    lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    request_lines = [line for line in lines if "http_method" in line]
    # One line per request: the request log line carries its metrics.
    assert len(request_lines) == 6 and all("_aws" in line for line in request_lines)
    assert sum("_aws" in line for line in lines) == 6 + 3  # and one per task record
    data = all_data(stdout)
    assert {d.namespace for d in data} == {"Pets"}
    assert {d.dimensions[:2] for d in data} == {(("service", "pets"), ("stage", "prod"))}
    assert {len(d.dimensions) for d in data} == {2, 3}  # per operation, and the totals
    assert _sums(data, "createPet") == pytest.approx({
        "requests": 4, "status_4xx": 1, "status_5xx": 0, "cold_start": 1,
        "duration_ms": _sums(data, "createPet")["duration_ms"]})
    assert _sums(data, "getPet")["status_5xx"] == 1 and _sums(data, "getPet")["requests"] == 2
    durations = [d for d in data if d.name == "duration_ms"]
    assert all(d.unit == "Milliseconds" and d.value > 0 for d in durations)
    # Tasks: one ran fine, one failed (retried by SQS), one was dead-lettered.
    tasks = _sums(data, "chalicelib.pets:remember")
    assert tasks == pytest.approx({"task_runs": 3, "task_failures": 2, "task_retries": 1,
                                   "task_dead_letters": 1, "cold_start": 0,
                                   "task_age_ms": tasks["task_age_ms"]})
    outcomes = sorted(doc["task_outcome"] for doc in documents(stdout) if "task_outcome" in doc)
    assert outcomes == ["dead_lettered", "failed", "succeeded"]
    assert json.loads(_report(stderr, "RESULT")[0])["batchItemFailures"] != []
    # The totals (service, stage) count every request of the stage: what the alarms watch.
    totals = Counter(d.name for d in data if len(d.dimensions) == 2 and d.value == 1)
    assert totals["requests"] == 6 and totals["status_5xx"] == 1


def test_a_level_above_info_still_writes_the_metrics_on_their_own_line(tmp_path: Path) -> None:
    stdout, stderr = run_service(tmp_path, CONFIG + "log_level: WARNING\n")
    assert "http_method" not in stdout  # no request log line at WARNING
    requests = [doc for doc in documents(stdout) if "requests" in doc]
    assert len(requests) == 6
    data = all_data(stdout)
    assert _sums(data, "getPet")["status_5xx"] == 1
    assert sum(d.value for d in data if d.name == "cold_start" and len(d.dimensions) == 2) == 1


def test_text_logs_keep_their_format_and_the_metrics_get_json_lines(tmp_path: Path) -> None:
    stdout, _ = run_service(tmp_path, CONFIG, PYM_LOG_FORMAT="text")
    assert len([doc for doc in documents(stdout) if "requests" in doc]) == 6
    assert " INFO pym_lambda" in stdout  # the request lines, as text


def test_off_by_default_no_metrics_and_nothing_imported(tmp_path: Path) -> None:
    stdout, stderr = run_service(tmp_path, "name: pets\n")
    assert documents(stdout) == []
    assert '"_aws"' not in stdout
    assert _report(stderr, "MODULES") == ["[]"]
    assert len([line for line in stdout.splitlines() if '"http_method"' in line]) == 6


@pytest.mark.parametrize("name", ['we"ird\\name\n', "é\u2028\ud800", "x" * 5000, ""])
def test_any_service_or_operation_name_gives_a_valid_document(name: str) -> None:
    from pym_lambda.metrics import Metrics

    metrics = Metrics("", name, name)
    lines = (metrics.request_line(name, 503, 1.5)
             + metrics.task_line(name or None, "not_started", True, None, name)
             + metrics.task_line("t", "succeeded", False, 12.0))
    data = all_data(lines)
    assert {d.name for d in data} >= {"requests", "status_5xx", "task_runs", "task_age_ms"}
    dims = {value for d in data for _, value in d.dimensions}
    assert all(0 < len(value) <= 1024 for value in dims)
    not_started = documents(lines)[1]
    assert (not_started["task_runs"], not_started["task_retries"]) == (0, 1)
    assert "task_age_ms" not in not_started  # no SentTimestamp: no age rather than a false one
