"""CORS, configured per service (settings.cors): preflight answers and response headers.

Chalice's own `cors=` works per route and only on API Gateway; this policy answers the same way
under Lambda, `chalice local` and the WSGI fallback. An origin not in the list gets no CORS
header at all, so the browser blocks the call; its preflight gets a 403 JSON error.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, Optional, Sequence

from chalice.app import Response

from ..context import CALL_ID_HEADER, request_header

DEFAULT_ALLOW_HEADERS = ("Content-Type", "Authorization", CALL_ID_HEADER)


class CorsPolicy:
    def __init__(self, allow_origins: Sequence[str] = ("*",), allow_headers: Iterable[str] = (),
                 expose_headers: Iterable[str] = (), max_age: int = 600,
                 allow_credentials: bool = False) -> None:
        self.any_origin = "*" in allow_origins
        self.origins = {o.rstrip("/") for o in allow_origins if o != "*"}
        self.allow_headers = ", ".join(dict.fromkeys([*DEFAULT_ALLOW_HEADERS, *allow_headers]))
        self.expose_headers = ", ".join(dict.fromkeys([CALL_ID_HEADER, *expose_headers]))
        self.max_age = str(max_age)
        self.credentials = allow_credentials

    @classmethod
    def from_settings(cls, cors: Any) -> Optional[CorsPolicy]:
        if cors is None or not getattr(cors, "enabled", False):
            return None
        return cls(cors.allow_origins, cors.allow_headers, cors.expose_headers, cors.max_age,
                   cors.allow_credentials)

    def allowed_origin(self, origin: Optional[str]) -> Optional[str]:
        if not origin:
            return None
        if origin.rstrip("/") in self.origins:
            return origin
        if self.any_origin and origin != "null":
            # Never the origin echoed: with credentials a browser refuses "*", which is the
            # point (the config refuses that combination at start-up, config/safety.py).
            # "null" (sandboxed iframes, file://, redirects) is allowed only when listed.
            return "*"
        return None

    def _headers(self, allowed: str) -> Dict[str, str]:
        headers = {"Access-Control-Allow-Origin": allowed}
        if allowed != "*":
            headers["Vary"] = "Origin"
        if self.credentials:
            headers["Access-Control-Allow-Credentials"] = "true"
        return headers

    def is_preflight(self, request: Any) -> bool:
        return request.method == "OPTIONS" and \
            bool(request_header(request, "access-control-request-method"))

    def preflight(self, request: Any, methods: Iterable[str]) -> Optional[Dict[str, str]]:
        """Headers for a 204 preflight answer, or None when the origin is not allowed."""
        allowed = self.allowed_origin(request_header(request, "origin"))
        if allowed is None:
            return None
        headers = self._headers(allowed)
        headers.update({
            "Access-Control-Allow-Methods": ", ".join(sorted(methods)),
            "Access-Control-Allow-Headers": self.allow_headers,
            "Access-Control-Max-Age": self.max_age,
        })
        return headers

    def decorate(self, request: Any, response: Response) -> None:
        allowed = self.allowed_origin(request_header(request, "origin") if request else None)
        if allowed is None:
            return
        for name, value in self._headers(allowed).items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Access-Control-Expose-Headers", self.expose_headers)
