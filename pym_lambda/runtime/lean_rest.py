"""Chalice's REST proxy handling for the framework's own routes, without redeciding per request
what is fixed for the app.

For each request, Chalice's `RestAPIEventHandler` builds a middleware chain, and matches the
request's Accept header and the response's Content-Type against the app's binary types three
times (each match lower-cases the ~20 types again and splits the header with a pattern): a
third of a small request's cost. For a route registered by `router.register_routes` (a view
marked `pym_view`, no route CORS, `*/*` content types) in an app without HTTP middleware,
`LeanRestHandler` runs Chalice's own `_main_rest_api_handler` (routing, path arguments, the
view's errors, header checks) and writes the response dict as `Response.to_dict` does, with the
binary-type answer of each content type kept per app (`BinaryTypes`): the same dict, byte for
byte (tests/runtime/test_lean_rest.py sends the same events both ways). Any other event, route
or app takes Chalice's own path.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from chalice.app import (
    CaseInsensitiveMapping,
    Chalice,
    Request,
    Response,
    RestAPIEventHandler,
    RouteEntry,
    _matches_content_type,
)

# Distinct Accept headers and content types remembered per app: a client choosing a new
# Accept header for every request only makes the memo start again.
MEMO_SIZE = 256


class BinaryTypes:
    """`_matches_content_type(text, app.api.binary_types)`, remembered per text while the
    app's list of binary types is unchanged (it is a list anyone may edit)."""

    __slots__ = ("api", "seen", "answers")

    def __init__(self, api: Any) -> None:
        self.api = api
        self.seen: List[str] = list(api.binary_types)
        self.answers: Dict[str, bool] = {}

    def matches(self, content_type: str) -> bool:
        answers = self.answers
        found = answers.get(content_type)
        if found is None or self.api.binary_types != self.seen:
            types = self.api.binary_types
            if types != self.seen or len(answers) >= MEMO_SIZE:
                self.seen = list(types)
                answers.clear()
            found = answers[content_type] = _matches_content_type(content_type, types)
        return found


def own_route(app: Chalice, event: Any) -> Optional[RouteEntry]:
    """The route entry serving this REST proxy event when it is one of the framework's views
    and Chalice would do nothing else than call it, else None (Chalice's own path)."""
    if type(event) is not dict or app.middleware_handlers:
        return None
    context = event.get("requestContext")
    if type(context) is not dict:
        return None
    methods = app.routes.get(context.get("resourcePath"))  # type: ignore[arg-type]
    entry = methods.get(context.get("httpMethod")) if methods else None  # type: ignore[arg-type]
    if (entry is None or entry.cors is not None or "*/*" not in entry.content_types
            or not getattr(entry.view_function, "pym_view", False)):
        return None
    view_args = entry.view_args
    if view_args:  # Chalice's 500 for a missing one is its own path's
        params = event.get("pathParameters")
        if type(params) is not dict:
            return None
        for name in view_args:  # a loop: any() of a generator costs more for one or two
            if name not in params:
                return None
    return entry


class LeanRestHandler(RestAPIEventHandler):
    """Chalice's REST handler for one request to a route `own_route` accepted."""

    def __init__(self, app: Chalice, binary: BinaryTypes) -> None:
        super().__init__(app.routes, app.api, app.log, app.debug)
        self.binary = binary

    def __call__(self, event: Any, context: Any) -> Any:
        try:  # the chain Chalice builds is its global error handler alone: no middleware
            response = self._main_rest_api_handler(event, context)
        except Exception:
            response = self._unhandled_exception_to_response()
        return self.response_dict(response)

    def _validate_binary_response(self, request_headers: CaseInsensitiveMapping,
                                  response_headers: CaseInsensitiveMapping) -> bool:
        accept = request_headers.get("accept")
        if not self.binary.matches(response_headers.get("content-type", "application/json")):
            return True
        return accept is not None and self.binary.matches(accept)

    def response_dict(self, response: Response) -> Dict[str, Any]:
        """`response.to_dict(app.api.binary_types)`, the binary-type match remembered."""
        body = response.body
        if not isinstance(body, (str, bytes)):
            return response.to_dict(self.api.binary_types)  # Chalice serialises it
        single: Dict[str, Any] = {}
        multi: Dict[str, Any] = {}
        content_type = ""
        for name, value in response.headers.items():
            if isinstance(value, list):
                multi[name] = value
            else:
                single[name] = value
                if name.lower() == "content-type":
                    content_type = value
        out = {"headers": single, "multiValueHeaders": multi,
               "statusCode": response.status_code, "body": body}
        if self.binary.matches(content_type):
            return response.to_dict(self.api.binary_types)  # base64: Chalice's own
        return out


def serve(app: Chalice, event: Dict[str, Any], context: Any) -> Any:
    """What `Chalice.__call__` returns for an event `own_route` accepted."""
    binary = app.__dict__.get("_pym_binary")
    if binary is None:
        binary = app._pym_binary = BinaryTypes(app.api)  # type: ignore[attr-defined]
    app.lambda_context = context
    handler = LeanRestHandler(app, binary)
    request = handler.current_request = Request(event, context)
    app.current_request = request
    return handler(event, context)
