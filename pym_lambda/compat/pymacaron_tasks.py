"""The task behind PyMacaron's ``@asynctask()`` (pym_lambda.compat.pymacaron.asynctask).

An @async_task whose plain call enqueues, as PyMacaron's did; the worker and an inline run call
the undecorated function (``task.fn``), so running the task never enqueues it again.
"""
from __future__ import annotations

from typing import Any, Callable, Dict

from ..tasks.decorator import AsyncTask


class PyMacaronTask(AsyncTask[..., Any]):
    """``fn(...)`` is ``fn.delay(...)``; ``fn.fn(...)`` runs it at once."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.delay(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<asynctask {self.name} queue={self.queue!r}>"


def pymacaron_task(fn: Callable[..., Any], delay: int, options: Dict[str, Any]
                   ) -> PyMacaronTask:
    return PyMacaronTask(fn, delay_seconds=delay, **options)
