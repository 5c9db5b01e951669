"""Exactly-once effect, recorded in a DynamoDB table: for `@async_task(idempotent=True)` here,
and for the HTTP operations the spec marks `x-idempotent: true` (runtime/idempotency.py).

SQS delivers at least once, and a redrive sends a message again; a record per key in the
stage's table (`<app>-<stage>-idempotency`, which deploy creates) makes the effect once:

- ``begin``: one conditional PutItem writes the key INPROGRESS, unless a live record holds it
  (COMPLETED and not expired, or INPROGRESS and its run's deadline not passed). The loser of
  a race gets the record that won instead (ReturnValuesOnConditionCheckFailure, no read).
- ``complete``: one UpdateItem marks it COMPLETED (with what to replay, for HTTP) and sets its
  expiry, DynamoDB's TTL attribute.
- ``release``: a run that raised deletes its record, so the next delivery runs it again.

A run that never ends (the Lambda timed out or crashed) leaves INPROGRESS until its deadline:
the end of the Lambda invocation that runs it (its context's remaining time), so that a retry
can run as soon as that invocation timed out; without a Lambda context (a local worker), the
worker's timeout from its start (`tasks.lambda_timeout_seconds`). SQS shows the message again
after the queue's visibility timeout, 6x the worker's timeout (plan.py): that delivery runs it.

The cost of a first run is one conditional put and one update; a duplicate is one put.
Imported only when a task or operation is idempotent; boto3 only at the first record.
"""
from __future__ import annotations

import logging
import math
import time
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple

from ..aws import aws_client
from .current import batch_lambda_context
from .errors import RetryLater, TaskDefinitionError

log = logging.getLogger("pym_lambda.tasks")

IN_PROGRESS = "INPROGRESS"
COMPLETED = "COMPLETED"
KEY_ATTRIBUTE = "id"
EXPIRY_ATTRIBUTE = "expiration"  # the table's TTL attribute (epoch seconds)
# A task's completion is kept as long as SQS keeps a dead letter (14 days, queues.py), so that a
# redrive of a completed task is still recognised.
TASK_EXPIRES_SECONDS = 14 * 86_400
TABLE_SUFFIX = "-idempotency"

_BEGIN_CONDITION = ("attribute_not_exists(#k) OR #e < :now OR "
                    "(#s = :in_progress AND #d < :now_ms)")


def table_name(app_name: Optional[str], stage: str, override: Optional[str] = None) -> str:
    """The stage's table: ``<app>-<stage>-idempotency`` (PYM_IDEMPOTENCY_TABLE overrides)."""
    if override:
        return override
    if not app_name:
        raise TaskDefinitionError("the idempotency table needs the app's name (PYM_APP_NAME, set "
                              "by deploy) or PYM_IDEMPOTENCY_TABLE")
    return f"{app_name}-{stage}{TABLE_SUFFIX}"


class Existing(NamedTuple):
    """The live record that kept `begin` from taking a key."""

    status: str  # IN_PROGRESS or COMPLETED
    deadline_ms: int  # an INPROGRESS run's deadline (epoch milliseconds)
    fingerprint: str  # what the first call's input hashed to ("" for tasks)
    data: Optional[str]  # what a COMPLETED HTTP call stored to replay

    def seconds_left(self, now: Optional[float] = None) -> int:
        left = self.deadline_ms / 1000 - (time.time() if now is None else now)
        return max(1, math.ceil(left))


