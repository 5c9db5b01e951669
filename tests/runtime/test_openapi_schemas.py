"""OpenAPI's own schema rules, black-box through real operations (issue #17): discriminator
(3.0 and 3.1, with and without mapping, allOf style), readOnly/writeOnly with `required` per
direction, 3.0 `type: 'null'`, `$ref`s into nested definitions, `\\p{L}` patterns."""
from __future__ import annotations

from typing import Any, Dict

import pytest
import yaml
from chalice.test import Client

from pym_lambda import create_app
from tests.conftest import JsonClient, make_project
from tests.runtime.test_requests import assert_error

# What the operations return: set by each test (the response checks are under test too).
REPLY: Dict[str, Any] = {}


def echo(body: Any = None) -> Any:
    return REPLY.get("value", {"ok": True})


LEAF = "#/components/schemas/Outer/definitions/Leaf"


def pet_schemas(mapping: str) -> Dict[str, Any]:
    disc: Dict[str, Any] = {"propertyName": "kind"}
    if mapping == "refs":
        disc["mapping"] = {"cat": "#/components/schemas/Cat", "dog": "#/components/schemas/Dog"}
    elif mapping == "names":
        disc["mapping"] = {"cat": "Cat", "dog": "Dog"}
    return {
        "Pet": {"oneOf": [{"$ref": "#/components/schemas/Cat"},
                          {"$ref": "#/components/schemas/Dog"}], "discriminator": disc},
        "Cat": {"type": "object", "required": ["kind", "meows"],
                "properties": {"kind": {"type": "string"}, "meows": {"type": "boolean"}}},
        "Dog": {"type": "object", "required": ["kind", "barks"],
                "properties": {"kind": {"type": "string"}, "barks": {"type": "integer"}}},
        # allOf style: the base names the property, the tag adds the derived schema's rules
        "Animal": {"type": "object", "required": ["kind"],
                   "discriminator": {"propertyName": "kind"},
                   "properties": {"kind": {"type": "string"}, "name": {"type": "string"}}},
        "Bird": {"allOf": [{"$ref": "#/components/schemas/Animal"},
                           {"type": "object", "required": ["wings"],
                            "properties": {"wings": {"type": "integer", "minimum": 2}}}]},
        "User": {"type": "object", "required": ["id", "name", "password", "ref_id", "via_all"],
                 "properties": {
                     "id": {"type": "integer", "readOnly": True},
                     "name": {"type": "string"},
                     "password": {"type": "string", "writeOnly": True},
                     "ref_id": {"$ref": "#/components/schemas/Id"},
                     "via_all": {"allOf": [{"$ref": "#/components/schemas/Id"}]}}},
        "Admin": {"allOf": [{"$ref": "#/components/schemas/User"},
                            {"type": "object", "required": ["level"],
                             "properties": {"level": {"type": "integer"}}}]},
        "Id": {"type": "integer", "readOnly": True},
        "Outer": {"type": "object", "definitions": {
            "Inner": {"type": "object", "required": ["x"],
                      "properties": {"x": {"type": "integer"},
                                     "next": {"$ref": LEAF}}},
            "Leaf": {"type": "string", "maxLength": 3}}},
    }


def op(schema: Dict[str, Any], response: Any = None) -> Dict[str, Any]:
    return {"post": {
        "x-bind-server": "tests.runtime.test_openapi_schemas.echo",
        "requestBody": {"content": {"application/json": {"schema": schema}}},
        "responses": {"200": {"description": "ok", "content": {"application/json": {
            "schema": response or {"type": "object"}}}}}}}


def spec(version: str, mapping: str) -> str:
    ref = "#/components/schemas/"
    doc = {
        "openapi": version, "info": {"title": "oas", "version": "1"},
        "paths": {
            "/pets": op({"$ref": ref + "Pet"}),
            "/inline-pets": op({"anyOf": [{"$ref": ref + "Cat"}, {"$ref": ref + "Dog"}],
                                "discriminator": {"propertyName": "kind"}}),
            "/animals": op({"$ref": ref + "Animal"}),
            "/users": op({"$ref": ref + "User"}, {"$ref": ref + "User"}),
            "/admins": op({"$ref": ref + "Admin"}),
            "/nulls": op({"type": "object", "properties": {"n": {"type": "null"}}}),
            "/nested": op({"$ref": ref + "Outer/definitions/Inner"}),
            "/names": op({"type": "object", "properties": {
                "name": {"type": "string", "pattern": "^\\p{L}+$"}}}),
        },
        "components": {"schemas": pet_schemas(mapping)},
    }
    if version.startswith("3.1"):  # 3.1 has 'null' as a type; the 3.0 spelling stays valid
        doc["paths"]["/nulls"] = op({"type": "object", "properties": {"n": {"type": "null"}}})
    return yaml.safe_dump(doc)


@pytest.fixture(scope="module", params=[("3.0.3", "refs"), ("3.0.3", "names"),
                                        ("3.0.3", "none"), ("3.1.0", "refs"),
                                        ("3.1.0", "none")],
                ids=lambda p: f"{p[0]}-mapping-{p[1]}")
def oas_app(request, tmp_path_factory):
    version, mapping = request.param
    project = make_project(tmp_path_factory.mktemp("oas"), {"oas": spec(version, mapping)})
    return create_app(project), version, mapping


@pytest.fixture
def client(oas_app):
    app, version, mapping = oas_app
    REPLY.clear()
    with app.pym_service.use(), Client(app) as chalice_client:
        yield JsonClient(chalice_client), version, mapping


