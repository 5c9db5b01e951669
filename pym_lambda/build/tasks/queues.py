"""Queue definitions as plain data, and `ensure_queues` to make AWS match them (deploy time).

Naming (pym_lambda.tasks.naming): the task queue "default" of app "shop" at stage "prod" is
the SQS queue ``shop-prod-default``, its dead-letter queue ``shop-prod-default-dlq``, its
worker Lambda handler ``pym_task_worker_default``. Per-queue overrides come from TaskSettings
(pym_lambda.tasks.task_settings).

Definitions: each task queue has its DLQ. Its RedrivePolicy maxReceiveCount is, over its
tasks, the highest of each task's max_receive_count (default `tasks.max_receive_count`, 5) and
max_attempts. The worker dead-letters a task itself after its own max_attempts; the redrive is
the backstop for messages the worker never finished (unreadable, a crash, a timeout), and AWS
advises at least 5 for queues Lambda reads, since receives whose invocation was throttled count
too (with 3, messages were dead-lettered without having run). Its visibility timeout is 6x the
worker Lambda's timeout, as AWS advises for Lambda event sources (a message must not reappear
while a slow batch is still running).

Build time: deploy, package, `pym-lambda local` and the test helpers use it; the runtime
imports naming.py only.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from ...tasks.errors import QueueConfigConflict
from ...tasks.naming import (
    dead_letter_queue_name,
    is_missing_queue_error,
    physical_queue_name,
    validate_queue_name,
)
from ...tasks.task_settings import (
    DEFAULT_MAX_RECEIVE_COUNT,
    SQS_MAX_MESSAGE_BYTES,
    TaskSettings,
    get_task_settings,
)
from .settling import (
    MAPPING_RETRY_SECONDS,
    MAPPING_WAIT_SECONDS,
    QUEUE_RECREATE_RETRY_SECONDS,
    QUEUE_RECREATE_WAIT_SECONDS,
    Budget,
    Sleep,
    mapping_settling,
    queue_deleted_recently,
    retry_while,
)

VISIBILITY_PER_LAMBDA_TIMEOUT = 6
# Every partition: aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b...
_SQS_ARN = re.compile(r"^arn:aws(?:-[a-z]+)*:sqs:")


def is_sqs_arn(arn: Any) -> bool:
    return isinstance(arn, str) and _SQS_ARN.match(arn) is not None


@dataclass(frozen=True)
class QueueDefinition:
    queue: str  # logical name, as in @async_task(queue=...)
    name: str
    dlq_name: str
    max_receive_count: int = DEFAULT_MAX_RECEIVE_COUNT
    visibility_timeout: int = 360
    message_retention_seconds: int = 4 * 86_400
    # A standard queue keeps a message's original enqueue time in its DLQ: keep DLQ messages
    # longer than the source queue does, or they expire as soon as they arrive.
    dlq_retention_seconds: int = 14 * 86_400
    # Set explicitly: new queues default to 1 MiB since 2025, and the sender checks this value.
    maximum_message_size: int = SQS_MAX_MESSAGE_BYTES

    def dlq_attributes(self) -> Dict[str, str]:
        return {"MessageRetentionPeriod": str(self.dlq_retention_seconds),
                "MaximumMessageSize": str(self.maximum_message_size)}

    def queue_attributes(self, dlq_arn: str) -> Dict[str, str]:
        return {
            "VisibilityTimeout": str(self.visibility_timeout),
            "MessageRetentionPeriod": str(self.message_retention_seconds),
            "MaximumMessageSize": str(self.maximum_message_size),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn,
                                         "maxReceiveCount": self.max_receive_count}),
        }


def queue_definitions(queues: Optional[Iterable[str]] = None, *,
                      settings: Optional[TaskSettings] = None,
                      visibility_timeout: Optional[int] = None) -> List[QueueDefinition]:
    """One definition per task queue (default: the queues of every imported @async_task)."""
    from ...tasks.decorator import registered_tasks  # noqa: PLC0415 - the decorator imports us

    settings = settings or get_task_settings()
    receives: Dict[str, int] = {}
    for task in registered_tasks():
        wanted = task.max_receive_count or settings.max_receive_count
        receives[task.queue] = max(receives.get(task.queue, 0), wanted, task.max_attempts)
    names = sorted(receives) if queues is None else [validate_queue_name(q) for q in queues]
    if visibility_timeout is None:
        visibility_timeout = VISIBILITY_PER_LAMBDA_TIMEOUT * settings.lambda_timeout_seconds
    return [QueueDefinition(
        queue=q, name=physical_queue_name(q, settings),
        dlq_name=dead_letter_queue_name(q, settings),
        max_receive_count=receives.get(q, settings.max_receive_count),
        visibility_timeout=visibility_timeout, maximum_message_size=settings.max_message_bytes,
    ) for q in names]


# --- making AWS match the definitions -------------------------------------------------------

@dataclass
class QueueChange:
    name: str
    action: str  # "create", "update", "unchanged" or "conflict"
    changes: Dict[str, Tuple[Optional[str], str]] = field(default_factory=dict)
    problems: List[str] = field(default_factory=list)
    url: Optional[str] = None


def _existing(sqs: Any, name: str) -> Tuple[Optional[str], Dict[str, str]]:
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except Exception as exc:
        if is_missing_queue_error(exc):
            return None, {}
        raise
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


def _redrive_target_and_count(policy: Optional[str]) -> Tuple[Optional[str], Optional[int]]:
    if not policy:
        return None, None
    data = json.loads(policy)
    return str(data.get("deadLetterTargetArn", "")).rsplit(":", 1)[-1], int(data["maxReceiveCount"])


def _plan_one(sqs: Any, name: str, wanted: Dict[str, str], dlq_name: Optional[str],
              update: bool) -> QueueChange:
    url, current = _existing(sqs, name)
    if url is None:
        return QueueChange(name, "create", {k: (None, v) for k, v in wanted.items()})
    change = QueueChange(name, "unchanged", url=url)
    if current.get("FifoQueue") == "true":
        change.problems.append(f"{name}: is a FIFO queue; task queues are standard queues")
    for key, value in wanted.items():
        old = current.get(key)
        if key == "RedrivePolicy":
            old_target, old_count = _redrive_target_and_count(old)
            _, new_count = _redrive_target_and_count(value)
            if old_target is not None and old_target != dlq_name:
                change.problems.append(f"{name}: RedrivePolicy sends to {old_target}, "
                                       f"the definition says {dlq_name}")
            if (old_target, old_count) != (dlq_name, new_count):
                change.changes[key] = (old, value)
        elif old != value:
            change.changes[key] = (old, value)
    if change.changes and not update:
        change.problems.extend(f"{name}: {k} is {old!r}, the definition says {new!r}"
                               for k, (old, new) in change.changes.items())
    if change.problems:
        change.action = "conflict"
    elif change.changes:
        change.action = "update"
    return change


def plan_queues(definitions: Sequence[QueueDefinition], sqs: Any, *,
                update: bool = True) -> List[QueueChange]:
    """What `ensure_queues` would do, reading AWS only (that's a dry run)."""
    plan: List[QueueChange] = []
    for d in definitions:
        plan.append(_plan_one(sqs, d.dlq_name, d.dlq_attributes(), None, update))
        # The DLQ ARN is compared by queue name: it may not exist yet.
        plan.append(_plan_one(sqs, d.name, d.queue_attributes(f"arn:::::{d.dlq_name}"),
                              d.dlq_name, update))
    return plan


def ensure_queues(definitions: Sequence[QueueDefinition], sqs: Any, *,
                  update: bool = True, progress: Optional[Callable[[str], None]] = None,
                  sleep: Optional[Sleep] = None) -> List[QueueChange]:
    """Create missing queues and DLQs, update differing attributes; idempotent.

    Raises QueueConfigConflict, before changing anything, when an existing queue can't be made
    to match (a FIFO queue, a redrive to another DLQ, or any difference when update=False).
    A queue deleted less than 60 s ago (`delete --include-queues`, then deploy) can't be created
    again until then: creating is retried for a little over a minute in all, said once to
    `progress` (default: a warning in the log), then StillSettling.
    """
    plan = plan_queues(definitions, sqs, update=update)
    problems = [p for change in plan for p in change.problems]
    if problems:
        raise QueueConfigConflict(problems)
    by_name = {change.name: change for change in plan}
    budget = Budget(QUEUE_RECREATE_WAIT_SECONDS, QUEUE_RECREATE_RETRY_SECONDS, sleep, progress)
    for d in definitions:
        dlq_url = _apply(sqs, by_name[d.dlq_name], d.dlq_attributes(), budget)
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url,
                                           AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        _apply(sqs, by_name[d.name], d.queue_attributes(dlq_arn), budget)
    return plan


def _apply(sqs: Any, change: QueueChange, attributes: Dict[str, str], budget: Budget) -> str:
    if change.action == "create":
        name = change.name
        change.url = retry_while(
            lambda: sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"],
            transient=queue_deleted_recently, budget=budget, what=f"create queue {name}",
            reason=f"queue {name} was deleted less than 60 s ago; AWS refuses to create it "
                   "again until then",
            hint="a queue deleted less than 60 s ago can't be created again: run the same "
                 "command in a minute")
    elif change.action == "update":
        sqs.set_queue_attributes(QueueUrl=change.url,
                                 Attributes={k: attributes[k] for k in change.changes})
    assert change.url is not None
    return change.url


def enable_partial_batch_responses(lambda_client: Any, function_name: str, *,
                                   sleep: Optional[Sleep] = None,
                                   progress: Optional[Callable[[str], None]] = None) -> int:
    """Set ReportBatchItemFailures on the function's SQS event source mappings.

    Chalice never sets it, and without it Lambda ignores `batchItemFailures`: a batch with one
    failure would be deleted whole. A mapping Chalice has just created is still Creating for a
    few seconds, and AWS refuses updates meanwhile (ResourceInUseException): the update is
    retried for up to a minute in all, then StillSettling. Returns how many mappings were
    updated.
    """
    updated = 0
    budget = Budget(MAPPING_WAIT_SECONDS, MAPPING_RETRY_SECONDS, sleep, progress)
    pages = lambda_client.get_paginator("list_event_source_mappings").paginate(
        FunctionName=function_name)
    for page in pages:
        for mapping in page.get("EventSourceMappings", []):
            if not is_sqs_arn(mapping.get("EventSourceArn")):
                continue
            if "ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or []):
                continue
            uuid = mapping["UUID"]
            retry_while(
                partial(lambda_client.update_event_source_mapping, UUID=uuid,
                        FunctionResponseTypes=["ReportBatchItemFailures"]),
                transient=mapping_settling, budget=budget,
                what=f"update event source mapping {uuid} of {function_name}",
                reason=f"event source mapping {uuid} of {function_name} is still settling",
                hint="run the same command again: the mapping will have settled")
            updated += 1
    return updated
