"""Tasks end to end on moto SQS: sending, the worker handler, the local worker, DLQ, CLI."""
from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sys
import threading
import types
from typing import Any, Dict, Iterator, List

import pytest
from botocore.stub import Stubber
from click.testing import CliRunner

from pym_lambda.auth import Caller
from pym_lambda.aws import aws_client, reset_aws_clients
from pym_lambda.build.tasks.cli import tasks as tasks_cli
from pym_lambda.build.tasks.cli import worker as worker_cli
from pym_lambda.build.tasks.queues import (
    enable_partial_batch_responses,
    ensure_queues,
    queue_definitions,
)
from pym_lambda.context import CallContext, enter_context, exit_context
from pym_lambda.tasks import (
    QueueConfigConflict,
    TaskPayloadTooLarge,
    TaskSettings,
    configure_tasks,
    get_task_settings,
    send_tasks,
)
from pym_lambda.tasks.envelope import encode_envelope, new_envelope
from pym_lambda.tasks.poller import failed_message_ids, run_local_worker
from pym_lambda.tasks.sender import dead_letter_queue_url, queue_url
from pym_lambda.tasks.worker import BatchFailed

from . import sample_tasks as tasks
from .tasks_fixtures import (
    APP_NAME,
    STAGE,
    FakeLambdaContext,
    build_app,
    create_queues,
    depth,
    drain,
    moto_sqs,
    sqs_record,
)

TASKS_MODULE = tasks.__name__


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with moto_sqs(monkeypatch) as client:
        create_queues(client, ["default", "other"])
        yield client


@pytest.fixture
def handlers(sqs: Any) -> Dict[str, Any]:
    return build_app(["default", "other"])[1]


@pytest.fixture
def request_context() -> Iterator[CallContext]:
    context = CallContext(call_id="call-42", caller={
        "user_id": "user-7", "claims": {"scope": "admin"}, "token": "header.payload.sig"})
    token = enter_context(context)
    yield context
    exit_context(token)


def envelope_body(task: str, *args: Any, **kwargs: Any) -> str:
    return encode_envelope(new_envelope(task, args, kwargs))


def work(handlers: Dict[str, Any], **options: Any) -> Any:
    options.setdefault("idle_exit", 0)
    return run_local_worker(handlers, wait_seconds=0, install_signal_handlers=False, **options)


# --- the handler, one record at a time --------------------------------------------------------

def test_only_the_failed_records_of_a_batch_are_reported(handlers: Dict[str, Any]) -> None:
    good = [sqs_record(envelope_body(f"{TASKS_MODULE}:record", i)) for i in range(3)]
    bad = [
        sqs_record(envelope_body(f"{TASKS_MODULE}:always_fails", "x")),
        sqs_record("{not json"),
        sqs_record(json.dumps({"v": 99, "task": f"{TASKS_MODULE}:record"})),
        sqs_record(envelope_body(f"{TASKS_MODULE}:no_such_task", 1)),
        sqs_record(envelope_body("os:system", "echo pwned")),
        sqs_record(envelope_body(f"{TASKS_MODULE}:not_a_task", 1)),
        sqs_record(envelope_body(f"{TASKS_MODULE}:Parcel", 1, "x")),
    ]
    records = [good[0], *bad[:4], good[1], *bad[4:], good[2]]
    assert len({r["messageId"] for r in records}) == len(records)

    response = handlers["pym_task_worker_default"]({"Records": records}, FakeLambdaContext())

    assert sorted(f["itemIdentifier"] for f in response["batchItemFailures"]) == sorted(
        r["messageId"] for r in bad)
    assert [run["value"] for run in tasks.runs("record")] == [0, 1, 2]
    assert len(tasks.runs("always_fails")) == 1
    assert tasks.runs("not_a_task") == []


def test_records_are_not_started_without_enough_lambda_time(handlers: Dict[str, Any]) -> None:
    records = [sqs_record(envelope_body(f"{TASKS_MODULE}:record", i)) for i in range(2)]
    response = handlers["pym_task_worker_default"]({"Records": records},
                                                   FakeLambdaContext(remaining_ms=500))
    assert len(response["batchItemFailures"]) == 2
    assert tasks.runs("record") == []


def test_handlers_are_registered_for_chalice(sqs: Any) -> None:
    app, handlers = build_app()
    assert {"pym_task_worker_default", "pym_task_worker_other",
            "pym_task_worker_faults"} <= set(handlers)
    sources = {s.name: s for s in app.event_sources}
    default = sources["pym_task_worker_default"]
    assert default.queue == f"{APP_NAME}-{STAGE}-default" and default.batch_size == 10
    assert default.handler_string == "app.pym_task_worker_default"
    assert handlers["pym_task_worker_default"].pym_task_queue == "default"


