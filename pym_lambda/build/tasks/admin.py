"""What an operator does with task queues: look at depths, peek at dead letters, redrive them."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence

from ...tasks.errors import TaskSendError
from ...tasks.record_processing import (
    DEAD_LETTER_ATTRS,
    FAILURE_ERROR_ATTR,
    FAILURE_REASON_ATTR,
)
from ...tasks.sender import dead_letter_queue_url, queue_url, sqs_client
from ...tasks.task_settings import TaskSettings, get_task_settings

log = logging.getLogger("pym_lambda.tasks")

PEEK_HOLD_SECONDS = 30  # long enough to page through the DLQ, then released at once
REDRIVE_HOLD_SECONDS = 60


@dataclass(frozen=True)
class QueueDepth:
    queue: str
    url: Optional[str]  # None: the queue does not exist
    visible: int = 0
    in_flight: int = 0
    delayed: int = 0
    dlq_url: Optional[str] = None
    dead_letters: int = 0


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    body: str
    task: Optional[str]
    task_id: Optional[str]
    created_at: Optional[str]
    reason: Optional[str]  # "permanent", "max_attempts"; None when SQS redrive moved it
    error: Optional[str]
    receive_count: int


def _try_url(url_of: Any, queue: str, settings: TaskSettings) -> Optional[str]:
    try:
        return str(url_of(queue, settings))
    except TaskSendError:  # the queue does not exist
        return None


def queue_depth(queue: str, settings: Optional[TaskSettings] = None) -> QueueDepth:
    settings = settings or get_task_settings()
    sqs = sqs_client(settings)

    def counts(url: str) -> Dict[str, str]:
        return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed"])["Attributes"]

    url = _try_url(queue_url, queue, settings)
    dlq_url = _try_url(dead_letter_queue_url, queue, settings)
    main = counts(url) if url else {}
    dead = counts(dlq_url) if dlq_url else {}
    return QueueDepth(
        queue=queue, url=url, visible=int(main.get("ApproximateNumberOfMessages", 0)),
        in_flight=int(main.get("ApproximateNumberOfMessagesNotVisible", 0)),
        delayed=int(main.get("ApproximateNumberOfMessagesDelayed", 0)), dlq_url=dlq_url,
        dead_letters=int(dead.get("ApproximateNumberOfMessages", 0)))


def _receive(sqs: Any, url: str, count: int, hold: int, wait: int) -> List[Dict[str, Any]]:
    return sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=max(1, min(10, count)), VisibilityTimeout=hold,
        WaitTimeSeconds=wait, MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"]).get("Messages", [])


def _string_attr(message: Mapping[str, Any], name: str) -> Optional[str]:
    value = (message.get("MessageAttributes") or {}).get(name) or {}
    return value.get("StringValue")


def _dead_letter(message: Mapping[str, Any]) -> DeadLetter:
    try:
        data = json.loads(message["Body"])
    except ValueError:
        data = None
    fields = data if isinstance(data, dict) else {}
    count = (message.get("Attributes") or {}).get("ApproximateReceiveCount", "0")
    return DeadLetter(
        message_id=message["MessageId"], body=message["Body"],
        task=fields.get("task"), task_id=fields.get("task_id"),
        created_at=fields.get("created_at"), reason=_string_attr(message, FAILURE_REASON_ATTR),
        error=_string_attr(message, FAILURE_ERROR_ATTR), receive_count=int(count))


def _release(sqs: Any, url: str, messages: Sequence[Mapping[str, Any]]) -> None:
    for start in range(0, len(messages), 10):
        chunk = messages[start:start + 10]
        response = sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
            for i, m in enumerate(chunk)])
        for bad in response.get("Failed", []):
            log.warning("could not release a dead letter: %s", bad)


def peek_dead_letters(queue: str, *, limit: int = 10, wait_seconds: int = 1,
                      settings: Optional[TaskSettings] = None) -> List[DeadLetter]:
    """Up to `limit` messages of the queue's DLQ, left in it (held briefly, then released)."""
    settings = settings or get_task_settings()
    sqs = sqs_client(settings)
    url = dead_letter_queue_url(queue, settings)
    held: Dict[str, Dict[str, Any]] = {}
    try:
        while len(held) < limit:
            messages = _receive(sqs, url, limit - len(held), PEEK_HOLD_SECONDS, wait_seconds)
            new = [m for m in messages if m["MessageId"] not in held]
            held.update((m["MessageId"], m) for m in messages)
            if not new:
                break
    finally:
        _release(sqs, url, list(held.values()))
    return [_dead_letter(m) for m in held.values()]


def _attributes_to_send(message: Mapping[str, Any]) -> Dict[str, Any]:
    # Drop the worker's failure notes; copy the rest in SendMessage's shape.
    out: Dict[str, Any] = {}
    for name, attr in (message.get("MessageAttributes") or {}).items():
        if name in DEAD_LETTER_ATTRS:
            continue
        value = {"DataType": attr["DataType"]}
        for key in ("StringValue", "BinaryValue"):
            if key in attr:
                value[key] = attr[key]
        out[name] = value
    return out


def redrive_dead_letters(queue: str, *, limit: Optional[int] = None, wait_seconds: int = 1,
                         settings: Optional[TaskSettings] = None) -> int:
    """Move DLQ messages back to the task queue (send, then delete); returns how many moved.

    A receive/send/delete loop rather than SQS StartMessageMoveTask, which moto lacks and which
    would keep the failure attributes. A message sent but not deleted is moved twice: tasks are
    run at least once anyway.
    """
    settings = settings or get_task_settings()
    sqs = sqs_client(settings)
    source = dead_letter_queue_url(queue, settings)
    target = queue_url(queue, settings)
    moved = 0
    while limit is None or moved < limit:
        count = 10 if limit is None else limit - moved
        messages = _receive(sqs, source, count, REDRIVE_HOLD_SECONDS, wait_seconds)
        if not messages:
            break
        response = sqs.send_message_batch(QueueUrl=target, Entries=[
            {"Id": str(i), "MessageBody": m["Body"], "MessageAttributes": _attributes_to_send(m)}
            for i, m in enumerate(messages)])
        sent = [messages[int(ok["Id"])] for ok in response.get("Successful", [])]
        if sent:
            deleted = sqs.delete_message_batch(QueueUrl=source, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(sent)])
            for bad in deleted.get("Failed", []):
                log.warning("redriven message not deleted from the DLQ (it will be moved "
                            "again): %s", bad)
        moved += len(sent)
        refused = [messages[int(bad["Id"])] for bad in response.get("Failed", [])]
        if refused:
            _release(sqs, source, refused)
            log.error("%d message(s) refused by %s, left in the DLQ: %s", len(refused), target,
                      response["Failed"][0])
            break
    return moved
