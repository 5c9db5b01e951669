"""Serve a Chalice app over WSGI (gunicorn): pym-lambda's Beanstalk Docker fallback.

Each WSGI request becomes the API Gateway REST proxy event the app gets on Lambda, so the same
app.py runs unchanged in both places::

    gunicorn pym_lambda.wsgi:application     # imports app.py's `app` (PYM_APP_MODULE)

The adapter also does what API Gateway does before Lambda is called: it matches the path to a
route template (Chalice dispatches on ``requestContext.resourcePath``), URL-decodes path
parameters, caps the body size, and answers unknown paths and methods, in the framework's JSON
error shape. ``app.current_request`` is made thread-local (as ``chalice local`` does), so
threaded workers (gthread) never read another request's data.
"""
from __future__ import annotations

import base64
import http
import importlib
import json
import logging
import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from chalice.app import Chalice

from .errors import (
    InvalidParameterError,
    MethodNotAllowedError,
    PayloadTooLargeError,
    PymError,
    ServerError,
    UnknownPathError,
    error_body,
)

log = logging.getLogger("pym_lambda.wsgi")

APP_MODULE_ENV = "PYM_APP_MODULE"  # "module" or "module:attribute"; attribute defaults to app
MAX_BODY_ENV = "PYM_MAX_BODY_BYTES"
PROXY_HOPS_ENV = "PYM_TRUSTED_PROXY_HOPS"
DEFAULT_MAX_BODY_BYTES = 6 * 1024 * 1024  # Lambda's synchronous payload limit
DEFAULT_STAGE = "api"  # Chalice's default api_gateway_stage
DEFAULT_TIMEOUT_MS = 29_000  # API Gateway's integration timeout

# PEP 3333: an application must not set hop-by-hop headers; the server frames the body.
_SERVER_HEADERS = frozenset({"connection", "keep-alive", "proxy-authenticate",
                             "proxy-authorization", "te", "trailers", "transfer-encoding",
                             "upgrade", "content-length"})
# What API Gateway leaves unencoded in `path` (RFC 3986 pchar and "/").
_PATH_SAFE = "/:@!$&'()*+,;=-._~"

StartResponse = Callable[..., Any]
WsgiHeaders = List[Tuple[str, str]]


# --- route matching ------------------------------------------------------------------------

@dataclass(frozen=True)
class RouteMatch:
    template: str
    path_params: Dict[str, str]


@dataclass
class _Node:
    template: Optional[str] = None
    static: Dict[str, _Node] = field(default_factory=dict)
    params: Dict[str, _Node] = field(default_factory=dict)
    greedy: Optional[Tuple[str, str]] = None  # (parameter name, route template)


def path_segments(path: str) -> List[str]:
    """'/a/b/' -> ['a', 'b']: one trailing slash is dropped, as API Gateway does."""
    if path.endswith("/") and path != "/":
        path = path[:-1]
    return [] if path in ("", "/") else path.removeprefix("/").split("/")


