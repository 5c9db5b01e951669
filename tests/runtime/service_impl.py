"""Bound by the specs of test_service.py: each reports what its app's service holds."""
from typing import Any, Dict, List

from pym_lambda import current_caller, models
from pym_lambda.runtime.service import current_service
from pym_lambda.tasks import async_task, current_task, get_task_settings

SEEN: List[Dict[str, Any]] = []


def whoami() -> Dict[str, Any]:
    caller = current_caller()
    return {"user_id": caller.user_id if caller else None, "service": current_service().name,
            "model": _own_model()}


def enqueue() -> Dict[str, Any]:
    handle = note.delay(current_service().name)
    return {"task_id": handle.task_id, "inline": handle.inline}


def boom() -> Dict[str, Any]:
    raise RuntimeError("boom")


def _own_model() -> str:
    for name in ("Alpha", "Beta"):
        if hasattr(models, name):
            return name
    return ""


@async_task(queue="svc")
def note(sent_by: str) -> None:
    info = current_task()
    SEEN.append({"sent_by": sent_by, "service": current_service().name,
                 "app_name": get_task_settings().app_name, "model": _own_model(),
                 "queue": info.queue if info else None})
