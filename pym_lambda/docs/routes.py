"""The docs routes, registered by register_apis when `docs.enabled` (the default):

- GET <path>                 the HTML page (`?api=<name>` selects the API; the first by default)
- GET <path>/<api>.yaml      the spec as written in apis/ (`.json`: converted), as PyMacaron did
- GET <path>/static/<file>   the vendored ReDoc / Swagger UI files

They go through the same Dispatcher as operations: PymCallID, logs, CORS and the one JSON
error shape (an unknown API or file is a 404 UNKNOWN_PATH). A route that a spec or app.py
already has is left to them. Registering reads no file and imports only this module and
specs.py: cold starts pay next to nothing for the docs.
"""
from __future__ import annotations

import logging
import os
from typing import Any, Callable, Dict, Iterable, List, Optional, Union

from chalice.app import Chalice, Response

from .. import errors
from ..context import CallContext
from ..runtime.compiled_types import CompiledDocument
from ..runtime.cors import CorsPolicy
from ..runtime.router import ALL_METHODS, Dispatcher
from .specs import FORMATS, SpecTexts, served_apis

log = logging.getLogger("pym_lambda")

READ_METHODS = ("GET", "HEAD")


def register_docs(app: Chalice, project_dir: Union[str, os.PathLike[str]],
                  compiled: CompiledDocument, settings: Any,
                  dispatcher: Optional[Dispatcher] = None) -> List[str]:
    """Add the docs routes to `app` unless `settings.docs.enabled` is false; the routes added.
    `dispatcher`: the operations' one, else one with the same debug and CORS settings."""
    docs = settings.docs
    apis = served_apis(compiled)
    if not docs.enabled or not apis:
        return []
    texts = SpecTexts.from_compiled(project_dir, compiled)
    dispatcher = dispatcher or Dispatcher(app, debug=app.debug,
                                          cors=CorsPolicy.from_settings(settings.cors))
    service = settings.name or app.app_name
    page_base = docs.path.rsplit("/", 1)[-1] + "/"  # the docs folder, seen from <path>

    rendered: Dict[str, str] = {}

    def static_content(name: str) -> str:
        """The API's operations as HTML, for browsers without JavaScript; made once."""
        if name not in rendered:
            import json

            from .static_html import render_api

            text = texts.text(name, "json")
            api = next(a for a in apis if a["name"] == name)
            rendered[name] = "" if text is None else render_api(
                json.loads(text), [dict(op) for op in api["operations"]])
        return rendered[name]

    def page(ctx: CallContext) -> Response:
        from .page import ApiEntry, page_headers, render_page  # at the first request

        entries = [ApiEntry(api["name"], str(api.get("title") or ""),
                            str(api.get("version") or ""), texts.source_format(api["name"]))
                   for api in apis]
        query = ctx.request.query_params or {}
        by_name = {entry.name: entry for entry in entries}
        name = query.get("api") or entries[0].name
        if name not in by_name:
            raise errors.UnknownPathError(f"no API named {name!r} in the docs; "
                                          f"APIs: {', '.join(by_name)}")
        # API Gateway routes /doc/ as /doc; the browser resolves links from what it asked for.
        base = "" if ctx.path.endswith("/") else page_base
        body = render_page(service, entries, by_name[name], docs.ui, base,
                           content=static_content(name))
        return Response(body=body, status_code=200, headers=page_headers(docs.ui))

    def spec_file(ctx: CallContext) -> Response:
        file = ctx.request.uri_params.get("file", "")
        name, _, fmt = file.rpartition(".")
        text = texts.text(name, fmt)
        if text is None:
            known = ", ".join(f"{n}.yaml" for n in texts.names())
            raise errors.UnknownPathError(f"no spec {file!r} here; specs: {known}")
        return Response(body=text, status_code=200, headers={
            "Content-Type": FORMATS[fmt], "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff"})

    def static_file(ctx: CallContext) -> Response:
        from .assets import ASSETS, CACHE_FOREVER, read_asset  # at the first request

        file = ctx.request.uri_params.get("file", "")
        text = read_asset(file)
        if text is None:
            raise errors.UnknownPathError(f"no static file {file!r} in the docs")
        return Response(body=text, status_code=200, headers={
            "Content-Type": ASSETS[file].content_type, "Cache-Control": CACHE_FOREVER,
            "X-Content-Type-Options": "nosniff"})

    routes = {docs.path: page, f"{docs.path}/{{file}}": spec_file,
              f"{docs.path}/static/{{file}}": static_file}
    added = []
    for route, run in routes.items():
        if _clashes(route, app.routes):
            log.debug("docs: %s is left to the route already there", route)
            continue
        app.route(route, methods=ALL_METHODS, content_types=["*/*"])(
            _read_only_view(app, dispatcher, route, run))
        added.append(route)
    return added


def _read_only_view(app: Chalice, dispatcher: Dispatcher, route: str,
                    run: Callable[[CallContext], Response]) -> Callable[..., Response]:
    def guarded(ctx: CallContext) -> Response:
        method = ctx.request.method
        if method not in READ_METHODS:
            raise errors.MethodNotAllowedError(
                f"method {method} is not allowed on {route}; allowed: {', '.join(READ_METHODS)}",
                headers={"Allow": ", ".join(READ_METHODS)})
        ctx.operation = f"docs {route}"
        response = run(ctx)
        if method == "HEAD":
            response.body = ""
        return response

    def view(**_path_params: Any) -> Response:
        return dispatcher.dispatch(app.current_request, guarded)

    view.__name__ = "pym_docs_" + "".join(c if c.isalnum() else "_" for c in route).strip("_")
    return view


def _clashes(route: str, existing: Iterable[str]) -> bool:
    """True when API Gateway could not hold both: the same route, or two different path
    parameters at the same level under the same parent (/doc/{file} and /doc/{id}/x)."""
    mine = route.split("/")
    for other in existing:
        theirs = other.split("/")
        for a, b in zip(mine, theirs, strict=False):  # a parent and its child do not clash
            if a != b:
                if a.startswith("{") and b.startswith("{"):
                    return True
                break
        else:
            if len(mine) == len(theirs):
                return True
    return False
