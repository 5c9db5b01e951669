"""The header count checked on the raw event, before Chalice builds its Request.

Chalice's Request lowercases every header name into a new mapping before any route runs:
1 MiB of one-byte headers cost 23 ms there, 150x one header of that size, whatever the
framework does after. `GatedChalice` counts the event's header names first (len() of a dict)
and, past `limits.max_headers`, hands Chalice the event without its headers and with the
refusal noted, which the dispatcher answers as the usual 431 JSON error, logged as any request.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from chalice.app import Chalice

from .request_caps import DEFAULT_MAX_HEADERS

REFUSED_KEY = "pymHeadersRefused"  # an event key API Gateway never sends


def gate_headers(event: Any, max_headers: int) -> Any:
    """The event itself, or past the cap in header names a copy without headers that says so."""
    if not isinstance(event, dict):
        return event
    multi, single = event.get("multiValueHeaders"), event.get("headers")
    # inline, not a helper per map: this runs for every request
    names = max(len(multi) if isinstance(multi, dict) else 0,
                len(single) if isinstance(single, dict) else 0)
    if names <= max_headers:
        return event
    return {**event, "headers": {}, "multiValueHeaders": {},
            REFUSED_KEY: f"headers: {names} names, more than limits.max_headers ({max_headers})"}


def refusal(event: Optional[Dict[str, Any]]) -> Optional[str]:
    return event.get(REFUSED_KEY) if isinstance(event, dict) else None


class GatedChalice(Chalice):
    """Chalice whose Lambda entry point gates the header count first (create_app's class)."""

    pym_max_headers = DEFAULT_MAX_HEADERS

    def __call__(self, event: Any, context: Any) -> Dict[str, Any]:
        event = gate_headers(event, self.pym_max_headers)
        if not _LEAN:  # lean_rest.py: imported by the first request, not a cold start
            from .lean_rest import own_route, serve

            _LEAN[:] = [own_route, serve]
        own_route, serve = _LEAN
        if own_route(self, event) is None:
            return super().__call__(event, context)
        return serve(self, event, context)  # type: ignore[no-any-return]


_LEAN: List[Any] = []
