"""The framework's routes served without Chalice's per-request redeciding (lean_rest.py): for a
REST proxy event (the shape of pym_lambda/build/deploy/events/apigateway-aws-proxy.json), the
app answers exactly what Chalice's own `__call__` answers, dict for dict, binary types, base64,
Chalice's own errors and the view's included; events, routes and apps it does not cover take
Chalice's path."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any, Dict, Optional

import pytest
from chalice import Chalice
from hypothesis import given, settings
from hypothesis import strategies as st

from pym_lambda import create_app
from pym_lambda.aws_events import LambdaContext
from pym_lambda.runtime import lean_rest
from pym_lambda.runtime.header_gate import gate_headers
from tests.conftest import make_project

EVENTS = Path(__file__).resolve().parents[2] / "pym_lambda" / "build" / "deploy" / "events"
IMPL = "tests.runtime.lean_rest_impl"
JSON_200 = ("responses: {'200': {description: ok, content: {application/json: "
            "{schema: {type: object}}}}}")
SPEC = f"""openapi: 3.0.3
info: {{title: lean, version: '1'}}
paths:
  /items/{{item_id}}:
    get:
      x-bind-server: {IMPL}.item
      parameters: [{{name: item_id, in: path, required: true, schema: {{type: integer}}}}]
      {JSON_200}
  /items:
    post:
      x-bind-server: {IMPL}.create
      requestBody:
        required: true
        content: {{application/json: {{schema: {{type: object, required: [name]}}}}}}
      responses: {{'201': {{description: ok, content: {{application/json: {{schema: {{}}}}}}}}}}
  /image:
    get:
      x-bind-server: {IMPL}.image
      responses: {{'200': {{description: ok, content: {{image/png: {{schema: {{type: string,
        format: binary}}}}}}}}}}
  /raw:
    get: {{x-bind-server: {IMPL}.raw, {JSON_200}}}
  /newline:
    get: {{x-bind-server: {IMPL}.newline, {JSON_200}}}
