"""JSON Schema equality as a hashable key, so that uniqueItems is one pass over a set.

Comparing every pair (jsonschema._utils.uniq, when items do not sort: objects) is quadratic:
8,000 small objects took over a minute. Two values are equal in JSON Schema exactly when
their keys are equal: 1 and 1.0 are one number, true is not 1, objects compare whatever their
key order, arrays in order. NaN (never in JSON) stays itself, so it equals only itself, as in
jsonschema._utils.equal.

Used by the fastcheck checkers and by the reference validator's uniqueItems keyword
(pym_lambda/runtime/schema_validator.py). Standard library only and no relative imports:
generate_module pastes this file into every generated module, ahead of helpers.py.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Iterable

_TRUE_KEY, _FALSE_KEY = object(), object()  # true and false, never equal to 1 and 0
_ARRAY, _OBJECT = "[", "{"  # tags: no str, number or null is a tuple
_PLAIN = (str, int, float, type(None))  # their own key (bool is handled before)


def _canonical(value: Any) -> Any:
    """A hashable key, equal for two values exactly when JSON Schema calls them equal.
    TypeError for a value that is neither JSON nor hashable."""
    kind = value.__class__
    if kind is bool:
        return _TRUE_KEY if value else _FALSE_KEY
    if kind in _PLAIN:
        return value
    if isinstance(value, Mapping):
        return (_OBJECT, frozenset((k, _canonical(v)) for k, v in value.items()))
    if isinstance(value, Sequence) and not isinstance(value, str):
        return (_ARRAY, tuple(_canonical(each) for each in value))
    hash(value)  # another Number, say: its own key, when hashable
    return value


def _all_unique(items: Iterable[Any]) -> bool:
    """Whether no two items are equal (uniqueItems), in time linear in the items' size."""
    seen = set()
    for item in items:
        key = _canonical(item)
        if key in seen:
            return False
        seen.add(key)
    return True
