"""Every schema-like mapping of a spec, with its JSON pointer: what the load-time checks of
patterns (patterns.py) and enums (enums.py) look at."""
from __future__ import annotations

from typing import Any, Dict, Iterator, Tuple

from .loader import escape_pointer_token

# Values that are data, not schemas: an example's "pattern" key is no regex.
DATA_KEYS = frozenset(("example", "examples", "default", "enum", "const"))
# Maps from a name to a schema: their keys are names ("pattern" may be a property's name).
NAME_MAPS = frozenset(("properties", "patternProperties", "definitions", "$defs",
                       "dependentSchemas", "schemas"))


def schema_objects(node: Any, pointer: str = "#", names: bool = False
                   ) -> Iterator[Tuple[str, Dict[str, Any]]]:
    """(JSON pointer, mapping) for each mapping of the document whose keys are keywords, not
    names, and that is not data (an example, a default, an `x-` extension)."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from schema_objects(item, f"{pointer}/{index}")
        return
    if not isinstance(node, dict):
        return
    if not names:
        yield pointer, node
    for key, value in node.items():
        key = str(key)
        if not names and (key in DATA_KEYS or key.startswith("x-")):
            continue
        yield from schema_objects(value, f"{pointer}/{escape_pointer_token(key)}",
                                  names=not names and key in NAME_MAPS)
