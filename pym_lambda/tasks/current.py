"""`current_task()`: which task is running and which attempt this is (a ContextVar)."""
from __future__ import annotations

import contextvars
from typing import Any, Optional, Tuple, Union, cast

from ..records import Record


class TaskInfo(Record):
    """Immutable, like the frozen dataclass it was, and cheaper to define at import."""

    task: str  # "<module>:<qualname>"
    task_id: str  # the same across retries, redrives and the inline run
    attempt: int  # SQS ApproximateReceiveCount: 1 on first delivery; 1 when run inline
    queue: str  # logical queue name
    message_id: Optional[str] = None  # None when run inline
    inline: bool = False


# The worker sets a plain tuple of TaskInfo's fields (cheaper per record); current_task() turns
# it into a TaskInfo when a task asks.
_current: contextvars.ContextVar[Union[TaskInfo, Tuple[Any, ...], None]] = contextvars.ContextVar(
    "pym_lambda_task", default=None)
# The Lambda context of the batch the worker handles (None off Lambda, or outside a batch): an
# idempotent task's in-progress record ends with the invocation (tasks/idempotency.py).
batch_lambda_context: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "pym_lambda_batch_context", default=None)


def current_task() -> Optional[TaskInfo]:
    """The task being run, or None outside of a task."""
    info = _current.get()
    if type(info) is tuple:
        made = TaskInfo._make(info)
        _current.set(made)  # the same object on the next call; the worker's reset undoes it
        return made
    return cast(Optional[TaskInfo], info)


def enter_task(info: TaskInfo) -> contextvars.Token[Union[TaskInfo, Tuple[Any, ...], None]]:
    return _current.set(info)


def exit_task(token: contextvars.Token[Union[TaskInfo, Tuple[Any, ...], None]]) -> None:
    _current.reset(token)