class RouteMatcher:
    """API Gateway's resource matching over Chalice route templates.

    At each segment a static part wins over a ``{param}``, which wins over a greedy
    ``{name+}``; the greedy one takes every remaining segment (one or more). A failed branch
    falls back to the next candidate, so ``/v1/nope`` still reaches a root ``/{proxy+}``.
    """

    def __init__(self, templates: Iterable[str]) -> None:
        self._root = _Node()
        for template in templates:
            self._add(template)

    def _add(self, template: str) -> None:
        node = self._root
        parts = path_segments(template)
        for index, part in enumerate(parts):
            if part.startswith("{") and part.endswith("+}"):
                if index != len(parts) - 1:
                    raise ValueError(f"route {template}: a greedy {part} must be the last part")
                node.greedy = (part[1:-2], template)
                return
            if part.startswith("{") and part.endswith("}"):
                node = node.params.setdefault(part[1:-1], _Node())
            else:
                node = node.static.setdefault(part, _Node())
        node.template = template

    def match(self, segments: List[str]) -> Optional[RouteMatch]:
        """The route for these decoded path segments, with its path parameters, or None."""
        return self._walk(self._root, segments, 0, {})

    def _walk(self, node: _Node, segments: List[str], index: int,
              params: Dict[str, str]) -> Optional[RouteMatch]:
        if index == len(segments):
            return RouteMatch(node.template, dict(params)) if node.template else None
        segment = segments[index]
        static = node.static.get(segment)
        found = static and self._walk(static, segments, index + 1, params)
        if found:
            return found
        if segment:  # API Gateway never binds an empty segment to a parameter
            for name, child in node.params.items():
                found = self._walk(child, segments, index + 1, {**params, name: segment})
                if found:
                    return found
        if node.greedy:
            name, template = node.greedy
            return RouteMatch(template, {**params, name: "/".join(segments[index:])})
        return None


# --- thread-local request state --------------------------------------------------------------

class _ThreadLocalRequestState:
    """Mixed into the app's class: Chalice's per-request attributes become per-thread.

    Chalice.__call__ stores the request on the app (``self.current_request = ...``) and views
    read it back: one attribute shared by every thread of a gthread worker. chalice local's
    LocalChalice solves it the same way (a threading.local behind a property).
    """

    _pym_thread_state: threading.local

    @property
    def current_request(self) -> Any:
        return getattr(self._pym_thread_state, "current_request", None)

    @current_request.setter
    def current_request(self, value: Any) -> None:
        self._pym_thread_state.current_request = value

    @property
    def lambda_context(self) -> Any:
        return getattr(self._pym_thread_state, "lambda_context", None)

    @lambda_context.setter
    def lambda_context(self, value: Any) -> None:
        self._pym_thread_state.lambda_context = value


def make_thread_safe(app: Chalice) -> Chalice:
    """Swap `app`'s class for a subclass whose request attributes are thread-local."""
    if not isinstance(app, _ThreadLocalRequestState):
        cls = type(app)
        app.__class__ = type(f"ThreadLocal{cls.__name__}", (_ThreadLocalRequestState, cls),
                             {"_pym_thread_state": threading.local()})
        for name in ("current_request", "lambda_context"):
            app.__dict__.pop(name, None)  # the properties win anyway; drop stale values
    return app


# --- WSGI request -> API Gateway event ---------------------------------------------------------

class WsgiLambdaContext:
    """The parts of Lambda's context object that apps read."""

    def __init__(self, function_name: str, request_id: str, timeout_ms: int) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = ""
        self.memory_limit_in_mb = 0
        self.aws_request_id = request_id
        self.log_group_name = ""
        self.log_stream_name = ""
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _text(wsgi_value: str) -> str:
    # PEP 3333 strings carry bytes as latin-1; API Gateway hands UTF-8 text to Lambda.
    raw = wsgi_value.encode("latin-1", "replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return wsgi_value


def request_path(environ: Dict[str, Any]) -> Tuple[str, List[str]]:
    """The path as API Gateway's event carries it (percent-encoded), and its decoded segments.

    gunicorn's RAW_URI keeps `%2F` apart from `/`, so a path parameter may contain a slash as
    on API Gateway; other servers only give PATH_INFO, already decoded.
    """
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
    if raw and not raw.startswith("/"):
        raw = urlsplit(raw).path  # absolute-form request target (http://host/path)
    raw = raw.split("?", 1)[0].split("#", 1)[0]
    script_name = environ.get("SCRIPT_NAME", "")
    if raw and script_name and raw.startswith(script_name):
        raw = raw[len(script_name):]
    if raw:
        return raw, [unquote(s, errors="replace") for s in path_segments(raw)]
    decoded = _text(environ.get("PATH_INFO", "")) or "/"
    return quote(decoded, safe=_PATH_SAFE), path_segments(decoded)


def request_headers(environ: Dict[str, Any]) -> Dict[str, List[str]]:
    """Lower-cased names (as chalice local and HTTP/2 have them) to their values."""
    headers: Dict[str, List[str]] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:]
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            name = key
        else:
            continue
        # The server joins repeated headers with ", ": one value each is all WSGI gives us.
        headers.setdefault(name.replace("_", "-").lower(), []).append(_text(str(value)))
    return headers


