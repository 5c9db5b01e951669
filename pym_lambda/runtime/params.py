"""Path, query, header and cookie parameters: read from the request, coerced, validated.

A reader is built once per parameter; at request time it costs a dict lookup, a coercion and,
where the schema constrains anything, one validator call.
"""
from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

from chalice.app import MultiDict

from ..context import cookies, request_header
from ..errors import InvalidParameterError
from ..quoting import quote
from .compiled_types import CompiledParameter
from .jsontypes import schema_types
from .models import _identity
from .numeric_text import MAX_NUMBER_CHARS, is_integer_text, is_number_text

if TYPE_CHECKING:
    from .schema_validator import Explainer

_SEPARATORS = {"form": ",", "simple": ",", "spaceDelimited": " ", "pipeDelimited": "|",
               "tabDelimited": "\t"}
_TRUE = ("true", "1")
_FALSE = ("false", "0")
_MISSING = object()


class CoercionError(ValueError):
    pass


def coerce_scalar(raw: str, types: List[str]) -> Any:
    """A text value -> the declared JSON type; CoercionError when it isn't one."""
    if not types or "string" in types:
        return raw
    if ("integer" in types or "number" in types) and len(raw) > MAX_NUMBER_CHARS:
        raise CoercionError(f"{quote(raw, 20)} has more than {MAX_NUMBER_CHARS} characters")
    try:
        if "integer" in types and is_integer_text(raw):
            return int(raw)
        if "number" in types and is_number_text(raw):
            value = float(raw)
            if math.isfinite(value):
                return int(raw) if is_integer_text(raw) else value
    except ValueError:  # the process lowered Python's int digits limit below ours
        raise CoercionError(f"{quote(raw, 20)} has too many digits") from None
    if "boolean" in types and raw.lower() in _TRUE + _FALSE:
        return raw.lower() in _TRUE
    if "null" in types and raw in ("", "null"):
        return None
    names = " or ".join("an integer" if t == "integer" else f"a {t}" for t in types)
    raise CoercionError(f"{quote(raw)} is not {names}")


class ParamReader:
    """Reads one declared parameter into the keyword arguments of the bound function."""

    def __init__(self, param: CompiledParameter, deref: Callable[[Any], Any],
                 check: Optional[Callable[[Any], Optional[str]]],
                 convert: Callable[[Any], Any], explain: Optional[Explainer] = None) -> None:
        self.name: str = param["name"]
        self.location: str = param["in"]
        self.pyname: str = param["pyname"]
        self.required: bool = param["required"]
        schema = deref(param["schema"]) or {}
        self.label = f"{self.location} parameter '{self.name}'"
        self.default = schema.get("default", _MISSING) if isinstance(schema, dict) else _MISSING
        self.types = schema_types(schema)
        self.is_array = "array" in self.types
        self.item_types = schema_types(deref(schema.get("items"))) if self.is_array else []
        self.separator = _SEPARATORS.get(param["style"], ",")
        self.json_content = bool(param.get("content_type")) and \
            "json" in str(param.get("content_type"))
        # A `content:` parameter is one serialised value whatever its schema: style and explode
        # do not apply (OpenAPI 3), so a repeated one is read as any other, its last value.
        self.multi = self.is_array and param["explode"] and not self.json_content and \
            self.location in ("query", "cookie")
        self.check = check
        self.convert = convert
        self.explain = explain  # every problem, when the check fails
        # Decided here, once, not at each request: where the text is read, whether it needs
        # coercing (a string is taken as it is) and converting (most values are kept).
        self._raw: Callable[[Any], Any] = {
            "path": self._path, "query": self._query, "header": self._header,
        }.get(self.location, self._cookie)
        self.as_is = not (self.json_content or self.is_array) and (
            not self.types or "string" in self.types)  # what coerce_scalar gives back
        self._convert = None if convert is _identity else convert

    def invalid(self, message: str, rule: str) -> InvalidParameterError:
        return InvalidParameterError(message, problems=[
            {"field": self.label, "rule": rule, "message": message}])

    def _path(self, request: Any) -> Any:
        return (request.uri_params or {}).get(self.name, _MISSING)

    def _query(self, request: Any) -> Any:
        params = request.query_params
        if not params:
            return _MISSING
        if type(params) is MultiDict:  # Chalice's: its dict of lists read directly, as
            values = params._dict.get(self.name)  # `in` and getlist() read it, 2 calls less
            if not values:
                return _MISSING
            return list(values) if self.multi else values[-1]
        if self.name not in params:
            return _MISSING
        values = params.getlist(self.name)
        return values if self.multi else values[-1]

    def _header(self, request: Any) -> Any:
        value = request_header(request, self.name)
        return _MISSING if value is None else value

    def _cookie(self, request: Any) -> Any:
        return _cookies(request).get(self.name, _MISSING)

    def read(self, request: Any, kwargs: Dict[str, Any]) -> None:
        raw = self._raw(request)
        convert = self._convert
        if raw is _MISSING:
            if self.default is not _MISSING:
                kwargs[self.pyname] = self.default if convert is None else convert(self.default)
            elif self.required:
                raise self.invalid(f"{self.label} is required", "required")
            return
        if self.as_is:
            value = raw
        else:
            try:
                value = self.coerce(raw)
            except CoercionError as exc:
                raise self.invalid(f"{self.label}: {exc}", "type") from None
        if self.check is not None:
            problem = self.check(value)
            if problem:
                listed = self.explain.listed(value, problem) if self.explain else None
                raise InvalidParameterError(problem, problems=listed)
        kwargs[self.pyname] = value if convert is None else convert(value)

    def coerce(self, raw: Any) -> Any:
        if self.json_content:
            try:
                return json.loads(raw)
            except (ValueError, RecursionError):  # RecursionError: nested deeper than ~1000
                raise CoercionError(f"{quote(raw)} is not valid JSON") from None
        if self.is_array:
            parts = raw if isinstance(raw, list) else (raw.split(self.separator) if raw else [])
            if isinstance(raw, list) and len(raw) == 1 and self.separator in raw[0] \
                    and not self.multi:
                parts = raw[0].split(self.separator)
            return [coerce_scalar(p, self.item_types) for p in parts]
        return coerce_scalar(raw, self.types)


def _cookies(request: Any) -> Dict[str, str]:
    return cookies(request_header(request, "cookie"))
