"""The per-record part of the worker (worker.py says what happens to a record).

Loaded with the first batch, not at cold start, together with the envelope code; the sender
(SQS calls) only when a record fails. Everything a successful record goes through is written
for speed: it is the worker's overhead on every message (benchmarks/, issue #5).
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from enum import Enum
from time import monotonic as _clock
from typing import Any, Dict, List, NamedTuple, Optional

from ..context import CallContext
from ..context import _current as _call
from .current import TaskInfo
from .decorator import SKIPPED_DUPLICATE, AsyncTask, resolve_task
from .envelope import read_fields, restore_caller
from .errors import (
    MAX_VISIBILITY_SECONDS,
    EnvelopeError,
    PermanentFailure,
    RetryLater,
    UnknownTask,
    WorkerStop,
)
from .failure_text import describe_error, log_safely
from .task_settings import TaskSettings

log = logging.getLogger("pym_lambda.tasks")

# The message attributes of a dead letter, which `pym-lambda tasks dlq` shows.
FAILURE_REASON_ATTR = "pym_failure"  # permanent | max_attempts
FAILURE_ERROR_ATTR = "pym_error"
SOURCE_QUEUE_ATTR = "pym_source_queue"
DEAD_LETTER_ATTRS = (FAILURE_REASON_ATTR, FAILURE_ERROR_ATTR, SOURCE_QUEUE_ATTR)


class Outcome(str, Enum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DEAD_LETTERED = "dead_lettered"
    NOT_STARTED = "not_started"  # too little Lambda time left: retried later
    SKIPPED = "skipped_duplicate"  # an idempotent task whose task id completed already


_SUCCEEDED = Outcome.SUCCEEDED  # module constants: cheaper than the class attribute per record
_SKIPPED = Outcome.SKIPPED
_RETRIED = (Outcome.FAILED, Outcome.NOT_STARTED)
_enter, _exit = _call.set, _call.reset  # the call's ContextVar (context.enter_context's)


class RecordResult(NamedTuple):
    """How one record ended (a value record, as every one of the runtime's)."""

    message_id: str
    outcome: Outcome
    task: Optional[str] = None
    task_id: Optional[str] = None
    error: Optional[str] = None

    @property
    def failed(self) -> bool:
        """Reported in batchItemFailures (retried by SQS)."""
        return self.outcome in _RETRIED


def process_records(records: List[Dict[str, Any]], queue: str, settings: TaskSettings,
                    lambda_context: Any = None, service: Any = None) -> List[RecordResult]:
    """Each record's result, in order, a success's too: what metrics and tracing report (and
    tools and tests read). Without those the worker uses `unfinished`."""
    results = unfinished(records, queue, settings, lambda_context, service, every=True)
    return [results[index] for index in range(len(records))]


def unfinished(records: List[Dict[str, Any]], queue: str, settings: TaskSettings,
               lambda_context: Any = None, service: Any = None, every: bool = False
               ) -> Dict[int, RecordResult]:
    """Run each record on its own, `service` (the app's) current while its task runs. The
    results of the records that did not simply succeed (failed, not started, skipped as a
    duplicate), by index: a success, the norm, builds nothing unless `every`."""
    if service is None:
        from ..runtime.service import current_service  # noqa: PLC0415

        service = current_service()
    out: Dict[int, RecordResult] = {}
    deadline = _deadline(lambda_context, settings.time_reserve_ms)
    for index, record in enumerate(records):
        if deadline is not None and _clock() > deadline:
            out[index] = RecordResult(_message_id(record), Outcome.NOT_STARTED)
            continue
        try:
            result = process_record(record, queue, settings, service, every)
        except WorkerStop:
            raise
        except BaseException as exc:  # noqa: BLE001 - one record never takes down its batch
            result = _outside_failure(record, queue, exc)
        if result is not None:
            out[index] = result
    return out


def _deadline(lambda_context: Any, reserve_ms: int) -> Optional[float]:
    """When (_clock) a record may no longer start: reserve_ms before the Lambda's end. Read once
    a batch; each record then costs a clock read, not a call of the context's method."""
    remaining = getattr(lambda_context, "get_remaining_time_in_millis", None)
    if not callable(remaining):
        return None
    left: float = remaining()
    return _clock() + (left - reserve_ms) / 1000


def _outside_failure(record: Any, queue: str, exc: BaseException) -> RecordResult:
    """What escaped process_record (a BaseException from the task's failure path, a record that
    is not even a dict) fails this record alone."""
    message_id = _message_id(record)
    text = describe_error(exc)
    log_safely(log, logging.ERROR, "task message %s on queue %s failed outside its task "
               "(retried until the redrive policy dead-letters it): %s", message_id, queue,
               text, error=exc)
    return RecordResult(message_id, Outcome.FAILED, error=text)


def _message_id(record: Any) -> str:
    try:
        message_id = record.get("messageId", "") if isinstance(record, Mapping) else ""
        return message_id if type(message_id) is str else str(message_id)[:200]
    except BaseException:  # noqa: BLE001 - a hostile id's __str__
        return ""


def _receive_count(record: Mapping[str, Any]) -> int:
    attributes = record.get("attributes")
    try:
        count = int(attributes.get("ApproximateReceiveCount", 1)) if attributes else 1
    except (TypeError, ValueError):
        return 1
    return count if count > 1 else 1


def process_record(record: Dict[str, Any], queue: str, settings: TaskSettings,
                   service: Any = None, every: bool = False) -> Optional[RecordResult]:
    """Run one record's task; how the record ended, or None for a success unless `every`."""
    message_id = record.get("messageId", "")
    if type(message_id) is not str:
        message_id = str(message_id)
    try:
        name, task_id, args, kwargs, call_id, wire_caller, _, _ = read_fields(record.get("body"))
        # The service's table caches resolved tasks; resolve_task imports and checks the rest.
        task = (service.tasks.get(name) if service is not None else None) or resolve_task(name)
        caller = None if wire_caller is None else restore_caller(wire_caller)
    except (EnvelopeError, UnknownTask) as exc:
        text = describe_error(exc)
        log_safely(log, logging.ERROR, "task message %s on queue %s is unreadable (retried "
                   "until the redrive policy dead-letters it): %s", message_id, queue, text)
        return RecordResult(message_id, Outcome.FAILED, error=text)

    # TaskInfo's fields, on the record's context: current_task() makes the TaskInfo if the
    # task asks, and the context's `extra` its {task_id, attempt} (see current.py, context.py).
    info = (task.name, task_id, _receive_count(record), queue, message_id, False)
    # Sent outside a request, a task has no call id: its task id serves (unique, and cheaper
    # than a new uuid for every record). Positional: the constructor runs for every record.
    context = CallContext(call_id or task_id, info[0], "", "", caller, None, None, None, service,
                          info)
    token = _enter(context)
    try:
        returned = task.fn(*args, **kwargs)
    except WorkerStop:
        raise
    except BaseException as exc:  # noqa: BLE001 - SystemExit, KeyboardInterrupt too: this
        error = exc  # record fails, its batch and the worker go on
    else:
        if returned is SKIPPED_DUPLICATE:  # an idempotent task's duplicate: reported as such
            return RecordResult(message_id, _SKIPPED, info[0], task_id)
        return RecordResult(message_id, _SUCCEEDED, info[0], task_id) if every else None
    finally:
        _exit(token)
    return _after_failure(record, TaskInfo._make(info), task, settings, error)


def _after_failure(record: Dict[str, Any], info: TaskInfo, task: AsyncTask[..., Any],
                   settings: TaskSettings, error: BaseException) -> RecordResult:
    if isinstance(error, PermanentFailure):
        log_safely(log, logging.WARNING, "task %s %s failed permanently: %s", info.task,
                   info.task_id, describe_error(error))
        return _dead_letter(record, info, settings, "permanent", error)
    if isinstance(error, RetryLater):
        log.info("task %s %s asked to be retried in %d s (attempt %d of %d)", info.task,
                 info.task_id, error.delay_seconds, info.attempt, task.max_attempts)
    else:
        log_safely(log, logging.ERROR, "task %s %s failed (attempt %d of %d)", info.task,
                   info.task_id, info.attempt, task.max_attempts, error=error)
    if info.attempt >= task.max_attempts:
        return _dead_letter(record, info, settings, "max_attempts", error)
    if isinstance(error, RetryLater):
        _change_visibility(record, info.queue, error.delay_seconds, settings)
    elif settings.backoff_base_seconds > 0:
        backoff = settings.backoff_base_seconds * 2 ** (info.attempt - 1)
        _change_visibility(record, info.queue, min(backoff, settings.backoff_max_seconds),
                           settings)
    return RecordResult(info.message_id or "", Outcome.FAILED, info.task, info.task_id,
                        describe_error(error))


def _change_visibility(record: Dict[str, Any], queue: str, seconds: int,
                       settings: TaskSettings) -> None:
    from .sender import queue_url, sqs_client  # noqa: PLC0415 - failures only

    try:
        sqs_client(settings).change_message_visibility(
            QueueUrl=queue_url(queue, settings), ReceiptHandle=record["receiptHandle"],
            VisibilityTimeout=max(0, min(int(seconds), MAX_VISIBILITY_SECONDS)))
    except Exception:  # the message then simply reappears after the queue's timeout
        log.warning("could not change the visibility of message %s on queue %s",
                    record.get("messageId"), queue, exc_info=True)


def _dead_letter(record: Dict[str, Any], info: TaskInfo, settings: TaskSettings, reason: str,
                 error: BaseException) -> RecordResult:
    from .sender import dead_letter_queue_url, sqs_client  # noqa: PLC0415 - failures only

    body = str(record.get("body", ""))
    text = describe_error(error)[:1000]
    values = {FAILURE_REASON_ATTR: reason, FAILURE_ERROR_ATTR: text, SOURCE_QUEUE_ATTR: info.queue}
    attributes = {k: {"DataType": "String", "StringValue": v} for k, v in values.items()}
    extra = sum(len(k) + len("String") + len(v) for k, v in values.items())
    if len(body.encode("utf-8")) + extra > settings.max_message_bytes:
        attributes = {}  # the body alone fits: the reason stays in the logs
    try:
        sqs_client(settings).send_message(QueueUrl=dead_letter_queue_url(info.queue, settings),
                                          MessageBody=body, MessageAttributes=attributes)
    except Exception:
        log.exception("could not dead-letter task %s %s: left for SQS to retry", info.task,
                      info.task_id)
        return RecordResult(info.message_id or "", Outcome.FAILED, info.task, info.task_id, text)
    log.warning("task %s %s dead-lettered (%s) after attempt %d", info.task, info.task_id,
                reason, info.attempt)
    return RecordResult(info.message_id or "", Outcome.DEAD_LETTERED, info.task, info.task_id,
                        text)


def delete_succeeded(records: List[Dict[str, Any]], failures: Mapping[int, RecordResult],
                     queue: str, settings: TaskSettings) -> None:
    """Without partial batch responses: delete the records that did not fail (`failures`:
    unfinished()'s) ourselves."""
    from .sender import queue_url, sqs_client  # noqa: PLC0415 - failures only

    done = [rec["receiptHandle"] for index, rec in enumerate(records)
            if index not in failures or not failures[index].failed]
    try:
        url = queue_url(queue, settings)
        for start in range(0, len(done), 10):
            entries = [{"Id": str(i), "ReceiptHandle": handle}
                       for i, handle in enumerate(done[start:start + 10])]
            response = sqs_client(settings).delete_message_batch(QueueUrl=url, Entries=entries)
            for bad in response.get("Failed", []):
                log.warning("could not delete a processed message on %s: %s", queue, bad)
    except Exception:  # they'll be processed again: at least once
        log.exception("could not delete the processed messages of queue %s", queue)
