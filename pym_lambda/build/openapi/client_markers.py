"""PyMacaron's client extensions, read from a spec document into its compiled api.

The compiler keeps none of these extensions itself (compiler.py calls add_client_markers on
each api); they become plain keys of the compiled form, which load_clients reads
(pym_lambda.clients.registry):

- ``api["bind_client"]``: root-level ``x-bind-client: <name>``: the spec describes a service
  this one calls, reachable as ``clients.<name>``;
- ``api["client_url"]``: the spec's own server origin (Swagger 2 ``schemes`` + ``host``,
  OpenAPI 3 the first absolute ``servers`` URL), used when the config gives no base URL;
- ``op["bind_client"]``: operation-level ``x-bind-client: <method>`` (PyMacaron's client
  method name): one more name for the operation;
- ``op["decorate_request"]``: ``x-decorate-request: <module.function>``, a decorator wrapping
  the function that sends the operation's request (see pym_lambda.clients.transport.SendFunction).
"""
from __future__ import annotations

from typing import Any, Dict, Optional
from urllib.parse import urlsplit

from ...errors import SpecError
from ...runtime.compiled_types import CompiledApi, CompiledOperation
from .loader import resolve_pointer


def spec_origin(doc: Dict[str, Any]) -> Optional[str]:
    """'https://host[:port]' from the spec itself, or None when it names no host."""
    if "swagger" in doc:
        host = doc.get("host")
        if not isinstance(host, str) or not host:
            return None
        schemes = [s for s in doc.get("schemes") or [] if s in ("http", "https")]
        scheme = "https" if "https" in schemes or not schemes else "http"
        return f"{scheme}://{host}"
    for server in doc.get("servers") or []:
        if not isinstance(server, dict):
            continue
        url = str(server.get("url", ""))
        for name, var in (server.get("variables") or {}).items():
            if isinstance(var, dict):
                url = url.replace("{" + name + "}", str(var.get("default", "")))
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.netloc:
            return f"{parts.scheme}://{parts.netloc}"
    return None


def _operation_doc(doc: Dict[str, Any], op: CompiledOperation) -> Dict[str, Any]:
    item = (doc.get("paths") or {}).get(op.get("spec_path", ""))
    if isinstance(item, dict) and isinstance(item.get("$ref"), str):
        try:
            item = resolve_pointer(doc, item["$ref"])
        except KeyError:
            return {}
    found = item.get(op["method"].lower()) if isinstance(item, dict) else None
    return found if isinstance(found, dict) else {}


def add_client_markers(api: CompiledApi, doc: Dict[str, Any]) -> CompiledApi:
    """Copy the client extensions of a spec document onto its compiled api (in place)."""
    bind = doc.get("x-bind-client")
    if bind is not None:
        if not isinstance(bind, str) or not bind.isidentifier():
            raise SpecError(f"x-bind-client {bind!r} must be a Python identifier (the "
                            f"client's name)", spec_file=api.get("file", ""))
        api["bind_client"] = bind
    origin = spec_origin(doc)
    if origin:
        api["client_url"] = origin
    for op in api["operations"]:
        raw = _operation_doc(doc, op)
        if isinstance(raw.get("x-bind-client"), str):
            op["bind_client"] = raw["x-bind-client"]
        if raw.get("x-decorate-request"):
            op["decorate_request"] = raw["x-decorate-request"]
    return api
