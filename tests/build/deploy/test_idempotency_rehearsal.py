"""What ships, the way it runs: the example deployed to a moto server with an idempotent task
and an `x-idempotent` operation; then, with IAM enforced, the very zip deploy uploaded runs in
the emulated Lambda runtime with each function's role (test_iam_rehearsal.py's rehearsal): a
keyed POST repeated is replayed, an SQS message delivered twice runs its task once, and every
DynamoDB call each role makes is allowed."""
from __future__ import annotations

import contextlib
import json
import socket
from typing import Any, Dict, Iterator, List, Tuple

import pytest

from pym_lambda.build.deploy.cli import deploy
from pym_lambda.build.deploy.lambda_events import sqs_event
from tests.emf import all_data
from tests.emf import documents as emf_documents

from .deploy_fixtures import (
    API_FUNCTION,
    DLQ,
    QUEUE,
    REGION,
    STAGE,
    WORKER,
    invoke,
    rehearsal_sandbox,
)
from .test_iam_rehearsal import ACCOUNT, Rehearsal, call, lend, prepare, received
from .test_idempotency_table import make_idempotent

ADD_BOOK = "      x-bind-server: chalicelib.library.add_book\n"
OPERATIONS = ("metrics:\n  enabled: true\ntracing:\n  enabled: true\n"
              "alarms:\n  enabled: true\n")


