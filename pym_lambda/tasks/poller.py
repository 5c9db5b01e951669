"""The SQS poller: a stand-in for Lambda's SQS event source. Poll, call the same handler, delete.

The Beanstalk container runs it as its task worker (`python -m pym_lambda.tasks.local_worker`,
see local_worker.py); `pym-lambda worker` and `pym-lambda local` run it on a developer's
machine, and the test helpers drain queues with it.

It does what the Lambda poller does with ReportBatchItemFailures on: receive up to 10 messages,
build the SQS event Lambda would send, call the handler, then delete only the messages that the
response did not list in ``batchItemFailures``. A handler that raises, or a response naming an
unknown message id, fails the whole batch (as in Lambda); failed messages become visible again
after their visibility timeout and reach the DLQ after maxReceiveCount, by SQS itself.

Works against a moto server, LocalStack or real SQS (AWS_ENDPOINT_URL, see pym_lambda.aws).
SIGINT/SIGTERM stop it after the batch in hand; a second signal interrupts at once.
"""
from __future__ import annotations

import logging
import signal
import threading
import time
import types
from collections.abc import Mapping
from typing import Any, Dict, List, Optional, Set, Union

from ..aws_events import LambdaContext, sqs_record_from_message
from .errors import WorkerStop
from .sender import queue_url, sqs_client
from .task_settings import get_task_settings
from .worker import HANDLER_QUEUE_ATTR

log = logging.getLogger("pym_lambda.tasks")

Handlers = Union[types.ModuleType, Mapping[str, Any]]


class WorkerStats:
    """Counters a polling worker keeps (mutable state, so a plain class)."""

    def __init__(self, batches: int = 0, received: int = 0, deleted: int = 0,
                 failed: int = 0) -> None:
        self.batches, self.received, self.deleted, self.failed = (
            batches, received, deleted, failed)

    def __repr__(self) -> str:
        return (f"WorkerStats(batches={self.batches}, received={self.received}, "
                f"deleted={self.deleted}, failed={self.failed})")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WorkerStats):
            return NotImplemented
        return vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass was


def find_task_handlers(app_module_or_handlers: Handlers) -> Dict[str, Any]:
    """{logical queue: handler} from an app module or register_task_handlers()' result."""
    if isinstance(app_module_or_handlers, types.ModuleType):
        candidates = list(vars(app_module_or_handlers).values())
    else:
        candidates = list(app_module_or_handlers.values())
    found = {getattr(h, HANDLER_QUEUE_ATTR): h for h in candidates
             if isinstance(getattr(h, HANDLER_QUEUE_ATTR, None), str)}
    if not found:
        raise ValueError("no task handler found: export register_task_handlers(app)'s result "
                         "in app.py (globals().update(...)) or pass that dict")
    return found


def failed_message_ids(response: Any, batch_ids: Set[str]) -> Set[str]:
    """The ids Lambda would keep: all of them when the response is not a valid partial one."""
    failures = response.get("batchItemFailures") if isinstance(response, Mapping) else None
    if not failures:
        return set()  # None, {} or an empty list: the whole batch succeeded
    if not isinstance(failures, list):
        return set(batch_ids)
    ids = [item.get("itemIdentifier") if isinstance(item, Mapping) else None
           for item in failures]
    if any(not isinstance(i, str) or i not in batch_ids for i in ids):
        return set(batch_ids)
    return {str(i) for i in ids}


