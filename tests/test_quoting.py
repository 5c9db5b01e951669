"""quoting: messages quote a bounded prefix of a client's value."""
from __future__ import annotations

from pym_lambda.quoting import MAX_MESSAGE, MAX_QUOTE, clamp, quote


def test_short_values_are_their_repr() -> None:
    assert quote("abc") == "'abc'" and quote([1, 2]) == "[1, 2]" and clamp("x") == "x"


def test_long_values_are_cut() -> None:
    assert quote("a" * 1_000_000) == repr("a" * MAX_QUOTE) + "..."
    assert len(quote(list(range(100_000)))) == MAX_QUOTE
    assert len(clamp("b" * 10_000)) == MAX_MESSAGE and clamp("b" * 10_000).endswith("...")


def test_a_generated_checker_quotes_alike() -> None:
    from pym_lambda.fastcheck import compile_checker

    message = compile_checker({"type": "integer"}, {}, "oas30", "request", "q")("z" * 10_000)
    assert message == f"q: {quote('z' * 10_000)} is not of type 'integer'"
