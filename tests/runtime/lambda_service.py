"""A pets service run as Lambda runs it, for the tests of what a request and a task leave behind
(metrics, traces): a fresh process, API Gateway and SQS events of the shapes in
pym_lambda/build/deploy/events/, the task queue on moto in that process."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple

from tests.conftest import make_service

ROOT = Path(__file__).resolve().parents[2]


def json_operation(bind: str, schema: str, method: str = "post", operation_id: str = "",
                   status: str = "201", parameters: str = "") -> str:
    """The spec lines of an operation (under a path) taking (a POST) and giving a JSON
    `schema`; `parameters` are its lines of path parameters."""
    named = f"      operationId: {operation_id}\n" if operation_id else ""
    body = ("      requestBody:\n        required: true\n"
            f"        content: {{application/json: {{schema: {{$ref: '#/components/schemas/"
            f"{schema}'}}}}}}\n") if method == "post" else ""
    return (f"    {method}:\n{named}      x-bind-server: {bind}\n{parameters}{body}"
            f"      responses:\n        '{status}':\n          description: ok\n"
            f"          content: {{application/json: {{schema: {{$ref: '#/components/schemas/"
            f"{schema}'}}}}}}\n")


NAME = "      parameters:\n      - {name: name, in: path, required: true, schema: {type: string}}\n"
SPEC = f"""
openapi: 3.0.3
info: {{title: pets, version: '1'}}
paths:
  /pets:
{json_operation("chalicelib.pets.create", "Pet", operation_id="createPet")}  /pets/{{name}}:
{json_operation("chalicelib.pets.get", "Pet", "get", "getPet", "200", NAME)}components:
  schemas:
    Pet:
      type: object
      required: [name]
      properties:
        name: {{type: string, minLength: 1}}
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

# Run in a fresh process, as a Lambda's first invocations: the CALLS through the API function,
# then the queue's messages through the worker handler. TRACE_IDS (optional) are Lambda's
# _X_AMZN_TRACE_ID, one per invocation. Prints on stderr each reply's status and call id, the
# messages' count, the worker's result, the memory exporter's trace documents and the modules
# of pym_lambda.<MODULES> loaded.
SCRIPT = """
import json, os, sys
from moto import mock_aws
trace_ids = json.loads(os.environ.get("TRACE_IDS", "[]"))
def invocation():
    if trace_ids:
        os.environ["_X_AMZN_TRACE_ID"] = trace_ids.pop(0)
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
    for method, path, body in json.loads(os.environ["CALLS"]):
        kwargs = {} if body is None else {"json_body": body}
        invocation()
        reply = app.app(api_gateway_event(api, method, path, **kwargs), LambdaContext("api"))
        print("STATUS", reply["statusCode"], file=sys.stderr)
        print("CALL_ID", reply["headers"]["PymCallID"], file=sys.stderr)
    url = sqs.get_queue_url(QueueName="pets-prod-default")["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                   MessageSystemAttributeNames=["All"],
                                   MessageAttributeNames=["All"]).get("Messages", [])
    print("MESSAGES", len(messages), file=sys.stderr)
    worker = getattr(app, handler_name("default"))
    invocation()
    result = worker(sqs_event(messages, queue_arn("pets-prod-default")), LambdaContext("worker"))
    print("RESULT", json.dumps(result), file=sys.stderr)
    tracer = app.app.pym_service.tracer
    documents = getattr(getattr(tracer, "exporter", None), "documents", [])
    print("DOCUMENTS", json.dumps(documents), file=sys.stderr)
    prefix = "pym_lambda." + os.environ["MODULES"]
    print("MODULES", json.dumps(sorted(m for m in sys.modules if m.startswith(prefix))),
          file=sys.stderr)
"""
Call = Tuple[str, str, Optional[Any]]  # method, path, JSON body


def project(tmp_path: Path, config: str, impl: str = IMPL) -> Path:
    """The pets service with this pym-config.yaml (and chalicelib/pets.py)."""
    folder = make_service(tmp_path / "pets", {"pets": SPEC}, {"pets": impl}, "pets", APP)
    (folder / "pym-config.yaml").write_text(config)
    return folder


def run_service(tmp_path: Path, config: str, calls: Sequence[Call], modules: str,
                impl: str = IMPL, **environ: str) -> Tuple[str, str]:
    """stdout (what CloudWatch Logs gets) and stderr of the script run in the service, as the
    prod stage's function on Lambda (no AWS_, PYM_ or _X_AMZN variables of the test run)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYM_", "_X_AMZN"))}
    env.update(AWS_LAMBDA_FUNCTION_NAME="pets-prod", AWS_DEFAULT_REGION="us-east-1",
               AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               PYM_STAGE="prod", PYM_APP_NAME="pets", PYTHONPATH=str(ROOT),
               CALLS=json.dumps(calls), MODULES=modules, **environ)
    run = subprocess.run([sys.executable, "-c", SCRIPT], cwd=project(tmp_path, config, impl),
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout, run.stderr


def report(stderr: str, key: str) -> List[str]:
    """What the script printed after `key`, a line each."""
    return [line.split(" ", 1)[1] for line in stderr.splitlines() if line.startswith(key + " ")]
