"""Python source building blocks: literals, module constants, indented lines, failures."""
from __future__ import annotations

import math
import re
from typing import Any, Dict, List, Sequence

from .support import Unsupported

Lines = List[str]
INDENT = "    "


def indent(lines: Sequence[str], levels: int = 1) -> Lines:
    pad = INDENT * levels
    return [pad + line for line in lines]


def block(header: str, body: Lines) -> Lines:
    """`header:` followed by body; nothing at all when the body checks nothing."""
    return [header] + indent(body) if body else []


def literal(value: Any) -> str:
    """Python source that evaluates to an equal JSON-like value (lists stay lists)."""
    if value is None or isinstance(value, (bool, int, str)):
        return repr(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else f"float({str(value)!r})"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(literal(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if value else ''})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    raise Unsupported(f"value {value!r} is not JSON")


def path_source(path: Sequence[str]) -> str:
    """The error path as a tuple expression; its parts are Python expressions."""
    return "(" + "".join(part + ", " for part in path) + ")"


def fail(path: Sequence[str], message: str) -> str:
    """The statement reporting one failure: the checker returns (path, message)."""
    return f"return ({path_source(path)}, {message})"


def repr_message(var: str, text: str) -> str:
    """`f"{var!r}<text>"`, the shape of most jsonschema messages, the value quoted in bounded
    length (pym_lambda.quoting.quote; schema_validator bounds the reference's alike)."""
    return f"quote({var}) + {text!r}"


class Constants:
    """Module-level constants (compiled patterns, enum sets, message parts), deduplicated."""

    def __init__(self) -> None:
        self._names: Dict[str, str] = {}
        self.lines: Lines = []

    def add(self, source: str, hint: str = "K") -> str:
        name = self._names.get(source)
        if name is None:
            name = f"_{hint}{len(self._names)}"
            self._names[source] = name
            self.lines.append(f"{name} = {source}")
        return name

    def pattern(self, pattern: str) -> str:
        """A spec pattern constant, searched with RE2 (see helpers._SpecPattern)."""
        key = f"pattern {pattern!r}"
        name = self._names.get(key)
        if name is None:
            name = f"_RE{len(self._names)}"
            self._names[key] = name
            self.lines.append(f"{name} = _SpecPattern({pattern!r})")
        return name

    def text(self, text: str) -> str:
        return self.add(repr(text), "TXT")


def identifier(text: str) -> str:
    """A readable Python identifier fragment for a schema or entry name."""
    out = re.sub(r"\W", "_", text, flags=re.ASCII).strip("_") or "x"
    return ("_" + out) if out[0].isdigit() else out


class FunctionState:
    """Per generated function: unique local names and how deeply loops are nested."""

    MAX_LOOPS = 8  # Python refuses more than 20 nested blocks: spill to a new function first
    MAX_DEPTH = 40  # and more than 100 indentation levels

    def __init__(self) -> None:
        self._count = 0

    def var(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}{self._count}"
