"""Helpers for the runtime's value records, which are ``typing.NamedTuple`` classes.

A NamedTuple is the cheapest immutable record to import and to make on a Lambda cold start (no
dataclasses, no inspect). Its defaults are shared by every instance, so a mapping field's
default is EMPTY_MAP, which nobody can mutate.
"""
from __future__ import annotations

from types import MappingProxyType
from typing import Any, FrozenSet, Mapping

EMPTY_MAP: Mapping[str, Any] = MappingProxyType({})


def repr_hiding(record: Any, hidden: FrozenSet[str]) -> str:
    """``Name(field=value, ...)`` without the ``hidden`` fields (secrets stay out of logs)."""
    shown = ", ".join(f"{name}={value!r}" for name, value
                      in zip(record._fields, record, strict=True) if name not in hidden)
    return f"{type(record).__qualname__}({shown})"


def field_annotation(cls: Any, name: str) -> str:
    """A field's annotation as written (NamedTuple keeps a string one as a ForwardRef)."""
    annotation = cls.__annotations__[name]
    return str(getattr(annotation, "__forward_arg__", annotation))
