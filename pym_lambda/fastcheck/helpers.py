"""Run-time helpers of generated checkers: standard library only, copied verbatim into modules.

Each helper mirrors one piece of jsonschema / openapi-schema-validator so that generated code
accepts and rejects exactly what they do; the comments name the function mirrored. This file
is pasted at the top of every generated module (after canonical.py and pym_lambda/quoting.py,
which it uses), so it must stay standalone (no relative imports) and cheap to import (heavy
modules are imported inside the helper that needs them).
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from numbers import Number

TYPE_CHECKING = False  # typing is not imported at run time: the checkers do without it
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

    Error = Tuple[Tuple[Any, ...], str]

if "_all_unique" not in globals():  # a generated module has them pasted above, imports none
    from pym_lambda.fastcheck.canonical import _all_unique
    from pym_lambda.quoting import MAX_MESSAGE, clamp, quote


class _LazyPattern:
    """A regex compiled at its first use, not at import (re.compile is slow, imports count).

    It then replaces itself, in the module that holds it, by the compiled pattern, so later
    calls cost nothing more than a compiled pattern's."""

    def __init__(self, namespace: Dict[str, Any], name: str, pattern: str,
                 flags: int = 0) -> None:
        self._where = (namespace, name, pattern, flags)

    def _compiled(self) -> Any:
        import warnings

        namespace, name, pattern, flags = self._where
        with warnings.catch_warnings():  # a FutureWarning of re is no reason to fail a request
            warnings.simplefilter("ignore")
            namespace[name] = compiled = re.compile(pattern, flags)
        return compiled

    def search(self, text: str) -> Any:
        return self._compiled().search(text)

    def match(self, text: str) -> Any:
        return self._compiled().match(text)

    def fullmatch(self, text: str) -> Any:
        return self._compiled().fullmatch(text)


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
    """The pattern compiled by RE2, linear in time whatever the input, or PatternError."""
    import re2

    try:
        return re2.compile(pattern, _re2_options())
    except (re2.error, UnicodeEncodeError) as exc:
        raise PatternError(f"pattern {pattern!r} cannot run on RE2, the linear-time regex "
                           f"engine: {_re2_reason(exc)}") from None


def _no_lone_surrogates(text: str) -> str:
    # JSON allows "\ud800"; UTF-8 (what RE2 reads) has no lone surrogates: each becomes U+FFFD
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


class _SpecPattern:
    """A spec's regex, searched with RE2 (ECMA 262-like: `\\d` and `\\w` ASCII, `$` only at the
    end of the text; docs/validation.md#patterns lists what differs). It is compiled, and re2
    imported, at its first search, not at import."""

    __slots__ = ("pattern", "_regex")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._regex: Any = None

    def search(self, text: str) -> bool:
        regex = self._regex
        if regex is None:
            regex = self._regex = _re2_searcher(self.pattern)
        try:
            return bool(regex.Match(text))
        except UnicodeEncodeError:
            return bool(regex.Match(_no_lone_surrogates(text)))


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
    searcher.Add(pattern)
    searcher.Compile()
    return searcher


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


# -- numbers (jsonschema._keywords.multipleOf, float divisor) -------------------------------------
def _not_multiple(v: Any, divisor: float) -> bool:
    try:
        quotient: float = v / divisor
        return int(quotient) != quotient
    except OverflowError:
        pass  # jsonschema turns to exact fractions when int() overflows; so does this when
        # the division does (an int beyond floats, where jsonschema raises OverflowError)
    except (ValueError, TypeError):
        return True  # NaN: jsonschema raises; a checker answers
    from fractions import Fraction

    try:
        return (Fraction(v) / Fraction(divisor)).denominator != 1
    except (OverflowError, ValueError, TypeError):
        return True  # infinities


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


