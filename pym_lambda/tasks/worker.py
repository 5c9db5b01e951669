"""The worker: one SQS-triggered Lambda handler per task queue, each record handled on its own.

What happens to a record (delivery is at least once: make tasks idempotent, `current_task()
.task_id` is stable across retries):

- success: not reported, so Lambda deletes it.
- unreadable (not JSON, another envelope version, an unknown or undecorated task, a model this
  code doesn't know): reported failed and logged. It may be readable by a newer or older
  deployment, so it is retried until the queue's redrive policy moves it to the DLQ.
- the task raises: reported failed, retried when its visibility timeout ends (or after the
  exponential backoff of TaskSettings.backoff_base_seconds). On its last attempt (attempt >=
  the task's max_attempts) it is dead-lettered instead (below).
- RetryLater(n): reported failed, visibility set to n seconds. It counts as an attempt.
- PermanentFailure: dead-lettered at once.

Dead-lettering: the worker sends the original body to the queue's DLQ, with message attributes
pym_failure (permanent | max_attempts), pym_error and pym_source_queue, and reports the record
successful so that Lambda deletes it. If that send fails, the record is reported failed, and
the redrive policy remains the backstop. `pym-lambda tasks redrive` moves them back.

Lambda honours `batchItemFailures` only with ReportBatchItemFailures on the event source
mapping (see queues.enable_partial_batch_responses; Chalice never sets it). Where it can't be set,
PYM_TASKS_PARTIAL_BATCH_RESPONSES=0 makes the handler delete the successful records itself and
raise, so that Lambda retries only the failed ones.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional

from ..context import CallContext, enter_context, exit_context
from .current import TaskInfo, enter_task, exit_task
from .decorator import AsyncTask, resolve_task, task_queues
from .envelope import decode_envelope, restore_caller
from .errors import (
    MAX_VISIBILITY_SECONDS,
    EnvelopeError,
    PermanentFailure,
    RetryLater,
    TaskDefinitionError,
    UnknownTask,
)
from .queues import handler_name, physical_queue_name, validate_queue_name
from .sender import dead_letter_queue_url, queue_url, sqs_client
from .settings import TaskSettings, configure_tasks, get_task_settings

log = logging.getLogger("pym_lambda.tasks")

HANDLER_QUEUE_ATTR = "pym_task_queue"  # set on each handler: the logical queue it consumes
FAILURE_REASON_ATTR = "pym_failure"
FAILURE_ERROR_ATTR = "pym_error"
SOURCE_QUEUE_ATTR = "pym_source_queue"
DEAD_LETTER_ATTRS = (FAILURE_REASON_ATTR, FAILURE_ERROR_ATTR, SOURCE_QUEUE_ATTR)


class Outcome(str, Enum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DEAD_LETTERED = "dead_lettered"
    NOT_STARTED = "not_started"  # too little Lambda time left: retried later


@dataclass(frozen=True)
class RecordResult:
    message_id: str
    outcome: Outcome
    task: Optional[str] = None
    task_id: Optional[str] = None
    error: Optional[str] = None

    @property
    def failed(self) -> bool:
        return self.outcome in (Outcome.FAILED, Outcome.NOT_STARTED)


class BatchFailed(Exception):
    """Raised without partial batch responses, so that Lambda retries the failed records."""


def register_task_handlers(app: Any, *, queues: Optional[Iterable[str]] = None,
                           batch_size: int = 10) -> Dict[str, Any]:
    """One ``@app.on_sqs_message`` handler per task queue, by function name.

    app.py must export them (``globals().update(register_task_handlers(app))``): Chalice
    deploys each as ``app.<name>``. Import the task modules first: without `queues`, the
    queues are those of the @async_task functions imported so far.
    """
    settings = get_task_settings()
    if not settings.app_name:
        settings = replace(settings, app_name=app.app_name)
        configure_tasks(settings)
    names = list(queues) if queues is not None else task_queues()
    if not names:
        log.warning("register_task_handlers: no @async_task imported and no queues given")
    handlers: Dict[str, Any] = {}
    for queue in names:
        name = handler_name(validate_queue_name(queue))
        if name in handlers:
            raise TaskDefinitionError(f"task queues {queue!r} and another one share the "
                                      f"handler name {name}: rename one")
        func = _queue_handler(queue)
        func.__name__ = func.__qualname__ = name
        wrapped = app.on_sqs_message(queue=physical_queue_name(queue, settings),
                                     batch_size=batch_size, name=name)(func)
        setattr(wrapped, HANDLER_QUEUE_ATTR, queue)
        handlers[name] = wrapped
    return handlers


def _queue_handler(queue: str) -> Callable[[Any], Dict[str, Any]]:
    def handler(event: Any) -> Dict[str, Any]:
        return handle_sqs_event(event, queue)
    return handler


def handle_sqs_event(event: Any, queue: str, lambda_context: Any = None) -> Dict[str, Any]:
    """Process a Lambda SQS event (a dict, or Chalice's SQSEvent); the partial batch response."""
    if isinstance(event, Mapping):
        records = list(event.get("Records") or [])
    else:
        records = list(event.to_dict().get("Records") or [])
        lambda_context = lambda_context or getattr(event, "context", None)
    settings = get_task_settings()
    results = process_records(records, queue, settings, lambda_context)
    failed = [r.message_id for r in results if r.failed]
    if failed and not settings.partial_batch_responses:
        _delete_succeeded(records, results, queue, settings)
        raise BatchFailed(f"{len(failed)} of {len(records)} task message(s) failed on "
                          f"queue {queue}: {', '.join(failed)}")
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}


