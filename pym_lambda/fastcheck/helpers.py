"""Run-time helpers of generated checkers: standard library only, copied verbatim into modules.

Each helper mirrors one piece of jsonschema / openapi-schema-validator so that generated code
accepts and rejects exactly what they do; the comments name the function mirrored. This file
is pasted at the top of every generated module (after canonical.py and pym_lambda/quoting.py,
which it uses), so it must stay standalone (no relative imports) and cheap to import (heavy
modules are imported inside the helper that needs them).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Number

TYPE_CHECKING = False  # typing is not imported at run time: the checkers do without it
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

    Error = Tuple[Tuple[Any, ...], str]

if "_all_unique" not in globals():  # a generated module has them pasted above, imports none
    from pym_lambda.fastcheck.canonical import _all_unique
    from pym_lambda.quoting import MAX_MESSAGE, clamp, quote


# -- spec patterns (`pattern`, `patternProperties`, the 'regex' format) ---------------------------
class PatternError(ValueError):
    """A spec pattern RE2 cannot run (a backreference, a lookaround): refused, never run on `re`."""


def _re2_options() -> Any:
    import re2  # google-re2, imported at the first pattern: a spec without one never pays it

    options = re2.Options()
    options.log_errors = False  # the error is raised: RE2 need not also print it to stderr
    return options


def _re2_reason(exc: Exception) -> str:
    reason = exc.args[0] if exc.args else ""
    return reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)


def _re2_compile(pattern: str) -> Any:
    """The pattern compiled by RE2, linear in time whatever the input, or PatternError. A
    repetition bound above RE2's 1000 is first shrunk where it cannot change the answer
    (_shrink_repeats)."""
    import re2

    text = _re2_texts.get(pattern, pattern)
    try:
        return re2.compile(text, _re2_options())
    except (re2.error, UnicodeEncodeError) as exc:
        reason = _re2_reason(exc)
    if "repetition" in reason:
        shrunk = _shrink_repeats(pattern)
        try:
            compiled = re2.compile(shrunk, _re2_options()) if shrunk != pattern else None
        except re2.error:
            compiled = None
        if compiled is not None:
            _re2_texts[pattern] = shrunk
            return compiled
        reason += (" (RE2 repeats at most 1000 times; a larger bound runs only where it cannot"
                   " change the answer: on the last item with nothing after it, or the first"
                   " with nothing before it, not even ^ or $)")
    raise PatternError(f"pattern {pattern!r} cannot run on RE2, the linear-time regex "
                       f"engine: {reason}")


# -- repetition bounds above RE2's limit (`^.{1,2097152}`, Seldon's spec) -------------------------
# A search for `A X{m,n}` (nothing after it) finds a match iff one for `A X{m}` does: the first
# m repeats of any match are one. Likewise `X{m,n} B` with nothing before it (the last m
# repeats). So such a bound is shrunk to {m}, exactly; any other stays refused.
_re2_texts = {}  # type: Dict[str, str]  # a spec's pattern -> the text RE2 runs, when shrunk
_MAX_REPEAT = 1000


def _skip_class(p: str, i: int) -> int:
    """The index after the character class starting at p[i] == '['."""
    i += 1
    if p.startswith("^", i):
        i += 1
    if p.startswith("]", i):  # a ']' first is a literal
        i += 1
    while i < len(p) and p[i] != "]":
        if p[i] == "\\":
            i = _skip_escape(p, i)
        elif p.startswith("[:", i) and ":]" in p[i + 2:]:
            i = p.index(":]", i + 2) + 2
        else:
            i += 1
    return i + 1


def _skip_escape(p: str, i: int) -> int:
    """The index after the escape starting at p[i] == backslash."""
    if p.startswith("Q", i + 1):  # \Q...\E: literal text
        end = p.find("\\E", i + 2)
        return len(p) if end < 0 else end + 2
    if p[i + 1:i + 2] in ("p", "P", "x") and p.startswith("{", i + 2) and "}" in p[i + 3:]:
        return p.index("}", i + 3) + 1
    if p[i + 1:i + 2] in ("p", "P"):
        return i + 3
    return i + 2


def _repeat(p: str, i: int) -> Any:
    """(m, n or None, index after) when a {m,n} repetition starts at p[i], else None."""
    end = p.find("}", i)
    inner = p[i + 1:end].split(",") if end > 0 else []
    if not 1 <= len(inner) <= 2 or not all(x.isdigit() for x in inner if x) or not inner[0]:
        return None
    low, high = int(inner[0]), (int(inner[-1]) if inner[-1] else None)
    after = end + 2 if p.startswith("?", end + 1) else end + 1
    return low, (low if len(inner) == 1 else high), after


def _items(p: str, start: int, stop: int) -> Any:
    """The top-level branches of p[start:stop]: each a list of (kind, start, stop), kind one of
    'atom', 'group', 'anchor', 'repeat' (a {m,n}) or 'quantifier' (*, +, ?)."""
    branches: List[List[Tuple[str, int, int]]] = [[]]
    i = start
    while i < stop:
        c = p[i]
        if c == "|":
            branches.append([])
            i += 1
            continue
        if c == "\\":
            kind, j = "atom", _skip_escape(p, i)
            if p[i + 1:i + 2] in ("b", "B", "A", "z"):
                kind = "anchor"
        elif c == "[":
            kind, j = "atom", _skip_class(p, i)
        elif c == "(":
            kind, j, depth = "group", i + 1, 1
            while j < stop and depth:
                if p[j] == "\\":
                    j = _skip_escape(p, j)
                    continue
                if p[j] == "[":
                    j = _skip_class(p, j)
                    continue
                depth += {"(": 1, ")": -1}.get(p[j], 0)
                j += 1
        elif c in "*+?":
            kind, j = "quantifier", i + 1 + p.startswith("?", i + 1)
        elif c == "{" and _repeat(p, i):
            kind, j = "repeat", _repeat(p, i)[2]
        elif c in "^$":
            kind, j = "anchor", i + 1
        else:
            kind, j = "atom", i + 1
        branches[-1].append((kind, i, min(j, stop)))
        i = j
    return branches


def _group_body(p: str, start: int, stop: int) -> Any:
    """(start, stop) of what a group p[start:stop] holds, None for a flag group like (?i)."""
    if not p.startswith("?", start + 1):
        return start + 1, stop - 1
    for opener in ("?P<", "?<"):
        if p.startswith(opener, start + 1):
            return p.index(">", start) + 1, stop - 1
    colon = p.find(":", start, stop)
    return None if colon < 0 else (colon + 1, stop - 1)


def _shrink(p: str, start: int, stop: int, edits: List[Tuple[int, int, str]]) -> None:
    for branch in _items(p, start, stop):
        _shrink_at(p, branch, -1, edits)  # the last item: nothing after it
        if start == 0 and len(branch) > 1:
            _shrink_at(p, branch, 1, edits)  # the first one: nothing before it


def _shrink_at(p: str, branch: List[Tuple[str, int, int]], where: int,
               edits: List[Tuple[int, int, str]]) -> None:
    kind, i, j = branch[where]
    if where == -1 and kind == "group":  # its last items have nothing after them either
        body = _group_body(p, i, j)
        if body is not None:
            _shrink(p, body[0], body[1], edits)
        return
    before = branch[where - 1][0] if len(branch) > 1 else "anchor"  # what it repeats
    if kind == "repeat" and before in ("atom", "group"):
        low, high, _after = _repeat(p, i)
        if low <= _MAX_REPEAT and (high is None or high > _MAX_REPEAT):
            edits.append((i, j, "{" + str(low) + "}"))


def _shrink_repeats(pattern: str) -> str:
    """The pattern with each bound above 1000 that cannot change a search's answer shrunk to
    its minimum (see above); unchanged when there is none."""
    edits: List[Tuple[int, int, str]] = []
    _shrink(pattern, 0, len(pattern), edits)
    for i, j, text in sorted(set(edits), reverse=True):
        pattern = pattern[:i] + text + pattern[j:]
    return pattern


def _no_lone_surrogates(text: str) -> str:
    # JSON allows "\ud800"; UTF-8 (what RE2 reads) has no lone surrogates: each becomes U+FFFD
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


class _SpecPattern:
    """A spec's regex, searched with RE2 (ECMA 262-like: `\\d` and `\\w` ASCII, `$` only at the
    end of the text; docs/validation.md#patterns lists what differs). It is compiled, and re2
    imported, at its first search, not at import. The simplest shapes (_linear_re) run on `re`,
    which answers them alike, in linear time too, and 4x faster on short text."""

    __slots__ = ("pattern", "_regex", "found")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._regex: Any = None  # a bound search: re's Pattern.search or RE2's Set.Match
        # What generated checks call: true when the text matches. search() at first; once a
        # pattern is known to run on `re`, re's own search (no Python call per text)
        self.found: Any = self.search

    def search(self, text: str) -> bool:
        regex = self._regex
        if regex is None:
            linear = _linear_re(self.pattern)
            regex = self._regex = (linear.search if linear is not None
                                   else _re2_searcher(self.pattern).Match)
            if linear is not None:
                self.found = regex
        try:
            return bool(regex(text))
        except UnicodeEncodeError:  # RE2 reads UTF-8 (`re` never raises it)
            return bool(regex(_no_lone_surrogates(text)))


def _re2_search(pattern: str, text: str) -> bool:
    """One search through re2.compile's own cache (the reference validator's keywords, which
    get a pattern at each call; the generated checkers keep a _SpecPattern instead)."""
    regex = _re2_compile(pattern)
    try:
        return regex.search(text) is not None
    except UnicodeEncodeError:
        return regex.search(_no_lone_surrogates(text)) is not None


def _re2_searcher(pattern: str) -> Any:
    """The pattern as a one-member RE2 search set: a yes/no answer from RE2's DFA, about 1 us
    where re2's Pattern.search builds a Match object and decodes its spans (7 us, measured)."""
    import re2

    _re2_compile(pattern)  # PatternError, naming RE2's reason, for what RE2 cannot run
    searcher = re2.Set.SearchSet(_re2_options())
    searcher.Add(_re2_texts.get(pattern, pattern))  # what _re2_compile could run
    searcher.Compile()
    return searcher


