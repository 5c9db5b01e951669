"""A task that failed inline (the dev stage's `tasks.inline`), told as the worker would tell it.

Through SQS the endpoint that called `.delay()` never sees the task fail: the worker retries
it, then dead-letters it (record_processing.py). Inline, the caller gets the same answer, and
the log says what SQS would have done; the task is not retried here (one run per `.delay()`,
so that a request does not wait for retries).
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from .errors import PermanentFailure, RetryLater
from .failure_text import describe_error, log_safely

if TYPE_CHECKING:
    from .task_settings import TaskSettings

log = logging.getLogger("pym_lambda.tasks.worker")


def what_sqs_would_do(max_attempts: int, error: BaseException, settings: TaskSettings) -> str:
    if isinstance(error, PermanentFailure) or max_attempts <= 1:
        return "dead-lettered now"
    if isinstance(error, RetryLater):
        when = f"in {error.delay_seconds} s"
    elif settings.backoff_base_seconds > 0:
        when = f"in {min(settings.backoff_base_seconds, settings.backoff_max_seconds)} s"
    else:
        when = "after the queue's visibility timeout"
    return f"retried {when} (attempt 2 of {max_attempts}), dead-lettered after attempt " \
           f"{max_attempts}"


def log_inline_failure(task: Any, task_id: str, settings: TaskSettings,
                       error: BaseException) -> str:
    """Log the failure (with its traceback) and what SQS would do; its one-line text."""
    text = describe_error(error)
    log_safely(log, logging.ERROR, "task %s %s failed, run inline (attempt 1 of %d): %s; on "
               "SQS it would be %s. The caller's answer is unchanged; inline it is not retried",
               task.name, task_id, task.max_attempts, text,
               what_sqs_would_do(task.max_attempts, error, settings),
               error=None if isinstance(error, (RetryLater, PermanentFailure)) else error)
    return text
