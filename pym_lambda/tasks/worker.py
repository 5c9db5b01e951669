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
pym_failure (permanent | max_attempts), pym_error and pym_source_queue (DEAD_LETTER_ATTRS in
record_processing.py), and reports the record
successful so that Lambda deletes it. If that send fails, the record is reported failed, and
the redrive policy remains the backstop. `pym-lambda tasks redrive` moves them back.

Lambda honours `batchItemFailures` only with ReportBatchItemFailures on the event source
mapping (see queues.enable_partial_batch_responses; Chalice never sets it). Where it can't be set,
PYM_TASKS_PARTIAL_BATCH_RESPONSES=0 makes the handler delete the successful records itself and
raise, so that Lambda retries only the failed ones.

This module registers the handlers (at import of app.py, HTTP Lambdas included); the code run on
each record is in record_processing.py, imported with the first batch.
"""
from __future__ import annotations

import logging
import sys
import time
from collections.abc import Mapping
from types import ModuleType
from typing import Any, Callable, Dict, Iterable, List, Optional

from ..runtime.service import Service, current_service, deactivate
from .current import batch_lambda_context
from .decorator import discover_tasks, task_queues
from .errors import TaskDefinitionError
from .naming import handler_name, physical_queue_name, validate_queue_name
from .task_settings import service_task_settings

log = logging.getLogger("pym_lambda.tasks")

HANDLER_QUEUE_ATTR = "pym_task_queue"  # set on each handler: the logical queue it consumes
_records: Optional[ModuleType] = None


def _per_record() -> ModuleType:
    """record_processing.py, imported with the first batch rather than at cold start, then kept
    here (an import statement per batch costs ~1 us)."""
    global _records
    if _records is None:
        from . import record_processing  # noqa: PLC0415

        _records = record_processing
    return _records


class BatchFailed(Exception):
    """Raised without partial batch responses, so that Lambda retries the failed records."""


def register_task_handlers(app: Any, *, queues: Optional[Iterable[str]] = None,
                           batch_size: int = 10, discover: bool = True) -> Dict[str, Any]:
    """One ``@app.on_sqs_message`` handler per task queue, by function name.

    app.py must export them (``globals().update(register_task_handlers(app))``): Chalice
    deploys each as ``app.<name>``. Import the task modules first: with `discover` and an empty
    registry, the app's tasks (the only ones its messages may name) are the @async_task
    functions imported so far; without `queues`, so are its queues. task_workers() passes
    discover=False: it built the registry from chalicelib/.
    """
    # The app's service (create_app made it), else the current one: its handlers run in it.
    service = getattr(app, "pym_service", None) or current_service()
    settings = service_task_settings(service)
    if not settings.app_name:
        settings = settings._replace(app_name=app.app_name)
        service.configure_tasks(settings)
    if discover and not service.tasks:  # the tasks imported so far, once, at start-up
        service.tasks.update(discover_tasks(list(sys.modules.values())))
    names = list(queues) if queues is not None else task_queues(service)
    if not names:
        log.warning("register_task_handlers: no @async_task imported and no queues given")
    handlers: Dict[str, Any] = {}
    for queue in names:
        name = handler_name(validate_queue_name(queue))
        if name in handlers:
            raise TaskDefinitionError(f"task queues {queue!r} and another one share the "
                                      f"handler name {name}: rename one")
        func = _queue_handler(queue, service)
        func.__name__ = func.__qualname__ = name
        wrapped = app.on_sqs_message(queue=physical_queue_name(queue, settings),
                                     batch_size=batch_size, name=name)(func)
        setattr(wrapped, HANDLER_QUEUE_ATTR, queue)
        handlers[name] = wrapped
    return handlers


def _queue_handler(queue: str, service: Service) -> Callable[[Any], Dict[str, Any]]:
    def handler(event: Any) -> Dict[str, Any]:
        return handle_sqs_event(event, queue, service=service)
    return handler


def handle_sqs_event(event: Any, queue: str, lambda_context: Any = None,
                     service: Optional[Service] = None) -> Dict[str, Any]:
    """Process a Lambda SQS event (a dict, or Chalice's SQSEvent); the partial batch response.
    The batch runs in `service` (default: the current one), each task with it current."""
    if service is None:
        service = current_service()
    token = service.set_as_default()
    batch = batch_lambda_context.set(lambda_context or getattr(event, "context", None))
    try:
        return _handle_batch(event, queue, lambda_context, service)
    finally:
        batch_lambda_context.reset(batch)
        deactivate(token)


def _handle_batch(event: Any, queue: str, lambda_context: Any, service: Service
                  ) -> Dict[str, Any]:
    if type(event) is dict or isinstance(event, Mapping):  # Lambda's dict: no abc check
        records = event.get("Records") or []
    else:
        records = event.to_dict().get("Records") or []
        lambda_context = lambda_context or getattr(event, "context", None)
    if type(records) is not list:  # Lambda's is a list: read as it is, not copied
        records = list(records)
    per_record = _per_record()
    settings = service_task_settings(service)
    if service.metrics is None and service.tracer is None:
        failures = per_record.unfinished(records, queue, settings, lambda_context, service)
    else:
        failures = _reported(per_record, records, queue, settings, lambda_context, service)
    failed = [r.message_id for r in failures.values() if r.failed] if failures else []
    if failed and not settings.partial_batch_responses:
        per_record.delete_succeeded(records, failures, queue, settings)
        raise BatchFailed(f"{len(failed)} of {len(records)} task message(s) failed on "
                          f"queue {queue}: {', '.join(failed)}")
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}


def _reported(per_record: ModuleType, records: List[Any], queue: str, settings: Any,
              lambda_context: Any, service: Service) -> Dict[int, Any]:
    """The batch run with metrics or tracing on: they report every record, so each has a result
    (record_processing.RecordResult), a success's included; by index, as `unfinished` gives."""
    metrics = service.metrics  # pym_lambda.metrics.Metrics when on, else None
    started_ms = time.time() * 1000 if metrics is not None else 0.0
    if service.tracer is None:
        results = per_record.process_records(records, queue, settings, lambda_context, service)
    else:  # pym_lambda.tracing: a span per record, joined to its sender's trace
        from ..tracing.install import run_records  # noqa: PLC0415 - tracing on only

        results = run_records(service.tracer, per_record.process_records, records, queue,
                              settings, lambda_context, service)
    if metrics is not None:
        metrics.write_task_lines(records, results, started_ms)
    return dict(enumerate(results))
