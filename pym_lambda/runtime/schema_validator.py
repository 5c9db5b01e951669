"""The check of one schema: compiled to Python by pym_lambda.fastcheck, else our own
interpreter (pym_lambda.schema_engine), built once, its messages naming the field; a client's
checks are built at their first call (make_validator). operation_checks.py builds the checks
of the app's own operations. When a check fails, an Explainer lists every problem of the value
(the error path only: a valid value never builds it).

The reference fastcheck mirrors, openapi-schema-validator, is build-side only
(pym_lambda/build/reference_validator.py): the differential tests and the benchmark.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

from ..quoting import MAX_MESSAGE, clamp
from .compiled_types import Schema

if TYPE_CHECKING:
    from ..schema_engine import Problem, SchemaEngine

# Requests are checked with the write-context validator (readOnly properties need not be sent),
# responses with the read context (writeOnly properties need not be returned).
REQUEST = "request"
RESPONSE = "response"


def _field_path(prefix: str, path: Any) -> str:
    out = prefix
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _shorten(text: str) -> str:
    return clamp(text, MAX_MESSAGE)


MAX_PROBLEMS = 20  # problems listed in one error response


def problem_message(prefix: str, problem: Problem) -> str:
    """A problem as one readable line: 'body.title: ... is longer than 300 characters'."""
    where = problem.field(prefix)
    return _shorten(f"{where}: {problem.message}" if where else problem.message)


class Explainer:
    """Every problem of a value against one schema (SchemaEngine, built at its first use)."""

    __slots__ = ("_args", "_engine", "prefix")

    def __init__(self, schema: Any, definitions: Dict[str, Schema], dialect: str, context: str,
                 prefix: str) -> None:
        self._args = (schema, definitions, dialect, context)
        self._engine: Optional[SchemaEngine] = None
        self.prefix = prefix

    def engine(self) -> SchemaEngine:
        if self._engine is None:
            from ..schema_engine import SchemaEngine

            self._engine = SchemaEngine(*self._args)
        return self._engine

    def problems(self, value: Any, limit: int = MAX_PROBLEMS) -> List[Problem]:
        return self.engine().problems(value, limit)

    def listed(self, value: Any, message: str, limit: int = MAX_PROBLEMS) -> List[Dict[str, str]]:
        """The problems of a value a check refused with message, as the error JSON lists them
        ({"field", "rule", "message"}); message alone should the engine see none."""
        try:
            found = self.problems(value, limit)
        except (RecursionError, ValueError, TypeError):  # the explainer never turns a 400
            found = []  # into a 500: the check's own message still says what is wrong
        if not found:
            return [{"field": self.prefix, "rule": "schema", "message": message}]
        return [{"field": problem.field(self.prefix), "rule": problem.rule,
                 "message": problem.message} for problem in found]


class EngineCheck(Explainer):
    """The check of a schema fastcheck does not cover: SchemaEngine, the problem first met."""

    __slots__ = ()

    def __call__(self, value: Any) -> Optional[str]:
        found = self.problems(value, 1)
        return problem_message(self.prefix, found[0]) if found else None

    check = __call__


def compile_validator(schema: Any, definitions: Dict[str, Schema], dialect: str, context: str,
                      prefix: str) -> Callable[[Any], Optional[str]]:
    """Compiled to Python by fastcheck, or SchemaEngine where fastcheck does not cover the
    schema."""
    from ..fastcheck import Unsupported, compile_checker

    try:
        return compile_checker(schema, definitions, dialect, context, prefix)
    except Unsupported:
        return EngineCheck(schema, definitions, dialect, context, prefix)


class LazyCheck:
    """A check compiled at its first use: a client's checks cost nothing at a cold start
    that never calls that client (the schemas were checked when the specs were compiled)."""

    __slots__ = ("_args", "_check")

    def __init__(self, *args: Any) -> None:
        self._args = args
        self._check: Optional[Callable[[Any], Optional[str]]] = None

    def __call__(self, value: Any) -> Optional[str]:
        if self._check is None:
            self._check = compile_validator(*self._args)
        return self._check(value)


def make_validator(schema: Any, definitions: Dict[str, Schema], dialect: str, context: str,
                   prefix: str) -> Optional[Callable[[Any], Optional[str]]]:
    """A check function for the schema (compiled at its first call), or None when the schema
    accepts everything."""
    if schema is None or schema == {} or schema is True:
        return None
    return LazyCheck(schema, definitions, dialect, context, prefix)
