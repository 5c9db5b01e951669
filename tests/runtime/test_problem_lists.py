"""Every problem of a request listed beside error_description (issue #17, item 5), and the
schemas fastcheck does not cover checked by pym_lambda.schema_engine, black-box."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

from pym_lambda import create_app
from tests.conftest import ROOT, JsonClient, make_project

SPEC = """
openapi: 3.0.3
info: {title: problems, version: '1'}
paths:
  /books:
    post:
      x-bind-server: tests.runtime.test_problem_lists.echo
      parameters:
        - {name: limit, in: query, schema: {type: integer, maximum: 10}}
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Book'}
      responses:
        '200': {description: ok, content: {application/json: {schema: {type: object}}}}
  /pets:
    post:
      x-bind-server: tests.runtime.test_problem_lists.echo
      requestBody:
        required: true
        content:
          application/json:
            schema:
              oneOf: [{$ref: '#/components/schemas/Cat'}, {$ref: '#/components/schemas/Dog'}]
              discriminator:
                propertyName: kind
                mapping: {cat: '#/components/schemas/Cat', dog: '#/components/schemas/Dog'}
      responses:
        '200': {description: ok, content: {application/json: {schema: {type: object}}}}
components:
  schemas:
    Book:
      type: object
      required: [title, year, id]
      properties:
        title: {type: string, maxLength: 5}
        year: {type: integer, minimum: 0}
        id: {type: integer, readOnly: true}
    Cat:
      type: object
      required: [kind, purrs]
      properties: {kind: {type: string}, purrs: {type: boolean}}
    Dog:
      type: object
      required: [kind, barks]
      properties: {kind: {type: string}, barks: {type: boolean}}
"""


def echo(body: Any = None, limit: Any = None) -> Any:
    return {"ok": True}


@pytest.fixture(scope="module", params=["oas30", "oas31"])
def problems_app(request: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    spec = SPEC if request.param == "oas30" else SPEC.replace("3.0.3", "3.1.0")
    project = make_project(tmp_path_factory.mktemp(f"problems-{request.param}"),
                           {"problems": spec})
    return create_app(project), request.param


@pytest.fixture
def api(problems_app: Any) -> Any:
    app, dialect = problems_app
    with app.pym_service.use(), Client(app) as client:
        yield JsonClient(client), dialect


def test_every_problem_of_the_body_and_the_parameters_is_listed(api: Any) -> None:
    client, dialect = api
    reply = client.post("/books?limit=50", {"title": "too long", "year": -1})
    assert reply.status == 400
    listed = [(p["field"], p["rule"]) for p in reply.json["problems"]]
    expected = [("query parameter 'limit'", "maximum"), ("body.title", "maxLength"),
                ("body.year", "minimum")]
    if dialect == "oas31":  # readOnly is an annotation in 3.1: id stays required
        expected.append(("body.id", "required"))
    assert listed == expected
    assert reply.json["error_description"].startswith("query parameter 'limit': 50")
    assert all(p["message"] for p in reply.json["problems"])
    assert list(reply.json)[:4] == ["status", "error", "error_description", "problems"]


def test_oas30_read_only_is_refused_in_a_request_and_not_required(api: Any) -> None:
    client, dialect = api
    if dialect != "oas30":
        pytest.skip("readOnly per direction is OpenAPI 3.0's")
    assert client.post("/books", {"title": "ok", "year": 1}).status == 200
    reply = client.post("/books", {"title": "ok", "year": 1, "id": 3})
    assert reply.status == 400
    assert [(p["field"], p["rule"]) for p in reply.json["problems"]] == [("body.id", "readOnly")]


def test_a_valid_request_has_no_problem_list(api: Any) -> None:
    client, dialect = api
    body = {"title": "ok", "year": 1} if dialect == "oas30" else {"title": "ok", "year": 1,
                                                                  "id": 1}
    assert client.post("/books?limit=3", body).status == 200
    reply = client.post("/books?limit=x", body)
    assert reply.status == 400
    assert reply.json["problems"] == [{"field": "query parameter 'limit'", "rule": "type",
                                       "message": reply.json["error_description"]}]


def test_the_discriminator_picks_the_branch(api: Any) -> None:
    client, _ = api
    assert client.post("/pets", {"kind": "dog", "barks": True}).status == 200
    assert client.post("/pets", {"kind": "cat", "purrs": False}).status == 200
    reply = client.post("/pets", {"kind": "dog", "purrs": 1})
    assert reply.status == 400
    assert [(p["field"], p["rule"]) for p in reply.json["problems"]] == [
        ("body.barks", "required")]
    reply = client.post("/pets", {"kind": "cow"})
    assert reply.status == 400
    assert "'cat'" in reply.json["problems"][0]["message"]
    assert "'dog'" in reply.json["problems"][0]["message"]


UNEVALUATED = """
openapi: 3.1.0
info: {title: strict, version: '1'}
paths:
  /things:
    post:
      x-bind-server: chalicelib.things.add
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              allOf: [{properties: {a: {type: string}}}]
              unevaluatedProperties: false
      responses:
        '200': {description: ok, content: {application/json: {schema: {type: object}}}}
"""
COLD_START = """
import json, sys
sys.path[:0] = {paths!r}
import app
from chalice.test import Client
before = [m for m in {forbidden!r} if m in sys.modules]
with Client(app.app) as client:
    def post(body):
        reply = client.http.post("/things", body=json.dumps(body),
                                 headers={{"content-type": "application/json"}})
        return reply.status_code, json.loads(reply.body)
    print(json.dumps([before, post({{"a": "x"}}), post({{"a": "x", "b": 1}}),
                      [m for m in {forbidden!r} if m in sys.modules]]))
"""


def test_a_schema_fastcheck_does_not_cover_imports_no_reference_validator(tmp_path: Path
                                                                           ) -> None:
    for name in ("app.py", "apis", "chalicelib", ".chalice", "pym-config.yaml"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns(
                "pym_compiled.json", "pym_validators.bin", "__pycache__"))
        else:
            shutil.copy2(source, tmp_path / name)
    (tmp_path / "apis" / "things.yaml").write_text(UNEVALUATED)
    (tmp_path / "chalicelib" / "things.py").write_text("def add(body):\n    return {}\n")
    subprocess.run([sys.executable, "-m", "pym_lambda.build.cli", "build", "--project-dir",
                    str(tmp_path)], capture_output=True, text=True, check=True)
    shutil.rmtree(tmp_path / "apis")
    import chalice

    forbidden = ("jsonschema", "openapi_schema_validator", "pym_lambda.fastcheck.generator")
    paths = [str(tmp_path), str(ROOT), str(Path(chalice.__file__).parents[1])]
    env = {"PYM_STAGE": "dev", "JWT_SECRET": "x" * 40, "AWS_LAMBDA_FUNCTION_NAME": "pym-test",
           "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-S", "-c", COLD_START.format(
        paths=paths, forbidden=forbidden)], cwd=tmp_path, env=env, capture_output=True,
        text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    before, valid, invalid, after = json.loads(out.stdout.strip().splitlines()[-1])
    assert before == [] and after == []
    assert valid == [200, {}]
    assert invalid[0] == 400
    assert [(p["field"], p["rule"]) for p in invalid[1]["problems"]] == [
        ("body.b", "unevaluatedProperties")]