# _linear_re: the one shape of pattern run on `re` rather than RE2: `^`, then literals,
# ASCII character classes and \d \w, each at most once quantified, with at most ONE quantifier
# whose count varies (so `re` backtracks at most once over the text: linear), then an optional
# `$` (as `\Z`: `re`'s `$` also matches before a final newline). Classes are plain (no `^`
# negation, no `&&`/`--` set syntax) and everything is ASCII, so `re` (re.ASCII) and RE2 answer
# alike on any text, lone surrogates included. Anything else goes to RE2.
_LINEAR_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_LINEAR_LITERAL = _LINEAR_ALNUM + " _-,:;/@#%=!'\"<>"
_LINEAR_IN_CLASS = _LINEAR_ALNUM + " _.,:;/@#%=!'\"<>+*?(){}$"
_LINEAR_ESCAPES = ".-/+*?()[]{}|^$\\dw"  # after a backslash: a literal, or \d \w
_LINEAR_KINDS = ("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789")
_LINEAR_MAX_COUNT = 1000  # RE2's limit on a repeat count: past it, RE2's error, as before


def _linear_re(pattern: str) -> Any:
    """`re`'s compiled form of pattern when it has the shape above, else None."""
    if not pattern.startswith("^") or not pattern.isascii():
        return None
    end = len(pattern) - 1 if pattern.endswith("$") and not pattern.endswith("\\$") \
        else len(pattern)
    i, varying, total = 1, 0, 0
    while i < end:
        start, char = i, pattern[i]
        if char == "\\":
            if i + 1 >= end or pattern[i + 1] not in _LINEAR_ESCAPES:
                return None
            i += 2
        elif char == "[":
            i = _linear_class_end(pattern, i + 1, end) + 1
            if i <= 0:
                return None
        elif char in _LINEAR_LITERAL:
            i += 1
        else:
            return None
        least, most, i = _linear_quantifier(pattern, i, end)
        if least < 0 or (i < end and pattern[i] in "*+?{"):  # lazy, possessive, a bad count
            return None
        varying += least != most
        total += least if most > _LINEAR_MAX_COUNT else most  # what RE2's program unrolls
        if varying > 1 or total > _LINEAR_MAX_COUNT or i <= start:
            return None
    import re

    return re.compile(pattern[:end] + ("\\Z" if end < len(pattern) else ""), re.ASCII)


