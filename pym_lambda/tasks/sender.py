"""Sending task calls to SQS, and finding the queues' URLs (cached per service)."""
from __future__ import annotations

from typing import (
    TYPE_CHECKING,
    Any,
    Dict,
    Iterable,
    List,
    Mapping,
    NamedTuple,
    Optional,
    Sequence,
    Tuple,
)

from ..aws import aws_client
from ..context import current_context
from ..runtime.service import current_service
from .envelope import TaskEnvelope, check_message_size, encode_envelope, new_envelope
from .errors import TaskSendError
from .naming import dead_letter_queue_name, is_missing_queue_error, physical_queue_name
from .task_settings import TaskSettings, get_task_settings, queue_env_key

if TYPE_CHECKING:
    from .decorator import AsyncTask

SQS_BATCH_ENTRIES = 10
_Prepared = Tuple[int, "AsyncTask[..., Any]", TaskEnvelope, str]  # call index, task, envelope, body


class TaskHandle(NamedTuple):
    """What `.delay()` gives back: the task id, and the result when the task ran inline."""

    task_id: str
    task: str
    queue: str
    message_id: Optional[str] = None  # the SQS MessageId; None when run inline
    inline: bool = False
    result: Any = None
    error: Optional[str] = None  # "Type: message" of a task that failed inline in a request


# --- queue URLs -----------------------------------------------------------------------------

def forget_queue_urls() -> None:
    """Drop the current service's cached queue URLs (configure_tasks() does too)."""
    service = current_service()
    with service.lock:
        service.queue_url_cache.clear()


def sqs_client(settings: Optional[TaskSettings] = None) -> Any:
    return aws_client("sqs", (settings or get_task_settings()).region)


def _url_of(name: str, queue: str, settings: TaskSettings) -> str:
    key = (settings.region, name)
    cache = current_service().queue_url_cache  # per service: apps may name queues alike
    url = cache.get(key)
    if url is None:
        try:
            url = sqs_client(settings).get_queue_url(QueueName=name)["QueueUrl"]
        except Exception as exc:
            if is_missing_queue_error(exc):
                raise TaskSendError(
                    f"SQS queue {name!r} (task queue {queue!r}, stage {settings.stage!r}) does "
                    "not exist: create it with ensure_queues() or deploy the stage") from exc
            raise
        cache[key] = url
    return url


def queue_url(queue: str, settings: Optional[TaskSettings] = None) -> str:
    settings = settings or get_task_settings()
    override = settings.queue_urls.get(queue_env_key(queue))
    return override or _url_of(physical_queue_name(queue, settings), queue, settings)


def dead_letter_queue_url(queue: str, settings: Optional[TaskSettings] = None) -> str:
    settings = settings or get_task_settings()
    override = settings.dlq_urls.get(queue_env_key(queue))
    return override or _url_of(dead_letter_queue_name(queue, settings), queue, settings)


# --- sending --------------------------------------------------------------------------------

def _prepare(task: AsyncTask[..., Any], args: Sequence[Any], kwargs: Mapping[str, Any],
             settings: TaskSettings) -> Tuple[TaskEnvelope, str]:
    envelope = new_envelope(task.name, args, kwargs, current_context())
    body = encode_envelope(envelope)  # TaskArgumentError names the argument
    check_message_size(task.name, body, settings.max_message_bytes)
    return envelope, body


def send_task(task: AsyncTask[..., Any], args: Sequence[Any], kwargs: Mapping[str, Any], *,
              delay_seconds: Optional[int] = None) -> TaskHandle:
    """Send one call to the task's queue now (no inline shortcut: see AsyncTask.delay)."""
    settings = get_task_settings()
    envelope, body = _prepare(task, args, kwargs, settings)
    delay = task.delay_seconds if delay_seconds is None else delay_seconds
    url = queue_url(task.queue, settings)
    try:
        response = sqs_client(settings).send_message(QueueUrl=url, MessageBody=body,
                                                     DelaySeconds=delay)
    except Exception as exc:
        raise TaskSendError(f"task {task.name}: could not send to {url}: {exc}") from exc
    return TaskHandle(envelope.task_id, task.name, task.queue, response.get("MessageId"))


def send_tasks(calls: Iterable[Tuple[AsyncTask[..., Any], Sequence[Any], Mapping[str, Any]]]
               ) -> List[TaskHandle]:
    """Send many calls with SendMessageBatch (10 a request); handles in the order of `calls`.

    Every call is encoded first, so a bad argument sends nothing. TaskSendError lists the calls
    SQS refused (`.failed`: task id and reason) and the ones it took (`.sent`).
    """
    settings = get_task_settings()
    by_queue: Dict[str, List[_Prepared]] = {}
    for index, (task, args, kwargs) in enumerate(calls):
        envelope, body = _prepare(task, args, kwargs, settings)
        by_queue.setdefault(task.queue, []).append((index, task, envelope, body))
    sent: Dict[int, TaskHandle] = {}
    failed: List[Tuple[str, str]] = []
    for queue, items in by_queue.items():
        url = queue_url(queue, settings)
        for chunk in _chunks(items, settings.max_message_bytes):
            entries = [{"Id": str(i), "MessageBody": body, "DelaySeconds": task.delay_seconds}
                       for i, (_, task, _, body) in enumerate(chunk)]
            try:
                response = sqs_client(settings).send_message_batch(QueueUrl=url, Entries=entries)
            except Exception as exc:
                failed.extend((envelope.task_id, str(exc)) for _, _, envelope, _ in chunk)
                continue
            for ok in response.get("Successful", []):
                index, task, envelope, _ = chunk[int(ok["Id"])]
                sent[index] = TaskHandle(envelope.task_id, task.name, queue, ok.get("MessageId"))
            for bad in response.get("Failed", []):
                failed.append((chunk[int(bad["Id"])][2].task_id,
                               f"{bad.get('Code')}: {bad.get('Message')}"))
    handles = [sent[index] for index in sorted(sent)]
    if failed:
        raise TaskSendError(f"{len(failed)} of {len(failed) + len(sent)} task(s) not sent: "
                            f"{failed[0][1]}", sent=handles, failed=failed)
    return handles


def _chunks(items: List[_Prepared], max_bytes: int) -> Iterable[List[_Prepared]]:
    # A batch is at most 10 messages and, together, at most one message's size limit.
    chunk: List[_Prepared] = []
    size = 0
    for item in items:
        item_size = len(item[3])
        if chunk and (len(chunk) == SQS_BATCH_ENTRIES or size + item_size > max_bytes):
            yield chunk
            chunk, size = [], 0
        chunk.append(item)
        size += item_size
    if chunk:
        yield chunk
