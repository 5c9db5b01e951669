"""An `enum` listing one value twice: OpenAPI says its values SHOULD be unique (JSON Schema
draft 4 says MUST, and the meta-schema checks it), yet openapi-spec-validator accepts such a
spec and real ones have it (Stripe: one enum holds a date 98 times). A repeat changes nothing
an enum accepts, so it is dropped, with a warning naming the place, instead of refusing the
spec."""
from __future__ import annotations

import json
from typing import Any, List

from .spec_walk import schema_objects


def _key(value: Any) -> str:
    # JSON equality: 1 and 1.0 are one value, true and 1 are two (Python's == disagrees)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return json.dumps(value, sort_keys=True)


def drop_repeated_enum_values(doc: Any) -> List[str]:
    """Remove repeated values from every `enum` of the document, in place; one warning per
    enum changed, naming its JSON pointer."""
    warnings: List[str] = []
    for pointer, node in schema_objects(doc):
        values = node.get("enum")
        if not isinstance(values, list) or len(values) < 2:
            continue
        seen: dict = {}
        for value in values:
            seen.setdefault(_key(value), value)
        if len(seen) == len(values):
            continue
        node["enum"] = list(seen.values())
        warnings.append(f"{pointer}/enum: {len(values) - len(seen)} repeated value(s) "
                        f"ignored (OpenAPI: enum values SHOULD be unique)")
    return warnings
