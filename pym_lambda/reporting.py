"""Crash reports: callbacks told about every 5xx and every report_error() call, with what a
PyMacaron reporter received (error id, request, user, service, traceback).

The reporters are the current service's ordered list `service.reporters` (runtime/service.py):
`error_reporter: module.function` in pym-config.yaml appends one, `app.pym_service.reporters
.append(func)` or `@app.pym_service.reporter` another, and `set_error_reporter(func)` makes
the list [func]. They run in order after the response is decided: whatever one does (raise,
hang on a slow network is its own business), the client's answer is unchanged, the next
reporters still run, and failures are logged.
"""
from __future__ import annotations

import logging
import sys
import time
import traceback
from typing import Any, Callable, Dict, Optional

from .context import current_context
from .errors import describe, new_error_id
from .runtime.service import current_service
from .version import __version__

log = logging.getLogger("pym_lambda")

Reporter = Callable[[Dict[str, Any]], None]


def set_error_reporter(reporter: Optional[Reporter]) -> None:
    """The current service's reporters become [reporter] (none for None)."""
    current_service().reporters[:] = [reporter] if reporter is not None else []


def set_service(name: str, version: str, stage: str) -> None:
    """The "service" of the current service's reports."""
    current_service().info.update(name=name, version=version, stage=stage)


def _request_summary() -> Optional[Dict[str, Any]]:
    ctx = current_context()
    request = getattr(ctx, "request", None)
    if ctx is None:
        return None
    summary: Dict[str, Any] = {"call_id": ctx.call_id, "method": ctx.method, "path": ctx.path,
                               "operation": ctx.operation}
    if request is not None:
        summary["query"] = dict(request.query_params or {})
        # The event's body, not request.raw_body: decoding it may be what failed (bad base64).
        summary["body_size"] = len((request.to_original_event() or {}).get("body") or "")
        summary["user_agent"] = request.headers.get("user-agent")
    return summary


def _safely(part: Callable[[], Any]) -> Any:
    """A part of the report, or a note saying it could not be built: the report goes out."""
    try:
        return part()
    except Exception as exc:
        return {"unavailable": f"{type(exc).__name__}: {describe(exc)}"}


def _user() -> Optional[Dict[str, Any]]:
    caller = getattr(current_context(), "caller", None)
    if caller is None:
        return None
    return {"id": caller.user_id, "claims": dict(caller.claims)}


def build_report(error_id: str, status: int, code: str, title: str, is_fatal: bool,
                 exc: Optional[BaseException] = None, data: Any = None) -> Dict[str, Any]:
    trace = None
    if exc is not None:
        trace = _safely(lambda: "".join(traceback.format_exception(type(exc), exc,
                                                                   exc.__traceback__)))
    return {
        "error_id": error_id, "status": status, "code": code, "title": describe(title),
        "is_fatal": is_fatal, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "request": _safely(_request_summary), "user": _safely(_user),
        "service": _safely(_service_info), "traceback": trace, "data": data,
    }


def _service_info() -> Dict[str, Any]:
    info = current_service().info
    if not info.get("name") and not info.get("version"):
        return {}  # no app: as before, an empty "service"
    return {"name": info.get("name", ""), "version": info.get("version", ""),
            "stage": info.get("stage", ""), "pym_lambda": __version__}


def send(report: Dict[str, Any]) -> None:
    """Tell every reporter of the current service, in order; one failing stops none."""
    for reporter in list(current_service().reporters):
        try:
            reporter(report)
        except Exception:  # a broken reporter must never change the client's answer
            log.exception("error reporter failed for error_id=%s (%s)", report.get("error_id"),
                          getattr(reporter, "__qualname__", reporter))


def report_server_error(error_id: str, status: int, code: str, description: str,
                        exc: Optional[BaseException] = None) -> None:
    """Called on the error path: whatever fails here is logged, never raised."""
    try:
        send(build_report(error_id, status, code, description, True, exc))
    except Exception:
        log.exception("could not report error_id=%s", error_id)


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