# -- formats (jsonschema._format, openapi_schema_validator._format) -------------------------------
_RE_DATE = _LazyPattern(globals(), "_RE_DATE", r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
_RE_RFC3339 = _LazyPattern(globals(), "_RE_RFC3339", r"""
    ^
    (\d{4})      # Year
    -
    (0[1-9]|1[0-2]) # Month
    -
    (\d{2})          # Day
    T
    (?:[01]\d|2[0123]) # Hours
    :
    (?:[0-5]\d)     # Minutes
    :
    (?:[0-5]\d)     # Seconds
    (?:\.\d+)?      # Secfrac
    (?:  Z                              # UTC
       | [+-](?:[01]\d|2[0123]):[0-5]\d # Offset
    )
    $
""", re.VERBOSE | re.ASCII)  # rfc3339_validator.RFC3339_REGEX, verbatim
_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _days_in_month(year: int, month: int) -> int:
    # calendar.monthrange, without importing calendar
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return _DAYS_IN_MONTH[month] + (month == 2 and leap)


def _real_day(text: str, month_ok: bool) -> bool:
    # text starts with YYYY-MM-DD in ASCII digits (a regex said so): year 0 and days past the
    # month's end are not dates; a day from 01 to 28 is always real (no int() needed)
    if not month_ok or text[:4] == "0000":
        return False
    day = text[8:10]
    if "01" <= day <= "28":
        return True
    return "00" < day and int(day) <= _days_in_month(int(text[:4]), int(text[5:7]))


def _fmt_date(v: Any) -> bool:
    # jsonschema is_date: the regex, then date.fromisoformat (years 1-9999, real days)
    if not isinstance(v, str):
        return True
    if not _RE_DATE.fullmatch(v):
        return False
    return _real_day(v, "00" < v[5:7] <= "12")


def _fmt_date_time(v: Any) -> bool:
    # jsonschema is_datetime: rfc3339_validator.validate_rfc3339(instance.upper())
    if not isinstance(v, str):
        return True
    upper = v.upper()
    return _RE_RFC3339.match(upper) is not None and _real_day(upper, True)


def _fmt_time(v: Any) -> bool:
    # jsonschema is_draft3_time: the class-wide 'time' checker the OAS checkers copy
    if not isinstance(v, str):
        return True
    from datetime import datetime

    try:
        datetime.strptime(v, "%H:%M:%S")  # noqa: DTZ007
    except ValueError:
        return False
    return True


def _fmt_uuid(v: Any) -> bool:
    # jsonschema is_uuid: uuid.UUID(instance) (its hex parsing, copied) and hyphens in place
    if not isinstance(v, str):
        return True
    digits = v.replace("urn:", "").replace("uuid:", "").strip("{}").replace("-", "")
    if len(digits) != 32:
        return False
    try:
        int(digits, 16)
    except ValueError:
        return False
    return all(v[position] == "-" for position in (8, 13, 18, 23))


def _fmt_email(v: Any) -> bool:
    return not isinstance(v, str) or "@" in v


def _fmt_ipv4(v: Any) -> bool:
    if not isinstance(v, str):
        return True
    import ipaddress

    try:
        ipaddress.IPv4Address(v)
    except ipaddress.AddressValueError:
        return False
    return True


def _fmt_ipv6(v: Any) -> bool:
    if not isinstance(v, str):
        return True
    import ipaddress

    try:
        address = ipaddress.IPv6Address(v)
    except ipaddress.AddressValueError:
        return False
    return not getattr(address, "scope_id", "")


def _fmt_regex(v: Any) -> bool:
    # openapi_schema_validator is_regex, with the engine spec patterns run on: RE2 parses it.
    # A Set, not re2.compile: compiled client regexes would fill re2's cache (8 MiB each).
    if not isinstance(v, str):
        return True
    import re2

    try:
        re2.Set.SearchSet(_re2_options()).Add(v)
    except (re2.error, UnicodeEncodeError):
        return False
    return True


def _fmt_byte(v: Any) -> bool:
    # openapi_schema_validator is_byte; a non-ASCII string makes it raise UnicodeEncodeError,
    # which a checker cannot do: it is reported as not a 'byte'
    if not isinstance(v, (str, bytes)):
        return True
    import binascii
    from base64 import b64decode

    try:
        b64decode(v.encode("ascii", errors="strict") if isinstance(v, str) else v,
                  validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _fmt_int32(v: Any) -> bool:
    return not isinstance(v, int) or isinstance(v, bool) or ~(1 << 31) < v < 1 << 31


def _fmt_int64(v: Any) -> bool:
    return not isinstance(v, int) or isinstance(v, bool) or ~(1 << 63) < v < 1 << 63


def _valid(v: Any) -> None:
    return None
