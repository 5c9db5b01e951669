"""The runtime's value records and typed dicts, and helpers for them.

A record is an immutable named tuple: the cheapest record to import and to make on a Lambda cold
start (no dataclasses, no inspect). Its defaults are shared by every instance, so a mapping
field's default is EMPTY_MAP, which nobody can mutate.

`Record` and `Shape` are `typing.NamedTuple` and `typing.TypedDict` to the type checker, which
checks every field as it would theirs. At run time they build the same classes without what
typing does with each annotation: with `from __future__ import annotations` every annotation
is a string, which typing turns into a ForwardRef (a `compile()` each, ~25 us: ~4 ms of a cold
start for the records and shapes it imports). Annotations stay the strings written, which
`typing.get_type_hints()` still resolves.
"""
from __future__ import annotations

import sys
from collections import namedtuple
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Dict, FrozenSet, Mapping, Optional

__all__ = ["EMPTY_MAP", "Record", "Shape", "field_annotation", "repr_hiding"]

EMPTY_MAP: Mapping[str, Any] = MappingProxyType({})

# What a record's class body may not define (typing.NamedTuple refuses the same).
_PROHIBITED = frozenset({"__new__", "__init__", "__slots__", "__getnewargs__", "_fields",
                         "_field_defaults", "_make", "_replace", "_asdict", "_source"})
_SPECIAL = frozenset({"__module__", "__name__", "__annotations__"})


class _RecordMeta(type):
    """Makes `class X(Record): ...` a collections.namedtuple class, as typing.NamedTuple does."""

    def __new__(mcs, typename: str, bases: Any, ns: Dict[str, Any]) -> Any:
        annotations: Dict[str, Any] = ns.get("__annotations__", {})
        defaults = []
        for name in annotations:
            if name in ns:
                defaults.append(ns[name])
            elif defaults:
                raise TypeError(f"{typename}: field {name} without a default follows one with")
        cls = namedtuple(typename, list(annotations), defaults=defaults,  # type: ignore[misc]
                         module=ns["__module__"])
        cls.__annotations__ = dict(annotations)
        for key, value in ns.items():
            if key in _PROHIBITED:
                raise AttributeError("Cannot overwrite NamedTuple attribute " + key)
            if key not in _SPECIAL and key not in cls._fields:
                setattr(cls, key, value)
        return cls


class _ShapeMeta(type):
    """Makes `class X(Shape): ...` a dict subclass keeping its annotations, as TypedDict is."""

    def __new__(mcs, name: str, bases: Any, ns: Dict[str, Any], total: bool = True) -> Any:
        ns = dict(ns)
        ns.setdefault("__annotations__", {})
        ns["__total__"] = total
        return type(name, (dict,), ns)


if TYPE_CHECKING:
    from typing import NamedTuple as Record
    from typing import TypedDict as Shape
else:
    Record = type.__new__(_RecordMeta, "Record", (), {})

    def Shape(typename: str, fields: Optional[Dict[str, Any]] = None, /, *,
              total: bool = True) -> type:
        """The functional form, for keys that are not identifiers (`"in"`)."""
        module = sys._getframe(1).f_globals.get("__name__", "__main__")
        return _ShapeMeta(typename, (), {"__annotations__": dict(fields or {}),
                                         "__module__": module}, total=total)

    _Shape = type.__new__(_ShapeMeta, "Shape", (), {})
    Shape.__mro_entries__ = lambda bases: (_Shape,)


def repr_hiding(record: Any, hidden: FrozenSet[str]) -> str:
    """``Name(field=value, ...)`` without the ``hidden`` fields (secrets stay out of logs)."""
    shown = ", ".join(f"{name}={value!r}" for name, value
                      in zip(record._fields, record, strict=True) if name not in hidden)
    return f"{type(record).__qualname__}({shown})"


def field_annotation(cls: Any, name: str) -> str:
    """A field's annotation as written (a Record keeps it a string; typing.NamedTuple would
    keep a string one as a ForwardRef)."""
    annotation = cls.__annotations__[name]
    return str(getattr(annotation, "__forward_arg__", annotation))
