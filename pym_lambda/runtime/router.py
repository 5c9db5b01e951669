"""Operations -> Chalice routes, and the one place where exceptions become JSON errors.

One Chalice route per path shape (the compiler names it: `route` of each operation), registered
with every method: a method the spec does not declare gets the framework's 405 JSON error (not
API Gateway's 403), and a catch-all `/{proxy+}` route answers unknown paths with a 404 JSON
error. Operations sharing a route are picked by route_candidates (names, partial segments).
"""
from __future__ import annotations

import logging
from string import ascii_letters, digits
from typing import Any, Callable, Dict, Iterable, List, Optional, TypeGuard

from chalice.app import Chalice, ChaliceViewError, Response

from .. import errors, reporting
from ..context import (
    CALL_ID_HEADER,
    CallContext,
    enter_context,
    exit_context,
    new_call_id,
    request_header,
)
from ..identifiers import underscore_runs
from ..logs import log_request
from .cors import CorsPolicy
from .header_gate import refusal
from .operation import BoundOperation
from .responses import JSON_HEADERS, dumps

log = logging.getLogger("pym_lambda")

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
CATCH_ALL = "/{proxy+}"
_CALL_ID_KEY = CALL_ID_HEADER.lower()
# An incoming call id is kept if it is 1-128 of these (str.strip, not a pattern compiled at
# every cold start).
_CALL_ID_CHARS = ascii_letters + digits + "._:-"


def _valid_call_id(text: Optional[str]) -> TypeGuard[str]:
    return text is not None and 0 < len(text) <= 128 and not text.strip(_CALL_ID_CHARS)

OPAQUE_DESCRIPTIONS = {
    "SERVER_ERROR": "the server failed to handle this request",
    "BAD_RESPONSE": "the server produced a response that its API does not allow",
}


