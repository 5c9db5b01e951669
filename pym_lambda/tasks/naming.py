"""Queue and handler naming: what the worker needs at import (the queue definitions and
`ensure_queues` are build time: pym_lambda.build.tasks.queues).

The task queue "default" of app "shop" at stage "prod" is the SQS queue ``shop-prod-default``,
its dead-letter queue ``shop-prod-default-dlq``, its worker Lambda handler
``pym_task_worker_default``. Per-queue overrides come from TaskSettings (task_settings.py).
"""
from __future__ import annotations

from string import ascii_letters, digits
from typing import TYPE_CHECKING, Optional

from .errors import TaskDefinitionError, TaskError

if TYPE_CHECKING:
    from .task_settings import TaskSettings

DEFAULT_QUEUE = "default"
DEFAULT_MAX_ATTEMPTS = 5
HANDLER_PREFIX = "pym_task_worker_"
# Without regular expressions: @async_task runs these while app.py is imported.
_HANDLER_CHARS = frozenset(ascii_letters + digits + "_")
_QUEUE_CHARS = ascii_letters + digits + "_-"
_MISSING_QUEUE_CODES = {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}


def validate_queue_name(queue: str) -> str:
    if not isinstance(queue, str) or not 0 < len(queue) <= 40 or queue.strip(_QUEUE_CHARS):
        raise TaskDefinitionError(
            f"task queue name {queue!r}: use 1-40 letters, digits, '-' or '_'")
    return queue


def physical_queue_name(queue: str, settings: Optional[TaskSettings] = None) -> str:
    # Not at import: @async_task needs this module, not the settings (its module, its imports).
    from .task_settings import get_task_settings, queue_env_key  # noqa: PLC0415

    settings = settings or get_task_settings()
    key = queue_env_key(queue)
    if key in settings.queue_names:
        return settings.queue_names[key]
    if key in settings.queue_urls:
        return settings.queue_urls[key].rstrip("/").rsplit("/", 1)[-1]
    if not settings.app_name:
        raise TaskError("no application name for the task queues: set PYM_APP_NAME, or "
                        "configure_tasks(TaskSettings(app_name=...)), or call "
                        "register_task_handlers(app) first")
    return f"{settings.app_name}-{settings.stage}-{queue}"


def dead_letter_queue_name(queue: str, settings: Optional[TaskSettings] = None) -> str:
    return physical_queue_name(queue, settings) + "-dlq"


def handler_name(queue: str) -> str:
    """The worker's function name, which Chalice deploys as the handler ``app.<name>``."""
    return HANDLER_PREFIX + "".join(c if c in _HANDLER_CHARS else "_" for c in queue)


def is_missing_queue_error(exc: BaseException) -> bool:
    response = getattr(exc, "response", None) or {}
    return response.get("Error", {}).get("Code") in _MISSING_QUEUE_CODES
