"""Idempotent tasks of tests/tasks/test_idempotency.py; each records its runs in RUNS."""
from __future__ import annotations

import threading
from typing import Any, Dict, List

from pym_lambda.tasks import async_task, current_task

RUNS: List[Dict[str, Any]] = []
CONTROL: Dict[str, Any] = {"fail": False, "gate": None}


@async_task(idempotent=True)
def charge(order: str, cents: int) -> None:
    info = current_task()
    RUNS.append({"order": order, "cents": cents, "task_id": info.task_id if info else None})
    gate = CONTROL["gate"]
    if isinstance(gate, threading.Event):  # the race: hold the run until the loser is done
        gate.wait(10)
    if CONTROL["fail"]:
        raise RuntimeError("card network down")


@async_task
def plain(order: str) -> None:
    RUNS.append({"order": order, "plain": True})
