"""Every regex of a spec (`pattern`, `patternProperties` keys) checked against RE2 at load time.

Requests are checked with RE2, the linear-time engine (fastcheck/helpers.py): a pattern it
cannot run (a backreference, a lookaround) is refused here, naming the spec file, the place in
the spec and the pattern, rather than failing, or running on a backtracking engine, later.
"""
from __future__ import annotations

from typing import Any, Iterator, List, Tuple

from ...errors import SpecError
from ...fastcheck.helpers import PatternError, _re2_compile
from .loader import escape_pointer_token
from .spec_walk import DATA_KEYS, schema_objects


def spec_patterns(doc: Any) -> Iterator[Tuple[str, str]]:
    """(place in the spec, pattern) for each regex in the document."""
    for pointer, node in schema_objects(doc):
        if isinstance(node.get("pattern"), str):
            yield f"{pointer}/pattern", node["pattern"]
        if isinstance(node.get("patternProperties"), dict):
            for key in node["patternProperties"]:
                if isinstance(key, str):
                    yield f"{pointer}/patternProperties/{escape_pointer_token(key)}", key


def re2_uses(doc: Any) -> int:
    """How many regexes RE2 runs for this document: patterns and 'regex' formats."""
    return sum(1 for _ in spec_patterns(doc)) + _regex_formats(doc)


def _regex_formats(node: Any) -> int:
    if isinstance(node, list):
        return sum(_regex_formats(item) for item in node)
    if not isinstance(node, dict):
        return 0
    return (node.get("format") == "regex") + sum(
        _regex_formats(v) for k, v in node.items() if k not in DATA_KEYS)


def check_patterns(doc: Any, spec_file: str) -> List[SpecError]:
    """A SpecError for each pattern RE2 cannot run. RE2 is imported only if there is one."""
    errors: List[SpecError] = []
    for where, pattern in spec_patterns(doc):
        try:
            _re2_compile(pattern)
        except PatternError as exc:
            errors.append(SpecError(f"{where}: {exc}", spec_file=spec_file))
    return errors
