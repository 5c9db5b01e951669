"""Where openapi-schema-validator is wrong, the fast checkers are right (issue #17): the
OpenAPI rules of docs/guide.md, each against the answer it must give (the differential tests
list these cases in DEVIATIONS and leave them out)."""
from __future__ import annotations

from typing import Any, Dict, Optional

import pytest

from pym_lambda.fastcheck import Unsupported, compile_checker, generate_module

DEFS: Dict[str, Any] = {
    "Cat": {"type": "object", "required": ["kind", "meows"],
            "properties": {"kind": {"type": "string"}, "meows": {"type": "boolean"}}},
    "Dog": {"type": "object", "required": ["kind", "barks"],
            "properties": {"kind": {"type": "string"}, "barks": {"type": "integer"}}},
    "Pet": {"oneOf": [{"$ref": "#/definitions/Cat"}, {"$ref": "#/definitions/Dog"}],
            "discriminator": {"propertyName": "kind"}},
    # allOf style, three levels: Animal <- Bird <- Parrot
    "Animal": {"type": "object", "required": ["kind"], "discriminator": {"propertyName": "kind"},
               "properties": {"kind": {"type": "string"}}},
    "Bird": {"allOf": [{"$ref": "#/definitions/Animal"},
                       {"required": ["wings"], "properties": {"wings": {"minimum": 2}}}]},
    "Parrot": {"allOf": [{"$ref": "#/definitions/Bird"},
                         {"required": ["words"], "properties": {"words": {"type": "array"}}}]},
    "Id": {"type": "integer", "readOnly": True},
    "Secret": {"type": "string", "writeOnly": True},
    "Base": {"type": "object", "properties": {"id": {"$ref": "#/definitions/Id"}}},
    "Outer": {"definitions": {"Inner": {"type": "string", "maxLength": 2}},
              "$defs": {"Other": {"const": 1}}},
}


def check(schema: Any, dialect: str = "oas30", context: str = "request",
          defs: Optional[Dict[str, Any]] = None) -> Any:
    return compile_checker(schema, DEFS if defs is None else defs, dialect, context, "body")


@pytest.mark.parametrize("dialect", ["oas30", "oas31"])
@pytest.mark.parametrize("mapping", [None, "#/definitions/Cat", "Cat",
                                     "#/components/schemas/Cat"])
def test_the_discriminator_picks_the_branch(dialect, mapping):
    disc: Dict[str, Any] = {"propertyName": "kind"}
    if mapping:
        disc["mapping"] = {"cat": mapping}
    pet = check({"oneOf": [{"$ref": "#/definitions/Cat"}, {"$ref": "#/definitions/Dog"}],
                 "discriminator": disc}, dialect)
    tag = "cat" if mapping else "Cat"
    assert pet({"kind": tag, "meows": True}) is None
    assert pet({"kind": "Dog", "barks": 1}) is None
    # the tagged branch alone: its own problem (the reference said "valid under none", or
    # with 3.0 "could not be resolved" for every value)
    assert pet({"kind": tag, "meows": 1}) == "body.meows: 1 is not of type 'boolean'"
    assert pet({"meows": True}) == ("body.kind: 'kind' is a required property (it names the "
                                    "schema of this object)")
    allowed = "['Cat', 'Dog', 'cat']" if mapping else "['Cat', 'Dog']"
    assert pet({"kind": "cow"}) == f"body.kind: 'cow' is not one of {allowed}"
    assert pet({"kind": None}) == f"body.kind: None is not one of {allowed}"
    assert pet(3) == "body: 3 is not valid under any of the given schemas"  # not an object


def test_a_value_valid_under_two_branches_passes_by_its_tag():
    # plain oneOf refuses it (both branches accept it); the tag says which one it is
    loose = {"Cat": {"type": "object"}, "Dog": {"type": "object"}}
    pet = check({"oneOf": [{"$ref": "#/definitions/Cat"}, {"$ref": "#/definitions/Dog"}],
                 "discriminator": {"propertyName": "kind"}}, "oas31", defs=loose)
    assert pet({"kind": "Cat"}) is None


def test_a_mapping_to_a_schema_that_is_no_branch_checks_that_schema():
    pet = check({"anyOf": [{"$ref": "#/definitions/Cat"}],
                 "discriminator": {"propertyName": "kind",
                                   "mapping": {"dog": "#/definitions/Dog"}}})
    assert pet({"kind": "dog", "barks": 2}) is None
    assert pet({"kind": "dog"}) == "body: 'barks' is a required property"


