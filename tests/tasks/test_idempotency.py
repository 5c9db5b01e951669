"""@async_task(idempotent=True) on moto: SQS records run through the worker handler, the
records kept in a DynamoDB table made by deploy's own ensure_table."""
from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any, Dict, Iterator, List

import pytest

from pym_lambda.aws import aws_client
from pym_lambda.build.deploy.idempotency_table import TableDefinition, ensure_table
from pym_lambda.metrics import Metrics
from pym_lambda.runtime.service import current_service
from pym_lambda.tasks import configure_tasks, get_task_settings
from pym_lambda.tasks import record_processing as per_record
from pym_lambda.tasks.envelope import encode_envelope, new_envelope
from pym_lambda.tasks.idempotency import COMPLETED, IN_PROGRESS, IdempotencyStore
from pym_lambda.tasks.record_processing import Outcome, process_records

from . import idempotent_tasks as tasks
from .tasks_fixtures import (
    APP_NAME,
    STAGE,
    FakeLambdaContext,
    build_app,
    create_queues,
    moto_sqs,
    sqs_record,
)

TABLE = f"{APP_NAME}-{STAGE}-idempotency"
CHARGE = f"{tasks.__name__}:charge"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with moto_sqs(monkeypatch) as sqs:
        create_queues(sqs, ["default"])
        assert ensure_table(TableDefinition(TABLE), aws_client("dynamodb")) == "created"
        tasks.RUNS.clear()
        tasks.CONTROL.update(fail=False, gate=None)
        yield sqs


@pytest.fixture
def worker(aws: Any) -> Any:
    return build_app(["default"])[1]["pym_task_worker_default"]


def record(body: str, message_id: str, receive_count: int = 1) -> Dict[str, Any]:
    return sqs_record(body, message_id=message_id, receive_count=receive_count)


def charge_body(order: str = "o-1") -> str:
    return encode_envelope(new_envelope(CHARGE, (order, 500), {}))


def stored(task_id: str) -> Dict[str, Any]:
    item = aws_client("dynamodb").get_item(
        TableName=TABLE, Key={"id": {"S": f"task#{CHARGE}#{task_id}"}}).get("Item")
    return item or {}


def task_id_of(body: str) -> str:
    return str(json.loads(body)["task_id"])


def test_a_duplicate_delivery_is_skipped_and_reported(
        worker: Any, caplog: pytest.LogCaptureFixture) -> None:
    body = charge_body()
    assert worker({"Records": [record(body, "m-1")]}, FakeLambdaContext()) == {
        "batchItemFailures": []}
    assert stored(task_id_of(body))["status"]["S"] == COMPLETED
    with caplog.at_level(logging.INFO, logger="pym_lambda.tasks"):
        results = process_records([record(body, "m-1", receive_count=2)], "default",
                                  get_task_settings(), FakeLambdaContext())
    assert [r.outcome for r in results] == [Outcome.SKIPPED]
    assert len(tasks.RUNS) == 1
    assert "already completed: delivery m-1 skipped (duplicate)" in caplog.text
    # the worker's own loop (metrics and tracing off) reports the skip too
    unfinished = per_record.unfinished([record(body, "m-1", 2)], "default", get_task_settings())
    assert [(i, r.outcome, r.failed) for i, r in unfinished.items()] == [
        (0, Outcome.SKIPPED, False)]
    # the handler reports it as done, so Lambda deletes the message
    assert worker({"Records": [record(body, "m-1", 3)]}, FakeLambdaContext()) == {
        "batchItemFailures": []}
    assert len(tasks.RUNS) == 1


def test_with_metrics_on_a_duplicate_is_counted_as_skipped(
        worker: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(current_service(), "metrics", Metrics("Shop", "shop", STAGE))
    body = charge_body()
    for message_id in ("m-1", "m-2"):  # the first delivery, then a duplicate
        assert worker({"Records": [record(body, message_id)]}, FakeLambdaContext()) == {
            "batchItemFailures": []}
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(line["operation"], line["task_outcome"], line["task_runs"]) for line in lines] == [
        (CHARGE, "succeeded", 1), (CHARGE, "skipped_duplicate", 0)]  # no run
    assert {line["task_id"] for line in lines} == {task_id_of(body)}
    assert len(tasks.RUNS) == 1


