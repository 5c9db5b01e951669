"""Settings of the task system, with environment fallbacks.

`configure_tasks(TaskSettings(...))` sets them explicitly (the config module will bridge to it);
until then `get_task_settings()` reads them from the environment once:

- ``PYM_APP_NAME``: the application name in queue names (else the Chalice app's name, filled in
  by `register_task_handlers`);
- ``PYM_STAGE``: the stage, default ``dev``;
- ``PYM_TASKS_INLINE=1``: run tasks synchronously instead of sending them (development, tests);
- ``PYM_TASKS_PARTIAL_BATCH_RESPONSES=0``: the event source mapping lacks
  ReportBatchItemFailures (see worker.py);
- ``PYM_TASK_BACKOFF_SECONDS``: base of the exponential backoff after a failure (0: off);
- ``PYM_TASKS_MAX_RECEIVE_COUNT``: the redrive policy's maxReceiveCount of every task queue
  (default 5; see pym_lambda.build.tasks.queues);
- ``PYM_TASK_QUEUE_URL_<QUEUE>``, ``PYM_TASK_QUEUE_NAME_<QUEUE>``, ``PYM_TASK_DLQ_URL_<QUEUE>``:
  per-queue overrides; <QUEUE> is the logical queue name upper-cased, other characters as "_".
"""
from __future__ import annotations

import os
import re
import threading
from typing import Callable, List, Mapping, Optional

from ..config.values import env_flag as _flag
from ..frozen_record import Record

DEFAULT_STAGE = "dev"
SQS_MAX_MESSAGE_BYTES = 262_144  # 256 KiB, the classic SQS limit (see QueueDefinition)
DEFAULT_LAMBDA_TIMEOUT = 60
# AWS advises at least 5 for a queue Lambda consumes: a receive whose invocation was throttled
# counts too, and a lower count dead-letters messages that never ran.
DEFAULT_MAX_RECEIVE_COUNT = 5



def queue_env_key(queue: str) -> str:
    """The <QUEUE> part of the per-queue environment variables: "emails-high" -> "EMAILS_HIGH"."""
    return re.sub(r"[^A-Z0-9]", "_", queue.upper())


def _int(value: Optional[str], default: int, name: str) -> int:
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name}={value!r}: expected an integer") from None


def _per_queue(environ: Mapping[str, str], prefix: str) -> Mapping[str, str]:
    return {k[len(prefix):]: v for k, v in environ.items() if k.startswith(prefix) and v}


class TaskSettings(Record):
    app_name: Optional[str] = None
    stage: str = DEFAULT_STAGE
    inline: bool = False
    region: Optional[str] = None  # None: the AWS_REGION / AWS_DEFAULT_REGION of the env
    # Overrides keyed by queue_env_key(logical queue name).
    queue_urls: Mapping[str, str] = {}
    queue_names: Mapping[str, str] = {}
    dlq_urls: Mapping[str, str] = {}
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
        env = os.environ if environ is None else environ
        return cls(
            app_name=env.get("PYM_APP_NAME") or None,
            stage=env.get("PYM_STAGE") or DEFAULT_STAGE,
            inline=_flag(env.get("PYM_TASKS_INLINE"), False, "PYM_TASKS_INLINE"),
            queue_urls=_per_queue(env, "PYM_TASK_QUEUE_URL_"),
            queue_names=_per_queue(env, "PYM_TASK_QUEUE_NAME_"),
            dlq_urls=_per_queue(env, "PYM_TASK_DLQ_URL_"),
            backoff_base_seconds=_int(env.get("PYM_TASK_BACKOFF_SECONDS"), 0,
                                      "PYM_TASK_BACKOFF_SECONDS"),
            partial_batch_responses=_flag(env.get("PYM_TASKS_PARTIAL_BATCH_RESPONSES"), True,
                                          "PYM_TASKS_PARTIAL_BATCH_RESPONSES"),
            max_receive_count=_int(env.get("PYM_TASKS_MAX_RECEIVE_COUNT"),
                                   DEFAULT_MAX_RECEIVE_COUNT, "PYM_TASKS_MAX_RECEIVE_COUNT"),
        )


_settings: Optional[TaskSettings] = None
_lock = threading.Lock()
# Caches derived from the settings (queue URLs) register here to be dropped on reconfiguration.
_on_change: List[Callable[[], None]] = []


def configure_tasks(settings: Optional[TaskSettings]) -> None:
    """Use these settings from now on; None goes back to reading the environment."""
    global _settings
    with _lock:
        _settings = settings
    for forget in _on_change:
        forget()


def get_task_settings() -> TaskSettings:
    global _settings
    settings = _settings
    if settings is None:
        with _lock:
            if _settings is None:
                _settings = TaskSettings.from_env()
            settings = _settings
    return settings


def on_settings_change(forget: Callable[[], None]) -> None:
    _on_change.append(forget)
