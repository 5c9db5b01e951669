"""The context of the request (or task) being handled: call id, operation, caller.

Kept in a ContextVar, so each thread of a WSGI server and each asyncio task sees its own,
unlike Chalice's ``app.current_request`` which is one attribute shared by all threads.
"""
from __future__ import annotations

import contextvars
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, Optional

CALL_ID_HEADER = "PymCallID"


@dataclass
class CallContext:
    call_id: str
    operation: str = ""
    method: str = ""
    path: str = ""
    caller: Any = None  # set by the auth step (pym_lambda.auth) when a token was verified
    request: Any = None  # the chalice.app.Request, when serving HTTP
    started: float = field(default_factory=time.perf_counter)
    extra: Dict[str, Any] = field(default_factory=dict)


_current: contextvars.ContextVar[Optional[CallContext]] = contextvars.ContextVar(
    "pym_lambda_call", default=None)


def new_call_id() -> str:
    return str(uuid.uuid4())


def current_context() -> Optional[CallContext]:
    """The context of the request or task being handled, or None outside of one."""
    return _current.get()


def current_call_id() -> Optional[str]:
    ctx = _current.get()
    return ctx.call_id if ctx else None


def enter_context(ctx: CallContext) -> contextvars.Token:
    return _current.set(ctx)


def exit_context(token: contextvars.Token) -> None:
    _current.reset(token)