# --- end to end through moto SQS and the local worker -----------------------------------------

def test_delay_in_a_request_sends_and_the_worker_runs_it(
        sqs: Any, handlers: Dict[str, Any], request_context: CallContext) -> None:
    when = dt.datetime(2024, 5, 1, 8, 0, tzinfo=dt.timezone.utc)
    handle = tasks.record.delay(tasks.Parcel(1.5, "books"), when=when)
    assert not handle.inline and handle.message_id
    assert depth(sqs, queue_url("default"))["visible"] == 1
    assert tasks.RUNS == []

    stats = work(handlers)

    assert (stats.received, stats.deleted, stats.failed) == (1, 1, 0)
    [run] = tasks.runs("record")
    assert run["value"] == tasks.Parcel(1.5, "books") and run["when"] == when
    assert run["info"].task_id == handle.task_id and run["info"].attempt == 1
    assert run["info"].message_id == handle.message_id and not run["info"].inline
    assert run["call_id"] == "call-42"
    # the verified identity travelled, signed; the token did not
    assert run["current_caller"] == Caller("user-7", {"scope": "admin"}, "")
    assert run["caller"] is run["current_caller"]
    assert depth(sqs, queue_url("default")) == {"visible": 0, "in_flight": 0}


def test_each_queue_gets_its_tasks(sqs: Any, handlers: Dict[str, Any],
                                   request_context: CallContext) -> None:
    tasks.on_other_queue.delay("o")
    assert depth(sqs, queue_url("other"))["visible"] == 1
    assert depth(sqs, queue_url("default"))["visible"] == 0
    work(handlers)
    assert [run["value"] for run in tasks.runs("on_other_queue")] == ["o"]


def test_transient_failures_are_retried_with_the_attempt_number(
        sqs: Any, handlers: Dict[str, Any], request_context: CallContext) -> None:
    handle = tasks.flaky.delay("f", fail_times=2)
    work(handlers)
    runs = tasks.runs("flaky")
    assert [run["info"].attempt for run in runs] == [1, 2, 3]
    assert {run["info"].task_id for run in runs} == {handle.task_id}
    assert drain(sqs, dead_letter_queue_url("default")) == []


def test_a_task_failing_max_attempts_times_is_dead_lettered(
        sqs: Any, handlers: Dict[str, Any], request_context: CallContext) -> None:
    # SQS's redrive would allow 5 receives (AWS's advised minimum); the worker dead-letters
    # the task itself after its own max_attempts, 3.
    policy = sqs.get_queue_attributes(QueueUrl=queue_url("default"),
                                      AttributeNames=["RedrivePolicy"])["Attributes"]
    assert json.loads(policy["RedrivePolicy"])["maxReceiveCount"] == 5
    assert tasks.always_fails.max_attempts == 3
    tasks.always_fails.delay("doomed")
    work(handlers)
    assert [run["info"].attempt for run in tasks.runs("always_fails")] == [1, 2, 3]
    [letter] = drain(sqs, dead_letter_queue_url("default"))
    attributes = letter["MessageAttributes"]
    assert attributes["pym_failure"]["StringValue"] == "max_attempts"
    assert "always fails on doomed" in attributes["pym_error"]["StringValue"]
    assert depth(sqs, queue_url("default")) == {"visible": 0, "in_flight": 0}


def test_unreadable_messages_reach_the_dlq_by_the_redrive_policy(
        sqs: Any, handlers: Dict[str, Any]) -> None:
    max_receives = {d.queue: d for d in queue_definitions(["default"])}["default"]
    sqs.send_message(QueueUrl=queue_url("default"), MessageBody="poison")
    stats = work(handlers)
    assert stats.failed == max_receives.max_receive_count
    [letter] = drain(sqs, dead_letter_queue_url("default"))
    assert letter["Body"] == "poison" and "pym_failure" not in letter.get("MessageAttributes", {})


def test_permanent_failure_goes_straight_to_the_dlq(
        sqs: Any, handlers: Dict[str, Any], request_context: CallContext) -> None:
    tasks.permanent.delay("p")
    stats = work(handlers)
    assert len(tasks.runs("permanent")) == 1 and stats.failed == 0
    [letter] = drain(sqs, dead_letter_queue_url("default"))
    assert letter["MessageAttributes"]["pym_failure"]["StringValue"] == "permanent"


def test_retry_later_hides_the_message_for_the_delay(
        sqs: Any, handlers: Dict[str, Any], request_context: CallContext) -> None:
    tasks.retry_later.delay("later", delay=600)
    work(handlers)
    assert len(tasks.runs("retry_later")) == 1
    assert depth(sqs, queue_url("default")) == {"visible": 0, "in_flight": 1}