def run_seconds(lambda_context: Any, longest: float) -> float:
    """How long a run starting now may last: until its Lambda invocation ends (the context's
    remaining time) when a context tells it, at most `longest`."""
    remaining = getattr(lambda_context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return longest
    try:
        left = float(remaining()) / 1000
    except Exception:  # noqa: BLE001 - a context that can't tell: the fixed bound
        return longest
    return max(0.0, min(float(longest), left))


def _existing(item: Dict[str, Any]) -> Existing:
    return Existing(status=item.get("status", {}).get("S", ""),
                    deadline_ms=int(item.get("deadline", {}).get("N", "0")),
                    fingerprint=item.get("fingerprint", {}).get("S", ""),
                    data=item.get("data", {}).get("S"))


class IdempotencyStore:
    """One table's records; the client is the framework's cached one (aws.py), made lazily."""

    def __init__(self, table: str, region: Optional[str] = None) -> None:
        self.table = table
        self.region = region

    def _client(self) -> Any:
        return aws_client("dynamodb", self.region)

    def begin(self, key: str, *, run_seconds: float, expires_seconds: int,
              fingerprint: str = "") -> Optional[Existing]:
        """Take `key` for a run of at most `run_seconds`: None when taken, else the record
        holding it."""
        now = time.time()
        client = self._client()
        try:
            client.put_item(
                TableName=self.table,
                Item={KEY_ATTRIBUTE: {"S": key}, "status": {"S": IN_PROGRESS},
                      EXPIRY_ATTRIBUTE: {"N": str(int(now) + expires_seconds)},
                      "deadline": {"N": str(int((now + run_seconds) * 1000))},
                      "fingerprint": {"S": fingerprint}},
                ConditionExpression=_BEGIN_CONDITION,
                ExpressionAttributeNames={"#k": KEY_ATTRIBUTE, "#e": EXPIRY_ATTRIBUTE,
                                          "#s": "status", "#d": "deadline"},
                ExpressionAttributeValues={":now": {"N": str(int(now))},
                                           ":now_ms": {"N": str(int(now * 1000))},
                                           ":in_progress": {"S": IN_PROGRESS}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except client.exceptions.ConditionalCheckFailedException as exc:
            item = exc.response.get("Item")
            if item is None:  # an older DynamoDB API: read it
                item = client.get_item(TableName=self.table, Key={KEY_ATTRIBUTE: {"S": key}},
                                       ConsistentRead=True).get("Item") or {}
            return _existing(item)
        return None

    def complete(self, key: str, *, expires_seconds: int, data: Optional[str] = None) -> None:
        names = {"#s": "status", "#e": EXPIRY_ATTRIBUTE}
        values: Dict[str, Any] = {":done": {"S": COMPLETED},
                                  ":exp": {"N": str(int(time.time()) + expires_seconds)}}
        update = "SET #s = :done, #e = :exp"
        if data is not None:
            names["#v"] = "data"
            values[":data"] = {"S": data}
            update += ", #v = :data"
        self._client().update_item(TableName=self.table, Key={KEY_ATTRIBUTE: {"S": key}},
                                   UpdateExpression=update, ExpressionAttributeNames=names,
                                   ExpressionAttributeValues=values)

    def release(self, key: str) -> None:
        """Forget a run that failed, so that the next call runs again."""
        try:
            self._client().delete_item(TableName=self.table, Key={KEY_ATTRIBUTE: {"S": key}})
        except Exception:  # its deadline frees it then
            log.warning("could not release idempotency record %s in %s: the next run waits "
                        "for its deadline", key, self.table, exc_info=True)


class TaskInProgress(RetryLater):
    """Another worker runs this task now: this delivery is retried after its deadline."""


def task_store() -> Tuple[IdempotencyStore, Any]:
    """The current service's store and task settings."""
    from ..config.environment import runtime_environment
    from .task_settings import get_task_settings

    settings = get_task_settings()
    table = table_name(settings.app_name, settings.stage,
                       runtime_environment().idempotency_table)
    return IdempotencyStore(table, settings.region), settings


def run_once(name: str, task_id: str, message_id: Optional[str],
             fn: Callable[..., Any], args: Any, kwargs: Any, skipped: Any,
             held: Optional[List[Any]] = None) -> Any:
    """Run `fn` unless task `task_id` completed already (then return `skipped`); raise
    TaskInProgress while another run holds it. `held` ([task settings, their store], kept by
    the task) spares reading the settings and environment again at each record."""
    from .task_settings import get_task_settings

    settings = get_task_settings()
    if held is not None and held[0] is settings:
        store = held[1]
    else:
        store, settings = task_store()
        if held is not None:
            held[:] = [settings, store]
    key = f"task#{name}#{task_id}"
    lasts = run_seconds(batch_lambda_context.get(), settings.lambda_timeout_seconds)
    existing = store.begin(key, run_seconds=lasts, expires_seconds=TASK_EXPIRES_SECONDS)
    if existing is not None:
        if existing.status == COMPLETED:
            log.info("task %s %s already completed: delivery %s skipped (duplicate)", name,
                     task_id, message_id)
            return skipped
        wait = min(existing.seconds_left(), 43_200)
        log.info("task %s %s is running elsewhere: delivery %s retried in %d s", name,
                 task_id, message_id, wait)
        raise TaskInProgress(wait, f"task {task_id} is running elsewhere")
    try:
        fn(*args, **kwargs)
    except BaseException:
        store.release(key)
        raise
    try:
        store.complete(key, expires_seconds=TASK_EXPIRES_SECONDS)
    except Exception:  # it ran: failing the record would run it again after its deadline
        log.exception("task %s %s ran but its completion could not be recorded in %s",
                      name, task_id, store.table)
    return None