def query_params(query_string: str) -> Dict[str, List[str]]:
    params: Dict[str, List[str]] = {}
    for name, value in parse_qsl(_text(query_string), keep_blank_values=True):
        params.setdefault(name, []).append(value)
    return params


def is_binary_type(content_type: str, binary_types: Iterable[str]) -> bool:
    """API Gateway's binaryMediaTypes test, wildcards included (`image/*`, `*/*`)."""
    media = content_type.split(";", 1)[0].strip().lower()
    if not media:
        return False
    for declared in (t.lower() for t in binary_types):
        if declared in ("*/*", media):
            return True
        if declared.endswith("/*") and media.startswith(declared[:-1]):
            return True
    return False


def encode_body(body: bytes, content_type: str,
                binary_types: Iterable[str]) -> Tuple[Optional[str], bool]:
    """(event body, isBase64Encoded). Bytes that are not UTF-8 travel base64-encoded too, so
    that the app sees them unchanged and can answer 400 rather than fail on a mangled string."""
    if not body:
        return None, False
    if not is_binary_type(content_type, binary_types):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


def read_body(environ: Dict[str, Any], max_bytes: int) -> bytes:
    """The request body; PayloadTooLargeError before reading it when it is declared too large."""
    stream = environ["wsgi.input"]
    declared = environ.get("CONTENT_LENGTH") or ""
    if declared:
        try:
            length = int(declared)
        except ValueError:
            length = -1
        if length < 0:
            raise InvalidParameterError(f"Content-Length {declared!r} is not a length")
        if length > max_bytes:
            raise PayloadTooLargeError(f"body is larger than {max_bytes} bytes")
        return bytes(stream.read(length)) if length else b""
    if environ.get("wsgi.input_terminated"):  # a chunked body: read one byte past the limit
        data = bytes(stream.read(max_bytes + 1))
        if len(data) > max_bytes:
            raise PayloadTooLargeError(f"body is larger than {max_bytes} bytes")
        return data
    return b""


