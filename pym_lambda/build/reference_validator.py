"""The reference validator, openapi-schema-validator (jsonschema), as the generated checks
mirror it: spec patterns on RE2 (reference_patterns.py), uniqueItems in linear time, multipleOf
on decimal numbers. Build side only: the differential tests (tests/fastcheck) and the
benchmark compare pym_lambda.fastcheck and schema_engine against it; no runtime code imports
it, and the Lambda package does not carry it.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Iterator, Optional

from ..quoting import MAX_QUOTE, quote
from ..runtime.compiled_types import Schema
from ..runtime.schema_validator import REQUEST, _field_path, _shorten


def _reference_class(dialect: str, context: str) -> Any:
    import openapi_schema_validator as osv

    from .reference_patterns import with_re2_patterns

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
