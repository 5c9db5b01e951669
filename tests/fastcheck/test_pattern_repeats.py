"""A repetition bound above RE2's 1000 (Seldon's `^.{1,2097152}`) runs where it cannot change a
search's answer, shrunk to its minimum; elsewhere the pattern stays refused, saying why.
Exactness: hypothesis against Python's `re` (a backtracking engine, safe on these short
inputs), on patterns whose meaning the two engines share."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pym_lambda.fastcheck.helpers import PatternError, _re2_search, _shrink_repeats, _SpecPattern

ATOMS = [".", "a", "[ab]", "[^a]", "(?:ab)", "(a|b)", "\\d", "(?:a*)", "(?:)", "[]a]"]
BEFORE = ["", "^", "a", "^b", "[ab]", "(?:a|b)", "a+", "^(?:a|1)"]
AFTER = ["", "a", "b", "[ab]1", "(?:a|b)"]


@st.composite
def repeats(draw: st.DrawFn) -> str:
    low = draw(st.integers(0, 3))
    high = draw(st.one_of(st.integers(1001, 4000), st.just(None)))
    lazy = "?" if draw(st.booleans()) else ""
    atom = draw(st.sampled_from(ATOMS))
    repeat = f"{atom}{{{low},{'' if high is None else high}}}{lazy}"
    shape = draw(st.sampled_from(["last", "first", "group", "branch"]))
    if shape == "last":  # A X{m,n}
        return draw(st.sampled_from(BEFORE)) + repeat
    if shape == "first":  # X{m,n} B
        return repeat + draw(st.sampled_from(AFTER))
    if shape == "group":  # A (X{m,n}): the group ends the pattern
        return f"{draw(st.sampled_from(BEFORE))}(?:b|{repeat})"
    return f"{draw(st.sampled_from(BEFORE))}{repeat}|{draw(st.sampled_from(AFTER))}b"


@settings(max_examples=400, derandomize=True, deadline=None, database=None)
@given(repeats(), st.text(alphabet="ab1\nx", max_size=12))
def test_a_shrunk_bound_answers_as_the_pattern_does(pattern: str, text: str) -> None:
    assert _shrink_repeats(pattern) != pattern
    assert _re2_search(pattern, text) == (re.search(pattern, text) is not None)
    assert _SpecPattern(pattern).search(text) == (re.search(pattern, text) is not None)


def test_seldons_pattern_runs() -> None:
    check = _SpecPattern("^.{1,2097152}")
    assert [check.search(t) for t in ("", "x", "\n", "x" * 3000)] == [False, True, False, True]


@pytest.mark.parametrize("pattern", [
    "^.{1,2097152}$",  # anchored both ends: the bound is the point
    "a.{1,2000}b",  # in the middle
    "^(?:a{1,2000})b",  # in a group followed by something
    "^a{1001}",  # an exact count: nothing to shrink to
    "(?:a{1,2000}){2}",  # repeated again
])
def test_a_bound_that_can_change_the_answer_stays_refused(pattern: str) -> None:
    with pytest.raises(PatternError) as caught:
        _re2_search(pattern, "a")
    message = str(caught.value)
    assert message.startswith(f"pattern {pattern!r} cannot run on RE2")
    assert "RE2 repeats at most 1000 times" in message