def source_ip(environ: Dict[str, Any], trusted_proxy_hops: int) -> str:
    """The client's address: REMOTE_ADDR, or the X-Forwarded-For entry added by the outermost
    of `trusted_proxy_hops` proxies (entries further left are whatever the client sent)."""
    if trusted_proxy_hops > 0:
        forwarded = [p.strip() for p in environ.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= trusted_proxy_hops:
            return forwarded[-trusted_proxy_hops]
    return str(environ.get("REMOTE_ADDR", ""))


# --- API Gateway response -> WSGI response -----------------------------------------------------

def status_line(status: int) -> str:
    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def _header_value(value: Any) -> str:
    # WSGI header values are latin-1 strings; send UTF-8 bytes as API Gateway would.
    return str(value).encode("utf-8").decode("latin-1")


def response_headers(result: Dict[str, Any], body_length: int) -> WsgiHeaders:
    """headers + multiValueHeaders merged as API Gateway merges them (a name present in
    multiValueHeaders takes its values from there only), framed for a WSGI server."""
    multi: Dict[str, List[Any]] = result.get("multiValueHeaders") or {}
    multi_names = {name.lower() for name in multi}
    pairs: WsgiHeaders = [(name, _header_value(value))
                          for name, value in (result.get("headers") or {}).items()
                          if name.lower() not in multi_names]
    for name, values in multi.items():
        pairs.extend((name, _header_value(value)) for value in values)
    pairs = [(name, value) for name, value in pairs if name.lower() not in _SERVER_HEADERS]
    if body_length and not any(name.lower() == "content-type" for name, _ in pairs):
        pairs.append(("Content-Type", "application/json"))  # API Gateway's default too
    pairs.append(("Content-Length", str(body_length)))
    return pairs


def response_body(result: Dict[str, Any]) -> bytes:
    body = result.get("body")
    if body is None:
        return b""
    if result.get("isBase64Encoded"):
        return base64.b64decode(body)
    return body if isinstance(body, bytes) else str(body).encode("utf-8")


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
            error_id = str(uuid.uuid4())
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
                f"method {method} is not allowed on {match.template}; allowed: {allow}"),
                extra_headers=[("Allow", allow)])
        try:
            body = read_body(environ, self.max_body_bytes)
        except PymError as exc:
            return _error(exc)
        request_id = str(uuid.uuid4())
        event = self.build_event(environ, method, raw_path, match, body, request_id)
        context = WsgiLambdaContext(self.chalice_app.app_name, request_id, self.timeout_ms)
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
        return {
            "resource": match.template,
            "path": raw_path,
            "httpMethod": method,
            "headers": {name: values[-1] for name, values in headers.items()},
            "multiValueHeaders": headers,
            "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
            "multiValueQueryStringParameters": query or None,
            "pathParameters": match.path_params or None,
            "stageVariables": None,
            "body": event_body,
            "isBase64Encoded": is_base64,
            "requestContext": {
                "resourcePath": match.template,
                "httpMethod": method,
                "path": raw_path,
                "stage": self.stage,
                "requestId": request_id,
                "requestTimeEpoch": int(time.time() * 1000),
                "protocol": environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                "domainName": headers.get("host", [""])[-1],
                "identity": {
                    "sourceIp": source_ip(environ, self.trusted_proxy_hops),
                    "userAgent": headers.get("user-agent", [""])[-1],
                },
            },
        }


def _error(exc: PymError, error_id: Optional[str] = None,
           extra_headers: Optional[WsgiHeaders] = None) -> Tuple[int, WsgiHeaders, bytes]:
    body = error_body(exc.status, exc.code, exc.description, error_id, exc.user_message)
    data = json.dumps(body, separators=(",", ":")).encode("utf-8")
    headers = [("Content-Type", "application/json"), *(extra_headers or []),
               ("Content-Length", str(len(data)))]
    return exc.status, headers, data


def _env_int(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise ValueError(f"{name}={text!r}: expected a whole number >= 0")
    return value


def make_wsgi_app(chalice_app: Chalice, *, max_body_bytes: Optional[int] = None,
                  stage: str = DEFAULT_STAGE, trusted_proxy_hops: Optional[int] = None,
                  timeout_ms: int = DEFAULT_TIMEOUT_MS) -> ChaliceWsgiApp:
    """The WSGI callable of a Chalice app. Unset limits come from the environment:
    PYM_MAX_BODY_BYTES (default 6 MiB, Lambda's) and PYM_TRUSTED_PROXY_HOPS (default 0)."""
    return ChaliceWsgiApp(
        chalice_app,
        max_body_bytes=(max_body_bytes if max_body_bytes is not None
                        else _env_int(MAX_BODY_ENV, DEFAULT_MAX_BODY_BYTES)),
        stage=stage,
        trusted_proxy_hops=(trusted_proxy_hops if trusted_proxy_hops is not None
                            else _env_int(PROXY_HOPS_ENV, 0)),
        timeout_ms=timeout_ms)


def load_chalice_app(spec: Optional[str] = None) -> Chalice:
    """Import the project's app: PYM_APP_MODULE ("app", or "module:attribute"), from the
    working directory (as gunicorn and `chalice local` do)."""
    spec = spec or os.environ.get(APP_MODULE_ENV) or "app"
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
