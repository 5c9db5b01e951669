"""The one way to read a header and the one cookie parser (http.cookies)."""
from __future__ import annotations

import time

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


def test_quoted_cookie_values_are_unquoted_in_linear_time() -> None:
    assert cookies('a="x\\073y\\"z"; b=1') == {"a": 'x;y"z', "b": "1"}
    value = '"' + "\\\\" * 8000 + '"'
    started = time.perf_counter()
    # quadratic in Python < 3.11.10 (CVE-2024-7592): 5 s here; linear: milliseconds. The
    # bound is generous on purpose (shared CI machines).
    assert cookies(f"a={value}") == {"a": "\\" * 8000}
    assert time.perf_counter() - started < 2
