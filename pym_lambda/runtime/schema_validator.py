"""The check of one schema: compiled to Python by pym_lambda.fastcheck, else
openapi-schema-validator (the reference), built once, its errors naming the field; a client's
checks are built at their first call (make_validator). operation_checks.py builds the checks
of the app's own operations."""
from __future__ import annotations

from typing import Any, Callable, Dict, Iterator, Optional

from ..quoting import MAX_MESSAGE, MAX_QUOTE, clamp, quote
from .compiled_types import Schema

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
    return {"uniqueItems": _unique_items}


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
    """Validates one schema; `check(value)` returns None or a message naming the field."""

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


def compile_validator(schema: Any, definitions: Dict[str, Schema], dialect: str, context: str,
                      prefix: str) -> Callable[[Any], Optional[str]]:
    """Compiled to Python by fastcheck, or openapi-schema-validator where fastcheck does not
    mirror the schema."""
    from ..fastcheck import Unsupported, compile_checker

    try:
        return compile_checker(schema, definitions, dialect, context, prefix)
    except Unsupported:
        return SchemaValidator(schema, definitions, dialect, context, prefix).check


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