def patch_moto_dynamodb_resources(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto names the resource of a DynamoDB call "*" under IAM enforcement, so no policy on a
    table's ARN could allow it: give each call its table's ARN, as AWS evaluates it."""
    from moto.dynamodb.responses import DynamoHandler

    def determine_resource(self: Any) -> str:
        name = self.body.get("TableName") if isinstance(self.body, dict) else None
        if not name:
            return "*"
        return f"arn:aws:dynamodb:{self.region}:{self.current_account}:table/{name}"

    monkeypatch.setattr(DynamoHandler, "_determine_resource", determine_resource,
                        raising=False)


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rehearsal]:
    base = tmp_path_factory.mktemp("idempotent")
    with pytest.MonkeyPatch.context() as monkeypatch, \
            rehearsal_sandbox(base, monkeypatch) as (project, endpoint):
        patch_moto_dynamodb_resources(monkeypatch)
        make_idempotent(project)
        with (project / "pym-config.yaml").open("a") as config:  # all of issue #20 on
            config.write(OPERATIONS)
        spec = project / "apis" / "library.yaml"
        spec.write_text(spec.read_text().replace(
            ADD_BOOK, ADD_BOOK + "      x-idempotent: true\n"))
        result = invoke(deploy, "--stage", STAGE, "--yes", "--skip-verify",
                        "--project-dir", str(project))
        assert result.exit_code == 0, result.output
        assert f"table: pym-library-{STAGE}-idempotency created" in result.output
        yield prepare(project, endpoint, base)


def dynamodb_calls(r: Rehearsal, function: str) -> list[tuple[str, int]]:
    return [(c.action, c.status) for c in r.proxy.by(r.keys[function])
            if c.action.startswith("dynamodb:")]


def test_the_shipped_package_replays_a_keyed_post_and_runs_a_task_once(
        rehearsal: Rehearsal) -> None:
    r = rehearsal
    book = {"title": "Kindred", "authors": [{"name": "Octavia E. Butler"}]}
    with r.start(API_FUNCTION) as api:
        assert api.init_error is None, api.init_error
        first = call(api, r.api, "POST", "/v1/books", json_body=book,
                     headers={"Idempotency-Key": "add-kindred"})
        again = call(api, r.api, "POST", "/v1/books", json_body=book,
                     headers={"Idempotency-Key": "add-kindred"})
        other = call(api, r.api, "POST", "/v1/books", json_body={**book, "title": "Dawn"},
                     headers={"Idempotency-Key": "add-kindred"})
        loan = lend(api, r.api, "bob")  # its receipt task is sent to the queue
    assert first[0] == 201 and again == first  # the same book: replayed, not added twice
    assert other[0] == 422 and other[1]["error"] == "IDEMPOTENCY_KEY_REUSED"
    # a put and an update, then a put refused (replay), a put refused (422): all allowed
    assert dynamodb_calls(r, API_FUNCTION) == [
        ("dynamodb:PutItem", 200), ("dynamodb:UpdateItem", 200), ("dynamodb:PutItem", 400),
        ("dynamodb:PutItem", 400)]

    [message] = received(r.admin.client("sqs"), QUEUE, 1)
    assert loan["id"] in message["Body"]
    queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{QUEUE}"
    with r.start(WORKER) as worker:
        assert worker.init_error is None, worker.init_error
        delivered = worker.invoke(sqs_event([message], queue_arn))
        message["Attributes"]["ApproximateReceiveCount"] = "2"  # SQS delivers it again
        duplicate = worker.invoke(sqs_event([message], queue_arn))
    assert delivered == duplicate == {"batchItemFailures": []}, worker.logs
    # the first ran it (put, update); the second was refused the task id and skipped it
    assert dynamodb_calls(r, WORKER) == [
        ("dynamodb:PutItem", 200), ("dynamodb:UpdateItem", 200), ("dynamodb:PutItem", 400)]
    items = r.admin.client("dynamodb").scan(TableName=f"pym-library-{STAGE}-idempotency")
    assert sorted(i["status"]["S"] for i in items["Items"]) == ["COMPLETED", "COMPLETED"]


def test_nothing_else_in_dynamodb_is_allowed(rehearsal: Rehearsal) -> None:
    from .test_iam_rehearsal import denied

    r = rehearsal
    table = f"pym-library-{STAGE}-idempotency"
    r.admin.client("dynamodb").create_table(
        TableName="another", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    for function in (API_FUNCTION, WORKER):
        dynamodb = r.sessions[function].client("dynamodb", endpoint_url=r.proxy.url)
        assert denied(lambda c=dynamodb: c.put_item(TableName="another",
                                                    Item={"id": {"S": "x"}}))
        assert denied(lambda c=dynamodb: c.scan(TableName=table))
        assert denied(lambda c=dynamodb: c.delete_table(TableName=table))
        assert not denied(lambda c=dynamodb: c.get_item(TableName=table,
                                                        Key={"id": {"S": "x"}}))


@contextlib.contextmanager
def xray_daemon() -> Iterator[Tuple[str, List[Dict[str, Any]]]]:
    """A UDP socket standing in for the X-Ray daemon: its address, then the documents it got."""
    daemon = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    daemon.bind(("127.0.0.1", 0))
    documents: List[Dict[str, Any]] = []
    try:
        yield f"127.0.0.1:{daemon.getsockname()[1]}", documents
        daemon.settimeout(0.5)
        with contextlib.suppress(TimeoutError):
            while True:
                header, _, body = daemon.recv(70000).partition(b"\n")
                assert json.loads(header) == {"format": "json", "version": 1}
                documents.append(json.loads(body))
    finally:
        daemon.close()


def test_issue_20_done_when_one_trace_metric_lines_an_alarm_and_one_run(
        rehearsal: Rehearsal) -> None:
    """Issue #20's "done when", on what ships: deployed with metrics, tracing and alarms on,
    one request that enqueues a task gives one joined trace and the metric lines CloudWatch
    parses, an alarm watches its dead-letter queue, and the task delivered twice runs once."""
    r = rehearsal
    sqs = r.admin.client("sqs")
    assert r.specs[API_FUNCTION].tracing and r.specs[WORKER].tracing  # Lambda active tracing
    with xray_daemon() as (daemon, documents):
        with r.start(API_FUNCTION, AWS_XRAY_DAEMON_ADDRESS=daemon) as api:
            loan = lend(api, r.api, "cyd")
            api_logs = api.logs
        # the queue may hold the other test's messages (one purge a minute): take the loan's
        [message] = [m for m in received(sqs, QUEUE, 8) if loan["id"] in m["Body"]][:1]
        queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{QUEUE}"
        with r.start(WORKER, AWS_XRAY_DAEMON_ADDRESS=daemon) as worker:
            first = worker.invoke(sqs_event([message], queue_arn))
            message["Attributes"]["ApproximateReceiveCount"] = "2"  # delivered again
            again = worker.invoke(sqs_event([message], queue_arn))
            worker_logs = worker.logs
    assert first == again == {"batchItemFailures": []}, worker_logs

    # One trace: the loan request's segment and the task's run joined to it.
    [lent] = [d for d in documents if d.get("name") == "lendBook"]
    runs = [d for d in documents if (d.get("annotations") or {}).get("task")]
    assert lent["type"] == "subsegment"  # of Lambda's own segment for the invocation
    assert runs and {d["trace_id"] for d in runs} == {lent["trace_id"]}
    function = next(s for s in lent["subsegments"] if s["name"] == "function")
    assert runs[0]["parent_id"] == function["id"]
    assert runs[0]["annotations"]["call_id"] == lent["annotations"]["call_id"]

    # The metric lines, read as CloudWatch Logs reads them (tests/emf.py).
    requests = [d for d in all_data(api_logs) if d.name == "requests" and len(d.dimensions) == 3]
    assert {dict(d.dimensions)["operation"] for d in requests} == {"addBook", "lendBook"}
    tasks = [d for d in all_data(worker_logs) if len(d.dimensions) == 3]
    assert sum(d.value for d in tasks if d.name == "task_runs") == 1  # run once, then skipped
    assert sum(d.value for d in tasks if d.name == "task_failures") == 0
    outcomes = [doc["task_outcome"] for doc in emf_documents(worker_logs)]
    assert outcomes == ["succeeded", "skipped_duplicate"]

    # An alarm on the task queue's dead letters, made by deploy.
    alarms = r.admin.client("cloudwatch").describe_alarms()["MetricAlarms"]
    dead = [a for a in alarms if a["Dimensions"] == [{"Name": "QueueName", "Value": DLQ}]]
    assert [(a["MetricName"], a["Threshold"]) for a in dead] == [
        ("ApproximateNumberOfMessagesVisible", 0)]
