"""Assertions in the spirit of pymacaron-unit: one line per expectation, the body in the message.

They take a `Reply` from either client, so they read the same in-process and against a URL.
"""
from __future__ import annotations

import json
from typing import Any, Dict, Optional

from .clients import Reply

ERROR_KEYS = ("status", "error", "error_description", "error_id")


def _describe(reply: Reply) -> str:
    where = f"{reply.method} {reply.path}".strip()
    body = reply.body if len(reply.body) <= 1000 else reply.body[:1000] + "..."
    return f"{where} answered {reply.status} {reply.headers.get('Content-Type')!r}: {body}"


def assert_json(reply: Reply, status: int = 200) -> Any:
    """Assert `reply` has this status and a JSON body; return the parsed body."""
    __tracebackhide__ = True
    if reply.status != status:
        raise AssertionError(f"expected status {status}; {_describe(reply)}")
    if "json" not in (reply.headers.get("Content-Type") or ""):
        raise AssertionError(f"expected a JSON content type; {_describe(reply)}")
    try:
        return json.loads(reply.body)
    except ValueError as exc:
        raise AssertionError(f"the body is not JSON ({exc}); {_describe(reply)}") from None


def assert_error(reply: Reply, status: int, code: Optional[str] = None) -> Dict[str, Any]:
    """Assert `reply` is pym-lambda's error shape with this status (and error code, if given):
    ``{"status": ..., "error": ..., "error_description": ..., "error_id": ...}``.
    Returns the error body."""
    __tracebackhide__ = True
    body = assert_json(reply, status)
    if not isinstance(body, dict) or any(key not in body for key in ERROR_KEYS):
        raise AssertionError(f"not pym-lambda's error shape (keys {', '.join(ERROR_KEYS)}); "
                             f"{_describe(reply)}")
    if body["status"] != status:
        raise AssertionError(f"the body says status {body['status']}, the response {status}; "
                             f"{_describe(reply)}")
    if code is not None and body["error"] != code:
        raise AssertionError(f"expected error {code}, got {body['error']}; {_describe(reply)}")
    return body


def assert_status(reply: Reply, status: int) -> Reply:
    """Assert the status only (a 204, a HEAD); return the reply."""
    __tracebackhide__ = True
    if reply.status != status:
        raise AssertionError(f"expected status {status}; {_describe(reply)}")
    return reply
