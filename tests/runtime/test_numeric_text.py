"""numeric_text accepts exactly what the old regexes did, in linear time."""
from __future__ import annotations

import re
import time

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from pym_lambda.runtime.numeric_text import is_integer_text, is_number_text
from pym_lambda.runtime.params import CoercionError, coerce_scalar

# The regexes numeric_text replaced (quadratic on long digit runs), as the reference.
OLD_INT = re.compile(r"^[-+]?[0-9]+$")
OLD_NUMBER = re.compile(r"^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$")

NUMBERISH = st.text(alphabet="0123456789+-.eE \n１x", max_size=12)


@given(NUMBERISH)
@example("1\n")
@example("１")
@example("1.e5")
@example(".e5")
@example("+")
@example("")
def test_same_language_as_the_old_regexes(text: str) -> None:
    # `$` also matched before a trailing newline: that is refused now (fullmatch semantics)
    old_int = OLD_INT.match(text) is not None and not text.endswith("\n")
    old_number = OLD_NUMBER.match(text) is not None and not text.endswith("\n")
    assert is_integer_text(text) == old_int
    assert is_number_text(text) == old_number


@pytest.mark.parametrize("text", ["1\n", "１", "٣", "1_000", " 1", "0x1f", "1e", "e1", "--1"])
def test_not_numbers(text: str) -> None:
    assert not is_number_text(text)
    with pytest.raises(CoercionError):
        coerce_scalar(text, ["number"])


def test_long_digit_runs_are_linear() -> None:
    # The old regex took 5-30 s on 16,000 digits and an "x" (quadratic); this takes
    # microseconds. The bound is generous on purpose (a shared, slow CI machine).
    text = "1" * 1_000_000 + "x"
    started = time.perf_counter()
    assert not is_number_text(text) and not is_integer_text(text)
    with pytest.raises(CoercionError):
        coerce_scalar("1" * 16_000 + "x", ["number"])
    assert time.perf_counter() - started < 2


def test_too_many_digits_is_a_coercion_error_quoting_a_prefix() -> None:
    with pytest.raises(CoercionError) as caught:
        coerce_scalar("9" * 5000, ["integer"])
    assert "more than 4300 characters" in str(caught.value) and len(str(caught.value)) < 100
    assert coerce_scalar("9" * 4300, ["integer"]) == int("9" * 4300)
