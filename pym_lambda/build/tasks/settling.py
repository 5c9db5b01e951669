"""AWS calls refused for a while after a change, retried within a bounded wait (deploy time).

What real AWS does and moto does not (FACTS.md):

- an event source mapping just created or updated is Creating/Updating for a few seconds;
  updating or deleting it meanwhile raises ResourceInUseException (Chalice retries exactly
  this in chalice/awsclient.py: `_is_settling_error`, 10 attempts 5 s apart);
- a queue deleted less than 60 s ago cannot be created again under the same name
  (QueueDeletedRecently).

A `Budget` is the whole wait one step may spend, shared by its calls (the queues of a stage were
deleted together: one minute covers them all), and says once that it waits. Its sleep function
is a parameter: tests hand in a fake one and prove the bound without waiting.
"""
from __future__ import annotations

import logging
import re
import time
from typing import Any, Callable, Optional, TypeVar

from ...tasks.errors import TaskError

T = TypeVar("T")
Sleep = Callable[[float], None]

log = logging.getLogger("pym_lambda.tasks")

# An event source mapping settles in seconds; Chalice waits up to 50 s for the same.
MAPPING_WAIT_SECONDS = 60.0
MAPPING_RETRY_SECONDS = 5.0
# AWS: "wait 60 seconds after deleting a queue before you can create another with the same
# name". The delete may have been a moment ago: a little over a minute in all.
QUEUE_RECREATE_WAIT_SECONDS = 70.0
QUEUE_RECREATE_RETRY_SECONDS = 10.0

_MAPPING_BUSY_CODES = {"ResourceInUseException", "ResourceConflictException"}
_QUEUE_DELETED_RECENTLY_CODES = {"AWS.SimpleQueueService.QueueDeletedRecently",
                                 "QueueDeletedRecently"}
# Chalice's `_is_iam_role_related_error`: a role (or its new policy) not yet seen by Lambda.
_ROLE_NOT_YET_USABLE = re.compile(r"role.*(cannot be assumed|does not have permissions)",
                                  re.IGNORECASE | re.DOTALL)


class StillSettling(TaskError):
    """AWS still refused a call after the whole wait its budget allowed."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _error_text(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    error = response.get("Error", {})
    return f"{error.get('Code', type(exc).__name__)}: {error.get('Message', '')}".rstrip(": ")


def mapping_settling(exc: BaseException) -> bool:
    """An event source mapping still Creating/Updating, or the function's role (its SQS
    permissions) not yet propagated."""
    code = error_code(exc)
    if code in _MAPPING_BUSY_CODES:
        return True
    response = getattr(exc, "response", None) or {}
    message = str(response.get("Error", {}).get("Message", ""))
    return code == "InvalidParameterValueException" and bool(_ROLE_NOT_YET_USABLE.search(message))


def queue_deleted_recently(exc: BaseException) -> bool:
    response = getattr(exc, "response", None) or {}
    error = response.get("Error", {})
    return (error.get("Code") in _QUEUE_DELETED_RECENTLY_CODES
            or error.get("QueryErrorCode") in _QUEUE_DELETED_RECENTLY_CODES)


class Budget:
    """At most `seconds` of waiting in all, in steps of `step` seconds."""

    def __init__(self, seconds: float, step: float, sleep: Optional[Sleep] = None,
                 progress: Optional[Callable[[str], None]] = None) -> None:
        self.seconds = seconds
        self.step = step
        self.waited = 0.0
        self._sleep = sleep or time.sleep
        self._progress = progress or log.warning
        self._announced = False

    @property
    def exhausted(self) -> bool:
        return self.waited >= self.seconds

    def wait(self, reason: str) -> None:
        """Sleep one step; the first wait of the budget says why (one line, not one a step)."""
        if not self._announced:
            self._announced = True
            self._progress(f"{reason}: waiting up to {self.seconds:g} s")
        step = min(self.step, self.seconds - self.waited)
        self._sleep(step)
        self.waited += step


def retry_while(call: Callable[[], T], *, transient: Callable[[BaseException], bool],
                budget: Budget, what: str, reason: str, hint: str = "") -> T:
    """`call()`, again after each step of `budget` while it raises a `transient` error.

    Other errors propagate at once; a transient one left when the budget is spent becomes
    StillSettling, naming `what` was refused, for how long, and AWS's own words.
    """
    while True:
        try:
            return call()
        except Exception as exc:
            if not transient(exc):
                raise
            if budget.exhausted:
                raise StillSettling(f"{what}: still refused after waiting {budget.waited:g} s "
                                    f"({_error_text(exc)})", hint=hint) from exc
            budget.wait(reason)


def call_while_settling(call: Callable[[], T], *, what: str, sleep: Optional[Sleep] = None,
                        progress: Optional[Callable[[str], None]] = None) -> Any:
    """One call on an event source mapping, retried while the mapping settles."""
    budget = Budget(MAPPING_WAIT_SECONDS, MAPPING_RETRY_SECONDS, sleep, progress)
    return retry_while(call, transient=mapping_settling, budget=budget, what=what,
                       reason=f"{what}: busy (just created or updated)",
                       hint="the mapping is still settling: run the same command again")
