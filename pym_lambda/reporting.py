"""Crash reports: a callback told about every 5xx and every report_error() call, with what a
PyMacaron reporter received (error id, request, user, service, traceback).

Set it with `set_error_reporter(func)` or `error_reporter: module.function` in pym-config.yaml.
The reporter runs after the response is decided: whatever it does (raise, hang on a slow
network is its own business), the client's answer is unchanged, and its failures are logged.
"""
from __future__ import annotations

import logging
import sys
import time
import traceback
from typing import Any, Callable, Dict, Optional

from .context import current_context
from .errors import new_error_id
from .version import __version__

log = logging.getLogger("pym_lambda")

Reporter = Callable[[Dict[str, Any]], None]
_reporter: Optional[Reporter] = None
_service: Dict[str, Any] = {}


def set_error_reporter(reporter: Optional[Reporter]) -> None:
    global _reporter
    _reporter = reporter


def set_service(name: str, version: str, stage: str) -> None:
    _service.update(name=name, version=version, stage=stage, pym_lambda=__version__)


def _request_summary() -> Optional[Dict[str, Any]]:
    ctx = current_context()
    request = getattr(ctx, "request", None)
    if ctx is None:
        return None
    summary: Dict[str, Any] = {"call_id": ctx.call_id, "method": ctx.method, "path": ctx.path,
                               "operation": ctx.operation}
    if request is not None:
        summary["query"] = dict(request.query_params or {})
        summary["body_size"] = len(request.raw_body or b"")
        summary["user_agent"] = request.headers.get("user-agent")
    return summary


def _user() -> Optional[Dict[str, Any]]:
    caller = getattr(current_context(), "caller", None)
    if caller is None:
        return None
    return {"id": caller.user_id, "claims": dict(caller.claims)}


def build_report(error_id: str, status: int, code: str, title: str, is_fatal: bool,
                 exc: Optional[BaseException] = None, data: Any = None) -> Dict[str, Any]:
    trace = None
    if exc is not None:
        trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return {
        "error_id": error_id, "status": status, "code": code, "title": title,
        "is_fatal": is_fatal, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "request": _request_summary(), "user": _user(), "service": dict(_service),
        "traceback": trace, "data": data,
    }


def send(report: Dict[str, Any]) -> None:
    if _reporter is None:
        return
    try:
        _reporter(report)
    except Exception:  # a broken reporter must never change the client's answer
        log.exception("error reporter failed for error_id=%s", report.get("error_id"))


def report_server_error(error_id: str, status: int, code: str, description: str,
                        exc: Optional[BaseException] = None) -> None:
    send(build_report(error_id, status, code, description, True, exc))


def report_error(title: str, *, exc: Optional[BaseException] = None, data: Any = None,
                 is_fatal: bool = False) -> str:
    """Report a problem that did not fail the request (PyMacaron's report_error); returns the
    error id under which it was logged and reported."""
    error_id = new_error_id()
    if exc is None and sys.exc_info()[1] is not None:
        exc = sys.exc_info()[1]
    log.warning("reported error_id=%s: %s", error_id, title, exc_info=exc)
    send(build_report(error_id, 0, "REPORTED_ERROR", title, is_fatal, exc, data))
    return error_id
