"""The reference validator runs spec patterns on RE2 too (build/reference_patterns.py)."""
from __future__ import annotations

import time

import pytest

from pym_lambda.build.reference_validator import SchemaValidator

ATTACK = "a" * 30 + "!"  # on `re`, '^(a+)+$' takes about 40 s on it


def _check(schema: dict, dialect: str):  # type: ignore[no-untyped-def]
    return SchemaValidator(schema, {}, dialect, "request", "body").check


@pytest.mark.parametrize("dialect", ["oas30", "oas31"])
def test_pattern_and_pattern_properties_run_in_linear_time(dialect: str) -> None:
    check = _check({"type": "object", "properties": {"s": {"type": "string",
                                                           "pattern": "^(a+)+$"}},
                    "patternProperties": {"^x-(a+)+$": {"type": "integer"}},
                    "additionalProperties": False}, dialect)
    started = time.perf_counter()
    assert check({"s": ATTACK}) == f"body.s: {ATTACK!r} does not match '^(a+)+$'"
    assert check({"s": "a" * 100_000 + "!"}) is not None
    assert check({"x-" + ATTACK: 1}) is not None
    assert check({"s": "aaa"}) is None
    assert time.perf_counter() - started < 2  # generous: `re` took tens of seconds on each


@pytest.mark.parametrize("dialect", ["oas30", "oas31"])
def test_ecma_semantics_digits_and_end_of_text(dialect: str) -> None:
    check = _check({"type": "string", "pattern": "^\\d+$"}, dialect)
    assert check("123") is None
    assert check("߀") is not None  # NKo digit zero: `re` says \d
    assert check("1\n") is not None  # `re`'s `$` matches before a trailing newline


def test_pattern_properties_pick_the_subschema_on_re2() -> None:
    check = _check({"type": "object", "patternProperties": {"^\\d$": {"type": "integer"}}},
                   "oas31")
    assert check({"1": "x"}) is not None
    assert check({"߀": "x"}) is None  # not a digit to RE2: no subschema applies


@pytest.mark.parametrize("dialect", ["oas30", "oas31"])
def test_the_regex_format_is_what_re2_parses(dialect: str) -> None:
    check = _check({"type": "string", "format": "regex"}, dialect)
    assert check("^a+$") is None
    assert check("(a)\\1") == "body: '(a)\\\\1' is not a 'regex'"
