"""`@async_task`: a function that can also run later, on an SQS-triggered worker Lambda.

Calling conventions (one rule each, no guessing):

- ``fn(*args, **kwargs)`` calls the function directly, synchronously, always. Unlike
  PyMacaron's @asynctask, a plain call never enqueues: the worker itself calls the function,
  and a call that returned a value here but None inside a request would hide bugs. Port
  PyMacaron code by writing ``fn.delay(...)`` where the call should be asynchronous.
- ``fn.delay(*args, **kwargs)`` enqueues when called while handling a request or a task
  (``current_context()`` is set). Outside of one (a script, a shell, a test without a
  request), or in inline mode (``PYM_TASKS_INLINE=1``), it runs the task synchronously, as
  PyMacaron did, and the returned TaskHandle carries the result.
- ``fn.send(*args, **kwargs)`` always enqueues (unless inline mode): for scripts and cron jobs.

An inline run goes through the envelope like a queued call (encode, size check, decode), so
an argument that could not travel fails in development too, and the task sees the same values
(tuples as lists, rebuilt models) and a `current_task()` with ``inline=True``. Where a queued
call would have been sent (within a request or a task), a task that fails inline does not fail
its caller, as on SQS: the failure is logged with what SQS would do (retry, attempt n of max,
then dead letter; see inline_failure.py) and the TaskHandle carries the error. Outside a
request (a script, a shell) the exception propagates, as a plain synchronous call's would.

Tasks must be module-level functions: the worker finds them by ``"<module>:<qualname>"`` and
runs only functions carrying this decorator's marker.
"""
from __future__ import annotations

import functools
import re
import sys
import types
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    Generic,
    Iterable,
    List,
    Optional,
    ParamSpec,
    TypeVar,
    overload,
)

from ..context import current_context
from ..runtime.service import current_service
from .current import TaskInfo, current_task, enter_task, exit_task
from .errors import TaskDefinitionError, UnknownTask
from .naming import DEFAULT_MAX_ATTEMPTS, DEFAULT_QUEUE, validate_queue_name

if TYPE_CHECKING:  # the envelope, sender and settings load when a task is first sent or run
    from .sender import TaskHandle
    from .task_settings import TaskSettings

P = ParamSpec("P")
R = TypeVar("R")

TASK_MARKER = "__pym_async_task__"
CO_COROUTINE = 0x80  # inspect.CO_COROUTINE, without importing inspect (~3 ms) at cold start
SQS_MAX_DELAY_SECONDS = 900
SQS_MAX_RECEIVE_COUNT = 1000
# Compiled by re at its first use: only for a name not in the task table (not at a cold start).
_TASK_NAME = r"[A-Za-z_][\w.]*:[A-Za-z_]\w*"


class _Skipped:
    __slots__ = ()

    def __repr__(self) -> str:
        return "SKIPPED_DUPLICATE"


# What an idempotent task's run returns to the worker when its task id completed already.
SKIPPED_DUPLICATE = _Skipped()


class AsyncTask(Generic[P, R]):
    """A function decorated with @async_task (see the module docstring)."""

    __pym_async_task__ = True  # the marker the worker requires (TASK_MARKER)

    def __init__(self, fn: Callable[P, R], *, queue: str = DEFAULT_QUEUE,
                 delay_seconds: int = 0, max_attempts: int = DEFAULT_MAX_ATTEMPTS,
                 max_receive_count: Optional[int] = None, idempotent: bool = False) -> None:
        _check_definition(fn, queue, delay_seconds, max_attempts, max_receive_count)
        functools.update_wrapper(self, fn)
        self.name = f"{fn.__module__}:{fn.__qualname__}"
        self.idempotent = bool(idempotent)
        self._body = fn
        # What the worker runs: with `idempotent`, once per task id (tasks/idempotency.py).
        self.fn: Callable[..., Any] = _once(self.name, fn) if idempotent else fn
        self.queue = queue
        self.delay_seconds = delay_seconds
        self.max_attempts = max_attempts
        # None: tasks.max_receive_count (5). Its queue's redrive takes the highest of its tasks'.
        self.max_receive_count = max_receive_count

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self._body(*args, **kwargs)

    def delay(self, *args: P.args, **kwargs: P.kwargs) -> TaskHandle:
        """Enqueue within a request or task; run now outside of one or in inline mode."""
        if _settings().inline or current_context() is None:
            return run_inline(self, args, kwargs)
        from .sender import send_task  # noqa: PLC0415 - not at cold start (see __init__)

        return send_task(self, args, kwargs)

    def send(self, *args: P.args, **kwargs: P.kwargs) -> TaskHandle:
        """Enqueue even outside a request (run now only in inline mode)."""
        if _settings().inline:
            return run_inline(self, args, kwargs)
        from .sender import send_task  # noqa: PLC0415 - not at cold start (see __init__)

        return send_task(self, args, kwargs)

    def __repr__(self) -> str:
        return f"<async_task {self.name} queue={self.queue!r}>"


