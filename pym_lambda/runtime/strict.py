"""Strict mode (limits.strict): query parameters and body fields the spec does not declare are
refused with a 400 naming them, instead of being ignored as PyMacaron did."""
from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, Optional

from ..errors import InvalidParameterError


def check_query(request: Any, declared: Iterable[str]) -> None:
    params = request.query_params or {}
    unknown = sorted(set(params) - set(declared))
    if unknown:
        raise InvalidParameterError(
            f"unknown query parameter(s): {', '.join(repr(u) for u in unknown)}")


def unknown_field(value: Any, schema: Any, deref: Callable[[Any], Any],
                  properties: Callable[[Any], Dict[str, Any]], path: str = "body",
                  depth: int = 0) -> Optional[str]:
    """The path of the first body field no schema declares, or None."""
    schema = deref(schema)
    if not isinstance(schema, dict) or depth > 64:
        return None
    if isinstance(value, dict):
        if any(k in schema for k in ("oneOf", "anyOf", "additionalProperties",
                                     "patternProperties")):
            return None  # the schema itself says what may appear
        props = properties(schema)
        if not props:
            return None
        for key, item in value.items():
            if key not in props:
                return f"{path}.{key}"
            found = unknown_field(item, props[key], deref, properties, f"{path}.{key}", depth + 1)
            if found:
                return found
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            found = unknown_field(item, schema["items"], deref, properties, f"{path}[{index}]",
                                  depth + 1)
            if found:
                return found
    return None


def body_checker(schema: Any, deref: Callable[[Any], Any],
                 properties: Callable[[Any], Dict[str, Any]]) -> Callable[[Any], Optional[str]]:
    def check(value: Any) -> Optional[str]:
        found = unknown_field(value, schema, deref, properties)
        return f"{found}: unknown field (strict mode)" if found else None
    return check
