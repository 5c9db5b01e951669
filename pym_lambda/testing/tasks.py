"""Draining the task queues in a test: what `.delay()` sent, run by the app's real handlers.

`TaskDrainer.drain()` does what the Lambda poller does (receive, call the exported
`pym_task_worker_<queue>` handler with an SQS event, delete what did not fail), until the
queues are empty, and says what each message became. Failed messages are made visible again
at the end, so that the next `drain()` retries them (their attempt number grows, and the worker
dead-letters them after the task's max_attempts, as on AWS).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Set, Tuple

log = logging.getLogger("pym_lambda.testing")

RECEIVE_VISIBILITY_SECONDS = 60  # a drain never sees its own failures twice
DEFAULT_MAX_MESSAGES = 1000  # a task that keeps enqueueing itself must end the test


@dataclass(frozen=True)
class TaskRun:
    """One message handled: which task, with what, and how it ended."""

    queue: str
    message_id: str
    outcome: str  # "succeeded", "failed" (retried later) or "dead_lettered"
    task: Optional[str] = None  # "<module>:<function>"; None when the message is unreadable
    task_id: Optional[str] = None
    args: List[Any] = field(default_factory=list)
    kwargs: Dict[str, Any] = field(default_factory=dict)
    attempt: int = 1
    error: Optional[str] = None


@dataclass(frozen=True)
class DrainResult:
    runs: List[TaskRun]

    @property
    def ran(self) -> List[TaskRun]:
        """The tasks that ran and succeeded."""
        return [r for r in self.runs if r.outcome == "succeeded"]

    @property
    def failed(self) -> List[TaskRun]:
        """The tasks that failed and stay queued for a retry."""
        return [r for r in self.runs if r.outcome == "failed"]

    @property
    def dead_lettered(self) -> List[TaskRun]:
        return [r for r in self.runs if r.outcome == "dead_lettered"]

    def tasks(self, outcome: str = "succeeded") -> List[str]:
        """The task names with this outcome, in the order they ran."""
        return [r.task or "?" for r in self.runs if r.outcome == outcome]


class _ErrorCollector(logging.Handler):
    """The worker reports errors through its log: keep each exception, keyed by its ids."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.errors: Dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            text = f"{type(exc).__name__}: {exc}"
        else:
            text = record.getMessage()
        args = record.args if isinstance(record.args, tuple) else ()
        for arg in args:
            if isinstance(arg, str):
                self.errors.setdefault(arg, text)


