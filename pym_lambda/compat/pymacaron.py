"""PyMacaron's built-in bindings, so its own specs (ping.yaml, crash.yaml) load unchanged.

`x-bind-server: pymacaron.api.do_ping` and friends resolve here (see bindings.ALIASES), never
to an installed `pymacaron` package. The crash endpoints behave as PyMacaron's did: each shows
one way an error travels through the framework.
"""
from __future__ import annotations

import time
from typing import Any, Dict, Tuple

from ..errors import PymError
from ..reporting import report_error
from ..runtime import builtins


class PyMacaronException(PymError):
    status = 500
    code = "PYMACARON_EXCEPTION"


class NonFatalError(PymError):
    status = 401
    code = "NON_FATAL_CUSTOM_ERROR"


def do_ping() -> Dict[str, Any]:
    return {}


def do_version() -> Dict[str, Any]:
    return {k: v for k, v in builtins.version().items() if k in ("name", "version", "apis")} | \
        {"pym_env": builtins.version()["pym_env"]}


def do_crash_internal_exception() -> Any:
    raise Exception("Raising an internal exception")


def do_crash_pymacaron_exception() -> Any:
    raise PyMacaronException("Raising a PyMacaron exception")


def do_crash_report_error() -> Dict[str, Any]:
    report_error("Reporting a non-fatal error")
    return {"ok": "ok"}


def do_crash_slow_call() -> Dict[str, Any]:
    time.sleep(1)
    return {"ok": "ok"}


def do_crash_return_error_instance() -> Any:
    raise NonFatalError("Returning an error instance")


def do_crash_return_fatal_error_response() -> Tuple[int, Dict[str, Any]]:
    raise PyMacaronException("Returning a fatal error response")


def do_crash_return_non_fatal_error_response() -> Any:
    raise NonFatalError("Returning a non-fatal error response")


def do_crash_return_error_model() -> Any:
    raise NonFatalError("Returning an error model")