def test_retry_later_runs_again_after_the_delay(
        sqs: Any, handlers: Dict[str, Any], request_context: CallContext) -> None:
    tasks.retry_later.delay("soon", delay=1)
    work(handlers, max_messages=2, idle_exit=5)
    assert [run["info"].attempt for run in tasks.runs("retry_later")] == [1, 2]
    assert depth(sqs, queue_url("default")) == {"visible": 0, "in_flight": 0}


def test_backoff_hides_a_failed_message(sqs: Any, handlers: Dict[str, Any],
                                        request_context: CallContext) -> None:
    configure_tasks(get_task_settings()._replace(backoff_base_seconds=30))
    tasks.flaky.delay("b", fail_times=1)
    work(handlers)
    assert len(tasks.runs("flaky")) == 1
    assert depth(sqs, queue_url("default")) == {"visible": 0, "in_flight": 1}


def test_without_partial_batch_responses_successes_are_deleted_then_the_batch_fails(
        sqs: Any, handlers: Dict[str, Any], request_context: CallContext,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYM_TASKS_PARTIAL_BATCH_RESPONSES", "0")
    configure_tasks(None)
    tasks.record.delay("ok")
    tasks.always_fails.delay("ko")
    stats = work(handlers, max_messages=2)
    assert stats.failed == 2  # the handler raised: Lambda would keep the whole batch...
    assert depth(sqs, queue_url("default"))["visible"] == 1  # ...but "ok" was deleted
    with pytest.raises(BatchFailed):
        handlers["pym_task_worker_default"](
            {"Records": [sqs_record("junk")]}, FakeLambdaContext())


def test_redrive_brings_dead_letters_back(sqs: Any, handlers: Dict[str, Any],
                                          request_context: CallContext,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    tasks.SWITCH["broken"] = True
    for value in ("a", "b", "c"):
        tasks.switchable.delay(value)
    work(handlers)
    assert depth(sqs, dead_letter_queue_url("default"))["visible"] == 3

    app_module = types.ModuleType("pym_tasks_test_app")
    vars(app_module).update(handlers)
    monkeypatch.setitem(sys.modules, app_module.__name__, app_module)
    runner = CliRunner()
    shown = runner.invoke(tasks_cli, ["dlq", "--app", app_module.__name__, "--queue",
                                      "default", "--wait-seconds", "0"])
    assert shown.exit_code == 0, shown.output
    assert shown.output.count(f"{TASKS_MODULE}:switchable") == 3 and "max_attempts" in shown.output
    assert depth(sqs, dead_letter_queue_url("default"))["visible"] == 3  # still there

    listed = runner.invoke(tasks_cli, ["list", "--app", app_module.__name__,
                                       "--queue", "default", "--queue", "missing"])
    assert listed.exit_code == 0, listed.output
    assert "(missing)" in listed.output
    missing = runner.invoke(tasks_cli, ["dlq", "--app", app_module.__name__, "--queue",
                                        "missing", "--wait-seconds", "0"])
    assert missing.exit_code == 1 and f"'{APP_NAME}-{STAGE}-missing-dlq'" in missing.output
    assert "does not exist" in missing.output
    assert [line.split()[1:5] for line in listed.output.splitlines()
            if line.startswith("default")] == [["0", "0", "0", "3"]]

    tasks.SWITCH["broken"] = False
    moved = runner.invoke(tasks_cli, ["redrive", "--app", app_module.__name__,
                                      "--queue", "default", "--wait-seconds", "0"])
    assert moved.exit_code == 0, moved.output
    assert "moved 3 message(s)" in moved.output
    assert depth(sqs, dead_letter_queue_url("default"))["visible"] == 0

    ran = runner.invoke(worker_cli, ["--app", app_module.__name__, "--idle-exit", "0",
                                     "--wait-seconds", "0"])
    assert ran.exit_code == 0, ran.output
    assert "3 received, 3 done" in ran.output
    after_redrive = tasks.runs("switchable")[6:]  # 3 tasks x max_attempts 2 before
    assert sorted(run["value"] for run in after_redrive) == ["a", "b", "c"]
    assert {run["info"].attempt for run in after_redrive} == {1}  # a new message: new count


def test_the_local_worker_stops_on_sigint(sqs: Any, handlers: Dict[str, Any]) -> None:
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    previous = signal.getsignal(signal.SIGINT)
    timer.start()
    try:
        stats = run_local_worker(handlers, wait_seconds=0)
    finally:
        timer.cancel()
    assert stats.received == 0
    assert signal.getsignal(signal.SIGINT) is previous


def test_lambda_rules_for_partial_responses() -> None:
    ids = {"a", "b", "c"}
    assert failed_message_ids({"batchItemFailures": []}, ids) == set()
    assert failed_message_ids(None, ids) == set()
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": "b"}]}, ids) == {"b"}
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": "zz"}]}, ids) == ids
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": ""}]}, ids) == ids


# --- sending ----------------------------------------------------------------------------------

def test_send_tasks_batches_and_oversized_calls_send_nothing(
        sqs: Any, request_context: CallContext) -> None:
    handles = send_tasks([(tasks.record, (i,), {}) for i in range(25)])
    assert len({h.message_id for h in handles}) == 25
    assert depth(sqs, queue_url("default"))["visible"] == 25
    bodies = [json.loads(m["Body"]) for m in drain(sqs, queue_url("default"))]
    value_of = {body["task_id"]: body["args"][0] for body in bodies}
    assert [value_of[h.task_id] for h in handles] == list(range(25))  # in the calls' order
    assert {body["call_id"] for body in bodies} == {"call-42"}
    with pytest.raises(TaskPayloadTooLarge, match="sample_tasks:record"):
        send_tasks([(tasks.record, (1,), {}), (tasks.record, ("x" * 300_000,), {})])
    with pytest.raises(TaskPayloadTooLarge):
        tasks.record.delay("x" * 300_000)
    assert depth(sqs, queue_url("default"))["visible"] == 0


def test_sending_to_a_missing_queue_says_which(sqs: Any, request_context: CallContext) -> None:
    configure_tasks(TaskSettings(app_name=APP_NAME, stage="nostage"))
    with pytest.raises(Exception, match=f"'{APP_NAME}-nostage-default'.*does not exist"):
        tasks.record.delay(1)


# --- queue definitions ------------------------------------------------------------------------

def test_ensure_queues_is_idempotent_and_reports_conflicts(sqs: Any) -> None:
    definitions = queue_definitions(["default"], visibility_timeout=0)
    again = ensure_queues(definitions, sqs)
    assert {change.action for change in again} == {"unchanged"}

    sqs.set_queue_attributes(QueueUrl=queue_url("default"),
                             Attributes={"VisibilityTimeout": "45"})
    with pytest.raises(QueueConfigConflict, match="VisibilityTimeout is '45'"):
        ensure_queues(definitions, sqs, update=False)
    updated = ensure_queues(definitions, sqs)
    assert [c.action for c in updated if c.name.endswith("-default")] == ["update"]

    foreign = sqs.create_queue(QueueName="someone-elses-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=foreign,
                                   AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.set_queue_attributes(QueueUrl=queue_url("default"), Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 5})})
    with pytest.raises(QueueConfigConflict, match="sends to someone-elses-dlq"):
        ensure_queues(definitions, sqs)


