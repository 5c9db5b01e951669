"""Serve a Chalice app over WSGI (gunicorn): pym-lambda's Beanstalk Docker fallback.

Each WSGI request becomes the API Gateway REST proxy event the app gets on Lambda, so the same
app.py runs unchanged in both places::

    gunicorn pym_lambda.wsgi:application     # imports app.py's `app` (PYM_APP_MODULE)

This package is the entry point: the WSGI callable (ChaliceWsgiApp, make_wsgi_app), the app
loader and the lazy ``application``. Like API Gateway before Lambda is called, it matches the
path to a route template (Chalice dispatches on ``requestContext.resourcePath``), caps the body
size, and answers unknown paths and methods, in the framework's JSON error shape. The parts
are its modules (re-exported here): route matching and the thread-local
``app.current_request`` in routes.py, the environ <-> event translation in events.py.
"""
from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple

from chalice.app import Chalice

from ..aws_events import LambdaContext, rest_proxy_event
from ..context import new_call_id
from ..errors import (
    MethodNotAllowedError,
    PymError,
    ServerError,
    UnknownPathError,
    error_body,
)
from .events import (
    WsgiHeaders,
    encode_body,
    is_binary_type,
    query_params,
    read_body,
    request_headers,
    request_path,
    response_body,
    response_headers,
    source_ip,
    status_line,
)
from .routes import RouteMatch, RouteMatcher, make_thread_safe, path_segments

__all__ = [  # `application` too, built on first access (see __getattr__)
    "APP_MODULE_ENV", "MAX_BODY_ENV", "PROXY_HOPS_ENV", "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_STAGE", "DEFAULT_TIMEOUT_MS", "StartResponse", "WsgiHeaders", "ChaliceWsgiApp",
    "make_wsgi_app", "load_chalice_app", "RouteMatch", "RouteMatcher", "path_segments",
    "make_thread_safe", "request_path", "request_headers", "query_params",
    "is_binary_type", "encode_body", "read_body", "source_ip", "status_line",
    "response_headers", "response_body", "WsgiLambdaContext",
]


def WsgiLambdaContext(function_name: str, request_id: str,  # noqa: N802 - the old class name
                      timeout_ms: Optional[int] = None) -> LambdaContext:
    """The old name of aws_events.LambdaContext (positional arguments as it took them)."""
    return LambdaContext(function_name, request_id=request_id,
                         timeout_ms=DEFAULT_TIMEOUT_MS if timeout_ms is None else timeout_ms)

log = logging.getLogger("pym_lambda.wsgi")

# The variables are read by pym_lambda.config (docs/configuration.md); names kept for importers.
APP_MODULE_ENV = "PYM_APP_MODULE"  # "module" or "module:attribute"; attribute defaults to app
MAX_BODY_ENV = "PYM_MAX_BODY_BYTES"  # alias of PYM_LIMITS_MAX_BODY_BYTES (limits.max_body_bytes)
PROXY_HOPS_ENV = "PYM_TRUSTED_PROXY_HOPS"
# Lambda's synchronous payload limit: the cap of a plain Chalice app, which has no
# limits.max_body_bytes (nginx's client_max_body_size in the Beanstalk image matches it).
DEFAULT_MAX_BODY_BYTES = 6 * 1024 * 1024
DEFAULT_STAGE = "api"  # Chalice's default api_gateway_stage
DEFAULT_TIMEOUT_MS = 29_000  # API Gateway's integration timeout

StartResponse = Callable[..., Any]


# --- the WSGI application ----------------------------------------------------------------------