"""
CALL_ID = "lean-rest-test-call"
ACCEPTS = [None, "application/json", "image/png", "IMAGE/PNG", "*/*", "image/*",
           "text/html, image/png;q=0.9", "application/octet-stream; q=1", ""]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return create_app(make_project(tmp_path_factory.mktemp("lean"), {"lean": SPEC}),
                      app_name="lean")


def event(method: str, path: str, resource: str, accept: Optional[str] = None,
          body: Optional[str] = None, content_type: Optional[str] = None,
          path_params: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
    """The SAM sample event, made a request of `method path` to the route `resource`."""
    ev = json.loads((EVENTS / "apigateway-aws-proxy.json").read_text())
    headers = {k: v for k, v in ev["headers"].items() if k != "Accept"}
    headers["PymCallID"] = CALL_ID  # the call id the answer carries: both ways the same
    if accept is not None:
        headers["Accept"] = accept
    if content_type is not None:
        headers["Content-Type"] = content_type
    ev.update(resource=resource, path=path, httpMethod=method, body=body,
              headers=headers, multiValueHeaders={k: [v] for k, v in headers.items()},
              queryStringParameters=None, multiValueQueryStringParameters=None,
              pathParameters=path_params)
    ev["requestContext"].update(resourcePath=resource, httpMethod=method, path=f"/api{path}")
    return ev


def both_ways(app: Any, ev: Dict[str, Any]) -> Any:
    """(the app's answer, Chalice's own answer) to the same event, error ids made equal."""
    ctx = LambdaContext("lean")
    lean = app(copy.deepcopy(ev), ctx)
    own = Chalice.__call__(app, gate_headers(copy.deepcopy(ev), app.pym_max_headers), ctx)
    return _same_ids(lean), _same_ids(own)


def _same_ids(answer: Dict[str, Any]) -> Dict[str, Any]:
    if isinstance(answer.get("body"), str):
        answer["body"] = re.sub(r'"error_id":"[^"]*"', '"error_id":"-"', answer["body"])
    return answer


CASES = [
    ("GET", "/items/3", "/items/{item_id}", {"item_id": "3"}, None, None),
    ("GET", "/items/x", "/items/{item_id}", {"item_id": "x"}, None, None),  # our 400
    ("GET", "/items/404", "/items/{item_id}", {"item_id": "404"}, None, None),
    ("GET", "/items/500", "/items/{item_id}", {"item_id": "500"}, None, None),
    ("DELETE", "/items/3", "/items/{item_id}", {"item_id": "3"}, None, None),  # our 405
    ("POST", "/items", "/items", None, '{"name": "a"}', "application/json"),
    ("POST", "/items", "/items", None, '{"name": "a"}', "text/plain"),  # our 415
    ("POST", "/items", "/items", None, "{", "application/json"),
    ("GET", "/image", "/image", None, None, None),
    ("GET", "/raw", "/raw", None, None, None),
    ("GET", "/newline", "/newline", None, None, None),
    ("GET", "/nowhere/at/all", "/{proxy+}", {"proxy": "nowhere/at/all"}, None, None),
]


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("method,path,resource,params,body,content_type", CASES)
def test_the_same_answer_as_chalice(app, monkeypatch, method, path, resource, params, body,
                                    content_type, accept):
    served = []
    monkeypatch.setattr(lean_rest.LeanRestHandler, "response_dict", _spy(served))
    lean, own = both_ways(app, event(method, path, resource, accept, body, content_type,
                                     params))
    assert served, "the lean handler did not serve this event"
    assert lean == own


def _spy(served: list) -> Any:
    real = lean_rest.LeanRestHandler.response_dict

    def response_dict(self: Any, response: Any) -> Any:
        served.append(response)
        return real(self, response)
    return response_dict


def test_binary_answers_are_the_ones_chalice_gives(app):
    png = event("GET", "/image", "/image", "image/png")
    refused = event("GET", "/image", "/image", "application/json")
    lean, _ = both_ways(app, png)
    assert lean["isBase64Encoded"] is True and lean["statusCode"] == 200
    lean, _ = both_ways(app, refused)
    assert lean["statusCode"] == 400 and "Accept header" in lean["body"]


def test_binary_types_edited_after_a_request_are_followed(app):
    ev = event("GET", "/items/3", "/items/{item_id}", "application/json", path_params={
        "item_id": "3"})
    assert "isBase64Encoded" not in app(ev, LambdaContext("lean"))
    app.api.binary_types.append("application/json")  # a list anyone may edit, at any time
    try:
        lean, own = both_ways(app, ev)
        assert lean == own and lean["isBase64Encoded"] is True
    finally:
        app.api.binary_types.remove("application/json")
    assert "isBase64Encoded" not in app(ev, LambdaContext("lean"))


@settings(max_examples=150, deadline=None)
@given(accept=st.one_of(st.none(), st.text(max_size=40),
                        st.lists(st.sampled_from(["image/png", "*/*", "text/*", ";q=0", ",",
                                                  " ", "IMAGE/GIF", "application/json"]),
                                 max_size=5).map("".join)))
def test_any_accept_header_gets_chalices_answer(app, accept):
    for ev in (event("GET", "/image", "/image", accept),
               event("GET", "/items/3", "/items/{item_id}", accept,
                     path_params={"item_id": "3"})):
        lean, own = both_ways(app, ev)
        assert lean == own


def test_the_memo_of_content_types_is_bounded(app):
    for i in range(lean_rest.MEMO_SIZE * 2):
        app(event("GET", "/items/3", "/items/{item_id}", f"text/x-{i}",
                  path_params={"item_id": "3"}), LambdaContext("lean"))
    assert len(app._pym_binary.answers) <= lean_rest.MEMO_SIZE


def test_what_it_does_not_cover_takes_chalices_path(tmp_path):
    app = create_app(make_project(tmp_path, {"lean": SPEC}), app_name="lean2")

    @app.route("/mine", methods=["GET"])  # a route written by hand: not the framework's
    def mine() -> Any:
        return {"mine": True}

    item = event("GET", "/items/3", "/items/{item_id}", path_params={"item_id": "3"})
    assert lean_rest.own_route(app, item) is not None
    assert lean_rest.own_route(app, event("GET", "/mine", "/mine")) is None
    no_params = event("GET", "/items/3", "/items/{item_id}")  # pathParameters null
    assert lean_rest.own_route(app, no_params) is None
    lean, own = both_ways(app, no_params)
    assert lean == own and lean["statusCode"] == 500
    assert lean_rest.own_route(app, ["not", "an", "event"]) is None
    assert lean_rest.own_route(app, {"requestContext": None}) is None

    seen = []

    @app.middleware("http")
    def middleware(request: Any, get_response: Any) -> Any:
        seen.append(request.path)
        return get_response(request)

    assert lean_rest.own_route(app, item) is None  # middleware: Chalice runs the chain
    assert app(item, LambdaContext("lean"))["statusCode"] == 200 and seen == ["/items/{item_id}"]
