"""API Gateway's resource matching over Chalice route templates: the one route matcher.

Which route template a path reaches (a static segment, then ``{param}``, then a greedy
``{name+}``), used wherever Chalice needs the template it dispatches on: the WSGI adapter,
``chalice local`` (runtime/local_compat.py), the test event builders and the artifact check.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, NamedTuple, Optional, Tuple


class RouteMatch(NamedTuple):
    template: str
    path_params: Dict[str, str]


class _Node:
    """One segment of the route tree (mutable while the matcher is built)."""

    __slots__ = ("template", "static", "params", "greedy")

    def __init__(self) -> None:
        self.template: Optional[str] = None
        self.static: Dict[str, _Node] = {}
        self.params: Dict[str, _Node] = {}
        self.greedy: Optional[Tuple[str, str]] = None  # (parameter name, route template)


def path_segments(path: str) -> List[str]:
    """'/a/b/' -> ['a', 'b']: one trailing slash is dropped, as API Gateway does."""
    if path.endswith("/") and path != "/":
        path = path[:-1]
    return [] if path in ("", "/") else path.removeprefix("/").split("/")


class RouteMatcher:
    """API Gateway's resource matching over Chalice route templates.

    At each segment a static part wins over a ``{param}``, which wins over a greedy
    ``{name+}``; the greedy one takes every remaining segment (one or more). A failed branch
    falls back to the next candidate, so ``/v1/nope`` still reaches a root ``/{proxy+}``.
    """

    def __init__(self, templates: Iterable[str]) -> None:
        self._root = _Node()
        for template in templates:
            self._add(template)

    def _add(self, template: str) -> None:
        node = self._root
        parts = path_segments(template)
        for index, part in enumerate(parts):
            if part.startswith("{") and part.endswith("+}"):
                if index != len(parts) - 1:
                    raise ValueError(f"route {template}: a greedy {part} must be the last part")
                node.greedy = (part[1:-2], template)
                return
            if part.startswith("{") and part.endswith("}"):
                node = node.params.setdefault(part[1:-1], _Node())
            else:
                node = node.static.setdefault(part, _Node())
        node.template = template

    def match(self, segments: List[str]) -> Optional[RouteMatch]:
        """The route for these decoded path segments, with its path parameters, or None."""
        return self._walk(self._root, segments, 0, {})

    def _walk(self, node: _Node, segments: List[str], index: int,
              params: Dict[str, str]) -> Optional[RouteMatch]:
        if index == len(segments):
            return RouteMatch(node.template, dict(params)) if node.template else None
        segment = segments[index]
        static = node.static.get(segment)
        found = static and self._walk(static, segments, index + 1, params)
        if found:
            return found
        if segment:  # API Gateway never binds an empty segment to a parameter
            for name, child in node.params.items():
                found = self._walk(child, segments, index + 1, {**params, name: segment})
                if found:
                    return found
        if node.greedy:
            name, template = node.greedy
            return RouteMatch(template, {**params, name: "/".join(segments[index:])})
        return None
