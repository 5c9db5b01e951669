"""Settings of the task system, with environment fallbacks.

`configure_tasks(TaskSettings(...))` sets them explicitly (the config module will bridge to it);
until then `get_task_settings()` reads them from the environment once, through
pym_lambda.config (docs/configuration.md lists every variable):

- ``PYM_APP_NAME``: the application name in queue names (else the Chalice app's name, filled in
  by `register_task_handlers`);
- ``PYM_STAGE``: the stage, default ``dev``;
- ``PYM_TASKS_INLINE=1``: run tasks synchronously instead of sending them (development, tests);
- ``PYM_TASKS_PARTIAL_BATCH_RESPONSES=0``: the event source mapping lacks
  ReportBatchItemFailures (see worker.py);
- ``PYM_TASKS_BACKOFF_BASE_SECONDS`` (older name ``PYM_TASK_BACKOFF_SECONDS``, below it): base
  of the exponential backoff after a failure (0: off);
- ``PYM_TASKS_MAX_RECEIVE_COUNT``: the redrive policy's maxReceiveCount of every task queue
  (default 5; see pym_lambda.build.tasks.queues);
- ``PYM_TASK_QUEUE_URL_<QUEUE>``, ``PYM_TASK_QUEUE_NAME_<QUEUE>``, ``PYM_TASK_DLQ_URL_<QUEUE>``:
  per-queue overrides; <QUEUE> is the logical queue name upper-cased, other characters as "_".
"""
from __future__ import annotations

from string import ascii_uppercase, digits
from typing import Mapping, Optional

from ..records import EMPTY_MAP, Record
from ..runtime.service import Service, current_service

DEFAULT_STAGE = "dev"
SQS_MAX_MESSAGE_BYTES = 262_144  # 256 KiB, the classic SQS limit (see QueueDefinition)
DEFAULT_LAMBDA_TIMEOUT = 60
# AWS advises at least 5 for a queue Lambda consumes: a receive whose invocation was throttled
# counts too, and a lower count dead-letters messages that never ran.
DEFAULT_MAX_RECEIVE_COUNT = 5

# Not a regular expression: runs while app.py is imported (a pattern compiled there is paid
# at every cold start).
_KEY_CHARS = frozenset(ascii_uppercase + digits)


def queue_env_key(queue: str) -> str:
    """The <QUEUE> part of the per-queue environment variables: "emails-high" -> "EMAILS_HIGH"."""
    return "".join(c if c in _KEY_CHARS else "_" for c in queue.upper())


class TaskSettings(Record):
    app_name: Optional[str] = None
    stage: str = DEFAULT_STAGE
    inline: bool = False
    region: Optional[str] = None  # None: the AWS_REGION / AWS_DEFAULT_REGION of the env
    # Overrides keyed by queue_env_key(logical queue name).
    queue_urls: Mapping[str, str] = EMPTY_MAP
    queue_names: Mapping[str, str] = EMPTY_MAP
    dlq_urls: Mapping[str, str] = EMPTY_MAP
    lambda_timeout_seconds: int = DEFAULT_LAMBDA_TIMEOUT
    max_message_bytes: int = SQS_MAX_MESSAGE_BYTES
    backoff_base_seconds: int = 0
    backoff_max_seconds: int = 900
    partial_batch_responses: bool = True
    # The task queues' RedrivePolicy maxReceiveCount (at least each queue's highest
    # max_attempts; a task may ask for more: @async_task(max_receive_count=...)).
    max_receive_count: int = DEFAULT_MAX_RECEIVE_COUNT
    # Records not started when less than this is left of the Lambda's time are reported failed
    # (retried later) rather than cut off by the timeout with the whole batch.
    time_reserve_ms: int = 2_000

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> TaskSettings:
        # Read by pym_lambda.config: the `tasks.*` keys' own PYM_TASKS_* variables (and their
        # aliases), the plumbing variables typed by runtime_environment().
        from ..config.environment import queue_overrides, runtime_environment
        from ..config.loader import env_value

        env, queues = runtime_environment(environ), queue_overrides(environ)
        keys = {name: env_value(("tasks", name), environ) for name in (
            "inline", "backoff_base_seconds", "partial_batch_responses", "max_receive_count")}
        return cls(app_name=env.app_name, stage=env.stage or DEFAULT_STAGE,
                   queue_urls=queues.queue_urls, queue_names=queues.queue_names,
                   dlq_urls=queues.dlq_urls,
                   **{name: value for name, value in keys.items() if value is not None})


def configure_tasks(settings: Optional[TaskSettings]) -> None:
    """Use these settings from now on, in the current service (None: back to reading the
    environment); its cached queue URLs are dropped."""
    current_service().configure_tasks(settings)


def get_task_settings() -> TaskSettings:
    """The current service's task settings (the request's or task's app, else the one
    create_app made in this context; without one, from the environment)."""
    return service_task_settings(current_service())


def service_task_settings(service: Service) -> TaskSettings:
    """The service's task settings, read from the environment if none were configured."""
    settings = service.task_settings
    if settings is None:
        with service.lock:
            if service.task_settings is None:
                service.task_settings = TaskSettings.from_env()
            settings = service.task_settings
    return settings

