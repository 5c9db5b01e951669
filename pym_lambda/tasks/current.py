"""`current_task()`: which task is running and which attempt this is.

The worker keeps it on each record's CallContext (its `task` slot: one ContextVar set per
record, the call's); an inline run (decorator.run_inline), which has no context of its own,
sets the ContextVar below, which comes first: a task run inline inside a worker's task is the
one running.
"""
from __future__ import annotations

import contextvars
from typing import Any, Optional, cast

from ..context import _current as _call
from ..records import Record


class TaskInfo(Record):
    """Immutable, like the frozen dataclass it was, and cheaper to define at import."""

    task: str  # "<module>:<qualname>"
    task_id: str  # the same across retries, redrives and the inline run
    attempt: int  # SQS ApproximateReceiveCount: 1 on first delivery; 1 when run inline
    queue: str  # logical queue name
    message_id: Optional[str] = None  # None when run inline
    inline: bool = False


_current: contextvars.ContextVar[Optional[TaskInfo]] = contextvars.ContextVar(
    "pym_lambda_task", default=None)
# The Lambda context of the batch the worker handles (None off Lambda, or outside a batch): an
# idempotent task's in-progress record ends with the invocation (tasks/idempotency.py).
batch_lambda_context: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "pym_lambda_batch_context", default=None)


def current_task() -> Optional[TaskInfo]:
    """The task being run, or None outside of a task."""
    info = _current.get()
    if info is not None:
        return info
    ctx = _call.get()
    if ctx is None:
        return None
    task = ctx.task
    if task is None or type(task) is TaskInfo:
        return cast(Optional[TaskInfo], task)
    # The worker sets a plain tuple of TaskInfo's fields (cheaper per record): made into a
    # TaskInfo when a task asks, once (the context is the record's alone).
    ctx.task = made = TaskInfo._make(task)
    return made


def enter_task(info: TaskInfo) -> contextvars.Token[Optional[TaskInfo]]:
    return _current.set(info)


def exit_task(token: contextvars.Token[Optional[TaskInfo]]) -> None:
    _current.reset(token)
