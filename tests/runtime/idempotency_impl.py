"""Functions of tests/runtime/test_idempotency.py's spec; each call is recorded in CALLS."""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

from pym_lambda import PymError

CALLS: List[Dict[str, Any]] = []
DURING: Dict[str, Optional[Callable[[], None]]] = {"call": None}


class OutOfStock(PymError):
    status = 409


def create_order(body: Any) -> Any:
    item = body["item"]
    CALLS.append({"item": item})
    during = DURING["call"]
    if during is not None:
        DURING["call"] = None
        during()
    if item == "none-left":
        raise OutOfStock("no more of that")
    if item == "crash":
        raise RuntimeError("the warehouse is on fire")
    return {"id": len(CALLS), "item": item}


def list_orders() -> Any:
    return [{"id": i + 1, "item": c["item"]} for i, c in enumerate(CALLS)]
