"""Outgoing parameters and bodies: checked against the target's spec, then serialised.

The inverse of the server side (runtime/params.py, runtime/body.py): Python values (models,
datetimes, lists) become JSON data, are validated with the same REQUEST-context validators a
pym-lambda server would use, then become a path, query pairs, headers and body bytes. Each
encoder is built once per operation at load.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import quote, urlencode

from ..runtime.compiled_types import CompiledBody, CompiledParameter, Schema
from ..runtime.jsontypes import schema_types
from ..runtime.media_types import is_json
from ..runtime.models import to_jsonable
from .errors import ClientRequestError

Check = Optional[Callable[[Any], Optional[str]]]
FORM_TYPE = "application/x-www-form-urlencoded"
_SEPARATORS = {"form": ",", "simple": ",", "spaceDelimited": " ", "pipeDelimited": "|",
               "tabDelimited": "\t"}


def quote_part(text: str) -> str:
    """Percent-encode everything but RFC 3986's unreserved characters."""
    return quote(text, safe="")


def quote_path_part(text: str) -> str:
    """quote_part, dots included: a value "." or ".." left as it is would be removed as a dot
    segment (RFC 3986 5.2.4, by requests/urllib3 or any proxy) and the call would reach
    another resource. "%2E" is decoded back to "." by the server, inside its segment."""
    return quote_part(text).replace(".", "%2E")


class OutgoingRequest:
    """What one call sends, before the transport adds the standard headers."""

    __slots__ = ("path", "query", "headers", "body")

    def __init__(self, path: str) -> None:
        self.path = path
        self.query: List[Tuple[str, str]] = []
        self.headers: Dict[str, str] = {}
        self.body: Optional[bytes] = None


