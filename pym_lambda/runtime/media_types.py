"""A Content-Type's media type, and whether it is JSON: what the response writer needs of
body.py, apart, so that a cold start (which routes, reads no body) does not import body.py."""
from __future__ import annotations

from typing import Optional


def media_type(header: Optional[str]) -> str:
    return (header or "").split(";", 1)[0].strip().lower()


def is_json(mt: str) -> bool:
    return mt == "application/json" or mt.endswith("+json")
