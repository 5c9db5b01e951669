"""Hostile input against the logs and the error path of the example service, as Lambda events
(issue #16, item 6): one log line per record whatever the input, and the client always gets
the framework's JSON error with an error_id."""
from __future__ import annotations

import base64
import contextlib
import datetime as dt
import io
import json
import logging
from typing import Any, Dict, Iterator, List, Optional

import pytest

from pym_lambda import generate_token, logs
from pym_lambda.aws_events import LambdaContext, rest_proxy_event

FORGED = "\r\n2026-01-01 12:00:00,000 INFO pym_lambda: POST /v1/admin 200 0.1ms"


@contextlib.contextmanager
def lambda_logs(fmt: str) -> Iterator[List[str]]:
    """The root logger as on Lambda (our handler alone, INFO) on a strict UTF-8 stream, as
    Lambda's stdout is; yields the lines written, filled in when the block ends."""
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8", errors="strict", newline="\n")
    handler = logging.StreamHandler(stream)
    handler._pym = True  # type: ignore[attr-defined]
    handler.setFormatter(logs.JsonFormatter() if fmt == "json" else logs.TextFormatter())
    handler.addFilter(logs.ContextFilter())
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    lines: List[str] = []
    try:
        yield lines
    finally:
        root.handlers[:] = saved
        root.setLevel(level)
        stream.flush()
        lines.extend(raw.getvalue().decode("utf-8").splitlines())


def call(library: Any, method: str, path: str, *, resource: str,
         path_parameters: Optional[Dict[str, str]] = None, body: Optional[str] = None,
         is_base64: bool = False, headers: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
    import app as example

    event = rest_proxy_event(method, path, resource=resource, path_parameters=path_parameters,
                             body=body, is_base64=is_base64,
                             headers={k: [v] for k, v in (headers or {}).items()})
    reply = example.app(event, LambdaContext())
    reply["json"] = json.loads(reply["body"]) if reply.get("body") else None
    return reply


def assert_json_error(reply: Dict[str, Any], status: int, *fragments: str) -> None:
    assert reply["statusCode"] == status, reply
    assert set(reply["json"]) >= {"status", "error", "error_description", "error_id"}
    assert len(reply["json"]["error_id"]) == 36
    for fragment in fragments:
        assert fragment in reply["json"]["error_description"]


def get_book(library: Any, book_id: str) -> Dict[str, Any]:
    return call(library, "GET", f"/v1/books/{book_id}", resource="/v1/books/{book_id}",
                path_parameters={"book_id": book_id})


def lend(library: Any, sub: str, reader: str = "ann") -> Dict[str, Any]:
    due = (dt.date.today() + dt.timedelta(days=14)).isoformat()
    return call(library, "POST", "/v1/books/1/loans", resource="/v1/books/{book_id}/loans",
                path_parameters={"book_id": "1"}, body=json.dumps({"reader": reader, "due": due}),
                headers={"Content-Type": "application/json",
                         "Authorization": f"Bearer {generate_token(sub)}"})


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_cr_lf_in_a_path_gives_one_line(library, fmt):
    with lambda_logs(fmt) as lines:
        assert_json_error(get_book(library, "1" + FORGED), 400)
    assert len(lines) == 1, lines  # the request line, not two
    assert "/v1/admin" in lines[0]  # quoted inside the line, not a line of its own
    if fmt == "json":
        assert json.loads(lines[0])["path"].endswith("/v1/books/1" + FORGED)
    else:
        assert "/v1/books/1\\r\\n2026-01-01" in lines[0]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_cr_lf_in_a_sub_and_in_a_logged_body_field_give_one_line_each(library, fmt):
    library.post("/v1/books", {"title": "Dune", "authors": [{"name": "F"}]})
    with lambda_logs(fmt) as lines:
        reply = lend(library, "eve" + FORGED, reader="mallory" + FORGED)
    assert reply["statusCode"] == 201, reply
    # The example's task logs the reader (a body field) inline; then the request line.
    assert len(lines) == 2, lines
    assert all(line.startswith("{") if fmt == "json" else line.startswith("20") for line in lines)
    if fmt == "json":
        assert json.loads(lines[1])["user_id"] == "eve" + FORGED


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_lone_surrogates_in_a_path_and_a_sub_give_one_parsable_line(library, fmt):
    library.post("/v1/books", {"title": "Dune", "authors": [{"name": "F"}]})
    with lambda_logs(fmt) as lines:
        assert_json_error(get_book(library, "1\udcff"), 400)
        assert lend(library, "eve\ud800")["statusCode"] == 201
    assert len(lines) == 3, lines  # request line, task line, request line: none dropped
    if fmt == "json":
        parsed = [json.loads(line) for line in lines]
        assert parsed[0]["path"].endswith("/v1/books/1\udcff")
        assert parsed[2]["user_id"] == "eve\ud800"
    else:
        assert "\\udcff" in lines[0] and "/v1/books/1" in lines[0]


@pytest.mark.parametrize("body, is_base64, fragment", [
    ("!!!not base64=", True, "body is not valid base64"),
    ("abc", True, "body is not valid base64"),  # bad padding: binascii.Error
    ("é", True, "body is not valid base64"),  # not even ASCII
    ('{"title": "\udcff"}', False, "body is not valid UTF-8"),
])
def test_an_undecodable_body_is_a_400_with_an_error_id(library, body, is_base64, fragment):
    # Was Chalice's generic 500 without error_id: the error reporter decoded the body again
    # inside the error handler.
    with lambda_logs("json") as lines:
        reply = call(library, "POST", "/v1/books", resource="/v1/books", body=body,
                     is_base64=is_base64, headers={"Content-Type": "application/json"})
    assert_json_error(reply, 400, fragment)
    assert reply["json"]["error"] == "INVALID_PARAMETER"
    assert [json.loads(line)["status"] for line in lines] == [400]


def test_a_valid_base64_body_still_works(library):
    body = base64.b64encode(json.dumps({"title": "Dune", "authors": [{"name": "F"}]}).encode())
    reply = call(library, "POST", "/v1/books", resource="/v1/books", body=body.decode(),
                 is_base64=True, headers={"Content-Type": "application/json"})
    assert reply["statusCode"] == 201, reply


def test_huge_headers_get_the_json_error_and_one_line(library):
    with lambda_logs("json") as lines:
        reply = call(library, "GET", "/v1/books", resource="/v1/books",
                     headers={"X-Junk": "\udcff" * 40000, "User-Agent": "x\r\ny" * 1000})
    assert_json_error(reply, 431)
    assert [json.loads(line)["status"] for line in lines] == [431]
