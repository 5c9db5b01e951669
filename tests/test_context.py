"""The one way to read a header and the one cookie parser (http.cookies)."""
from __future__ import annotations

import time
from types import SimpleNamespace

from chalice.app import CaseInsensitiveMapping, Request

from pym_lambda.aws_events import rest_proxy_event
from pym_lambda.context import cookies, header, request_header


def test_a_header_is_found_whatever_its_case() -> None:
    assert header({"Authorization": "Bearer x"}, "authorization") == "Bearer x"
    assert header(CaseInsensitiveMapping({"Origin": "o"}), "ORIGIN") == "o"
    assert header({"a": "1"}, "b") is None and header(None, "a") is None


def test_a_request_header_is_read_from_chalice_headers_or_any_mapping() -> None:
    event = rest_proxy_event("GET", "/x", headers={"X-Trace": ["t1"], "Origin": ["o"]})
    request = Request(event)
    assert request_header(request, "x-trace") == "t1"
    assert request_header(request, "ORIGIN") == "o"
    assert request_header(request, "cookie") is None  # a miss: no KeyError escapes
    # a request built by hand (tests, adapters) with a plain dict: searched whatever the case
    plain = SimpleNamespace(headers={"X-Trace": "t2"})
    assert request_header(plain, "x-trace") == "t2" and request_header(plain, "origin") is None


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
