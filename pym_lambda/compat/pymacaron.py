"""PyMacaron's built-in bindings, so its own specs (ping.yaml, crash.yaml) load unchanged.

`x-bind-server: pymacaron.api.do_ping` and friends resolve here (see bindings.ALIASES), never
to an installed `pymacaron` package. The crash endpoints behave as PyMacaron's did: each shows
one way an error travels through the framework.
"""
from __future__ import annotations

import os
import time
from typing import Any, Dict, Mapping, Optional, Tuple

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
    """PyMacaron's Version: name, version, apis, pym_env, and `container` (the version of the
    image it ran in, named so until PyMacaron 2022; the service's version here)."""
    answer = builtins.version()
    fields = {k: answer[k] for k in ("name", "version", "apis", "pym_env") if k in answer}
    return fields | {"container": str(answer["version"])}


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


# --- what a PyMacaron service's own code imports (the imports change, the code does not) -----
# `from pymacaron import apipool` -> `from pym_lambda.compat.pymacaron import apipool`, and so on.

def __getattr__(name: str) -> Any:
    # Lazy: the models registry and the task decorator load only for code that asks for them.
    if name == "apipool":  # apipool.<api>.<Model>, as PyMacaron's apipool answered
        from ..runtime.models import models

        return models
    if name == "PymacaronBaseModel":  # every model class derives from it
        from ..runtime.models import Model

        return Model
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def asynctask(*args: Any, delay: int = 0, **options: Any) -> Any:
    """PyMacaron's ``@asynctask()``: calling the decorated function enqueues it (``.delay()``:
    on SQS within a request or task, run at once outside of one or with ``tasks.inline``).

    ``delay`` is PyMacaron's countdown (SQS ``delay_seconds``, at most 900). PyMacaron ran a
    task once (Celery, no retry): ``max_attempts`` defaults to 1, so a failure is logged and
    the message dead-lettered, from where it can be redriven; other @async_task options
    (queue, max_attempts, max_receive_count) pass through."""
    from .pymacaron_tasks import pymacaron_task

    options.setdefault("max_attempts", 1)
    if len(args) == 1 and callable(args[0]):  # @asynctask without (): PyMacaron refused it
        return pymacaron_task(args[0], delay, options)
    if args:
        raise TypeError("asynctask() takes keyword arguments only: @asynctask(delay=...)")
    return lambda fn: pymacaron_task(fn, delay, options)


class PyMacaronConfig:
    """`get_config()`: every top-level key of pym-config.yaml as an attribute, with PyMacaron's
    defaults, and a value naming a variable of `env_secrets` replaced by its value."""

    def __init__(self, document: Mapping[str, Any],
                 environ: Optional[Mapping[str, str]] = None) -> None:
        environ = os.environ if environ is None else environ
        self.jwt_issuer: Optional[str] = None
        self.jwt_audience: Optional[str] = None
        self.jwt_secret: Optional[str] = None
        self.jwt_token_timeout = 86400
        self.jwt_token_renew_after = 10800
        self.default_user_id = "PYM_DEFAULT_USER_ID"
        self.report_call_exceeding_ms = 1000
        secrets = document.get("env_secrets") or ()
        for key, value in document.items():
            if isinstance(value, str) and value in secrets:
                value = environ.get(value, key)  # PyMacaron's own fallback: the key's name
            setattr(self, str(key), value)

    def __repr__(self) -> str:  # never the secrets
        return f"<PyMacaronConfig {sorted(vars(self))}>"


def get_config() -> PyMacaronConfig:
    """The service's pym-config.yaml (the running app's; outside one, the file in the current
    directory, as PyMacaron looked for it)."""
    from ..runtime.service import current_service

    settings = current_service().settings
    document = getattr(settings, "raw", None)
    if not document:
        from ..config.loader import CONFIG_FILENAME, read_config_file

        path = os.path.join(os.getcwd(), CONFIG_FILENAME)
        document = read_config_file(path) if os.path.isfile(path) else {}
    return PyMacaronConfig(document)


def generate_token(user_id: str, expire_in: Optional[int] = None,
                   data: Optional[Mapping[str, Any]] = None, issuer: Optional[str] = None,
                   iat: Optional[int] = None) -> str:
    """PyMacaron's ``generate_token(user_id, expire_in=None, data={}, issuer=None)``, signed
    with the service's jwt settings; outside an app (an acceptance test), those of
    pym-config.yaml in the current directory (its secrets read from the environment)."""
    from ..auth.tokens import generate_token as sign
    from ..runtime.service import current_service

    if iat is not None:
        raise TypeError("generate_token(iat=...) is not supported: tokens are issued now")
    settings: Any = current_service().jwt
    if settings is None:
        from ..config import load_settings

        settings = load_settings(os.getcwd(), required=True).jwt
    claims = dict(data or {})
    if issuer:
        claims["iss"] = issuer
    return sign(user_id, claims, expire_in, settings=settings)