def process_records(records: List[Dict[str, Any]], queue: str, settings: TaskSettings,
                    lambda_context: Any = None) -> List[RecordResult]:
    results: List[RecordResult] = []
    remaining = getattr(lambda_context, "get_remaining_time_in_millis", None)
    for record in records:
        if callable(remaining) and remaining() < settings.time_reserve_ms:
            results.append(RecordResult(str(record.get("messageId", "")), Outcome.NOT_STARTED))
            continue
        results.append(process_record(record, queue, settings))
    return results


def _receive_count(record: Mapping[str, Any]) -> int:
    try:
        return max(1, int((record.get("attributes") or {}).get("ApproximateReceiveCount", 1)))
    except (TypeError, ValueError):
        return 1


def process_record(record: Dict[str, Any], queue: str, settings: TaskSettings) -> RecordResult:
    message_id = str(record.get("messageId", ""))
    try:
        envelope = decode_envelope(record.get("body"))
        task = resolve_task(envelope.task)
        caller = restore_caller(envelope.caller)
    except (EnvelopeError, UnknownTask) as exc:
        log.error("task message %s on queue %s is unreadable (retried until the redrive "
                  "policy dead-letters it): %s", message_id, queue, exc)
        return RecordResult(message_id, Outcome.FAILED, error=str(exc))

    info = TaskInfo(task=task.name, task_id=envelope.task_id, attempt=_receive_count(record),
                    queue=queue, message_id=message_id)
    # Sent outside a request, a task has no call id: its task id serves (unique, and cheaper
    # than a new uuid for every record).
    context = CallContext(call_id=envelope.call_id or envelope.task_id, operation=task.name,
                          caller=caller, extra={"task_id": info.task_id,
                                                "attempt": info.attempt})
    error: Optional[BaseException] = None
    context_token = enter_context(context)
    task_token = enter_task(info)
    try:
        task.fn(*envelope.args, **envelope.kwargs)
    except Exception as exc:  # each record on its own: nothing escapes to the batch
        error = exc
    finally:
        exit_task(task_token)
        exit_context(context_token)
    if error is None:
        return RecordResult(message_id, Outcome.SUCCEEDED, task.name, info.task_id)
    return _after_failure(record, info, task, settings, error)


def _after_failure(record: Dict[str, Any], info: TaskInfo, task: AsyncTask[..., Any],
                   settings: TaskSettings, error: BaseException) -> RecordResult:
    if isinstance(error, PermanentFailure):
        log.warning("task %s %s failed permanently: %s", info.task, info.task_id, error)
        return _dead_letter(record, info, settings, "permanent", error)
    if isinstance(error, RetryLater):
        log.info("task %s %s asked to be retried in %d s (attempt %d of %d)", info.task,
                 info.task_id, error.delay_seconds, info.attempt, task.max_attempts)
    else:
        log.error("task %s %s failed (attempt %d of %d)", info.task, info.task_id, info.attempt,
                  task.max_attempts, exc_info=error)
    if info.attempt >= task.max_attempts:
        return _dead_letter(record, info, settings, "max_attempts", error)
    if isinstance(error, RetryLater):
        _change_visibility(record, info.queue, error.delay_seconds, settings)
    elif settings.backoff_base_seconds > 0:
        backoff = settings.backoff_base_seconds * 2 ** (info.attempt - 1)
        _change_visibility(record, info.queue, min(backoff, settings.backoff_max_seconds),
                           settings)
    return RecordResult(info.message_id or "", Outcome.FAILED, info.task, info.task_id,
                        f"{type(error).__name__}: {error}")


def _change_visibility(record: Dict[str, Any], queue: str, seconds: int,
                       settings: TaskSettings) -> None:
    try:
        sqs_client(settings).change_message_visibility(
            QueueUrl=queue_url(queue, settings), ReceiptHandle=record["receiptHandle"],
            VisibilityTimeout=max(0, min(int(seconds), MAX_VISIBILITY_SECONDS)))
    except Exception:  # the message then simply reappears after the queue's timeout
        log.warning("could not change the visibility of message %s on queue %s",
                    record.get("messageId"), queue, exc_info=True)


def _dead_letter(record: Dict[str, Any], info: TaskInfo, settings: TaskSettings, reason: str,
                 error: BaseException) -> RecordResult:
    body = str(record.get("body", ""))
    text = (f"{type(error).__name__}: {error}")[:1000]
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


def _delete_succeeded(records: List[Dict[str, Any]], results: List[RecordResult], queue: str,
                      settings: TaskSettings) -> None:
    done = [rec["receiptHandle"]
            for rec, res in zip(records, results, strict=True) if not res.failed]
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
