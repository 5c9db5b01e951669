"""The environment as the config loader reads it, with a repr that shows no value: a traceback
through the loader (pytest prints the arguments of the frame that raised, e.g. a ConfigError
for a missing variable) must not print the environment's secrets."""
from __future__ import annotations

from collections.abc import ItemsView, Iterator, Mapping  # typing's cost more as a base
from typing import Any


class HiddenValues(Mapping[str, str]):
    __slots__ = ("_environ",)

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def __getitem__(self, name: str) -> str:
        return self._environ[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._environ)

    def __len__(self) -> int:
        return len(self._environ)

    def __contains__(self, name: object) -> bool:
        return name in self._environ

    def get(self, name: str, default: Any = None) -> Any:
        return self._environ.get(name, default)

    def items(self) -> ItemsView[str, str]:
        return self._environ.items()

    def __repr__(self) -> str:
        return f"<environment: {len(self._environ)} variables, values hidden>"