class _QueuePoller:
    def __init__(self, queue: str, handler: Any, sqs: Any, timeout_seconds: int) -> None:
        self.queue, self.handler, self.sqs = queue, handler, sqs
        self.timeout_seconds = timeout_seconds
        self.url = queue_url(queue)
        self.arn = sqs.get_queue_attributes(
            QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def poll_once(self, max_messages: int, wait_seconds: int, stats: WorkerStats) -> int:
        messages = self.sqs.receive_message(
            QueueUrl=self.url, MaxNumberOfMessages=max(1, min(10, max_messages)),
            WaitTimeSeconds=wait_seconds, MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"]).get("Messages", [])
        if not messages:
            return 0
        records = [sqs_record_from_message(m, self.arn) for m in messages]
        name = getattr(getattr(self.handler, "func", self.handler), "__name__", self.queue)
        context = LambdaContext(name, timeout_ms=self.timeout_seconds * 1000)
        try:
            response = self.handler({"Records": records}, context)
        except Exception:
            log.exception("task handler for queue %s raised: the whole batch is retried",
                          self.queue)
            failed = {m["MessageId"] for m in messages}
        else:
            failed = failed_message_ids(response, {m["MessageId"] for m in messages})
        done = [m for m in messages if m["MessageId"] not in failed]
        self._delete(done)
        stats.batches += 1
        stats.received += len(messages)
        stats.deleted += len(done)
        stats.failed += len(failed)
        return len(messages)

    def _delete(self, messages: List[Mapping[str, Any]]) -> None:
        for start in range(0, len(messages), 10):
            chunk = messages[start:start + 10]
            response = self.sqs.delete_message_batch(QueueUrl=self.url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)])
            for bad in response.get("Failed", []):
                log.warning("could not delete message on %s: %s", self.queue, bad)


def run_local_worker(app_module_or_handlers: Handlers, *, max_messages: Optional[int] = None,
                     idle_exit: Optional[float] = None, wait_seconds: int = 5,
                     stop_event: Optional[threading.Event] = None,
                     install_signal_handlers: bool = True) -> WorkerStats:
    """Poll every task queue and run its handler until stopped.

    max_messages: stop after receiving that many messages. idle_exit: stop once no message has
    arrived for that many seconds (0: at the first empty round). wait_seconds: the long poll
    (shortened to 1 s per queue when there are several, so none waits behind another).
    """
    settings = get_task_settings()
    sqs = sqs_client(settings)
    pollers = [_QueuePoller(q, h, sqs, settings.lambda_timeout_seconds)
               for q, h in sorted(find_task_handlers(app_module_or_handlers).items())]
    wait = wait_seconds if len(pollers) == 1 else min(wait_seconds, 1)
    stop = stop_event or threading.Event()
    restore = _install_signal_handlers(stop) if install_signal_handlers else {}
    stats = WorkerStats()
    last_message = time.monotonic()
    try:
        while not stop.is_set():
            got = 0
            for poller in pollers:
                left = None if max_messages is None else max_messages - stats.received
                if stop.is_set() or left == 0:
                    break
                got += poller.poll_once(10 if left is None else left, wait, stats)
            if max_messages is not None and stats.received >= max_messages:
                break
            if got:
                last_message = time.monotonic()
            elif idle_exit is not None and time.monotonic() - last_message >= idle_exit:
                break
            elif wait == 0:
                time.sleep(0.05)  # short polling on an empty queue: don't spin
    finally:
        for signum, previous in restore.items():
            signal.signal(signum, previous)
    log.info("local task worker stopped: %s", stats)
    return stats


def _install_signal_handlers(stop: threading.Event) -> Dict[int, Any]:
    if threading.current_thread() is not threading.main_thread():
        return {}  # signal handlers can only be set from the main thread

    def on_signal(signum: int, frame: Any) -> None:
        if stop.is_set():
            raise WorkerStop(f"signal {signum} received twice")
        log.info("signal %d: stopping after the current batch (again to interrupt)", signum)
        stop.set()

    previous: Dict[int, Any] = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous[signum] = signal.getsignal(signum)
        signal.signal(signum, on_signal)
    return previous


def main() -> int:
    """The worker process of the Beanstalk container: `python -m pym_lambda.tasks.local_worker`,
    which infra/beanstalk/supervise.py starts when PYM_TASK_WORKER=1. Imports the app module
    named by PYM_APP_MODULE ("app" or "module:attr") and polls until SIGTERM."""
    import importlib
    import os
    import sys

    from ..config.environment import runtime_environment

    sys.path.insert(0, os.getcwd())
    module_name = runtime_environment().app_module.split(":", 1)[0]
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    run_local_worker(importlib.import_module(module_name))
    return 0

