"""Bound by the spec of test_lean_rest.py: one of each kind of answer Chalice writes its own way."""
from typing import Any

from chalice import NotFoundError, Response


def item(item_id: int) -> Any:
    if item_id == 404:
        raise NotFoundError("no such item")  # a Chalice view error: its status, our JSON shape
    if item_id == 500:
        raise RuntimeError("boom")  # user code failing: an opaque 500 with an error_id
    return {"id": item_id}


def create(body: Any) -> Any:
    return 201, {"id": 7, "name": body["name"]}


def image() -> Any:
    return 200, b"\x89PNG\r\n\x1a\n-bytes-"  # image/png: base64 when the client accepts it


def raw() -> Any:
    return Response(body={"raw": [1, 2]}, headers={"X-Many": ["a", "b"]})  # Chalice's dumps


def newline() -> Any:
    return 200, {"id": 1}, {"X-Bad": "a\nb"}  # Chalice refuses it: its own 500
