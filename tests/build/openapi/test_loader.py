"""Specs fail at load, with the file, path and operation named; foreign specs load unchanged."""
from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from chalice.test import Client

from pym_lambda import SpecErrors, create_app
from tests.conftest import JsonClient, make_project

EXTERNAL = Path(__file__).resolve().parents[2] / "fixtures" / "external"

GOOD_OP = """
swagger: '2.0'
info: {title: t, version: '1'}
paths:
  /things/{thing_id}:
    get:
      operationId: getThing
      x-bind-server: %s
      parameters:
        - {name: thing_id, in: path, required: true, type: integer}
      responses:
        '200': {description: ok, schema: {$ref: '#/definitions/Thing'}}
definitions:
  Thing: {type: object, properties: {id: {type: integer}}}
"""


def load_errors(tmp_path, specs):
    with pytest.raises(SpecErrors) as info:
        create_app(make_project(tmp_path, specs))
    return info.value


def test_unknown_bind_target_names_file_path_and_operation(tmp_path):
    error = load_errors(tmp_path, {"things": GOOD_OP % "tests.fixtures.nowhere.get_thing"})
    text = str(error)
    assert "apis/things.yaml" in text and "GET /things/{thing_id}" in text
    assert "operation getThing" in text and "tests.fixtures.nowhere" in text


def test_bind_target_missing_function(tmp_path):
    text = str(load_errors(tmp_path, {"things": GOOD_OP % "tests.fixtures.petshop_impl.nope"}))
    assert "has no attribute 'nope'" in text and "operation getThing" in text


def test_function_that_cannot_take_the_declared_parameters(tmp_path):
    text = str(load_errors(tmp_path, {"things": GOOD_OP % "tests.fixtures.petshop_impl.echo"}))
    assert "does not accept the argument(s) thing_id" in text


def test_broken_ref(tmp_path):
    spec = (GOOD_OP % "tests.fixtures.petshop_impl.get_pet").replace(
        "#/definitions/Thing", "#/definitions/Thnig")
    text = str(load_errors(tmp_path, {"things": spec}))
    assert "'#/definitions/Thnig' points to nothing" in text and "operation getThing" in text


def test_remote_ref_is_refused(tmp_path):
    spec = (GOOD_OP % "tests.fixtures.petshop_impl.get_pet").replace(
        "#/definitions/Thing", "other.yaml#/Thing")
    assert "only local references" in str(load_errors(tmp_path, {"things": spec}))


def test_invalid_schema_in_definitions_and_inline(tmp_path):
    spec = (GOOD_OP % "tests.fixtures.petshop_impl.get_pet").replace(
        "type: integer}}}", "type: intger}}}").replace(
        "in: path, required: true, type: integer", "in: path, required: true, type: integr")
    error = load_errors(tmp_path, {"things": spec})
    text = str(error)
    assert "schema 'Thing': invalid schema" in text and "intger" in text
    assert "parameter 'thing_id': invalid schema" in text and "operation getThing" in text
    assert len(error.errors) == 2  # every problem at once


def test_duplicate_route_across_specs(tmp_path):
    bind = "tests.fixtures.petshop_impl.get_pet"
    other = (GOOD_OP % bind).replace("getThing", "fetchThing").replace("thing_id", "id")
    text = str(load_errors(tmp_path, {"a": GOOD_OP % bind, "b": other}))
    assert "duplicate route" in text and "apis/a.yaml" in text and "apis/b.yaml" in text


def test_invalid_yaml_and_unknown_version(tmp_path):
    text = str(load_errors(tmp_path, {"bad": "swagger: '2.0'\npaths: [\n",
                                      "odd": "openapi: 4.0.0\n"}))
    assert "apis/bad.yaml: not valid YAML (line" in text
    assert "apis/odd.yaml: unsupported openapi version '4.0.0'" in text


def test_path_parameter_not_in_path(tmp_path):
    spec = (GOOD_OP % "tests.fixtures.petshop_impl.get_pet").replace("/things/{thing_id}",
                                                                       "/things")
    assert "path parameter 'thing_id' is not in the path" in str(
        load_errors(tmp_path, {"things": spec}))


@pytest.mark.parametrize("name, calls", [
    ("petstore.openapi3.yaml", [("GET", "/v1/pets?limit=3", 501), ("GET", "/v1/pets/7", 501),
                                ("GET", "/v1/pets?limit=x", 400)]),
    ("petstore-expanded.openapi3.yaml", [("GET", "/v2/pets?tags=a,b&limit=2", 501),
                                         ("DELETE", "/v2/pets/x", 400)]),
    ("uspto.openapi3.yaml", [("GET", "/ds-api", 501), ("GET", "/ds-api/oa/v1/fields", 501),
                             ("POST", "/ds-api/oa/v1/records", 501)]),
])
def test_openapi_example_specs_load_unchanged(tmp_path, name, calls):
    (tmp_path / "apis").mkdir()
    shutil.copy(EXTERNAL / "oai" / name, tmp_path / "apis" / name)
    with Client(create_app(tmp_path, app_name="x")) as raw:
        client = JsonClient(raw)
        for method, path, status in calls:
            reply = client.request(method, path)
            assert reply.status == status, (method, path, reply)
            if status == 501:
                assert reply.json["error"] == "NOT_IMPLEMENTED"


def test_form_encoded_body_is_parsed_and_validated(tmp_path):
    (tmp_path / "apis").mkdir()
    shutil.copy(EXTERNAL / "oai" / "uspto.openapi3.yaml", tmp_path / "apis" / "uspto.yaml")
    with Client(create_app(tmp_path, app_name="x")) as raw:
        client = JsonClient(raw)
        form = {"content-type": "application/x-www-form-urlencoded"}
        bad = client.request("POST", "/ds-api/oa/v1/records", body="criteria=a&start=abc",
                             headers=form)
        assert bad.status == 400 and "body field 'start'" in bad.json["error_description"]
        missing = client.request("POST", "/ds-api/oa/v1/records", body="start=1", headers=form)
        assert missing.status == 400
        assert "'criteria' is a required property" in missing.json["error_description"]
        good = client.request("POST", "/ds-api/oa/v1/records", body="criteria=x%3A1&rows=5",
                              headers=form)
        assert good.status == 501  # parsed and valid; no function is bound


def test_operation_id_binds_by_convention_in_chalicelib_module(tmp_path):
    (tmp_path / "apis").mkdir()
    shutil.copy(EXTERNAL / "oai" / "petstore.openapi3.yaml", tmp_path / "apis" / "petstore.yaml")
    (tmp_path / "chalicelib").mkdir()
    (tmp_path / "chalicelib" / "__init__.py").write_text("")
    (tmp_path / "chalicelib" / "petstore.py").write_text(textwrap.dedent("""
        def list_pets(limit=None):
            return [{"id": 1, "name": "Tom"}][:limit]
    """))
    import sys

    # Another project's chalicelib (the example's) may be imported: set it aside, restore it.
    saved = {m: sys.modules.pop(m) for m in list(sys.modules)
             if m == "chalicelib" or m.startswith("chalicelib.")}
    sys.path.insert(0, str(tmp_path))
    try:
        with Client(create_app(tmp_path, app_name="x")) as raw:
            client = JsonClient(raw)
            assert client.get("/v1/pets?limit=1").json == [{"id": 1, "name": "Tom"}]
            assert client.get("/v1/pets/1").status == 501
    finally:
        sys.path.remove(str(tmp_path))
        for mod in [m for m in sys.modules if m == "chalicelib" or m.startswith("chalicelib.")]:
            sys.modules.pop(mod)
        sys.modules.update(saved)