def test_a_redrive_of_a_completed_task_is_skipped(worker: Any) -> None:
    body = charge_body()
    worker({"Records": [record(body, "m-1")]}, FakeLambdaContext())
    # `tasks redrive` sends the same body again: a new message, the same task id
    results = process_records([record(body, "m-redriven")], "default", get_task_settings())
    assert [r.outcome for r in results] == [Outcome.SKIPPED]
    assert len(tasks.RUNS) == 1


def test_two_tasks_are_two_records(worker: Any) -> None:
    worker({"Records": [record(charge_body("o-1"), "m-1"), record(charge_body("o-2"), "m-2")]},
           FakeLambdaContext())
    assert sorted(run["order"] for run in tasks.RUNS) == ["o-1", "o-2"]


def test_a_task_that_raised_runs_again(worker: Any) -> None:
    body = charge_body()
    tasks.CONTROL["fail"] = True
    assert worker({"Records": [record(body, "m-1")]}, FakeLambdaContext()) == {
        "batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert stored(task_id_of(body)) == {}  # released
    tasks.CONTROL["fail"] = False
    assert worker({"Records": [record(body, "m-1", 2)]}, FakeLambdaContext()) == {
        "batchItemFailures": []}
    assert len(tasks.RUNS) == 2
    assert stored(task_id_of(body))["status"]["S"] == COMPLETED


def test_a_run_that_crashed_runs_again_after_its_deadline(worker: Any) -> None:
    body = charge_body()
    key = f"task#{CHARGE}#{task_id_of(body)}"
    store = IdempotencyStore(TABLE)
    # A Lambda killed mid-run leaves the record INPROGRESS: while its deadline is ahead, a
    # delivery is retried later (RetryLater), the body not run...
    assert store.begin(key, run_seconds=60, expires_seconds=3600) is None
    results = process_records([record(body, "m-1", 2)], "default", get_task_settings())
    assert [r.outcome for r in results] == [Outcome.FAILED]
    assert "running elsewhere" in str(results[0].error)
    assert tasks.RUNS == []
    # ... and once it passed, the next delivery runs it.
    aws_client("dynamodb").update_item(
        TableName=TABLE, Key={"id": {"S": key}}, UpdateExpression="SET deadline = :d",
        ExpressionAttributeValues={":d": {"N": str(int((time.time() - 1) * 1000))}})
    assert worker({"Records": [record(body, "m-1", 3)]}, FakeLambdaContext()) == {
        "batchItemFailures": []}
    assert len(tasks.RUNS) == 1


def deadline_of(body: str) -> float:
    return int(stored(task_id_of(body))["deadline"]["N"]) / 1000


def test_the_in_progress_deadline_is_the_end_of_the_lambda_invocation(worker: Any) -> None:
    configure_tasks(get_task_settings()._replace(lambda_timeout_seconds=300))
    body = charge_body()
    before = time.time()
    worker({"Records": [record(body, "m-1")]}, FakeLambdaContext(remaining_ms=20_000))
    assert before + 19 <= deadline_of(body) <= time.time() + 20
    # Never later than the worker's timeout (a context that says more is not believed)...
    longer = charge_body("o-2")
    before = time.time()
    worker({"Records": [record(longer, "m-2")]}, FakeLambdaContext(remaining_ms=900_000))
    assert before + 299 <= deadline_of(longer) <= time.time() + 300
    # ... which is the deadline without a Lambda context (records run outside a Lambda batch).
    local = charge_body("o-3")
    before = time.time()
    process_records([record(local, "m-3")], "default", get_task_settings())
    assert before + 299 <= deadline_of(local) <= time.time() + 300
    assert len(tasks.RUNS) == 3


def test_a_run_whose_lambda_timed_out_is_retried_at_once(worker: Any) -> None:
    """The first delivery's Lambda is killed mid-run (its run never returns: the record stays
    INPROGRESS); the redelivery that follows its timeout runs the task, where a fixed
    deadline (the worker's timeout, 60 s) would have kept it waiting."""
    configure_tasks(get_task_settings()._replace(time_reserve_ms=0))  # a 300 ms Lambda
    body = charge_body()
    hung = threading.Event()
    tasks.CONTROL["gate"] = hung
    first = threading.Thread(target=worker, args=(
        {"Records": [record(body, "m-1")]}, FakeLambdaContext(remaining_ms=300)))
    first.start()
    try:
        give_up = time.time() + 10
        while not tasks.RUNS and time.time() < give_up:  # the first run took the record and
            time.sleep(0.01)  # hangs in the task
        assert stored(task_id_of(body))["status"]["S"] == IN_PROGRESS
        assert deadline_of(body) <= time.time() + 0.3
        while time.time() <= deadline_of(body):  # its Lambda timed out
            time.sleep(0.05)
        tasks.CONTROL["gate"] = None
        assert worker({"Records": [record(body, "m-1", 2)]}, FakeLambdaContext()) == {
            "batchItemFailures": []}
        assert len(tasks.RUNS) == 2
        assert stored(task_id_of(body))["status"]["S"] == COMPLETED
    finally:
        hung.set()
        first.join(10)


def test_two_workers_racing_on_one_message_run_it_once(
        worker: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # DynamoDB makes a conditional write atomic; moto checks then writes without a lock.
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.Lock()
    put_item = DynamoDBBackend.put_item

    def atomic_put(self: Any, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return put_item(self, *args, **kwargs)
    monkeypatch.setattr(DynamoDBBackend, "put_item", atomic_put)

    body = charge_body()
    tasks.CONTROL["gate"] = gate = threading.Event()
    start = threading.Barrier(2)
    answers: List[Dict[str, Any]] = []

    def deliver() -> None:
        start.wait()
        answers.append(worker({"Records": [record(body, "m-1")]}, FakeLambdaContext()))
        gate.set()  # the first to answer is the loser: the winner's run waits on the gate

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert len(tasks.RUNS) == 1
    assert sorted(len(a["batchItemFailures"]) for a in answers) == [0, 1]
    # the loser's message comes back later: the task has completed, it is skipped
    results = process_records([record(body, "m-1", 2)], "default", get_task_settings())
    assert [r.outcome for r in results] == [Outcome.SKIPPED]
    assert len(tasks.RUNS) == 1


def test_a_plain_task_writes_nothing(worker: Any) -> None:
    body = encode_envelope(new_envelope(f"{tasks.__name__}:plain", ("o-9",), {}))
    worker({"Records": [record(body, "m-1")]}, FakeLambdaContext())
    assert aws_client("dynamodb").scan(TableName=TABLE)["Items"] == []


def test_direct_and_inline_calls_run_without_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "nothing-reachable")
    tasks.RUNS.clear()
    tasks.charge("o-1", 1)  # a plain call: the function
    tasks.charge.delay("o-2", 2)  # outside a request: inline, no DynamoDB in development
    assert [run["order"] for run in tasks.RUNS] == ["o-1", "o-2"]


def test_the_store_refuses_a_live_key_and_returns_it(aws: Any) -> None:
    store = IdempotencyStore(TABLE)
    assert store.begin("k", run_seconds=30, expires_seconds=60, fingerprint="f1") is None
    held = store.begin("k", run_seconds=30, expires_seconds=60, fingerprint="f2")
    assert held is not None and held.status == IN_PROGRESS and held.fingerprint == "f1"
    store.complete("k", expires_seconds=60, data="stored")
    done = store.begin("k", run_seconds=30, expires_seconds=60)
    assert done is not None and done.status == COMPLETED and done.data == "stored"
    store.release("k")
    assert store.begin("k", run_seconds=30, expires_seconds=60) is None


def test_an_idempotent_task_imports_nothing_until_its_first_record() -> None:
    import subprocess
    import sys
    from pathlib import Path

    code = (f"import sys, {tasks.__name__}; "
            "print(sorted(m for m in sys.modules if m == 'pym_lambda.tasks.idempotency' "
            "or m.split('.')[0] in ('boto3', 'botocore')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=str(Path(__file__).resolve().parents[2]), timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_a_first_run_costs_a_put_and_an_update_a_duplicate_one_put(worker: Any) -> None:
    calls: List[str] = []
    aws_client("dynamodb").meta.events.register(
        "before-call.dynamodb", lambda model, **_: calls.append(model.name))
    body = charge_body()
    worker({"Records": [record(body, "m-1")]}, FakeLambdaContext())
    assert calls == ["PutItem", "UpdateItem"]
    calls.clear()
    worker({"Records": [record(body, "m-1", 2)]}, FakeLambdaContext())
    assert calls == ["PutItem"]  # the record that won comes back with the refusal: no read
