"""The small readers every settings source shares: one truth set for flags, one deep-merge.

pym-config.yaml, ``PYM_*`` variables and the task settings read "yes"/"on"/"1" alike, and every
layered document (settings layers, a stage over the deploy document) merges the same way.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Optional

TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off")


def parse_flag(text: str) -> Optional[bool]:
    """True or False for one of the flag words (any case, spaces around), else None."""
    lowered = text.strip().lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    return None


def env_flag(value: Optional[str], default: bool, name: str) -> bool:
    """An environment variable read as a flag: unset or blank gives `default`."""
    if value is None or value.strip() == "":
        return default
    flag = parse_flag(value)
    if flag is None:
        raise ValueError(f"{name}={value!r}: expected one of 1/0, true/false, yes/no, on/off")
    return flag


def _never(_value: Any) -> bool:
    return False


def deep_merge(low: Mapping[str, Any], high: Mapping[str, Any],
               is_leaf: Callable[[Any], bool] = _never) -> Dict[str, Any]:
    """`high` over `low`, mappings merged key by key; a mapping `is_leaf` accepts (on either
    side) replaces the other whole."""
    merged = dict(low)
    for key, value in high.items():
        current = merged.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping) and not (
                is_leaf(value) or is_leaf(current)):
            value = deep_merge(current, value, is_leaf)
        merged[key] = value
    return merged