def _once(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` run by the worker at most once per task id; an inline run (no duplicate delivery,
    and no table in development) runs it as is."""
    held: List[Any] = [None, None]  # the task settings last seen and their table's store

    def once(*args: Any, **kwargs: Any) -> Any:
        info = current_task()
        if info is None or info.inline:
            return fn(*args, **kwargs)
        from .idempotency import run_once  # noqa: PLC0415 - idempotent tasks' first record

        return run_once(name, info.task_id, info.message_id, fn, args, kwargs,
                        SKIPPED_DUPLICATE, held)
    return once


def _settings() -> TaskSettings:
    from .task_settings import get_task_settings  # noqa: PLC0415 - not at cold start (see __init__)

    return get_task_settings()


def _check_definition(fn: Callable[..., Any], queue: str, delay_seconds: int,
                      max_attempts: int, max_receive_count: Optional[int] = None) -> None:
    where = f"@async_task on {getattr(fn, '__qualname__', fn)!r}"
    if not isinstance(fn, types.FunctionType):  # inspect.isfunction
        raise TaskDefinitionError(f"{where}: decorate a plain function")
    if fn.__code__.co_flags & CO_COROUTINE:  # inspect.iscoroutinefunction, for a function
        raise TaskDefinitionError(f"{where}: async def functions are not supported")
    if "." in fn.__qualname__ or "<" in fn.__qualname__:
        raise TaskDefinitionError(f"{where}: tasks must be module-level functions, so that "
                                  "the worker can import them by name")
    validate_queue_name(queue)
    if not (isinstance(delay_seconds, int) and 0 <= delay_seconds <= SQS_MAX_DELAY_SECONDS):
        raise TaskDefinitionError(f"{where}: delay_seconds must be 0..{SQS_MAX_DELAY_SECONDS}")
    if not (isinstance(max_attempts, int) and 1 <= max_attempts <= SQS_MAX_RECEIVE_COUNT):
        raise TaskDefinitionError(f"{where}: max_attempts must be 1..{SQS_MAX_RECEIVE_COUNT}")
    if max_receive_count is None:
        return
    if not (isinstance(max_receive_count, int) and not isinstance(max_receive_count, bool)
            and 1 <= max_receive_count <= SQS_MAX_RECEIVE_COUNT):
        raise TaskDefinitionError(
            f"{where}: max_receive_count must be 1..{SQS_MAX_RECEIVE_COUNT}")
    if max_receive_count < max_attempts:
        raise TaskDefinitionError(
            f"{where}: max_receive_count {max_receive_count} is below max_attempts "
            f"{max_attempts}: SQS would dead-letter the task before its last attempt")


@overload
def async_task(fn: Callable[P, R]) -> AsyncTask[P, R]: ...


@overload
def async_task(*, queue: str = ..., delay_seconds: int = ..., max_attempts: int = ...,
               max_receive_count: Optional[int] = ..., idempotent: bool = ...
               ) -> Callable[[Callable[P, R]], AsyncTask[P, R]]: ...


def async_task(fn: Optional[Callable[..., Any]] = None, *, queue: str = DEFAULT_QUEUE,
               delay_seconds: int = 0, max_attempts: int = DEFAULT_MAX_ATTEMPTS,
               max_receive_count: Optional[int] = None, idempotent: bool = False) -> Any:
    """Make `fn` a task: ``@async_task`` or ``@async_task(queue=..., delay_seconds=...,
    max_attempts=..., max_receive_count=...)``.

    max_attempts counts deliveries, the first one included: after the last, the worker itself
    dead-letters the task. max_receive_count is the receives SQS allows before its redrive
    policy moves a message of the queue to the DLQ by itself (a message the worker could not
    read, or whose receives were throttled): default ``tasks.max_receive_count`` (5), never
    below max_attempts; the queue takes the highest of its tasks'.

    idempotent=True: the worker runs the task once per task id, recorded in the stage's
    DynamoDB table (tasks/idempotency.py): a duplicate delivery or a redrive of a completed
    task is skipped, a run that raised runs again at the next delivery."""
    def decorate(func: Callable[P, R]) -> AsyncTask[P, R]:
        # No registry: the AsyncTask carries its definition; each service finds its tasks
        # (task_workers() scans chalicelib; resolve_task() never imports: see there).
        return AsyncTask(func, queue=queue, delay_seconds=delay_seconds,
                         max_attempts=max_attempts, max_receive_count=max_receive_count,
                         idempotent=idempotent)

    return decorate(fn) if fn is not None else decorate


def run_inline(task: AsyncTask[..., Any], args: Any, kwargs: Any) -> TaskHandle:
    from .envelope import (  # noqa: PLC0415 - not at cold start (see __init__)
        check_message_size,
        decode_envelope,
        encode_envelope,
        new_envelope,
    )
    from .sender import TaskHandle  # noqa: PLC0415

    settings = _settings()
    envelope = new_envelope(task.name, args, kwargs, current_context())
    body = encode_envelope(envelope)
    check_message_size(task.name, body, settings.max_message_bytes)
    travelled = decode_envelope(body)
    queued_instead = current_context() is not None  # a request or task: SQS would take it
    token = enter_task(TaskInfo(task=task.name, task_id=envelope.task_id, attempt=1,
                                queue=task.queue, inline=True))
    try:
        result = task.fn(*travelled.args, **travelled.kwargs)
    except Exception as exc:
        if not queued_instead:
            raise
        from .inline_failure import log_inline_failure  # noqa: PLC0415 - failures only

        return TaskHandle(envelope.task_id, task.name, task.queue, inline=True,
                          error=log_inline_failure(task, envelope.task_id, settings, exc))
    finally:
        exit_task(token)
    return TaskHandle(envelope.task_id, task.name, task.queue, inline=True, result=result)


# --- the current service's table of tasks, which the worker resolves names with -------------

def discover_tasks(modules: Iterable[Any]) -> Dict[str, AsyncTask[..., Any]]:
    """The @async_task functions defined in these modules, by name."""
    found: Dict[str, AsyncTask[..., Any]] = {}
    for module in list(modules):
        for value in list(getattr(module, "__dict__", {}).values()):
            if (isinstance(value, AsyncTask) and getattr(value, TASK_MARKER, False) is True
                    and value.name.partition(":")[0] == getattr(module, "__name__", None)):
                found[value.name] = value
    return found


def _table() -> Dict[str, AsyncTask[..., Any]]:
    return current_service().tasks


def registered_tasks(service: Any = None) -> List[AsyncTask[..., Any]]:
    """The service's tasks (default: the current one's). An app's are those task_workers()
    found in chalicelib (or, without it, those imported before register_task_handlers()); a
    bare service (no app: a script, a test) also takes those of every module imported so far."""
    service = service or current_service()
    table = service.tasks
    if service.settings is None:
        table.update(discover_tasks(sys.modules.values()))
    return list(table.values())


def restore_tasks(tasks: List[AsyncTask[..., Any]]) -> None:
    """Make these definitions the ones the current service's messages run."""
    _table().update({task.name: task for task in tasks})


def task_queues(service: Any = None) -> List[str]:
    return sorted({task.queue for task in registered_tasks(service)})


def resolve_task(name: str) -> AsyncTask[..., Any]:
    """The @async_task function named "<module>:<qualname>", from the current service's table.

    A message can never make the worker import anything: the table is what the worker built at
    start-up (task_workers() imports chalicelib, register_task_handlers() takes the tasks
    imported before it). A bare service (no app: a script, a test) also looks in the modules
    already imported, reading the module's namespace only (no import, no module __getattr__).
    Anything else (a module not loaded, a builtin such as os:system, an undecorated function, a
    look-alike object) raises UnknownTask: a message can only run what was declared a task.
    """
    service = current_service()
    table = service.tasks
    task = table.get(name) if isinstance(name, str) else None
    if task is not None:
        return task  # the table holds only decorated functions
    if not isinstance(name, str) or not re.fullmatch(_TASK_NAME, name):
        raise UnknownTask(f"{_quoted(name)} is not a task name (<module>:<function>)")
    if service.settings is not None:
        raise UnknownTask(f"{name} is not one of this app's tasks (the @async_task functions "
                          "of chalicelib/, or imported before register_task_handlers())")
    module_name, _, qualname = name.partition(":")
    module = sys.modules.get(module_name)
    found = module.__dict__.get(qualname) if isinstance(module, types.ModuleType) else None
    if not (isinstance(found, AsyncTask) and getattr(found, TASK_MARKER, False) is True
            and found.name == name):
        raise UnknownTask(f"{name} is not a function decorated with @async_task in a module "
                          "this worker has loaded")
    table[name] = found
    return found


def _quoted(name: Any) -> str:
    text = name[:200] if isinstance(name, str) else f"a {type(name).__name__}"
    return repr(text)
