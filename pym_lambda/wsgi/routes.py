"""Route dispatch for the WSGI adapter (pym_lambda.wsgi): which Chalice route a path reaches.

RouteMatcher does API Gateway's resource matching over Chalice route templates (static, then
``{param}``, then greedy ``{name+}``), since Chalice dispatches on the template, not the path.
make_thread_safe makes ``app.current_request`` per thread (as ``chalice local`` does), so
threaded workers (gthread) never read another request's data.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple

from chalice.app import Chalice

# --- route matching ------------------------------------------------------------------------

@dataclass(frozen=True)
class RouteMatch:
    template: str
    path_params: Dict[str, str]


@dataclass
class _Node:
    template: Optional[str] = None
    static: Dict[str, _Node] = field(default_factory=dict)
    params: Dict[str, _Node] = field(default_factory=dict)
    greedy: Optional[Tuple[str, str]] = None  # (parameter name, route template)


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


# --- thread-local request state --------------------------------------------------------------

class _ThreadLocalRequestState:
    """Mixed into the app's class: Chalice's per-request attributes become per-thread.

    Chalice.__call__ stores the request on the app (``self.current_request = ...``) and views
    read it back: one attribute shared by every thread of a gthread worker. chalice local's
    LocalChalice solves it the same way (a threading.local behind a property).
    """

    _pym_thread_state: threading.local

    @property
    def current_request(self) -> Any:
        return getattr(self._pym_thread_state, "current_request", None)

    @current_request.setter
    def current_request(self, value: Any) -> None:
        self._pym_thread_state.current_request = value

    @property
    def lambda_context(self) -> Any:
        return getattr(self._pym_thread_state, "lambda_context", None)

    @lambda_context.setter
    def lambda_context(self, value: Any) -> None:
        self._pym_thread_state.lambda_context = value


def make_thread_safe(app: Chalice) -> Chalice:
    """Swap `app`'s class for a subclass whose request attributes are thread-local."""
    if not isinstance(app, _ThreadLocalRequestState):
        cls = type(app)
        app.__class__ = type(f"ThreadLocal{cls.__name__}", (_ThreadLocalRequestState, cls),
                             {"_pym_thread_state": threading.local()})
        for name in ("current_request", "lambda_context"):
            app.__dict__.pop(name, None)  # the properties win anyway; drop stale values
    return app