@pytest.mark.parametrize("path", ["/pets", "/inline-pets"])
def test_discriminator_picks_the_branch(client, path):
    c, _, mapping = client
    mapped = path == "/pets" and mapping != "none"
    tag, dog = ("cat", "dog") if mapped else ("Cat", "Dog")
    assert c.post(path, {"kind": tag, "meows": True}).status == 200
    assert c.post(path, {"kind": dog, "barks": 3}).status == 200
    # checked against the tagged branch only: its problem, not "valid under none"
    assert_error(c.post(path, {"kind": dog, "barks": "loud"}), 400, "INVALID_PARAMETER",
                 "body.barks", "'loud' is not of type 'integer'")
    assert_error(c.post(path, {"kind": tag, "barks": 3}), 400, "INVALID_PARAMETER",
                 "'meows' is a required property")


def test_discriminator_tags_by_mapping_and_by_schema_name(client):
    c, *_ = client
    # with a mapping the mapped tags are the allowed ones, the schema names stay allowed too
    assert c.post("/pets", {"kind": "Cat", "meows": False}).status == 200


@pytest.mark.parametrize("path", ["/pets", "/inline-pets"])
def test_a_missing_or_unknown_tag_is_named(client, path):
    c, *_ = client
    assert_error(c.post(path, {"meows": True}), 400, "INVALID_PARAMETER",
                 "body.kind: 'kind' is a required property")
    reply = c.post(path, {"kind": "bird"})
    assert_error(reply, 400, "INVALID_PARAMETER", "body.kind: 'bird' is not one of [",
                 "'Cat'", "'Dog'")
    assert_error(c.post(path, {"kind": 3}), 400, "INVALID_PARAMETER", "body.kind: 3 is not one of")


def test_discriminator_of_a_non_object_is_oneOf_anyOf(client):
    c, *_ = client
    assert_error(c.post("/pets", [1]), 400, "INVALID_PARAMETER", "is not valid under any")


def test_allOf_style_discriminator_adds_the_named_schema(client):
    c, *_ = client
    assert c.post("/animals", {"kind": "Animal"}).status == 200  # names itself: only itself
    assert c.post("/animals", {"kind": "Fish"}).status == 200  # names nothing: only itself
    assert c.post("/animals", {"kind": "Bird", "wings": 2}).status == 200
    assert_error(c.post("/animals", {"kind": "Bird", "wings": 1}), 400, "INVALID_PARAMETER",
                 "body.wings", "minimum")
    assert_error(c.post("/animals", {"kind": "Bird"}), 400, "INVALID_PARAMETER",
                 "'wings' is a required property")
    assert_error(c.post("/animals", {"name": "x"}), 400, "INVALID_PARAMETER",
                 "'kind' is a required property")


def test_read_only_is_not_required_in_a_request_and_refused_if_sent(client):
    c, version, _ = client
    REPLY["value"] = {"id": 1, "name": "a", "ref_id": 2, "via_all": 3}
    reply = c.post("/users", {"name": "a", "password": "p"})
    if version.startswith("3.1"):  # annotations in 3.1: required is required
        assert_error(reply, 400, "INVALID_PARAMETER", "'id' is a required property")
        return
    assert reply.status == 200, reply
    for field, value in [("id", 1), ("ref_id", 2), ("via_all", 3)]:
        assert_error(c.post("/users", {"name": "a", "password": "p", field: value}), 400,
                     "INVALID_PARAMETER", f"body.{field}: {field} is read-only")
    assert_error(c.post("/users", {"password": "p"}), 400, "INVALID_PARAMETER",
                 "'name' is a required property")
    assert c.post("/admins", {"name": "a", "password": "p", "level": 1}).status == 200


def test_write_only_mirrors_it_in_responses(client):
    c, version, _ = client
    if version.startswith("3.1"):
        return
    body = {"name": "a", "password": "p"}
    REPLY["value"] = {"id": 1, "name": "a", "ref_id": 2, "via_all": 3}
    assert c.post("/users", body).status == 200  # the response need not return password
    REPLY["value"] = {"name": "a", "ref_id": 2, "via_all": 3}
    reply = c.post("/users", body)  # but id, read-only, is required in the response
    assert reply.status == 500 and reply.json["error"] == "BAD_RESPONSE"
    REPLY["value"] = {"id": 1, "name": "a", "ref_id": 2, "via_all": 3, "password": "p"}
    reply = c.post("/users", body)  # a write-only value is never returned
    assert reply.status == 500 and reply.json["error"] == "BAD_RESPONSE"


def test_type_null_accepts_only_null(client):
    c, *_ = client
    assert c.post("/nulls", {"n": None}).status == 200
    assert_error(c.post("/nulls", {"n": 0}), 400, "INVALID_PARAMETER",
                 "body.n: 0 is not of type 'null'")


def test_refs_into_nested_definitions(client):
    c, *_ = client
    assert c.post("/nested", {"x": 1, "next": "abc"}).status == 200
    assert_error(c.post("/nested", {"x": 1, "next": "abcd"}), 400, "INVALID_PARAMETER",
                 "body.next", "too long")
    assert_error(c.post("/nested", {}), 400, "INVALID_PARAMETER", "'x' is a required property")


def test_unicode_letter_class_patterns(client):
    c, *_ = client
    assert c.post("/names", {"name": "Zoë"}).status == 200
    assert c.post("/names", {"name": "日本"}).status == 200
    assert_error(c.post("/names", {"name": "a1"}), 400, "INVALID_PARAMETER", "body.name",
                 "does not match")