def _linear_class_end(pattern: str, i: int, end: int) -> int:
    """The index of the `]` closing a plain class whose first item is at i, or -1."""
    first = i
    while i < end:
        char = pattern[i]
        if char == "]" and i > first:
            return i
        if char == "\\":
            if i + 1 >= end or pattern[i + 1] not in _LINEAR_ESCAPES:
                return -1
            i += 2
        elif char == "-":  # a literal only first or last
            if i != first and pattern[i + 1:i + 2] != "]":
                return -1
            i += 1
        elif pattern[i + 1:i + 2] == "-" and pattern[i + 2:i + 3] not in ("]", ""):
            if not _linear_range(char, pattern[i + 2]):
                return -1
            i += 3
        elif char in _LINEAR_IN_CLASS:
            i += 1
        else:
            return -1
    return -1


def _linear_range(low: str, high: str) -> bool:
    # a-z, A-Z, 0-9 or a part of one: the same characters for both engines
    return low <= high and any(low in kind and high in kind for kind in _LINEAR_KINDS)


def _linear_quantifier(pattern: str, i: int, end: int) -> Tuple[int, int, int]:
    """(least, most, index after it) of the quantifier at i; (1, 1, i) without one; least -1
    when it is not one of `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}` with n <= m <= 1000."""
    char = pattern[i] if i < end else ""
    if char in ("*", "+", "?"):
        return (1 if char == "+" else 0), (1 if char == "?" else _LINEAR_MAX_COUNT + 1), i + 1
    if char != "{":
        return 1, 1, i
    close = pattern.find("}", i, end)
    low, comma, high = pattern[i + 1:close].partition(",")
    if close < 0 or not low.isdigit() or not (high.isdigit() or not high):
        return -1, -1, i
    least = int(low)
    most = int(high) if high else (_LINEAR_MAX_COUNT + 1 if comma else least)
    if least > most or least > _LINEAR_MAX_COUNT or (high and most > _LINEAR_MAX_COUNT):
        return -1, -1, i
    return least, most, close + 1