class Dispatcher:
    """Runs an operation for the current request, inside a call context, and maps errors."""

    def __init__(self, app: Chalice, debug: bool = False, cors: Optional[CorsPolicy] = None,
                 max_header_bytes: int = 16384, service: Any = None) -> None:
        self.app = app
        # The app's Service, put on each request's CallContext: current_service() in the call
        self.service = service if service is not None else getattr(app, "pym_service", None)
        self.debug = debug
        self.cors = cors
        self.max_header_bytes = max_header_bytes

    def check_headers(self, request: Any) -> None:
        # The event's plain dict, not Chalice's mapping: as exact, and 3x faster to sum.
        event = request.to_original_event()
        refused = refusal(event)
        if refused:  # too many header names, seen on the raw event (header_gate.py)
            raise errors.HeadersTooLargeError(refused)
        headers = event.get("headers") or {}
        size = sum(map(len, headers)) + sum(map(len, headers.values()))
        if size > self.max_header_bytes:
            raise errors.HeadersTooLargeError(
                f"request headers total {size} bytes, more than {self.max_header_bytes}")

    def error_response(self, exc: errors.PymError) -> Response:
        error_id = errors.new_error_id()
        description = exc.description
        if not isinstance(description, str):
            description = errors.describe(description)
        if exc.status >= 500:
            report = description
            if exc.code in OPAQUE_DESCRIPTIONS:
                if exc.problems:  # a response that broke its spec: every problem, for the log
                    description += "; problems: " + "; ".join(
                        f"{p['field'] or 'response'}: {p['message']}" for p in exc.problems)
                log.error("%s error_id=%s: %s", exc.code, error_id, description)
                if not self.debug:
                    description = OPAQUE_DESCRIPTIONS[exc.code]
            reporting.report_server_error(error_id, exc.status, exc.code, report, exc)
        body = errors.error_body(exc.status, exc.code, description, error_id, exc.user_message,
                                 exc.problems if exc.status < 500 else None)
        headers: Dict[str, Any] = dict(JSON_HEADERS)
        headers.update(exc.headers)
        return Response(body=dumps(body), status_code=exc.status, headers=headers)

    def unhandled(self, exc: BaseException) -> Response:
        error_id = errors.new_error_id()
        log.exception("SERVER_ERROR error_id=%s: unhandled %s", error_id, type(exc).__name__)
        description = OPAQUE_DESCRIPTIONS["SERVER_ERROR"]
        if self.debug:
            description += f" ({type(exc).__name__}: {errors.describe(exc)})"
        body = errors.error_body(500, "SERVER_ERROR", description, error_id)
        reporting.report_server_error(error_id, 500, "SERVER_ERROR", errors.describe(exc), exc)
        return Response(body=dumps(body), status_code=500, headers=dict(JSON_HEADERS))

    def answer_error(self, exc: Exception) -> Response:
        """The JSON error for exc, whatever happens while building it: should the handler
        itself fail (a value that cannot be printed or serialised...), an opaque 500 that still
        has the framework's shape and an error_id, never Chalice's generic one."""
        try:
            if isinstance(exc, errors.PymError):
                return self.error_response(exc)
            if isinstance(exc, ChaliceViewError):  # chalice.NotFoundError & co: their status
                return self.error_response(errors.from_chalice_error(exc))
            return self.unhandled(exc)  # user code: logged with an error_id, client told nothing
        except Exception:
            error_id = errors.new_error_id()
            try:
                log.critical("SERVER_ERROR error_id=%s: the error handler failed on %s",
                             error_id, type(exc).__name__, exc_info=True)
            except Exception:  # pragma: no cover - logging's own handleError catches first
                pass
            body = errors.error_body(500, "SERVER_ERROR", OPAQUE_DESCRIPTIONS["SERVER_ERROR"],
                                     error_id)
            return Response(body=dumps(body), status_code=500, headers=dict(JSON_HEADERS))

    def dispatch(self, request: Any, run: Callable[[CallContext], Response]) -> Response:
        incoming = request_header(request, _CALL_ID_KEY) if request is not None else None
        call_id = incoming if _valid_call_id(incoming) else new_call_id()
        ctx = CallContext(call_id=call_id, request=request,
                          method=getattr(request, "method", ""),
                          path=_request_path(request), service=self.service)
        token = enter_context(ctx)
        try:
            try:
                if request is not None:
                    self.check_headers(request)
                response = run(ctx)
            except Exception as exc:  # PymError, Chalice's errors, anything from user code
                response = self.answer_error(exc)
            response.headers[CALL_ID_HEADER] = call_id
            if self.cors is not None:
                self.cors.decorate(request, response)
            metrics = getattr(self.service, "metrics", None)
            if metrics is not None or log.isEnabledFor(logging.INFO):
                log_request(ctx, response.status_code, metrics)
        finally:
            exit_context(token)
        return response


def _request_path(request: Any) -> str:
    if request is None:
        return ""
    context = getattr(request, "context", None) or {}
    return str(context.get("path") or getattr(request, "path", ""))


class _RouteTable:
    """The operations of one route by method, made at the route's first request (a cold start
    registers every route, and most are never called in a Lambda's life)."""

    __slots__ = ("table", "methods", "simple", "pick")

    def __init__(self, ops: List[BoundOperation], route: str) -> None:
        # route_candidates and path_templates: imported by the first request, not a cold start
        from .route_candidates import by_method, pick

        self.pick = pick
        self.table = by_method(ops, route)
        self.methods = set(self.table) | ({"HEAD"} if "GET" in self.table else set())
        # One template per method, named as the route: the parameters are the route's own.
        self.simple = all(len(c) == 1 and c[0].identity for c in self.table.values())