class TaskDrainer:
    """Runs the queued tasks of an app; made by the `pym_tasks` fixture."""

    def __init__(self, handlers: Mapping[str, Any], sqs: Any) -> None:
        self.handlers = dict(sorted(handlers.items()))  # {logical queue: exported handler}
        self.sqs = sqs

    def _url(self, queue: str, dead_letters: bool = False) -> str:
        from ..tasks.sender import dead_letter_queue_url, queue_url

        return dead_letter_queue_url(queue) if dead_letters else queue_url(queue)

    def pending(self) -> Dict[str, int]:
        """Messages waiting (visible) on each task queue."""
        counts = {}
        for queue in self.handlers:
            attributes = self.sqs.get_queue_attributes(
                QueueUrl=self._url(queue), AttributeNames=["ApproximateNumberOfMessages"])
            counts[queue] = int(attributes["Attributes"]["ApproximateNumberOfMessages"])
        return counts

    def dead_letters(self, queue: str) -> Dict[str, Tuple[Optional[str], Optional[str]]]:
        """{message id: (task id, error)} of the queue's DLQ; the messages stay there."""
        from ..tasks.envelope import decode_envelope
        from ..tasks.errors import EnvelopeError

        url = self._url(queue, dead_letters=True)
        found: Dict[str, Tuple[Optional[str], Optional[str]]] = {}
        handles: List[str] = []
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30,
                MessageAttributeNames=["All"]).get("Messages", [])
            if not batch:
                break
            for message in batch:
                handles.append(message["ReceiptHandle"])
                try:
                    task_id: Optional[str] = decode_envelope(
                        message["Body"], verify_caller=False).task_id
                except (EnvelopeError, ValueError):
                    task_id = None
                error = (message.get("MessageAttributes") or {}).get("pym_error", {})
                found[message["MessageId"]] = (task_id, error.get("StringValue"))
        for handle in handles:  # peeked, not taken
            self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle,
                                               VisibilityTimeout=0)
        return found

    def drain(self, max_messages: int = DEFAULT_MAX_MESSAGES) -> DrainResult:
        """Run every queued task (and those they enqueue) once; see the module docstring."""
        known_dead = {q: set(self.dead_letters(q)) for q in self.handlers}
        runs: List[TaskRun] = []
        retry: List[Tuple[str, str]] = []  # (queue URL, receipt handle) made visible at the end
        try:
            while True:
                got = 0
                for queue, handler in self.handlers.items():
                    got += self._run_batch(queue, handler, runs, retry, known_dead[queue])
                if not got:
                    break
                if len(runs) >= max_messages:
                    raise RuntimeError(f"pym_tasks.drain(): still tasks queued after "
                                       f"{len(runs)} messages: does a task enqueue itself?")
        finally:
            for url, handle in retry:
                self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle,
                                                   VisibilityTimeout=0)
        return DrainResult(runs)

    def _run_batch(self, queue: str, handler: Any, runs: List[TaskRun],
                   retry: List[Tuple[str, str]], known_dead: Set[str]) -> int:
        from ..aws_events import LambdaContext, sqs_record_from_message
        from ..tasks.poller import failed_message_ids

        url = self._url(queue)
        messages = self.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=RECEIVE_VISIBILITY_SECONDS,
            MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        arn = self.sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        records = [sqs_record_from_message(m, arn) for m in messages]
        ids = {m["MessageId"] for m in messages}
        collector = _ErrorCollector()
        worker_log = logging.getLogger("pym_lambda.tasks")
        worker_log.addHandler(collector)
        try:
            response = handler({"Records": records},
                               LambdaContext(getattr(handler, "__name__", queue)))
            failed = failed_message_ids(response, ids)
        except Exception as exc:  # as on Lambda: the whole batch comes back
            failed = set(ids)
            collector.errors.update({i: f"{type(exc).__name__}: {exc}" for i in ids})
        finally:
            worker_log.removeHandler(collector)
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self.sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(done[start:start + 10])])
        retry.extend((url, m["ReceiptHandle"]) for m in messages if m["MessageId"] in failed)
        dead: Dict[Optional[str], Optional[str]] = {}
        for message_id, (task_id, error) in self.dead_letters(queue).items():
            if message_id not in known_dead:
                known_dead.add(message_id)
                dead[task_id] = error
        runs.extend(self._describe(queue, m, failed, dead, collector.errors) for m in messages)
        return len(messages)

    @staticmethod
    def _describe(queue: str, message: Mapping[str, Any], failed: Set[str],
                  dead: Dict[Optional[str], Optional[str]], errors: Dict[str, str]) -> TaskRun:
        from ..tasks.envelope import decode_envelope
        from ..tasks.errors import EnvelopeError

        message_id = message["MessageId"]
        attempt = int((message.get("Attributes") or {}).get("ApproximateReceiveCount", 1))
        try:
            envelope = decode_envelope(message["Body"], verify_caller=False)
        except (EnvelopeError, ValueError):
            return TaskRun(queue, message_id, "failed" if message_id in failed else "succeeded",
                           attempt=attempt, error=errors.get(message_id))
        if message_id in failed:
            outcome = "failed"
        elif envelope.task_id in dead:
            outcome = "dead_lettered"
        else:
            outcome = "succeeded"
        error = None
        if outcome != "succeeded":
            error = dead.get(envelope.task_id) or errors.get(envelope.task_id) \
                or errors.get(message_id)
        return TaskRun(queue, message_id, outcome, envelope.task, envelope.task_id,
                       list(envelope.args), dict(envelope.kwargs), attempt, error)
