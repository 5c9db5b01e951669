"""The problem list: what a validation found, bounded in count and in the text it quotes."""
from __future__ import annotations

from typing import Any, List, NamedTuple, Set, Tuple, Union

Path = Tuple[Union[str, int], ...]


class Problem(NamedTuple):
    """One problem: where in the value (keys and indices), the keyword, a readable message."""

    path: Path
    rule: str
    message: str

    def field(self, prefix: str = "") -> str:
        """The path as the error JSON names a field: body.books[2].title."""
        out = prefix
        for part in self.path:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
        return out


class Full(Exception):
    """The sink holds as many problems as asked for: stop evaluating (the fast path's exit)."""


class Sink:
    """Where the problems of one evaluation go; raises Full at its limit."""

    __slots__ = ("problems", "limit", "_seen")

    def __init__(self, limit: int) -> None:
        self.problems: List[Problem] = []
        self.limit = limit
        self._seen: Set[Problem] = set()

    def add(self, path: Path, rule: str, message: str) -> None:
        problem = Problem(path, rule, message)
        if problem in self._seen:  # a schema reached twice (allOf + discriminator) says it once
            return
        self._seen.add(problem)
        self.problems.append(problem)
        if len(self.problems) >= self.limit:
            raise Full


def _position(value: Any, path: Path) -> Tuple[int, ...]:
    # where the path sits in the value, in the order a reader meets it (missing keys last)
    out = []
    for part in path:
        if isinstance(value, dict):
            keys = list(value)
            index = keys.index(part) if part in value else len(keys)
            out.append(index)
            value = value.get(part) if isinstance(part, str) else None
        elif isinstance(value, list) and isinstance(part, int):
            out.append(part)
            value = value[part] if 0 <= part < len(value) else None
        else:
            out.append(0)
            value = None
    return tuple(out)


def in_document_order(value: Any, problems: List[Problem]) -> List[Problem]:
    """The problems sorted by where they sit in the value (stable for one place)."""
    return sorted(problems, key=lambda problem: _position(value, problem.path))
