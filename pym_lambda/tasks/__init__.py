"""Async tasks on Amazon SQS, run by an SQS-triggered Lambda.

    from pym_lambda.tasks import async_task, register_task_handlers

    @async_task(queue="emails", max_attempts=3)
    def send_welcome(user_id: str) -> None: ...

    send_welcome.delay("u-1")        # in a request: enqueued; elsewhere: run now

    # app.py, after importing the task modules:
    globals().update(register_task_handlers(app))

Modules: decorator (@async_task, delay), envelope (the JSON format), sender (SQS sending),
worker (the Lambda handlers) and record_processing (what they do with each record), naming
(queue and handler names), task_settings (TaskSettings and their environment fallbacks),
poller (the SQS poller the Beanstalk container runs as its task worker, and `pym-lambda
worker` locally). Queue definitions, `ensure_queues`, the DLQ tools and the commands are build
time: pym_lambda.build.tasks. Importing this package imports neither boto3 nor click.

Only the decorator, current_task() and the errors load with the package: every Lambda imports
it at cold start, HTTP-only ones included. The rest loads on first use (PEP 562).
"""
from typing import TYPE_CHECKING, Any

from ..lazy_exports import lazy_attribute
from .current import TaskInfo, current_task
from .decorator import AsyncTask, async_task, registered_tasks, resolve_task, task_queues
from .errors import (
                     EnvelopeError,
                     MalformedEnvelope,
                     PermanentFailure,
                     QueueConfigConflict,
                     RetryLater,
                     TaskArgumentError,
                     TaskDefinitionError,
                     TaskError,
                     TaskPayloadTooLarge,
                     TaskSendError,
                     UnknownTask,
                     UnsupportedEnvelopeVersion,
)

if TYPE_CHECKING:
    from .envelope import TaskCaller, set_caller_factory, set_model_resolver
    from .sender import TaskHandle, send_tasks
    from .task_settings import TaskSettings, configure_tasks, get_task_settings
    from .worker import register_task_handlers

_LAZY = {
    "TaskCaller": "envelope", "set_caller_factory": "envelope", "set_model_resolver": "envelope",
    "TaskHandle": "sender", "send_tasks": "sender",
    "TaskSettings": "task_settings", "configure_tasks": "task_settings",
    "get_task_settings": "task_settings",
    "register_task_handlers": "worker",
}


def __getattr__(name: str) -> Any:
    return lazy_attribute(__name__, _LAZY, name)


__all__ = [
    "AsyncTask", "EnvelopeError", "MalformedEnvelope", "PermanentFailure", "QueueConfigConflict",
    "RetryLater", "TaskArgumentError", "TaskCaller", "TaskDefinitionError",
    "TaskError", "TaskHandle", "TaskInfo", "TaskPayloadTooLarge", "TaskSendError",
    "TaskSettings", "UnknownTask", "UnsupportedEnvelopeVersion", "async_task",
    "configure_tasks", "current_task", "get_task_settings",
    "register_task_handlers", "registered_tasks", "resolve_task", "send_tasks",
    "set_caller_factory", "set_model_resolver", "task_queues",
]
