"""Make `chalice local` match `{proxy+}` routes as API Gateway does: greedily, over several
path segments (chalice local matches them on one segment only), so that unknown paths get the
framework's 404 JSON error locally too and not a 403 "Missing Authentication Token"."""
from __future__ import annotations

from typing import Any

_PATCHED = False


def patch_greedy_routes() -> None:
    global _PATCHED
    if _PATCHED:
        return
    from urllib.parse import parse_qs, urlparse

    from chalice import local

    original = local.RouteMatcher.match_route

    def match_route(self: Any, url: str) -> Any:
        try:
            return original(self, url)
        except ValueError:
            parsed = urlparse(url)
            path = parsed.path.rstrip("/") or "/"
            for route in sorted(self.route_urls, key=len, reverse=True):
                if not route.endswith("+}"):
                    continue
                prefix = route[:route.rindex("/{")]
                if path.startswith(prefix + "/") and len(path) > len(prefix) + 1:
                    name = route[route.rindex("{") + 1:-1]
                    captured = {name: path[len(prefix) + 1:]}
                    return local.MatchResult(route, captured,
                                             parse_qs(parsed.query, keep_blank_values=True))
            raise

    local.RouteMatcher.match_route = match_route  # type: ignore[method-assign]
    _PATCHED = True
