"""The reference validator's regex keywords on RE2, as the generated checkers run them.

jsonschema and openapi-schema-validator search `pattern` and `patternProperties` with Python's
`re` (backtracking: `^(a+)+$` and 30 characters take 40 s) and check the 'regex' format with
`re.compile`. These replacements use the helpers the generated checkers use
(fastcheck/helpers.py: RE2, linear time), with the same messages, so no spec pattern ever runs
on `re`, whichever validator checks a schema.
"""
from __future__ import annotations

from functools import cache
from typing import Any, Callable, Dict, Iterator, Mapping

from ..fastcheck.helpers import _re2_search

OAS30 = "oas30"


def _search(pattern: str, text: str) -> bool:
    return _re2_search(pattern, text)  # re2.compile caches the compiled pattern


def _additional(instance: Mapping[str, Any], schema: Mapping[str, Any]) -> Iterator[str]:
    # jsonschema._utils.find_additional_properties: one search of the patterns joined by '|'
    properties = schema.get("properties", {})
    patterns = "|".join(schema.get("patternProperties", {}))
    for name in instance:
        if name not in properties and not (patterns and _search(patterns, name)):
            yield name


def pattern(validator: Any, patrn: str, instance: Any, schema: Any) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if validator.is_type(instance, "string") and not _search(patrn, instance):
        yield ValidationError(f"{instance!r} does not match {patrn!r}")


def pattern_properties(validator: Any, patterns: Dict[str, Any], instance: Any,
                       schema: Any) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    for patrn, subschema in patterns.items():
        for key, value in instance.items():
            if _search(patrn, key):
                yield from validator.descend(value, subschema, path=key, schema_path=patrn)


def additional_properties30(validator: Any, extra: Any, instance: Any,
                            schema: Any) -> Iterator[Any]:
    # openapi_schema_validator._keywords.additionalProperties
    from jsonschema._utils import extras_msg
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "object"):
        return
    extras = set(_additional(instance, schema))
    if not extras:
        return
    if validator.is_type(extra, "object"):
        for name in extras:
            yield from validator.descend(instance[name], extra, path=name)
    elif validator.is_type(extra, "boolean") and not extra:
        text = "Additional properties are not allowed (%s %s unexpected)"
        yield ValidationError(text % extras_msg(extras))


def additional_properties31(validator: Any, extra: Any, instance: Any,
                            schema: Any) -> Iterator[Any]:
    # jsonschema._keywords.additionalProperties
    from jsonschema._utils import extras_msg
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "object"):
        return
    extras = set(_additional(instance, schema))
    if validator.is_type(extra, "object"):
        for name in extras:
            yield from validator.descend(instance[name], extra, path=name)
    elif not extra and extras:
        if "patternProperties" in schema:
            verb = "does" if len(extras) == 1 else "do"
            joined = ", ".join(repr(each) for each in sorted(extras))
            reprs = ", ".join(repr(each) for each in sorted(schema["patternProperties"]))
            yield ValidationError(f"{joined} {verb} not match any of the regexes: {reprs}")
        else:
            text = "Additional properties are not allowed (%s %s unexpected)"
            yield ValidationError(text % extras_msg(sorted(extras, key=str)))


def _format_checker(base: Any, dialect: str) -> Any:
    """A copy of the class's format checker checking the fast checkers' formats with their
    checks (fastcheck/formats.py: right where jsonschema's are not, the same whatever optional
    packages are installed, 'regex' the one RE2 parses); other formats are ignored."""
    from copy import deepcopy

    from ..fastcheck import formats
    from ..fastcheck.support import FORMATS

    checker = deepcopy(base)
    checker.checkers = {name: (getattr(formats, helper), ())
                        for name, helper in FORMATS[dialect].items() if helper}
    return checker


@cache
def with_re2_patterns(cls: Any, dialect: str) -> Any:
    """The validator class with its regex keywords on RE2 (one class per reference class)."""
    from jsonschema.validators import extend

    additional = additional_properties30 if dialect == OAS30 else additional_properties31
    keywords: Dict[str, Callable[..., Iterator[Any]]] = {
        "pattern": pattern, "additionalProperties": additional}
    if dialect != OAS30:  # draft 4 of OpenAPI 3.0 has no patternProperties keyword
        keywords["patternProperties"] = pattern_properties
    return extend(cls, keywords, format_checker=_format_checker(cls.FORMAT_CHECKER, dialect))
