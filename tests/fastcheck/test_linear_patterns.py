"""The patterns helpers._linear_re runs on `re` instead of RE2 give RE2's answer on any text:
Hypothesis draws patterns of that shape (anchored; literals, ASCII classes, \\d \\w; one varying
quantifier) and texts (ASCII, Unicode digits and letters, newlines, lone surrogates)."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pym_lambda.fastcheck.helpers import _linear_re, _no_lone_surrogates, _re2_searcher

ATOMS = st.sampled_from(["a", "b", "Z", "0", "7", "-", "_", " ", ":", "/", "\\.", "\\-",
                         "\\$", "\\d", "\\w", "[a-c]", "[0-9]", "[A-Za-z0-9_-]", "[-x]",
                         "[\\d.]", "[ab{}]", "[a-f0-9]"])
FIXED = st.sampled_from(["", "", "", "{2}", "{3}", "{0}"])
VARYING = st.sampled_from(["*", "+", "?", "{1,3}", "{2,}", "{0,5}"])


@st.composite
def patterns(draw: st.DrawFn) -> str:
    atoms = draw(st.lists(ATOMS, min_size=0, max_size=5))
    varying_at = draw(st.integers(-1, len(atoms) - 1)) if atoms else -1
    body = "".join(atom + (draw(VARYING) if i == varying_at else draw(FIXED))
                   for i, atom in enumerate(atoms))
    return "^" + body + ("$" if draw(st.booleans()) else "")


TEXTS = st.text(alphabet=st.sampled_from(list("abZ07-_ :/.${}xé\n") + [
    "\u0663", "\u00b2", "\u212a", "\ud800", "\udfff", "\u0130"]), max_size=12)


@settings(max_examples=3000, deadline=None, database=None, derandomize=True)
@given(patterns(), st.lists(TEXTS, min_size=1, max_size=6))
def test_linear_patterns_answer_as_re2(pattern: str, texts: list) -> None:
    linear = _linear_re(pattern)
    assert linear is not None, pattern
    searcher = _re2_searcher(pattern)
    for text in texts:
        assert bool(linear.search(text)) == bool(searcher.Match(_no_lone_surrogates(text))), (
            pattern, text)
