"""One record on its own: whatever it raises, only it fails (no AWS: tasks with no DLQ call)."""
from __future__ import annotations

import json
import sys
from typing import Any, Iterator

import pytest

from pym_lambda import aws_events
from pym_lambda.context import current_context
from pym_lambda.runtime.service import Service
from pym_lambda.tasks import (
    RetryLater,
    TaskInfo,
    UnknownTask,
    async_task,
    configure_tasks,
    current_task,
    resolve_task,
)
from pym_lambda.tasks import record_processing as per_record
from pym_lambda.tasks.decorator import run_inline
from pym_lambda.tasks.envelope import encode_envelope, new_envelope
from pym_lambda.tasks.errors import WorkerStop
from pym_lambda.tasks.record_processing import Outcome, process_records
from pym_lambda.tasks.task_settings import TaskSettings

from .tasks_fixtures import sqs_record

RAN: list = []
SEEN: list = []
CLOCK = [0.0]


class Unprintable(Exception):
    def __str__(self) -> str:
        raise SystemExit("from __str__")


@async_task
def fine(n: int) -> None:
    RAN.append(n)


@async_task
def interrupted(kind: str) -> None:
    raise {"exit": SystemExit(2), "interrupt": KeyboardInterrupt(), "recursion": RecursionError(),
           "unprintable": Unprintable(), "stop": WorkerStop()}[kind]


@async_task
def later() -> None:
    raise RetryLater(0)


@async_task
def slow() -> None:
    CLOCK[0] += 9.0  # nine seconds of work, on the worker's clock


@async_task
def inner() -> None:
    SEEN.append(("inner", current_task()))


@async_task
def outer() -> None:
    context = current_context()
    assert context is not None
    SEEN.append(("outer", current_task(), context.extra.copy()))
    run_inline(inner, (), {})  # what .delay() does in inline mode
    SEEN.append(("after", current_task(), current_task()))


@pytest.fixture(autouse=True)
def bare_service() -> Iterator[Service]:
    RAN.clear()
    SEEN.clear()
    with Service().use() as service:
        configure_tasks(TaskSettings(app_name="t", backoff_base_seconds=0))
        yield service


def body(task: Any, *args: Any) -> str:
    return encode_envelope(new_envelope(f"{__name__}:{task.__name__}", args, {}))


def run(*records: Any) -> list:
    return process_records(list(records), "default", TaskSettings(app_name="t"))


@pytest.mark.parametrize("kind", ["exit", "interrupt", "recursion", "unprintable"])
def test_a_base_exception_from_a_task_fails_its_record_alone(kind: str) -> None:
    results = run(sqs_record(body(fine, 1)), sqs_record(body(interrupted, kind)),
                  sqs_record(body(fine, 2)))
    assert [r.outcome for r in results] == [Outcome.SUCCEEDED, Outcome.FAILED,
                                            Outcome.SUCCEEDED]
    assert RAN == [1, 2]
    assert results[1].error and len(results[1].error) <= 1100


def test_a_record_that_is_not_even_a_dict_fails_alone() -> None:
    results = run(["not", "a", "record"], sqs_record(body(fine, 1)))
    assert [r.outcome for r in results] == [Outcome.FAILED, Outcome.SUCCEEDED]


def test_worker_stop_still_stops_the_worker() -> None:
    with pytest.raises(WorkerStop):
        run(sqs_record(body(interrupted, "stop")))


def test_a_message_never_makes_the_worker_import(tmp_path: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pym_exits_if_imported.py").write_text("raise SystemExit('imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("pym_exits_if_imported:task", "tabnanny:check"):
        results = run(sqs_record(json.loads(json.dumps(body(fine, 1))).replace(
            f"{__name__}:fine", name)))
        assert results[0].outcome is Outcome.FAILED and "not a function" in results[0].error
        assert name.partition(":")[0] not in sys.modules


def test_an_app_service_runs_only_its_registry(bare_service: Service) -> None:
    app_service = Service("app", settings=object())
    app_service.tasks[fine.name] = fine
    with app_service.use():
        assert resolve_task(fine.name) is fine
        with pytest.raises(UnknownTask, match="not one of this app's tasks"):
            resolve_task(later.name)  # imported, decorated, but not in the app's registry


def test_a_task_sees_its_record_in_current_task_and_its_context() -> None:
    envelope = new_envelope(outer.name, (), {})
    record = sqs_record(encode_envelope(envelope), message_id="m-1", receive_count=3)
    assert [r.outcome for r in run(record)] == [Outcome.SUCCEEDED]
    mine = TaskInfo(outer.name, envelope.task_id, 3, "default", "m-1", False)
    (_, seen, extra), (_, nested), (_, after, again) = SEEN
    assert seen == mine and type(seen) is TaskInfo
    assert extra == {"task_id": envelope.task_id, "attempt": 3}
    assert nested is not None and nested.task == inner.name and nested.inline
    assert after == mine and again is after  # the same TaskInfo, made once
    assert current_task() is None and current_context() is None


def test_records_are_not_started_once_only_the_reserve_of_lambda_time_is_left(
        monkeypatch: pytest.MonkeyPatch) -> None:
    CLOCK[0] = 0.0
    monkeypatch.setattr(per_record, "_clock", lambda: CLOCK[0])
    context = aws_events.LambdaContext("worker", timeout_ms=10_000)  # the reserve: 2 s
    records = [sqs_record(body(fine, 1), message_id="a"), sqs_record(body(slow), message_id="b"),
               sqs_record(body(fine, 2), message_id="c"), sqs_record(body(fine, 3))]
    results = process_records(records, "default", TaskSettings(app_name="t"), context)
    assert [r.outcome for r in results] == [Outcome.SUCCEEDED, Outcome.SUCCEEDED,
                                            Outcome.NOT_STARTED, Outcome.NOT_STARTED]
    assert results[2].message_id == "c" and results[2].failed and not results[1].failed
    assert RAN == [1]


def test_the_worker_path_builds_results_only_for_records_that_did_not_simply_succeed() -> None:
    records = [sqs_record(body(fine, 1), message_id="a"), sqs_record(body(later), message_id="b"),
               sqs_record(body(fine, 2), message_id="c")]
    settings = TaskSettings(app_name="t")
    unfinished = per_record.unfinished(records, "default", settings)
    assert list(unfinished) == [1] and unfinished[1].message_id == "b"
    assert unfinished[1].failed and unfinished[1].task == later.name
    # every=True (metrics, tracing): a success's result too, with its task and task id
    every = per_record.unfinished(records, "default", settings, every=True)
    assert sorted(every) == [0, 1, 2] and every[0].outcome is Outcome.SUCCEEDED
    assert every[2].task == fine.name and every[2].task_id and every[2].message_id == "c"
    assert RAN == [1, 2, 1, 2]