class ChaliceWsgiApp:
    """A WSGI callable serving a Chalice app as API Gateway + Lambda would."""

    def __init__(self, chalice_app: Chalice, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
                 stage: str = DEFAULT_STAGE, trusted_proxy_hops: int = 0,
                 timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
        self.chalice_app = make_thread_safe(chalice_app)
        self.matcher = RouteMatcher(chalice_app.routes)
        self.max_body_bytes = max_body_bytes
        self.stage = stage
        self.trusted_proxy_hops = trusted_proxy_hops
        self.timeout_ms = timeout_ms

    def __call__(self, environ: Dict[str, Any], start_response: StartResponse) -> List[bytes]:
        try:
            status, headers, body = self.handle(environ)
        except Exception:  # a bug in the adapter: still one JSON error, details only in the log
            error_id = new_call_id()
            log.exception("SERVER_ERROR error_id=%s: the WSGI adapter failed", error_id)
            status, headers, body = _error(ServerError(
                "the server failed to handle this request"), error_id=error_id)
        start_response(status_line(status), headers)
        return [body]

    def handle(self, environ: Dict[str, Any]) -> Tuple[int, WsgiHeaders, bytes]:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        raw_path, segments = request_path(environ)
        match = self.matcher.match(segments)
        if match is None:
            return _error(UnknownPathError(f"no operation serves {method} {raw_path}"))
        allowed = self.chalice_app.routes[match.template]
        if method not in allowed:
            allow = ", ".join(sorted(allowed))
            return _error(MethodNotAllowedError(
                f"method {method} is not allowed on {match.template}; allowed: {allow}",
                headers={"Allow": allow}))
        try:
            body = read_body(environ, self.max_body_bytes)
        except PymError as exc:
            return _error(exc)
        request_id = new_call_id()
        event = self.build_event(environ, method, raw_path, match, body, request_id)
        context = LambdaContext(self.chalice_app.app_name, request_id=request_id,
                                timeout_ms=self.timeout_ms)
        result = self.chalice_app(event, context)
        data = response_body(result)
        return int(result.get("statusCode", 200)), response_headers(result, len(data)), data

    def build_event(self, environ: Dict[str, Any], method: str, raw_path: str,
                    match: RouteMatch, body: bytes, request_id: str) -> Dict[str, Any]:
        """The API Gateway REST proxy event (payload format 1.0) for this request."""
        headers = request_headers(environ)
        query = query_params(str(environ.get("QUERY_STRING", "")))
        content_type = headers.get("content-type", [""])[-1]
        event_body, is_base64 = encode_body(body, content_type,
                                            self.chalice_app.api.binary_types)
        return rest_proxy_event(
            method, raw_path, resource=match.template, headers=headers, query=query,
            path_parameters=match.path_params, body=event_body, is_base64=is_base64,
            stage=self.stage, request_id=request_id, context_path=raw_path,
            source_ip=source_ip(environ, self.trusted_proxy_hops),
            protocol=str(environ.get("SERVER_PROTOCOL", "HTTP/1.1")))


def _error(exc: PymError, error_id: Optional[str] = None) -> Tuple[int, WsgiHeaders, bytes]:
    body = error_body(exc.status, exc.code, exc.description, error_id, exc.user_message,
                      exc.problems if exc.status < 500 else None)
    data = json.dumps(body, separators=(",", ":")).encode("utf-8")
    headers = [("Content-Type", "application/json"), *exc.headers.items(),
               ("Content-Length", str(len(data)))]
    return exc.status, headers, data


def body_limit(chalice_app: Chalice) -> int:
    """The app's ``limits.max_body_bytes`` (file, stage, PYM_LIMITS_MAX_BODY_BYTES or its alias
    PYM_MAX_BODY_BYTES: the one precedence); a plain Chalice app has no settings, so only the
    variables apply, else Lambda's 6 MiB."""
    settings = getattr(getattr(chalice_app, "pym_service", None), "settings", None)
    if settings is not None:
        return int(settings.limits.max_body_bytes)
    from ..config.loader import env_value

    value = env_value(("limits", "max_body_bytes"))
    return DEFAULT_MAX_BODY_BYTES if value is None else int(value)


def make_wsgi_app(chalice_app: Chalice, *, max_body_bytes: Optional[int] = None,
                  stage: str = DEFAULT_STAGE, trusted_proxy_hops: Optional[int] = None,
                  timeout_ms: int = DEFAULT_TIMEOUT_MS) -> ChaliceWsgiApp:
    """The WSGI callable of a Chalice app. Unset limits: the body's is the app's
    ``limits.max_body_bytes`` (body_limit()), the proxy hops PYM_TRUSTED_PROXY_HOPS (0)."""
    from ..config.environment import runtime_environment

    return ChaliceWsgiApp(
        chalice_app,
        max_body_bytes=max_body_bytes if max_body_bytes is not None else body_limit(chalice_app),
        stage=stage,
        trusted_proxy_hops=(trusted_proxy_hops if trusted_proxy_hops is not None
                            else runtime_environment().trusted_proxy_hops),
        timeout_ms=timeout_ms)


def load_chalice_app(spec: Optional[str] = None) -> Chalice:
    """Import the project's app: PYM_APP_MODULE ("app", or "module:attribute"), from the
    working directory (as gunicorn and `chalice local` do)."""
    if not spec:
        from ..config.environment import runtime_environment

        spec = runtime_environment().app_module
    module_name, _, attribute = spec.partition(":")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    app = getattr(importlib.import_module(module_name), attribute or "app", None)
    if not isinstance(app, Chalice):
        raise TypeError(f"{APP_MODULE_ENV}={spec!r}: {attribute or 'app'} is not a Chalice app")
    return app


application: ChaliceWsgiApp  # built on first access (module __getattr__ below)
_load_lock = threading.Lock()


def __getattr__(name: str) -> Any:
    # Lazy, so importing this module never imports the project; gunicorn reads `application`
    # when a worker boots, so a broken app.py fails the boot, not the first request.
    if name != "application":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    with _load_lock:
        if "application" not in globals():
            globals()["application"] = make_wsgi_app(load_chalice_app())
    return globals()["application"]
