"""The runtime's value records and typed dicts, and helpers for them.

A record is an immutable named tuple: the cheapest record to import and to make on a Lambda cold
start (no dataclasses, no inspect). Its class is built without collections.namedtuple, which
defines five methods and compiles a __new__ for every class (~70 us each): the methods are
written once (_RecordBase), the __new__ is record_new's constructor of its arity, renamed.
Its defaults are shared by every instance, so a mapping field's default is EMPTY_MAP, which
nobody can mutate.

`Record` and `Shape` are `typing.NamedTuple` and `typing.TypedDict` to the type checker, which
checks every field as it would theirs. At run time they build the same classes without what
typing does with each annotation: with `from __future__ import annotations` every annotation
is a string, which typing turns into a ForwardRef (a `compile()` each, ~25 us: ~4 ms of a cold
start for the records and shapes it imports). Annotations stay the strings written, which
`typing.get_type_hints()` still resolves.
"""
from __future__ import annotations

import sys
from types import FunctionType, MappingProxyType
from typing import TYPE_CHECKING, Any, Dict, FrozenSet, Mapping, Optional, Tuple

try:  # CPython's C field accessor, which namedtuple uses
    from _collections import _tuplegetter
except ImportError:  # pragma: no cover - other interpreters
    from operator import itemgetter

    def _tuplegetter(index: int, doc: str) -> Any:
        return property(itemgetter(index), doc=doc)

__all__ = ["EMPTY_MAP", "Record", "Shape", "field_annotation", "repr_hiding"]

EMPTY_MAP: Mapping[str, Any] = MappingProxyType({})

# What a record's class body may not define (typing.NamedTuple refuses the same).
_PROHIBITED = frozenset({"__new__", "__init__", "__slots__", "__getnewargs__", "_fields",
                         "_field_defaults", "_make", "_replace", "_asdict", "_source"})
_SPECIAL = frozenset({"__module__", "__name__", "__annotations__"})


class _RecordBase(tuple):  # type: ignore[type-arg]
    """What collections.namedtuple defines anew in every class it makes, written once here."""

    __slots__ = ()
    _fields: Tuple[str, ...] = ()

    @classmethod
    def _make(cls, iterable: Any) -> Any:
        result = tuple.__new__(cls, iterable)
        if len(result) != len(cls._fields):
            raise TypeError(f"Expected {len(cls._fields)} arguments, got {len(result)}")
        return result

    def _replace(self, /, **kwds: Any) -> Any:
        result = self._make(map(kwds.pop, self._fields, self))
        if kwds:
            raise ValueError(f"Got unexpected field names: {list(kwds)!r}")
        return result

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}"
                          for name, value in zip(self._fields, self, strict=True))
        return f"{self.__class__.__name__}({shown})"

    def _asdict(self) -> Dict[str, Any]:
        return dict(zip(self._fields, self, strict=True))

    def __getnewargs__(self) -> Tuple[Any, ...]:
        return tuple(self)


def _constructor(typename: str, fields: Tuple[str, ...], defaults: Tuple[Any, ...]) -> Any:
    """``__new__(_cls, <fields>)``: record_new's function of that arity, its parameters renamed
    (no compile()); beyond its arities, compiled as namedtuple does."""
    from . import record_new

    if len(fields) <= record_new.MAX_FIELDS:
        template = record_new.BY_ARITY[len(fields)]
        code = template.__code__.replace(co_varnames=("_cls", *fields), co_name="__new__")
        if sys.version_info >= (3, 11):
            code = code.replace(co_qualname=f"{typename}.__new__")
        new = FunctionType(code, template.__globals__, "__new__", defaults or None)
    else:
        params = ", ".join(fields)
        new = eval(f"lambda _cls, {params}: _tuple_new(_cls, ({params},))",  # noqa: S307
                   {"_tuple_new": tuple.__new__})
        new.__defaults__ = defaults or None
    new.__qualname__ = f"{typename}.__new__"
    return new


class _RecordMeta(type):
    """Makes `class X(Record): ...` a named tuple class, as typing.NamedTuple does, without
    collections.namedtuple: its methods are _RecordBase's, its __new__ is not compiled."""

    def __new__(mcs, typename: str, bases: Any, ns: Dict[str, Any]) -> Any:
        annotations: Dict[str, Any] = ns.get("__annotations__", {})
        fields = tuple(annotations)
        defaults = []
        for name in fields:
            if name in ns:
                defaults.append(ns[name])
            elif defaults:
                raise TypeError(f"{typename}: field {name} without a default follows one with")
        for key in ns:
            if key in _PROHIBITED:
                raise AttributeError("Cannot overwrite NamedTuple attribute " + key)
        body = {key: value for key, value in ns.items()
                if key not in _SPECIAL and key not in annotations}
        body.update(
            __slots__=(), __module__=ns["__module__"], __annotations__=dict(annotations),
            __doc__=ns.get("__doc__") or f"{typename}({', '.join(fields)})",
            _fields=fields, __match_args__=fields,
            _field_defaults=dict(zip(fields[len(fields) - len(defaults):], defaults, strict=True)),
            __new__=_constructor(typename, fields, tuple(defaults)))
        for index, name in enumerate(fields):
            body[name] = _tuplegetter(index, f"Alias for field number {index}")
        return type.__new__(type, typename, (_RecordBase,), body)


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