UUIDS = [f"00000000-0000-0000-0000-00000000000{i}" for i in range(3)]


def test_partial_batch_responses_are_enabled_on_sqs_mappings() -> None:
    client = aws_client("lambda", "us-east-1")
    mappings: List[Dict[str, Any]] = [
        {"UUID": UUIDS[0], "EventSourceArn": "arn:aws:sqs:us-east-1:1:q",
         "FunctionResponseTypes": []},
        {"UUID": UUIDS[1], "EventSourceArn": "arn:aws:sqs:us-east-1:1:r",
         "FunctionResponseTypes": ["ReportBatchItemFailures"]},
        {"UUID": UUIDS[2], "EventSourceArn": "arn:aws:kinesis:us-east-1:1:stream/s"},
    ]
    with Stubber(client) as stub:
        stub.add_response("list_event_source_mappings", {"EventSourceMappings": mappings},
                          {"FunctionName": "worker"})
        stub.add_response("update_event_source_mapping", {},
                          {"UUID": UUIDS[0], "FunctionResponseTypes": ["ReportBatchItemFailures"]})
        assert enable_partial_batch_responses(client, "worker") == 1
        stub.assert_no_pending_responses()
    reset_aws_clients()


def test_the_client_factory_caches_and_follows_endpoint_variables(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_SQS", raising=False)
    reset_aws_clients()
    first = aws_client("sqs", "eu-west-1")
    assert aws_client("sqs", "eu-west-1") is first
    assert aws_client("sqs", "us-east-1") is not first
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", "http://localhost:5999")
    local = aws_client("sqs", "eu-west-1")
    assert local is not first and local.meta.endpoint_url == "http://localhost:5999"
    reset_aws_clients()
    assert get_task_settings().stage  # settings untouched by the client cache
