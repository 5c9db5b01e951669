"""The JSON type(s) a schema declares: read by the runtime, so this module imports nothing."""
from __future__ import annotations

from typing import Any, List


def schema_types(schema: Any) -> List[str]:
    """The declared JSON type(s) of a schema, [] when it does not say."""
    if not isinstance(schema, dict):
        return []
    t = schema.get("type")
    if isinstance(t, str):
        return [t]
    if isinstance(t, list):
        return [x for x in t if isinstance(x, str)]
    return []


def is_nullable(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    if schema.get("nullable") is True:
        return True
    t = schema.get("type")
    return t == "null" or (isinstance(t, list) and "null" in t)
