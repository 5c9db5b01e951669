"""The context of the request (or task) being handled: call id, operation, caller.

Kept in a ContextVar, so each thread of a WSGI server and each asyncio task sees its own,
unlike Chalice's ``app.current_request`` which is one attribute shared by all threads.
"""
from __future__ import annotations

import contextvars
import os
from time import perf_counter
from typing import Any, Dict, List, Mapping, Optional

CALL_ID_HEADER = "PymCallID"


class CallContext:
    """One per request or task. A plain slotted class, not a dataclass: one is built per
    request and per task record, so its constructor is on the hot path."""

    __slots__ = ("call_id", "operation", "method", "path", "caller", "request", "started",
                 "service", "_extra", "task")

    def __init__(self, call_id: str, operation: str = "", method: str = "", path: str = "",
                 caller: Any = None, request: Any = None,
                 started: Optional[float] = None,
                 extra: Optional[Dict[str, Any]] = None, service: Any = None,
                 task: Any = None) -> None:
        self.call_id = call_id
        self.operation = operation
        self.method = method
        self.path = path
        self.caller = caller  # set by the auth step (pym_lambda.auth) when a token was verified
        self.request = request  # the chalice.app.Request, when serving HTTP
        self.started = perf_counter() if started is None else started
        # the app's Service (runtime/service.py): what current_service() returns in this call
        self.service = service
        self._extra: Optional[Dict[str, Any]] = extra
        # A task record's: the fields of its TaskInfo (pym_lambda.tasks.current), which
        # current_task() reads. On the context, so that the worker sets one ContextVar a record.
        self.task = task

    @property
    def extra(self) -> Dict[str, Any]:
        """Free-form values a service attaches to the call (made on first use; a task's start
        with its task_id and attempt)."""
        if self._extra is None:
            task = self.task
            self._extra = {} if task is None else {"task_id": task[1], "attempt": task[2]}
        return self._extra

    def __repr__(self) -> str:
        return (f"CallContext(call_id={self.call_id!r}, operation={self.operation!r}, "
                f"method={self.method!r}, path={self.path!r})")


_current: contextvars.ContextVar[Optional[CallContext]] = contextvars.ContextVar(
    "pym_lambda_call", default=None)


def new_call_id() -> str:
    """A random (version 4) UUID string, without importing uuid (2 ms at cold start)."""
    h = os.urandom(16).hex()
    return (f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-"
            f"{h[20:]}")


def header(headers: Optional[Mapping[str, str]], name: str) -> Optional[str]:
    """A header by name, whatever its case: the one way pym-lambda reads a header.

    Chalice's ``request.headers`` is case-insensitive already; a plain dict (an event's
    headers, a test's) keeps the sender's case, so it is searched when the name misses.
    """
    if not headers:
        return None
    value = headers.get(name)
    if value is None and type(headers) is dict:
        wanted = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == wanted), None)
    return value


def cookies(cookie_header: Optional[str]) -> Dict[str, str]:
    """The cookies of a Cookie header by name, parsed by http.cookies (quoted values
    unquoted). Each pair is read on its own: a malformed one is skipped, not the whole header
    (SimpleCookie.load drops everything at the first); the first of a repeated name wins."""
    if not cookie_header:
        return {}
    from http.cookies import CookieError

    from .cookie_jar import LinearCookie
    found: Dict[str, str] = {}
    for pair in cookie_header.split(";"):
        jar = LinearCookie()
        try:
            jar.load(pair.strip())
        except CookieError:
            continue
        for name, morsel in jar.items():
            found.setdefault(name, morsel.value)
    return found


def request_header(request: Any, name: str) -> Optional[str]:
    """A header of a Chalice request (see `header`). Chalice's CaseInsensitiveMapping keeps its
    lowercased names in a plain dict: read there, a missing header costs a dict miss, where the
    Mapping's get() raises and catches a KeyError (~0.7 us, several times per request)."""
    headers = request.headers
    if type(headers) is _CHALICE_HEADERS[0] or _is_chalice_headers(headers):
        return headers._dict.get(name.lower())  # type: ignore[no-any-return]
    return header(headers, name)


_CHALICE_HEADERS: List[Any] = [None]  # chalice.app.CaseInsensitiveMapping, once seen


def _is_chalice_headers(headers: Any) -> bool:
    kind = type(headers)
    if (kind.__name__ == "CaseInsensitiveMapping" and kind.__module__ == "chalice.app"
            and type(getattr(headers, "_dict", None)) is dict):
        _CHALICE_HEADERS[0] = kind
        return True
    return False


def current_context() -> Optional[CallContext]:
    """The context of the request or task being handled, or None outside of one."""
    return _current.get()


def current_call_id() -> Optional[str]:
    ctx = _current.get()
    return ctx.call_id if ctx else None


def enter_context(ctx: CallContext) -> contextvars.Token[Optional[CallContext]]:
    return _current.set(ctx)


def exit_context(token: contextvars.Token[Optional[CallContext]]) -> None:
    _current.reset(token)