def _method_view(dispatcher: Dispatcher, app: Chalice, route: str,
                 ops: List[BoundOperation]) -> Callable[..., Response]:
    made: List[_RouteTable] = []

    def allowed(routes: _RouteTable, uri_params: Any) -> List[str]:
        found = {m for m, candidates in routes.table.items()
                 if routes.pick(candidates, uri_params)}
        return sorted(found | ({"HEAD"} if "GET" in found else set()))

    def run(ctx: CallContext) -> Response:
        if not made:
            made.append(_RouteTable(ops, route))
        routes = made[0]
        table, simple, pick = routes.table, routes.simple, routes.pick
        request = ctx.request
        method = request.method
        uri_params = request.uri_params
        if simple:
            candidates = table.get(method)
            picked = (candidates[0].op, uri_params) if candidates else None
        else:
            picked = pick(table.get(method), uri_params)
        head_as_get = picked is None and method == "HEAD"
        if head_as_get:
            picked = pick(table.get("GET"), uri_params)
        if picked is None:
            allow_list = sorted(routes.methods) if simple else allowed(routes, uri_params)
            if not allow_list:  # no template of this route matches the path
                raise errors.UnknownPathError(f"no operation serves {ctx.method} {ctx.path}")
            allow = ", ".join(allow_list)
            if dispatcher.cors is not None and dispatcher.cors.is_preflight(request):
                headers = dispatcher.cors.preflight(request, set(allow_list) | {"OPTIONS"})
                if headers is None:
                    raise errors.ForbiddenError("this origin is not allowed to call this API")
                return Response(body="", status_code=204, headers=dict(headers))
            raise errors.MethodNotAllowedError(
                f"method {method} is not allowed on {route}; allowed: {allow}",
                headers={"Allow": allow})
        op, own_params = picked
        if own_params is not uri_params:
            request.uri_params = own_params  # the operation's own names, what its readers read
        ctx.operation = op.id
        response: Response = op.call(request)
        if head_as_get:
            response.body = ""
        return response

    def view(**_path_params: Any) -> Response:
        # Path parameters are read from request.uri_params: Chalice does not pass hyphenated
        # or greedy ones as keyword arguments.
        return dispatcher.dispatch(app.current_request, run)

    view.__name__ = "pym_route_" + (underscore_runs(route).strip("_") or "root")
    view.pym_view = True  # type: ignore[attr-defined]  # lean_rest.py serves it
    return view


def _unknown_path_view(dispatcher: Dispatcher, app: Chalice, name: str
                       ) -> Callable[..., Response]:
    def run(ctx: CallContext) -> Response:
        raise errors.UnknownPathError(f"no operation serves {ctx.method} {ctx.path}")

    def view(**_: Any) -> Response:
        return dispatcher.dispatch(app.current_request, run)
    view.__name__ = name
    view.pym_view = True  # type: ignore[attr-defined]  # lean_rest.py serves it
    return view


def register_routes(app: Chalice, operations: Iterable[BoundOperation],
                    dispatcher: Optional[Dispatcher] = None, catch_all: bool = True) -> None:
    dispatcher = dispatcher or Dispatcher(app, debug=app.debug)
    by_path: Dict[str, List[BoundOperation]] = {}
    for op in operations:
        if op.route:  # "" : a duplicate or unroutable operation no path reaches
            by_path.setdefault(op.route, []).append(op)
    existing = set(app.routes)
    for route, ops in by_path.items():
        if route in existing:
            continue  # a route the user wrote by hand in app.py wins
        app.route(route, methods=ALL_METHODS, content_types=["*/*"])(
            _method_view(dispatcher, app, route, ops))
    if catch_all:
        register_catch_all(app, dispatcher, list(by_path) + list(existing))


def register_catch_all(app: Chalice, dispatcher: Dispatcher, routes: List[str]) -> None:
    """404 JSON for unknown paths; skipped where API Gateway would refuse the resource."""
    first_segments = {r.strip("/").split("/", 1)[0] for r in routes if r != "/"}
    if any(s.startswith("{") for s in first_segments):
        # API Gateway allows one variable segment per level: /{id} and /{proxy+} conflict.
        log.debug("no catch-all route: a route starts with a path parameter")
        return
    app.route(CATCH_ALL, methods=ALL_METHODS, content_types=["*/*"])(
        _unknown_path_view(dispatcher, app, "pym_unknown_path"))
    if "/" not in routes:
        app.route("/", methods=ALL_METHODS, content_types=["*/*"])(
            _unknown_path_view(dispatcher, app, "pym_unknown_root"))
