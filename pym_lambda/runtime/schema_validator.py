"""The check of one schema: compiled to Python by pym_lambda.fastcheck, else our own
interpreter (pym_lambda.schema_engine), built once, its messages naming the field; a client's
checks are built at their first call (make_validator). operation_checks.py builds the checks
of the app's own operations. When a check fails, an Explainer lists every problem of the value
(the error path only: a valid value never builds it).

SchemaValidator, openapi-schema-validator (the reference fastcheck mirrors), stays for the
differential tests and the benchmark; the runtime never builds it (nor imports jsonschema).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Optional

from ..quoting import MAX_MESSAGE, MAX_QUOTE, clamp, quote
from .compiled_types import Schema

if TYPE_CHECKING:
    from ..schema_engine import Problem, SchemaEngine

# Requests are checked with the write-context validator (readOnly properties need not be sent),
# responses with the read context (writeOnly properties need not be returned).
REQUEST = "request"
RESPONSE = "response"


def _reference_class(dialect: str, context: str) -> Any:
    import openapi_schema_validator as osv

    from .pattern_keywords import with_re2_patterns

    if dialect == "oas31":
        return with_re2_patterns(osv.OAS31Validator, dialect)
    cls = osv.OAS30WriteValidator if context == REQUEST else osv.OAS30ReadValidator
    return with_re2_patterns(cls, dialect)


def _validator_class(dialect: str, context: str) -> Any:
    from jsonschema.validators import extend

    return extend(_reference_class(dialect, context), _keyword_overrides())


def _keyword_overrides() -> Dict[str, Callable[..., Iterator[Any]]]:
    """The reference's keywords replaced by linear-time ones (JSON Schema's answers)."""
    return {"uniqueItems": _unique_items, "multipleOf": _multiple_of}


def _multiple_of(validator: Any, divisor: Any, instance: Any, schema: Any) -> Iterator[Any]:
    # jsonschema divides binary floats (0.3 is no multiple of 0.1 there): decimal numbers as
    # written instead, as fastcheck and schema_engine (fastcheck.helpers._not_multiple)
    from jsonschema.exceptions import ValidationError

    from ..fastcheck.helpers import _not_multiple

    if validator.is_type(instance, "number") and _not_multiple(instance, divisor):
        yield ValidationError(f"{instance!r} is not a multiple of {divisor}")


def _unique_items(validator: Any, unique: Any, instance: Any, schema: Any) -> Iterator[Any]:
    # jsonschema._keywords.uniqueItems compares every pair of objects (quadratic): hashed
    # canonical forms instead (pym_lambda/fastcheck/canonical.py, through fastcheck's _uniq)
    from jsonschema.exceptions import ValidationError

    from ..fastcheck.helpers import _uniq

    if unique and validator.is_type(instance, "array") and not _uniq(instance):
        yield ValidationError(f"{quote(instance)} has non-unique elements")  # see bounded_message


def _field_path(prefix: str, path: Any) -> str:
    out = prefix
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _shorten(text: str) -> str:
    return clamp(text, MAX_MESSAGE)


def bounded_message(error: Any) -> str:
    """A jsonschema error's message, the value it starts with (the usual shape, fastcheck's
    repr_message) quoted in bounded length, as fastcheck's checkers quote it."""
    message: str = error.message
    if len(message) <= MAX_QUOTE:
        return message  # then the value it quotes is shorter still: quote() leaves it be
    text = repr(error.instance)
    if message.startswith(text):
        return quote(error.instance) + message[len(text):]
    return message


class SchemaValidator:
    """The reference (openapi-schema-validator): `check(value)` returns None or a message
    naming the field. Not used at run time (EngineCheck is)."""

    __slots__ = ("_validator", "_prefix")

    def __init__(self, schema: Any, definitions: Dict[str, Schema], dialect: str, context: str,
                 prefix: str) -> None:
        cls = _validator_class(dialect, context)
        root = dict(schema) if isinstance(schema, dict) else schema
        if isinstance(root, dict) and definitions:
            # Refs are '#/definitions/<Name>': resolve them against this root document.
            root["definitions"] = definitions
        self._validator = cls(root, format_checker=cls.FORMAT_CHECKER)
        self._prefix = prefix

    def check(self, value: Any) -> Optional[str]:
        try:
            first = next(self._validator.iter_errors(value), None)
        except RecursionError:
            return f"{self._prefix or 'value'}: nested too deeply"
        if first is None:
            return None
        from jsonschema.exceptions import best_match

        error = best_match(self._validator.iter_errors(value)) or first
        where = _field_path(self._prefix, error.absolute_path)
        message = bounded_message(error)
        return _shorten(f"{where}: {message}" if where else message)


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
