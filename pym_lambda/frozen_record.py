"""Record: a frozen dataclass without the dataclass decorator's cost at import.

On Python 3.11 @dataclass compiles six methods per class (~0.8 ms a class), and importing
dataclasses imports inspect (~4 ms): paid at every cold start. A Record subclass declares its
fields the same way (annotated class attributes, the value the default; a field without one
must be given) and behaves as a frozen dataclass: construction by keyword or position,
``==``, ``hash()``, a repr (leaving out the ``_hidden`` fields), FrozenInstanceError on
assignment; dataclasses.replace(), fields(), asdict() and is_dataclass() work on it (they
import dataclasses: ``record._replace(**changes)`` is the cheap replace()).
"""
from __future__ import annotations

import sys
from typing import Any, ClassVar, Dict, FrozenSet, Tuple, TypeVar

if sys.version_info >= (3, 11):
    from typing import dataclass_transform  # so that type checkers see frozen dataclasses
else:
    def dataclass_transform(**_: Any) -> Any:
        return lambda cls: cls

_REQUIRED: Any = object()  # the default of a field that has none
_R = TypeVar("_R", bound="Record")


class _DataclassFields:
    """``__dataclass_fields__``, made on first use from a dataclass twin: the dataclasses
    functions work on records without importing dataclasses at start-up."""

    def __get__(self, instance: Any, owner: Any) -> Dict[str, Any]:
        import dataclasses

        specs = []
        for name, default in owner._defaults.items():
            shown = name not in owner._hidden
            if default is _REQUIRED:
                spec = dataclasses.field(repr=shown)
            elif _is_mutable(default):
                spec = dataclasses.field(default_factory=type(default), repr=shown)
            else:
                spec = dataclasses.field(default=default, repr=shown)
            specs.append((name, owner._types[name], spec))
        twin: Any = dataclasses.make_dataclass(owner.__name__, specs, frozen=True)
        owner.__dataclass_fields__ = twin.__dataclass_fields__  # once per class
        return owner.__dataclass_fields__  # type: ignore[no-any-return]


def _is_mutable(default: Any) -> bool:
    # Made anew for each instance (a dataclass default_factory): empty dicts and records.
    return isinstance(default, (dict, Record))


@dataclass_transform(frozen_default=True)
class Record:
    """A frozen record: its fields are the annotated class attributes, the values their
    defaults (a field without one must be given)."""

    # Field name -> its annotation (a string, never evaluated) and -> its default, in
    # declaration order, inherited fields first (as dataclasses order them).
    _types: ClassVar[Dict[str, str]] = {}
    _defaults: ClassVar[Dict[str, Any]] = {}
    _hidden: ClassVar[FrozenSet[str]] = frozenset()  # fields left out of the repr (secrets)
    __dataclass_fields__: ClassVar[Any] = _DataclassFields()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = {name: annotation for name, annotation
               in cls.__dict__.get("__annotations__", {}).items() if not name.startswith("_")}
        cls._types = {**cls._types, **own}
        cls._defaults = {**cls._defaults,
                         **{name: cls.__dict__.get(name, _REQUIRED) for name in own}}
        setattr(cls, "__match_args__", tuple(cls._defaults))  # positional `case` patterns

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls = type(self)
        names = list(cls._defaults)
        if len(args) > len(names):
            raise TypeError(f"{cls.__name__}() takes {len(names)} arguments, "
                            f"{len(args)} were given")
        values = dict(zip(names, args, strict=False))  # fewer args than fields: the rest default
        for name, value in kwargs.items():
            if name not in cls._defaults:
                raise TypeError(f"{cls.__name__}() got an unexpected keyword argument {name!r}")
            if name in values:
                raise TypeError(f"{cls.__name__}() got multiple values for argument {name!r}")
            values[name] = value
        for name, default in cls._defaults.items():
            if name in values:
                continue
            if default is _REQUIRED:
                raise TypeError(f"{cls.__name__}() missing required argument {name!r}")
            values[name] = type(default)() if _is_mutable(default) else default
        self.__dict__.update(values)

    def _replace(self: _R, **changes: Any) -> _R:
        """A copy with ``changes``: dataclasses.replace() without importing dataclasses."""
        return type(self)(**{**self.__dict__, **changes})

    def _values(self) -> Tuple[Any, ...]:
        return tuple(self.__dict__[name] for name in self._defaults)

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={self.__dict__[name]!r}" for name in self._defaults
                          if name not in self._hidden)
        return f"{type(self).__qualname__}({shown})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __setattr__(self, name: str, value: Any) -> None:
        from dataclasses import FrozenInstanceError  # only on this error path

        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot delete field {name!r}")
