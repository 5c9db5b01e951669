"""Spec patterns run on RE2 (helpers._SpecPattern): linear time, ECMA 262's `\\d`, `\\w`, `$`."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from pym_lambda.fastcheck import compile_checker
from pym_lambda.fastcheck.formats import _fmt_regex
from pym_lambda.fastcheck.helpers import PatternError, _SpecPattern

ATTACK = "a" * 30 + "!"  # on `re`, '^(a+)+$' takes about 40 s on it (2 ** 30 backtracks)


def test_a_nested_quantifier_runs_in_linear_time() -> None:
    started = time.perf_counter()
    assert not _SpecPattern("^(a+)+$").search(ATTACK)
    assert not _SpecPattern("^(a+)+$").search("a" * 100_000 + "!")
    # generous: RE2 takes well under a millisecond; `re` took tens of seconds on the first
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize("pattern, text, found", [
    ("^\\d$", "5", True), ("^\\d$", "߀", False), ("^\\d$", "٣", False),  # ASCII digits only
    ("^\\w+$", "abc_1", True), ("^\\w+$", "é", False),
    ("^a$", "a\n", False), ("^a$", "a", True), ("a$", "a\nb", False),  # `$`: end of text
    ("^\\p{L}+$", "éß", True),
    ("^.$", "\ud800", True), ("^[a-z]$", "\udfff", False),  # lone surrogates: U+FFFD
    ("é|a", "xéx", True),  # unanchored, as ECMA's search
])
def test_ecma_like_semantics(pattern: str, text: str, found: bool) -> None:
    assert _SpecPattern(pattern).search(text) is found


@pytest.mark.parametrize("pattern", ["(a)\\1", "(?=a)a", "(?<!a)b", "a{1001}", "("])
def test_what_re2_cannot_run_is_refused_never_run_on_re(pattern: str) -> None:
    with pytest.raises(PatternError, match="cannot run on RE2"):
        compile_checker({"type": "string", "pattern": pattern}, {}, "oas30", "request")
    with pytest.raises(PatternError):
        compile_checker({"type": "object", "patternProperties": {pattern: {}}}, {}, "oas31",
                        "request")
    assert _fmt_regex(pattern) is False  # the 'regex' format: what the engine can run


def test_the_generated_checker_searches_with_re2() -> None:
    check = compile_checker({"type": "object", "properties": {"s": {"pattern": "^(a+)+$"}},
                             "patternProperties": {"^x-(a+)+$": {"type": "integer"}},
                             "additionalProperties": False}, {}, "oas31", "request", "body")
    started = time.perf_counter()
    assert check({"s": ATTACK}) == f"body.s: {ATTACK!r} does not match '^(a+)+$'"
    assert "does not match any of the regexes" in str(check({"x-" + ATTACK: 1}))
    assert check({"s": "aa", "x-aa": 1}) is None
    assert time.perf_counter() - started < 2  # generous, see above


def test_re2_is_imported_at_the_first_pattern_not_before() -> None:
    code = ("import sys\nfrom pym_lambda.fastcheck.helpers import _SpecPattern\n"
            "p = _SpecPattern('^(a|b)$')\nassert 're2' not in sys.modules\n"
            "assert p.search('a') and 're2' in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True)


# The simplest shapes run on `re` (helpers._linear_re): same answers as RE2, linear time.
LINEAR = ["^[a-z0-9-]+$", "^[0-9X-]{10,17}$", "^\\d{5}$", "^[A-Za-z0-9_-]{1,64}$", "^\\w+$",
          "^ab?c$", "^[a-f0-9]{8}-[a-f0-9]{4}$", "^[a-z]+[0-9]{2}$", "^$", "^\\.com$",
          "^[-a]$", "^[\\d-]+$", "^x{2,}$", "^[\\w.]{0,5}z", "^\\$$", "^a\\$", "^[{}()*+?]+$"]
NOT_LINEAR = ["^(a+)+$", "^a|b$", "^[^a]$", "^.$", "abc", "^a+b+$", "^[a-z]{1001}$", "^[]a]$",
              "^[a-Z]$", "^a{2,1}$", "^a+?$", "^a++$", "^\\s$", "^[[]$", "^\u00e9$", "^a{,3}$",
              "^a{1,2}{3}$", "^[a", "^\\p{L}$"]
TEXTS = ["", "a", "abc", "ab-1", "0441172719", "978-0441172719", "12345", "1234\n", "abc\n",
         "a\nb", "\u0663\u0663\u0663\u0663\u0663", "\u00e9", "\ud800", "aa\udfff", "x.com", ".com",
         "$", "a$", "-", "xxx", "a" * 70, "abc12", "deadbeef-0a1b", "_.z", "{}()", "AB12CDE",
         "abcz"]


@pytest.mark.parametrize("pattern", LINEAR)
def test_the_simplest_patterns_answer_on_re_as_on_re2(pattern: str) -> None:
    from pym_lambda.fastcheck.helpers import _linear_re, _no_lone_surrogates, _re2_searcher

    assert _linear_re(pattern) is not None
    re2_set = _re2_searcher(pattern)
    for text in TEXTS:
        expected = bool(re2_set.Match(_no_lone_surrogates(text)))
        assert _SpecPattern(pattern).search(text) is expected, (pattern, text)


@pytest.mark.parametrize("pattern", NOT_LINEAR)
def test_every_other_pattern_stays_on_re2(pattern: str) -> None:
    from pym_lambda.fastcheck.helpers import _linear_re

    assert _linear_re(pattern) is None


def test_a_simple_pattern_runs_in_linear_time_without_re2() -> None:
    code = ("import sys, time\nfrom pym_lambda.fastcheck.helpers import _SpecPattern\n"
            "t = time.perf_counter()\n"
            "assert not _SpecPattern('^[a-z]*[a-z]{3}[0-9]$').search('a' * 1_000_000 + '!')\n"
            "assert time.perf_counter() - t < 2 and 're2' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("pattern", LINEAR[:4] + ["^(a+)+$", "^.$", "^[a-z]$"])
def test_what_generated_checks_call_answers_as_search_before_and_after_the_first(
        pattern: str) -> None:
    first, later = _SpecPattern(pattern), _SpecPattern(pattern)
    later.search("")  # compiled: a pattern on `re` is then searched by re itself
    for text in TEXTS:  # lone surrogates included: RE2's patterns keep search()'s handling
        expected = _SpecPattern(pattern).search(text)
        assert bool(first.found(text)) is expected and bool(later.found(text)) is expected
    from pym_lambda.fastcheck.helpers import _linear_re

    assert (later.found == later.search) is (_linear_re(pattern) is None)
