"""Route dispatch for the WSGI adapter (pym_lambda.wsgi): which Chalice route a path reaches.

RouteMatcher (pym_lambda.route_matching, re-exported here) does API Gateway's resource
matching over Chalice route templates, since Chalice dispatches on the template, not the path.
make_thread_safe makes ``app.current_request`` per thread (as ``chalice local`` does), so
threaded workers (gthread) never read another request's data.
"""
from __future__ import annotations

import threading
from typing import Any

from chalice.app import Chalice

from ..route_matching import RouteMatch, RouteMatcher, path_segments

__all__ = ["RouteMatch", "RouteMatcher", "path_segments", "make_thread_safe"]

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
