"""The operations sharing one Chalice route, and which of them a request reaches.

Several operations can share one route: the same position named differently (`/orgs/{org}`
GET and `/orgs/{name}` DELETE), or templates within a segment (`/{id}` and `/{id}.json`, both
routed as `/{id}`). A Candidate maps the route's parameter values to the operation's own
names, matching partial segments (path_templates.match_segment); per method, the candidates
are tried most literal first.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from .path_templates import Segment, literal_weight, match_segment, parse_path

# How one route parameter becomes the operation's: (route name, op name) for a whole segment,
# (route name, parts) for a partial one.
_Bind = Tuple[str, str, Any]


class Candidate:
    def __init__(self, op: Any, route: str) -> None:
        self.op = op
        self.binds: List[_Bind] = []
        if op.path == route:
            # The common case, known without parsing (a cold start makes one per operation):
            # routed on its own path, so whole segments under its own names.
            self.identity = True
            self.weight = 0  # compared only among several candidates: see by_method
            return
        # An unroutable key routed on the path before its '?' or '#' (it answers 501)
        own = parse_path(op.path.split("?", 1)[0].split("#", 1)[0])
        routed = parse_path(route)
        self.weight = literal_weight(own)
        for mine, theirs in zip(own, routed, strict=True):
            if mine.kind == "literal":
                continue
            route_name = theirs.parts[1]
            if mine.kind == "partial":
                self.binds.append(("partial", route_name, mine.parts))
            else:
                self.binds.append(("whole", route_name, mine.parts[1]))
        # The common case: the route uses this operation's names, whole segments only.
        self.identity = all(kind == "whole" and name == own_name
                            for kind, name, own_name in self.binds)

    def match(self, uri_params: Optional[Dict[str, str]]) -> Optional[Dict[str, str]]:
        """The operation's path parameters from the route's, or None if it does not match."""
        if self.identity:
            return uri_params or {}
        values = uri_params or {}
        out: Dict[str, str] = {}
        for kind, route_name, target in self.binds:
            value = values.get(route_name)
            if value is None:
                return None
            if kind == "whole":
                out[target] = value
                continue
            found = match_segment(target, value)
            if found is None:
                return None
            out.update(found)
        return out


def by_method(ops: List[Any], route: str) -> Dict[str, List[Candidate]]:
    """method -> its candidates on this route, the most literal first (then spec order)."""
    table: Dict[str, List[Candidate]] = {}
    for op in ops:
        table.setdefault(op.method, []).append(Candidate(op, route))
    for candidates in table.values():
        if len(candidates) > 1:
            for candidate in candidates:  # the weights the common case skipped
                if candidate.op.path == route:
                    candidate.weight = literal_weight(parse_path(route))
            candidates.sort(key=lambda c: -c.weight)  # stable: spec order among equals
    return table


def pick(candidates: Optional[List[Candidate]], uri_params: Optional[Dict[str, str]]
         ) -> Optional[Tuple[Any, Dict[str, str]]]:
    """The first candidate matching these route parameters, with the operation's own."""
    for candidate in candidates or ():
        found = candidate.match(uri_params)
        if found is not None:
            return candidate.op, found
    return None


def route_of(segments: List[Segment], names: List[str]) -> str:
    """The route string of a path shape, given one name per parameter segment."""
    out: List[str] = []
    params = iter(names)
    for seg in segments:
        if seg.kind == "literal":
            out.append(seg.text)
        elif seg.kind == "greedy":
            out.append("{" + next(params) + "+}")
        else:
            out.append("{" + next(params) + "}")
    return "/" + "/".join(out)