def scalar_text(value: Any) -> str:
    """A JSON scalar as a parameter text: booleans as true/false, as servers parse them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 2 ** 53 else repr(value)
    return str(value)


def jsonable(value: Any, label: str) -> Any:
    try:
        return to_jsonable(value)
    except TypeError as exc:
        raise ClientRequestError(f"{label}: {exc}", field=label) from None


class ParamEncoder:
    """One declared parameter: validated, then written where it goes."""

    def __init__(self, param: CompiledParameter, deref: Callable[[Any], Any], check: Check) -> None:
        self.name: str = param["name"]
        self.location: str = param["in"]
        self.pyname: str = param["pyname"]
        self.required: bool = param["required"]
        self.label = f"{self.location} parameter '{self.name}'"
        self.style: str = param.get("style") or ("form" if self.location == "query" else "simple")
        self.explode: bool = bool(param.get("explode"))
        self.json_content = is_json(str(param.get("content_type") or ""))
        schema = deref(param["schema"]) or {}
        self.is_array = "array" in schema_types(schema)
        self.check = check

    def validated(self, value: Any) -> Any:
        data = jsonable(value, self.label)
        problem = self.check(data) if self.check is not None else None
        if problem:
            raise ClientRequestError(problem, field=self.label)
        return data

    def pairs(self, data: Any) -> List[Tuple[str, str]]:
        """(name, text) pairs for the query string (several for exploded arrays/objects)."""
        if self.json_content:
            return [(self.name, json.dumps(data, separators=(",", ":")))]
        if isinstance(data, list):
            texts = [scalar_text(v) for v in data]
            if self.explode and self.style == "form":
                return [(self.name, t) for t in texts]
            return [(self.name, _SEPARATORS.get(self.style, ",").join(texts))]
        if isinstance(data, dict):
            if self.explode and self.style == "form":
                return [(str(k), scalar_text(v)) for k, v in data.items()]
            return [(self.name, ",".join(f"{k},{scalar_text(v)}" for k, v in data.items()))]
        return [(self.name, scalar_text(data))]

    def text(self, data: Any, quote_with: Optional[Callable[[str], str]] = None) -> str:
        """One text for a path segment, header or cookie (simple style: comma-separated),
        each part passed through ``quote_with`` when given."""
        q = quote_with or (lambda s: s)
        if self.json_content:
            return q(json.dumps(data, separators=(",", ":")))
        if isinstance(data, list):
            return ",".join(q(scalar_text(v)) for v in data)
        if isinstance(data, dict):
            sep = "=" if self.explode else ","
            return ",".join(f"{q(str(k))}{sep}{q(scalar_text(v))}" for k, v in data.items())
        return q(scalar_text(data))


class BodyEncoder:
    """The body of one operation: JSON when the operation accepts it, else form-encoded."""

    def __init__(self, body: CompiledBody, checks: Dict[str, Check]) -> None:
        self.required: bool = bool(body.get("required"))
        self.form_fields: List[CompiledParameter] = list(body.get("form_fields") or [])
        content: Dict[str, Schema] = body.get("content") or {}
        json_types = [ct for ct in content if is_json(ct.lower())]
        form_types = [ct for ct in content if ct.lower().startswith(FORM_TYPE)]
        usable = json_types + form_types
        self.content_type: Optional[str] = usable[0] if usable else None
        self.declared = ", ".join(content) or "nothing"
        self.check = checks.get(self.content_type) if self.content_type else None

    def encode(self, value: Any) -> Tuple[str, bytes]:
        if self.content_type is None:
            raise ClientRequestError(f"clients send JSON or form bodies; this operation "
                                     f"takes {self.declared}", field="body")
        data = jsonable(value, "body")
        problem = self.check(data) if self.check is not None else None
        if problem:
            raise ClientRequestError(problem, field="body")
        if is_json(self.content_type.lower()):
            text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
            return self.content_type, text.encode("utf-8")
        if not isinstance(data, dict):
            raise ClientRequestError("a form body must be an object", field="body")
        pairs = [(str(k), scalar_text(x)) for k, v in data.items() if v is not None
                 for x in (v if isinstance(v, list) else [v])]
        return self.content_type, urlencode(pairs).encode("ascii")


class RequestEncoder:
    """Keyword arguments and body of one call -> an OutgoingRequest, or ClientRequestError."""

    def __init__(self, path: str, params: List[ParamEncoder], body: Optional[BodyEncoder]
                 ) -> None:
        self.path = path
        self.params = params
        self.body = body
        self.form_fields = {f["pyname"]: f["name"] for f in (body.form_fields if body else [])}
        self.accepted = sorted([p.pyname for p in params] + list(self.form_fields))

    def takes(self, pyname: str) -> bool:
        return pyname in self.accepted

    def encode(self, kwargs: Dict[str, Any], body: Any) -> OutgoingRequest:
        unknown = sorted(set(kwargs) - set(self.accepted))
        if unknown:
            raise ClientRequestError(f"unexpected argument(s) {', '.join(unknown)}; this "
                                     f"operation takes {', '.join(self.accepted) or 'none'}",
                                     field=unknown[0])
        out = OutgoingRequest(path=self.path)
        cookies = []
        for param in self.params:
            value = kwargs.get(param.pyname)
            if value is None:  # None means "not given": the server applies its default
                if param.required:
                    raise ClientRequestError(f"{param.label} is required", field=param.label)
                continue
            data = param.validated(value)
            if param.location == "path":
                out.path = out.path.replace("{" + param.name + "}",
                                            param.text(data, quote_path_part))
            elif param.location == "query":
                out.query.extend(param.pairs(data))
            elif param.location == "header":
                out.headers[param.name] = param.text(data)
            else:
                cookies.append(f"{param.name}={param.text(data, quote_part)}")
        if cookies:
            out.headers["Cookie"] = "; ".join(cookies)
        if self.form_fields:
            body = {name: kwargs[py] for py, name in self.form_fields.items()
                    if kwargs.get(py) is not None}
        self._encode_body(out, body)
        return out

    def _encode_body(self, out: OutgoingRequest, body: Any) -> None:
        if self.body is None:
            if body is not None:
                raise ClientRequestError("this operation takes no body", field="body")
            return
        if body is None or (self.form_fields and not body):
            if self.body.required:
                raise ClientRequestError("body is required", field="body")
            return
        content_type, out.body = self.body.encode(body)
        out.headers["Content-Type"] = content_type