# -- reporting (pym_lambda.runtime.schema_validator._field_path and _shorten) ---------------------
def _report(prefix: str, error: Error) -> str:
    path, message = error
    where = prefix
    for part in path:
        where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else str(part))
    return clamp(f"{where}: {message}" if where else message, MAX_MESSAGE)


def _too_deep(prefix: str) -> str:
    return f"{prefix or 'value'}: nested too deeply"


# -- types (jsonschema._types; openapi_schema_validator._types) -----------------------------------
def _is_number(v: Any) -> bool:
    return isinstance(v, Number) and not isinstance(v, bool)


def _is_integer30(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_integer31(v: Any) -> bool:
    # draft 6+ : a float with an integral value is an integer
    return (isinstance(v, int) and not isinstance(v, bool)) or (
        isinstance(v, float) and v.is_integer())


# -- equality (jsonschema._utils.equal, unbool, uniq) ---------------------------------------------
_TRUE, _FALSE = object(), object()


def _unbool(element: Any) -> Any:
    # A hack to make True and 1 and False and 0 unique for ``uniq``
    if element is True:
        return _TRUE
    elif element is False:
        return _FALSE
    return element


def _equal(one: object, two: object) -> bool:
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return one == two
    if isinstance(one, Sequence) and isinstance(two, Sequence):
        return len(one) == len(two) and all(_equal(i, j) for i, j in zip(one, two, strict=False))
    if isinstance(one, Mapping) and isinstance(two, Mapping):
        return len(one) == len(two) and all(
            key in two and _equal(value, two[key]) for key, value in one.items())
    same: bool = _unbool(one) == _unbool(two)
    return same


def _in_enum(v: Any, enum: List[Any]) -> bool:
    return any(_equal(each, v) for each in enum)


def _uniq(container: List[Any]) -> bool:
    # jsonschema._utils.uniq, in linear time: a set of canonical keys (canonical.py), not a
    # comparison of every pair
    try:
        return _all_unique(container)
    except TypeError:  # an unhashable non-JSON value: compare every pair, as jsonschema does
        seen: List[Any] = []
        for e in container:
            e = _unbool(e)
            for i in seen:
                if _equal(i, e):
                    return False
            seen.append(e)
    return True


# -- numbers (multipleOf with a float divisor) ----------------------------------------------------
def _not_multiple(v: Any, divisor: Any) -> bool:
    """Whether v is no multiple of divisor, both read as the decimal numbers they are written
    as (repr: the shortest literal of a float): 0.3 is a multiple of 0.1. jsonschema divides
    binary floats (0.3 / 0.1 == 2.9999999999999996) and refused such values; exact fractions
    also give the answer for ints beyond floats (10**400)."""
    if isinstance(v, int) and isinstance(divisor, int):
        return divisor != 0 and v % divisor != 0
    from fractions import Fraction  # a float divisor's first use: not at a cold start

    try:
        return (Fraction(repr(v)) / Fraction(repr(divisor))).denominator != 1
    except (ValueError, ZeroDivisionError, OverflowError, TypeError):
        return True  # inf, nan: no multiple of anything


# -- objects and arrays ---------------------------------------------------------------------------
def _extras_msg(extras: Any) -> Tuple[str, str]:
    # jsonschema._utils.extras_msg
    verb = "was" if len(extras) == 1 else "were"
    return ", ".join(repr(extra) for extra in extras), verb


def _not_allowed(extras: Any) -> str:
    joined, verb = _extras_msg(extras)
    return f"Additional properties are not allowed ({joined} {verb} unexpected)"


def _extras30(v: Dict[str, Any], properties: Any, patterns: Any) -> str:
    # openapi_schema_validator._keywords.additionalProperties: a set, in set order
    extras = set(k for k in v if k not in properties and not (patterns and patterns.search(k)))
    return _not_allowed(extras)


def _extras31(v: Dict[str, Any], properties: Any, patterns: Any,
              pattern_reprs: Optional[str]) -> str:
    # jsonschema._keywords.additionalProperties
    extras = set(k for k in v if k not in properties and not (patterns and patterns.search(k)))
    if pattern_reprs is not None:
        verb = "does" if len(extras) == 1 else "do"
        joined = ", ".join(repr(each) for each in sorted(extras))
        return f"{joined} {verb} not match any of the regexes: {pattern_reprs}"
    return _not_allowed(sorted(extras, key=str))


def _too_many_items(v: List[Any], prefix: int) -> str:
    # jsonschema._keywords.items with items: false
    extra = len(v) - prefix
    rest = v[prefix:] if extra != 1 else v[prefix]
    item = "items" if prefix != 1 else "item"
    return f"Expected at most {prefix} {item} but found {extra} extra: {rest!r}"


def _contains(v: List[Any], check: Callable[[Any], Any], min_contains: Any,
              max_contains: Any) -> Optional[str]:
    # jsonschema._keywords.contains: None, or the message
    matches = 0
    if max_contains is None:
        max_contains = len(v)
    for each in v:
        if check(each) is None:
            matches += 1
            if matches > max_contains:
                return ("Too many items match the given schema "
                        f"(expected at most {max_contains})")
    if matches < min_contains:
        if not matches:
            return f"{quote(v)} does not contain items matching the given schema"
        return ("Too few items match the given schema (expected at least "
                f"{min_contains} but only {matches} matched)")
    return None


def _one_of(v: Any, checks: Iterable[Callable[[Any], Any]], schema_reprs: List[str]
            ) -> Optional[str]:
    # jsonschema._keywords.oneOf: None, or the message
    valid = [i for i, check in enumerate(checks) if check(v) is None]
    if not valid:
        return f"{quote(v)} is not valid under any of the given schemas"
    if len(valid) == 1:
        return None
    reprs = ", ".join(schema_reprs[i] for i in valid[1:] + valid[:1])
    return f"{quote(v)} is valid under each of {reprs}"


def _valid(v: Any) -> None:
    return None
