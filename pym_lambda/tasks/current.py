"""`current_task()`: which task is running and which attempt this is (a ContextVar)."""
from __future__ import annotations

import contextvars
from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class TaskInfo:
    task: str  # "<module>:<qualname>"
    task_id: str  # the same across retries, redrives and the inline run
    attempt: int  # SQS ApproximateReceiveCount: 1 on first delivery; 1 when run inline
    queue: str  # logical queue name
    message_id: Optional[str] = None  # None when run inline
    inline: bool = False


_current: contextvars.ContextVar[Optional[TaskInfo]] = contextvars.ContextVar(
    "pym_lambda_task", default=None)


def current_task() -> Optional[TaskInfo]:
    """The task being run, or None outside of a task."""
    return _current.get()


def enter_task(info: TaskInfo) -> contextvars.Token:
    return _current.set(info)


def exit_task(token: contextvars.Token) -> None:
    _current.reset(token)
