"""Hostile input against the example service: every answer a 4xx JSON error in the one shape,
no traceback, no internals; forged tokens all refused with 401 and the right code."""
from __future__ import annotations

import base64
import datetime as dt
import json
import time

import jwt
import pytest

from tests.conftest import ROOT

DUE = (dt.date.today() + dt.timedelta(days=3)).isoformat()
SECRET = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["dev"][
    "environment_variables"]["JWT_SECRET"]
INTERNALS = ("Traceback", "pym_lambda", ".py", "Error(", "Exception", "/work/", "site-packages")


def assert_clean(reply, status=None):
    assert 400 <= reply.status < 500, reply
    if status:
        assert reply.status == status, reply
    assert set(reply.json) >= {"status", "error", "error_description", "error_id"}
    text = reply.body.decode("utf-8", "replace")
    for leak in INTERNALS:
        assert leak not in text, (leak, text)


JSON = {"content-type": "application/json"}


@pytest.mark.parametrize("body, status", [
    ('{"title": "x", "authors": [{"name": "a"}], "pad": "' + "x" * (1 << 20) + '"}', 413),
    ("[" * 100 + "]" * 100, 400),  # deeper than limits.max_json_depth
    ("[" * 100000 + "]" * 100000, 400),  # deeper than Python's recursion limit
    ('{"title": 1e999999, "authors": []}', 400),  # a float that overflows to infinity
    ('{"title": "x", "authors": [], "n": ' + "9" * 5000 + "}", 400),  # int over 4300 digits
    ('{"title": NaN, "authors": []}', 400),
    ('{"title": "a", "title": "b", "authors": [{"name": "x"}]}', 400),  # duplicate keys
    (b'{"title": "\xc3\x28", "authors": []}', 400),  # invalid UTF-8
    ('{"title": "\\ud800", "authors": [{"name": "x"}]}', None),  # lone surrogate: 2xx or 4xx
    ("", 400),
    ("null", 400),
    ('"just a string"', 400),
    ("{}" * 1000, 400),
])
def test_hostile_bodies(library, body, status):
    reply = library.request("POST", "/v1/books", body=body, headers=JSON)
    if status is None and reply.status < 300:
        return
    assert_clean(reply, status)


@pytest.mark.parametrize("content_type", [
    "text/plain", "application/xml", "multipart/form-data; boundary=x",
    "application/x-www-form-urlencoded", "application/json\r\nX-Injected: 1", "*/*", ";;;",
])
def test_wrong_content_types(library, content_type):
    reply = library.request("POST", "/v1/books", body='{"title": "x"}',
                            headers={"content-type": content_type})
    assert_clean(reply)


@pytest.mark.parametrize("path", [
    "/v1/books/..%2F..%2Fetc%2Fpasswd", "/v1/books/../../etc/passwd", "/v1/books/%00",
    "/v1/books/1%20OR%201=1", "/v1/books/" + "9" * 5000, "/v1/books/-1", "/v1/books/1e3",
    "/v1/%2e%2e/books", "/" + "a/" * 300, "/v1/books/１",  # a full-width digit
])
def test_path_traversal_and_odd_paths(library, path):
    assert_clean(library.get(path))


@pytest.mark.parametrize("query", [
    "limit=1&limit=2&limit=abc", "limit=" + "9" * 5000, "tags=" + ",".join(["x"] * 5000) +
    "&limit=0", "available=true&available=maybe", "limit=%00", "limit=1%0d%0aX-Evil:1",
])
def test_query_pollution(library, query):
    reply = library.get(f"/v1/books?{query}")
    assert reply.status in (200, 400), reply
    if reply.status == 400:
        assert_clean(reply)


def test_oversized_headers_are_431(library):
    reply = library.get("/v1/books", headers={"X-Padding": "x" * 20000})
    assert_clean(reply, 431)
    assert reply.json["error"] == "REQUEST_HEADERS_TOO_LARGE"


def test_header_injection_in_call_id_is_not_echoed(library):
    reply = library.get("/ping", headers={"PymCallID": "abc\r\nSet-Cookie: evil=1"})
    assert reply.status == 200 and "evil" not in reply.headers["PymCallID"]
    assert "Set-Cookie" not in reply.headers


def _b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(**extra):
    # Made at collection: valid for a day, so that a long (or busy) run never sees them expire.
    now = int(time.time())
    return {"sub": "mallory", "iat": now, "exp": now + 86_400, "iss": "pym-library", **extra}


def _forged_tokens():
    good = jwt.encode(_claims(), SECRET, algorithm="HS256")
    header, payload, signature = good.split(".")
    now = int(time.time())
    return {
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}.",
        "alg None with signature": f"{_b64({'alg': 'None'})}.{_b64(_claims())}.{signature}",
        "wrong secret": jwt.encode(_claims(), "another-secret-of-32-bytes-or-more!!",
                                   algorithm="HS256"),
        "HS512 not allowed": jwt.encode(_claims(), SECRET + "x" * 40, algorithm="HS512"),
        "tampered payload": f"{header}.{_b64(_claims(sub='admin'))}.{signature}",
        "truncated": good[:-10],
        "no signature": f"{header}.{payload}",
        "garbage": "garbage",
        "four parts": good + ".extra",
        "empty": "",
        "wrong issuer": jwt.encode(_claims(iss="evil"), SECRET, algorithm="HS256"),
        "not yet valid": jwt.encode(_claims(nbf=now + 3600), SECRET, algorithm="HS256"),
        "issued in the future": jwt.encode(_claims(iat=now + 3600), SECRET, algorithm="HS256"),
        "unexpected audience": jwt.encode(_claims(aud="other"), SECRET, algorithm="HS256"),
        "expired": jwt.encode(_claims(exp=now - 3600), SECRET, algorithm="HS256"),
    }


FORGED = _forged_tokens()


@pytest.mark.parametrize("name", sorted(FORGED))
def test_forged_tokens_are_refused(library, name):
    library.post("/v1/books", {"title": "Dune", "authors": [{"name": "F"}]})
    reply = library.post("/v1/books/1/loans", {"reader": "m", "due": DUE},
                         headers={"Authorization": f"Bearer {FORGED[name]}"})
    assert_clean(reply, 401)
    expected = "TOKEN_EXPIRED" if name == "expired" else "TOKEN_INVALID"
    assert reply.json["error"] == expected
    assert FORGED[name][:20] not in reply.body.decode() or not FORGED[name]
