"""Make `chalice local` match routes as API Gateway does, with the one route matcher
(pym_lambda.route_matching): a static segment beats a ``{param}``, and ``{proxy+}`` takes
several path segments (chalice local matches it on one only), so that unknown paths get the
framework's 404 JSON error locally too and not a 403 "Missing Authentication Token"."""
from __future__ import annotations

from typing import Any

from ..route_matching import RouteMatcher, path_segments

_PATCHED = False


def patch_greedy_routes() -> None:
    global _PATCHED
    if _PATCHED:
        return
    from urllib.parse import parse_qs, urlparse

    from chalice import local

    def match_route(self: Any, url: str) -> Any:
        matcher = self.__dict__.get("_pym_matcher")
        if matcher is None:  # routes are fixed once chalice local serves: build it once
            matcher = self.__dict__["_pym_matcher"] = RouteMatcher(self.route_urls)
        parsed = urlparse(url)
        # Path parameters stay percent-encoded, as chalice local passes them on.
        found = matcher.match(path_segments(parsed.path))
        if found is None:
            raise ValueError(f"No matching route found for: {url}")
        return local.MatchResult(found.template, found.path_params,
                                 parse_qs(parsed.query, keep_blank_values=True))

    local.RouteMatcher.match_route = match_route  # type: ignore[method-assign]
    _PATCHED = True
