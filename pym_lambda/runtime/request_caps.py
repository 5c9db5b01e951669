"""Caps on how many parameters a request carries (limits.max_query_params, max_headers,
max_cookies; form fields are capped by body.py with limits.max_form_fields).

Each count is one pass in C over what the client sent, checked before authentication and
before any parameter is read: what follows (cookie parsing, coercion, validation) is then
bounded by the cap, not by the client.
"""
from __future__ import annotations

from typing import Any

from ..config.keys import LimitSettings
from ..context import request_header
from ..errors import HeadersTooLargeError, InvalidParameterError
from ..records import Record

_LIMITS = LimitSettings()  # the defaults, where the `limits:` keys are documented
DEFAULT_MAX_QUERY_PARAMS = _LIMITS.max_query_params
DEFAULT_MAX_HEADERS = _LIMITS.max_headers
DEFAULT_MAX_COOKIES = _LIMITS.max_cookies


class RequestCaps(Record):
    max_query_params: int = DEFAULT_MAX_QUERY_PARAMS
    max_headers: int = DEFAULT_MAX_HEADERS
    max_cookies: int = DEFAULT_MAX_COOKIES

    @classmethod
    def from_limits(cls, limits: Any) -> RequestCaps:
        defaults = cls()
        return cls(*(int(getattr(limits, name, getattr(defaults, name)))
                     for name in cls._fields))

    def check(self, request: Any) -> None:
        """Raise a 4xx naming the limit when the request carries more than it allows."""
        original = getattr(request, "to_original_event", None)
        event = (original() if original is not None else None) or {}
        query = event.get("multiValueQueryStringParameters") or event.get(
            "queryStringParameters") or request.query_params
        count = _values(query, self.max_query_params) if query else 0
        if count > self.max_query_params:
            raise InvalidParameterError(
                f"query: {count} parameter values, more than limits.max_query_params "
                f"({self.max_query_params})")
        headers = event.get("multiValueHeaders") or event.get("headers") or request.headers
        count = _values(headers, self.max_headers)
        if count > self.max_headers:
            raise HeadersTooLargeError(
                f"headers: {count} values, more than limits.max_headers ({self.max_headers})")
        cookie = request_header(request, "cookie")
        count = cookie.count(";") + 1 if cookie else 0
        if count > self.max_cookies:
            raise InvalidParameterError(
                f"cookie header: {count} cookies, more than limits.max_cookies "
                f"({self.max_cookies})")


def _values(mapping: Any, cap: int) -> int:
    """How many values a name -> value(s) mapping holds; past the cap in names alone, the
    name count (the client's count of values is not worth a pass over them)."""
    names = len(mapping)
    if names > cap:
        return names
    if isinstance(mapping, dict):  # the event's own dict: a list per name when multi-valued
        # A plain loop, at most `cap` turns: for the ten or so names of a request, cheaper
        # than passes in C that each build their iterator (set(map(type)), sum(map(len))).
        count = 0
        for value in mapping.values():
            count += len(value) if isinstance(value, list) else 1
        return count
    getlist = getattr(mapping, "getlist", None)
    if getlist is not None:  # Chalice's MultiDict (a request built without an event)
        return sum(len(getlist(name)) for name in mapping)
    return names