def test_allOf_style_discriminator_checks_the_derived_schema_too():
    animal = check({"$ref": "#/definitions/Animal"})
    assert animal({"kind": "Animal"}) is None
    assert animal({"kind": "Unknown"}) is None  # names no schema: the base alone
    assert animal({"kind": "Bird", "wings": 2}) is None
    assert animal({"kind": "Bird", "wings": 1}) == "body.wings: 1 is less than the minimum of 2"
    assert animal({"kind": "Parrot", "wings": 2}) == "body: 'words' is a required property"
    assert animal({"kind": "Parrot", "wings": 2, "words": []}) is None
    # reached from Bird's allOf, Animal does not dispatch again: no endless recursion
    bird = check({"$ref": "#/definitions/Bird"})
    assert bird({"kind": "Bird", "wings": 3}) is None
    assert bird({"kind": "Parrot", "wings": 3}) == "body: 'words' is a required property"


@pytest.mark.parametrize("schema", [
    {"type": "object", "required": ["id"], "properties": {"id": {"readOnly": True}}},
    {"type": "object", "required": ["id"], "properties": {"id": {"$ref": "#/definitions/Id"}}},
    {"type": "object", "required": ["id"],
     "properties": {"id": {"allOf": [{"$ref": "#/definitions/Id"}]}}},
    {"allOf": [{"$ref": "#/definitions/Base"}, {"required": ["id"]}], "required": ["id"]},
    {"$ref": "#/definitions/Base", "required": ["id"]},
], ids=["own", "ref", "allOf-ref", "allOf-sibling", "ref-sibling"])
def test_read_only_properties_are_not_required_in_requests(schema):
    request, response = check(schema), check(schema, context="response")
    assert request({}) is None
    assert request({"id": 1}) == "body.id: id is read-only"
    assert response({}) == "body: 'id' is a required property"
    assert response({"id": 1}) is None


def test_an_allOf_group_judges_required_for_its_own_value_only():
    schema = {"allOf": [{"$ref": "#/definitions/Base"},
                        {"properties": {"child": {"required": ["id"]}}}]}
    assert check(schema)({"child": {}}) == "body.child: 'id' is a required property"
    assert check(schema)({"child": {"id": 1}}) is None


def test_write_only_mirrors_it_in_responses():
    schema = {"type": "object", "required": ["pw", "name"],
              "properties": {"pw": {"$ref": "#/definitions/Secret"}, "name": {}}}
    request, response = check(schema), check(schema, context="response")
    assert request({"name": 1}) == "body: 'pw' is a required property"
    assert response({"name": 1}) is None
    assert response({"name": 1, "pw": "x"}) == "body.pw: pw is write-only"
    items = check({"type": "array", "items": {"$ref": "#/definitions/Secret"}},
                  context="response")
    assert items(["x"]) == "body[0]: 0 is write-only"
    assert check({"$ref": "#/definitions/Secret"}, context="response")("x") == \
        "body: value is write-only"


def test_read_only_is_an_annotation_in_31():
    schema = {"type": "object", "required": ["id"],
              "properties": {"id": {"$ref": "#/definitions/Id"}}}
    assert check(schema, "oas31")({}) == "body: 'id' is a required property"
    assert check(schema, "oas31")({"id": 1}) is None


def test_type_null_in_30_means_only_null():
    null = check({"type": "object", "properties": {"n": {"type": "null"}}})
    assert null({"n": None}) is None
    assert null({"n": 0}) == "body.n: 0 is not of type 'null'"


def test_if_then_else_and_dependent_schemas_in_31():
    cond = check({"if": {"type": "string"}, "then": {"minLength": 2}, "else": {"minimum": 3}},
                 "oas31")
    assert cond("ab") is None and cond(3) is None
    assert cond("a") == "body: 'a' is too short"
    assert cond(2) == "body: 2 is less than the minimum of 3"
    dep = check({"dependentSchemas": {"a": {"required": ["b"]}}}, "oas31")
    assert dep({"a": 1, "b": 2}) is None and dep({}) is None
    assert dep({"a": 1}) == "body: 'b' is a required property"


def test_refs_into_nested_definitions():
    assert check({"$ref": "#/definitions/Outer/definitions/Inner"})("abc") == \
        "body: 'abc' is too long"
    assert check({"$ref": "#/definitions/Outer/$defs/Other"}, "oas31")(2) == \
        "body: 1 was expected"
    with pytest.raises(Unsupported):
        check({"$ref": "#/definitions/Outer/definitions/Nope"})


def test_the_refusals_left():
    for schema in ({"unevaluatedProperties": False}, {"unevaluatedItems": False},
                   {"$dynamicRef": "#meta"}):
        with pytest.raises(Unsupported):
            check(schema, "oas31")


def test_one_module_holds_the_plain_and_the_dispatching_variants():
    source = generate_module({"a": ({"$ref": "#/definitions/Animal"}, DEFS, "oas30", "request"),
                              "b": ({"$ref": "#/definitions/Bird"}, DEFS, "oas30", "request")})
    namespace: Dict[str, Any] = {}
    exec(compile(source, "<generated>", "exec"), namespace)
    assert namespace["check_a"]({"kind": "Parrot", "wings": 2}) == "'words' is a required property"
    assert namespace["check_b"]({"kind": "Bird", "wings": 2}) is None
