"""Tasks used by the task tests. Each records what it saw in RUNS."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from pym_lambda.auth import current_caller
from pym_lambda.context import current_context
from pym_lambda.tasks import PermanentFailure, RetryLater, async_task, current_task

RUNS: List[Dict[str, Any]] = []
SWITCH = {"broken": False}


def _record(name: str, **seen: Any) -> None:
    context = current_context()
    RUNS.append(dict(seen, name=name, info=current_task(),
                     call_id=context.call_id if context else None,
                     caller=context.caller if context else None,
                     current_caller=current_caller()))


def runs(name: str) -> List[Dict[str, Any]]:
    return [run for run in RUNS if run["name"] == name]


@dataclass
class Parcel:
    """A model object as pym_lambda.runtime.models makes them (to_json/from_json)."""

    __pym_model_name__ = "Parcel"
    weight: float
    label: str

    def to_json(self) -> Dict[str, Any]:
        return {"weight": self.weight, "label": self.label}

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> Parcel:
        return cls(**data)


def find_fake_model(name: str, api: Optional[str] = None) -> Any:
    return {"Parcel": Parcel}[name]


@async_task
def record(value: Any, when: Any = None) -> str:
    _record("record", value=value, when=when)
    return f"recorded {value}"


@async_task(max_attempts=3)
def always_fails(value: Any) -> None:
    _record("always_fails", value=value)
    raise RuntimeError(f"always fails on {value}")


@async_task(max_attempts=5)
def flaky(value: Any, fail_times: int) -> None:
    _record("flaky", value=value)
    info = current_task()
    if info is not None and info.attempt <= fail_times:
        raise RuntimeError(f"transient failure {info.attempt}")


@async_task(max_attempts=4)
def retry_later(value: Any, delay: int) -> None:
    _record("retry_later", value=value)
    info = current_task()
    if info is not None and info.attempt == 1:
        raise RetryLater(delay)


@async_task
def permanent(value: Any) -> None:
    _record("permanent", value=value)
    raise PermanentFailure(f"{value} can never work")


@async_task(max_attempts=2)
def switchable(value: Any) -> None:
    _record("switchable", value=value)
    if SWITCH["broken"]:
        raise RuntimeError("switched off")


@async_task(queue="other", delay_seconds=0)
def on_other_queue(value: Any) -> None:
    _record("on_other_queue", value=value)


def not_a_task(value: Any) -> None:
    """Undecorated: a message naming it must never run it."""
    _record("not_a_task", value=value)


# --- the fault test's task ------------------------------------------------------------------

FAULT_RUNS: List[Any] = []  # (batch number, task_id, attempt, succeeded)
BATCH = {"number": 0}


@async_task(queue="faults", max_attempts=3)
def fault_task(n: int, fail_times: int) -> None:
    """Fails on its first `fail_times` attempts (fail_times >= 3: always)."""
    info = current_task()
    assert info is not None
    failing = info.attempt <= fail_times
    FAULT_RUNS.append((BATCH["number"], info.task_id, info.attempt, not failing))
    if failing:
        raise RuntimeError(f"task {n} fails on attempt {info.attempt}")
