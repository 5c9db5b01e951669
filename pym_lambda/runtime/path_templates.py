"""A spec's path key -> the Chalice route it is served on, and the match within a segment.

API Gateway (and so Chalice) routes whole segments only: `/{id}` is a parameter segment, and a
segment such as `{id}.json`, `{name}:verb` or `{base}...{head}` is not. Such a segment is
routed as one whole parameter and the framework matches it against the operation's template
here, with plain string scanning (linear, no regex on client input):
- the segment must start with the template's leading literal and end with its trailing one;
- every parameter but the last ends at the FIRST occurrence of the literal that follows it;
  the last parameter takes the rest (`{base}...{head}` on `a...b...c`: base `a`, head `b...c`);
- no parameter matches an empty string (API Gateway never binds an empty segment either).
Used by the compiler (routes, duplicates) and the router (which operation a request reaches).
"""
from __future__ import annotations

from typing import Dict, List, NamedTuple, Optional, Tuple


class UnroutablePath(ValueError):
    """A path key that no route can serve (why in the message)."""


class Segment(NamedTuple):
    """One segment of a spec path. kind: 'literal', 'param' (the whole segment), 'greedy'
    (`{name+}`, last only) or 'partial' (literals and parameters: `parts` alternates
    literal, name, literal, ..., literal; the end literals may be empty)."""
    kind: str
    text: str  # the segment as written
    parts: Tuple[str, ...]

    @property
    def names(self) -> Tuple[str, ...]:
        return self.parts[1::2]

    @property
    def shape(self) -> str:
        """What API Gateway sees: the literal, or {} for any parameter segment ({+} greedy)."""
        return {"literal": self.text, "greedy": "{+}"}.get(self.kind, "{}")

    @property
    def template_shape(self) -> str:
        """The segment with its parameter names blanked: `{}.json` (duplicates are equal)."""
        if self.kind == "literal":
            return self.text
        return "{}".join(self.parts[0::2]) if self.kind != "greedy" else "{+}"


def _segment(text: str, last: bool) -> Segment:
    if "{" not in text and "}" not in text:
        return Segment("literal", text, (text,))
    parts: List[str] = []
    pos = 0
    while True:
        start = text.find("{", pos)
        if start < 0:
            if "}" in text[pos:]:
                raise UnroutablePath(f"unbalanced braces in segment {text!r}")
            parts.append(text[pos:])
            break
        end = text.find("}", start)
        literal = text[pos:start]
        if end < 0 or "}" in literal:
            raise UnroutablePath(f"unbalanced braces in segment {text!r}")
        name = text[start + 1:end]
        if not name or "{" in name:
            raise UnroutablePath(f"a parameter without a name in segment {text!r}")
        if parts and not literal:
            raise UnroutablePath(f"two parameters with nothing between them in segment "
                                 f"{text!r}: where one ends cannot be told")
        parts += [literal, name]
        pos = end + 1
    if len(parts) == 3 and not parts[0] and not parts[2]:
        if parts[1].endswith("+"):
            if not last:
                raise UnroutablePath(f"a greedy parameter {text!r} must be the last segment")
            return Segment("greedy", text, ("", parts[1][:-1], ""))
        return Segment("param", text, tuple(parts))
    if any(name.endswith("+") for name in parts[1::2]):
        raise UnroutablePath(f"a greedy parameter inside segment {text!r}")
    return Segment("partial", text, tuple(parts))


def parse_path(path: str) -> List[Segment]:
    """The segments of a path key ('/' -> []); UnroutablePath when no route can serve it."""
    for char in "?#":
        if char in path:
            raise UnroutablePath(f"the path key has a {char!r}, which a route path cannot have")
    body = path.strip("/")
    if not body:
        return []
    texts = body.split("/")
    if "" in texts:
        raise UnroutablePath("the path key has an empty segment ('//')")
    return [_segment(text, i == len(texts) - 1) for i, text in enumerate(texts)]


def literal_weight(segments: List[Segment]) -> int:
    """How literal a template is within its route: the literal characters of its parameter
    segments (`{id}.json` 5, `{id}` 0). Templates on one route are tried heaviest first."""
    return sum(len(p) for s in segments if s.kind == "partial" for p in s.parts[0::2])


def match_segment(parts: Tuple[str, ...], value: str) -> Optional[Dict[str, str]]:
    """The parameters of one partial segment (see the module docstring), or None."""
    head, tail = parts[0], parts[-1]
    end = len(value) - len(tail)
    if not value.startswith(head) or not value.endswith(tail) or end <= len(head):
        return None
    found: Dict[str, str] = {}
    pos = len(head)
    for i in range(1, len(parts) - 2, 2):
        literal = parts[i + 1]
        at = value.find(literal, pos + 1, end)  # pos + 1: a parameter is never empty
        if at < 0:
            return None
        found[parts[i]] = value[pos:at]
        pos = at + len(literal)
    if pos >= end:
        return None
    found[parts[-2]] = value[pos:end]
    return found
