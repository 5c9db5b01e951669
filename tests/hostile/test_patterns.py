"""Hostile input against spec patterns and the framework's own regexes (issue #16, item 1).

On Python's backtracking `re`, `pattern: '^(a+)+$'` and 30 characters took about 40 s, past API
Gateway's 29 s; RE2 answers in microseconds. The time bounds below are generous on purpose
(2 s, on a shared 2-core machine): they only tell linear from exponential, never how fast.
"""
from __future__ import annotations

import json
import time
from typing import Any, Dict

import pytest
from chalice.test import Client

from pym_lambda import create_app
from pym_lambda.aws_events import rest_proxy_event
from tests.conftest import JsonClient, make_project

SPEC = """
openapi: 3.1.0
info: {title: hostile, version: '1'}
paths:
  /words/{word}:
    post:
      x-bind-server: tests.hostile.test_patterns.echo
      parameters:
        - {name: word, in: path, required: true, schema: {type: string, pattern: '^(a+)+$'}}
        - {name: digit, in: query, schema: {type: string, pattern: '^\\d$'}}
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Words'}
      responses:
        '200':
          description: ok
          content: {application/json: {schema: {type: object}}}
components:
  schemas:
    Words:
      type: object
      properties:
        word: {type: string, pattern: '^(a+)+$'}
      patternProperties:
        '^x-(a+)+$': {type: integer}
      additionalProperties: false
"""
ATTACK = "a" * 30 + "!"  # 2 ** 30 backtracking steps on `re`: about 40 s
BIG = "a" * 100_000 + "!"  # 100 KB


def echo(body: Any, word: str, digit: Any = None) -> Dict[str, Any]:
    return {"word": word, "digit": digit}


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory: Any) -> Any:
    return create_app(make_project(tmp_path_factory.mktemp("hostile"), {"hostile": SPEC}))


@pytest.fixture
def client(hostile_app: Any) -> Any:
    with hostile_app.pym_service.use(), Client(hostile_app) as chalice_client:
        yield JsonClient(chalice_client)


def _refused(reply: Any, field: str) -> None:
    assert reply.status == 400, reply
    assert reply.json["error"] == "INVALID_PARAMETER" and field in reply.json["error_description"]
    assert len(reply.json["error_description"]) <= 300  # never the whole 100 KB back


@pytest.mark.parametrize("attack", [ATTACK, BIG], ids=["30-chars", "100KB"])
def test_a_catastrophic_pattern_answers_400_at_once(client: Any, attack: str) -> None:
    started = time.perf_counter()
    _refused(client.post("/words/aaa", json_body={"word": attack}), "body.word")
    _refused(client.post("/words/aaa", json_body={"x-" + attack: 1}), "body")
    _refused(client.post(f"/words/{attack}", json_body={}), "word")
    assert time.perf_counter() - started < 2  # generous: tens of seconds each before


def test_a_lambda_event_with_the_attack_is_answered_400_at_once(hostile_app: Any) -> None:
    event = rest_proxy_event("POST", "/words/aaa", resource="/words/{word}",
                             path_parameters={"word": "aaa"},
                             headers={"Content-Type": ["application/json"]},
                             body=json.dumps({"word": ATTACK, "x-" + BIG: 1}))
    started = time.perf_counter()
    with hostile_app.pym_service.use():
        response = hostile_app(event, None)
    assert time.perf_counter() - started < 2  # generous: `re` took about 40 s
    assert response["statusCode"] == 400, response
    assert json.loads(response["body"])["error"] == "INVALID_PARAMETER"


def test_valid_words_pass(client: Any) -> None:
    reply = client.post("/words/aaa?digit=7", json_body={"word": "aa", "x-aa": 1})
    assert reply.status == 200 and reply.json == {"word": "aaa", "digit": "7"}, reply


def test_d_is_an_ascii_digit(client: Any) -> None:
    _refused(client.post("/words/aaa?digit=%DF%80", json_body={}), "digit")  # NKo zero, ߀
    _refused(client.post("/words/aaa?digit=%D9%A3", json_body={}), "digit")  # Arabic-Indic 3


def test_a_trailing_newline_never_matches_dollar(client: Any) -> None:
    _refused(client.post("/words/aaa?digit=7%0A", json_body={}), "digit")
    _refused(client.post("/words/aaa%0A", json_body={}), "word")
    _refused(client.post("/words/aaa", json_body={"word": "aa\n"}), "body.word")
    _refused(client.post("/words/aaa", json_body={"x-aa\n": 1}), "body")


def test_a_lone_surrogate_is_refused_not_a_crash(client: Any) -> None:
    reply = client.request("POST", "/words/aaa", body='{"word": "\\ud800"}',
                           headers={"content-type": "application/json"})
    _refused(reply, "body.word")


def test_a_call_id_with_a_trailing_newline_is_replaced(client: Any) -> None:
    kept = client.post("/words/aaa", json_body={}, headers={"PymCallID": "abc-1"})
    assert kept.headers["PymCallID"] == "abc-1"
    replaced = client.post("/words/aaa", json_body={}, headers={"PymCallID": "abc-1\n"})
    assert replaced.headers["PymCallID"] not in ("abc-1\n", "abc-1")


def test_a_task_name_with_a_trailing_newline_is_no_task_name() -> None:
    from pym_lambda.tasks.decorator import UnknownTask, resolve_task

    with pytest.raises(UnknownTask, match="is not a task name"):
        resolve_task("json:dumps\n")
