"""A request body's content type matched as RFC 9110 says: a declared
`application/xml; charset=utf-8` accepts that type (any case, the parameter in any case or
quoted) and the bare type (read as UTF-8 anyway), not another charset; the most specific
declared type wins, whatever the spec's order."""
from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.test import Client

from pym_lambda import create_app
from pym_lambda.runtime.body import media_parameters
from tests.conftest import make_project

SPEC = """
openapi: 3.0.3
info: {title: media, version: '1'}
paths:
  /xml:
    put:
      operationId: put_xml
      requestBody:
        required: true
        content:
          application/xml; charset=utf-8: {schema: {type: string}}
      responses: {'204': {description: done}}
  /json:
    post:
      operationId: post_json
      requestBody:
        required: true
        content:
          application/json;charset=UTF-8: {schema: {type: object, required: [a]}}
      responses: {'204': {description: done}}
  /latin:
    post:
      operationId: post_latin
      requestBody:
        content:
          text/plain; charset=iso-8859-1: {schema: {type: string}}
      responses: {'204': {description: done}}
  /document:
    post:
      x-bind-server: tests.runtime.test_media_types.echo
      requestBody:
        required: true
        content:
          application/xml: {schema: {$ref: '#/components/schemas/Document'}}
          text/plain: {schema: {type: string, maxLength: 3}}
          application/json: {schema: {$ref: '#/components/schemas/Document'}}
      responses:
        '200':
          description: the text received
          content: {application/json: {schema: {type: object}}}
  /text:
    post:
      operationId: post_text
      requestBody:
        content:
          '*/*': {schema: {type: string, maxLength: 1}}
          text/*: {schema: {type: string, maxLength: 2}}
          text/plain: {schema: {type: string, maxLength: 3}}
          text/plain; format=flowed: {schema: {type: string, maxLength: 4}}
      responses: {'204': {description: done}}
components:
  schemas:
    Document:
      type: object
      required: [title]
      properties: {title: {type: string}}
"""


def echo(body):
    return {"received": body if isinstance(body, str) else type(body).__name__}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    app = create_app(make_project(tmp_path_factory.mktemp("media"), {"media": SPEC}),
                     app_name="media")
    with app.pym_service.use(), Client(app) as test_client:
        yield test_client


def _status(client: Any, path: str, content_type: str, body: bytes) -> int:
    reply = client.http.request("POST" if path != "/xml" else "PUT", path,
                                headers={"content-type": content_type}, body=body)
    return int(reply.status_code)


@pytest.mark.parametrize("content_type, status", [
    ("application/xml; charset=utf-8", 501),
    ("Application/XML;Charset=\"UTF-8\"", 501),
    ("application/xml", 501),  # read as UTF-8, as declared
    ("application/xml; charset=iso-8859-1", 415),
    ("text/xml; charset=utf-8", 415),
])
def test_a_declared_charset(client: Any, content_type: str, status: int) -> None:
    assert _status(client, "/xml", content_type, b"<a/>") == status


@pytest.mark.parametrize("content_type, body, status", [
    ("application/json; charset=utf-8", b'{"a": 1}', 501),
    ("application/json", b'{"a": 1}', 501),
    ("application/json", b'{"b": 1}', 400),  # read, and checked against the schema
])
def test_json_with_a_charset(client: Any, content_type: str, body: bytes, status: int) -> None:
    assert _status(client, "/json", content_type, body) == status


@pytest.mark.parametrize("content_type, status", [
    ("text/plain; charset=ISO-8859-1", 501), ("text/plain", 415),
    ("text/plain; charset=utf-8", 415)])
def test_a_charset_other_than_utf8_must_be_sent(client: Any, content_type: str,
                                                status: int) -> None:
    assert _status(client, "/latin", content_type, b"x") == status


@pytest.mark.parametrize("content_type, longest", [
    ("text/plain; format=flowed", 4), ("text/plain", 3), ("text/plain; charset=utf-8", 3),
    ("text/html", 2), ("image/png", 1)])
def test_the_most_specific_declared_type_reads_the_body(client: Any, content_type: str,
                                                        longest: int) -> None:
    # each declared type allows a longer text: the longest one accepted names the one chosen
    assert _status(client, "/text", content_type, b"x" * longest) == 501
    assert _status(client, "/text", content_type, b"x" * (longest + 1)) == 400


def test_media_parameters() -> None:
    assert media_parameters('text/plain; Charset="UTF-8"; q="a\\"b;c"; x=1 ') == {
        "charset": "utf-8", "q": 'a"b;c', "x": "1"}
    assert media_parameters("application/json") == {}


@pytest.mark.parametrize("content_type, body, status, received", [
    # XML is not parsed: its schema (an object) describes the document, not the text
    ("application/xml", b"<doc><title>x</title></doc>", 200, "<doc><title>x</title></doc>"),
    ("text/plain", b"abc", 200, "abc"),  # a string schema still checks the text
    ("text/plain", b"abcd", 400, None),
    ("application/json", b'"<doc/>"', 400, None),  # JSON is parsed and checked
    ("application/json", b'{"title": "x"}', 200, "Document"),
])
def test_a_text_body_under_a_schema_allowing_no_string_is_handed_over(
        client: Any, content_type: str, body: bytes, status: int, received: Any) -> None:
    reply = client.http.post("/document", headers={"content-type": content_type}, body=body)
    assert reply.status_code == status, reply.body
    if received is not None:
        assert json.loads(reply.body) == {"received": received}
