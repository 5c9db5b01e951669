"""The one way to read a header and the one cookie parser (http.cookies)."""
from __future__ import annotations

from chalice.app import CaseInsensitiveMapping

from pym_lambda.context import cookies, header


def test_a_header_is_found_whatever_its_case() -> None:
    assert header({"Authorization": "Bearer x"}, "authorization") == "Bearer x"
    assert header(CaseInsensitiveMapping({"Origin": "o"}), "ORIGIN") == "o"
    assert header({"a": "1"}, "b") is None and header(None, "a") is None


def test_cookies_are_parsed_by_http_cookies_pair_by_pair() -> None:
    parsed = cookies('a=1; token="x.y"; broken pair; a=2; ok=Bearer%20z')
    assert parsed == {"a": "1", "token": "x.y", "ok": "Bearer%20z"}
    assert cookies(None) == {} and cookies("") == {}
