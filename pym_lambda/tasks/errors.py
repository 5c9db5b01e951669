"""Errors of the task system, and the two exceptions a task raises to steer its own retries.

All derive from pym_lambda.errors.PymLambdaError; none is a `PymError`: a task that cannot be
enqueued during a request is a server bug, so the request pipeline turns it into an opaque 500
like any other unexpected exception.
"""
from __future__ import annotations

from typing import Any, Optional

from ..errors import PymLambdaError

# SQS refuses a visibility timeout above 12 hours.
MAX_VISIBILITY_SECONDS = 43_200


class TaskError(PymLambdaError):
    """Base of the errors raised by pym_lambda.tasks."""


class TaskDefinitionError(TaskError, ValueError):
    """A task declared with options SQS cannot honour; raised at import, never at runtime."""


class TaskArgumentError(TaskError, TypeError):
    """An argument of `.delay()` that cannot be put in a JSON envelope."""

    def __init__(self, task: str, where: str, value: Any, reason: str = "") -> None:
        self.task = task
        self.where = where
        reason = reason or f"{type(value).__name__} is not serialisable"
        super().__init__(
            f"task {task}: argument {where}: {reason} (supported: JSON scalars, lists, dicts "
            "with str keys, datetime, date, Decimal and model objects)")


class TaskPayloadTooLarge(TaskError, ValueError):
    """The envelope is bigger than one SQS message may be."""

    def __init__(self, task: str, size: int, limit: int) -> None:
        self.task = task
        self.size = size
        self.limit = limit
        super().__init__(
            f"task {task}: the message would be {size} bytes, over the SQS limit of {limit} "
            "bytes; pass an identifier (a key in S3 or a database) instead of the data")


class TaskSendError(TaskError):
    """SQS refused or failed to take the message(s)."""

    def __init__(self, message: str, *, sent: Optional[list[Any]] = None,
                 failed: Optional[list[Any]] = None) -> None:
        super().__init__(message)
        self.sent = sent or []
        self.failed = failed or []


class EnvelopeError(TaskError):
    """A message body the worker cannot read."""


class MalformedEnvelope(EnvelopeError):
    pass


class UnsupportedEnvelopeVersion(EnvelopeError):
    def __init__(self, version: Any) -> None:
        self.version = version
        super().__init__(f"unsupported task envelope version {version!r} (this worker reads "
                         "v1 and v2)")


class ForgedCaller(EnvelopeError):
    """The message carries a caller without a valid signature of this stage's key."""


class UnknownTask(TaskError):
    """The message names something that is not a function decorated with @async_task."""


class QueueConfigConflict(TaskError):
    """An existing queue whose configuration differs from its definition."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{len(problems)} queue configuration conflict(s):\n{lines}")


class RetryLater(PymLambdaError):
    """Raised by a task: retry this message after `delay_seconds` (counts as one attempt)."""

    def __init__(self, delay_seconds: int = 0, reason: str = "") -> None:
        if not 0 <= int(delay_seconds) <= MAX_VISIBILITY_SECONDS:
            raise ValueError(f"RetryLater delay must be 0..{MAX_VISIBILITY_SECONDS} seconds, "
                             f"not {delay_seconds}")
        self.delay_seconds = int(delay_seconds)
        super().__init__(reason or f"retry in {self.delay_seconds} s")


class PermanentFailure(PymLambdaError):
    """Raised by a task: never retry; the message goes straight to the dead-letter queue."""


class WorkerStop(KeyboardInterrupt):
    """Stops the worker at once (the local poller's second signal). The only exception the
    per-record guard lets through: anything else a record raises, BaseExceptions such as
    SystemExit and a plain KeyboardInterrupt included, fails that record alone."""
