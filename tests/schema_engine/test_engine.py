"""SchemaEngine (pym_lambda/schema_engine/engine.py): every problem, bounded, in document order;
the OpenAPI specifics (common rules of issue #17); depth and time bounds."""
from __future__ import annotations

import time
from typing import Any, Dict

import pytest

from pym_lambda.schema_engine import Problem, SchemaEngine

AUTHOR = {"type": "object", "required": ["name"], "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": 200},
    "born": {"type": "integer", "minimum": -3000, "maximum": 2100}}}
NEW_BOOK = {"type": "object", "required": ["title", "authors"], "properties": {
    "title": {"type": "string", "minLength": 1, "maxLength": 300},
    "authors": {"type": "array", "minItems": 1, "items": {"$ref": "#/definitions/Author"}},
    "tags": {"type": "array", "items": {"type": "string", "pattern": "^[a-z0-9-]+$"},
             "uniqueItems": True},
    "published_at": {"type": "string", "format": "date-time"},
    "isbn": {"type": "string", "pattern": "^[0-9X-]{10,17}$"}}}
BOOK = {"allOf": [{"$ref": "#/definitions/NewBook"}, {
    "type": "object", "required": ["id", "available"],
    "properties": {"id": {"type": "integer", "readOnly": True}, "available": {"type": "boolean"}}}]}
LIBRARY = {"Author": AUTHOR, "NewBook": NEW_BOOK, "Book": BOOK}


def book(number: int) -> Dict[str, Any]:
    return {"title": f"Book {number}", "authors": [{"name": "Ann", "born": 1950}],
            "tags": ["novel", "classic"], "published_at": "2001-02-03T04:05:06Z",
            "isbn": "978-3-16-148410-0", "available": True}


def fields(problems: list[Problem]) -> list[tuple[str, str]]:
    return [(problem.field("body"), problem.rule) for problem in problems]


@pytest.mark.parametrize("dialect", ["oas30", "oas31"])
def test_every_problem_is_reported_in_document_order(dialect: str) -> None:
    engine = SchemaEngine({"$ref": "#/definitions/NewBook"}, LIBRARY, dialect)
    value = {"tags": ["ok", "ok", "Not OK"], "title": "x" * 301,
             "authors": [{"born": 5000}, {"name": ""}], "isbn": "abc"}
    assert fields(engine.problems(value)) == [
        ("body.tags", "uniqueItems"), ("body.tags[2]", "pattern"), ("body.title", "maxLength"),
        ("body.authors[0].born", "maximum"), ("body.authors[0].name", "required"),
        ("body.authors[1].name", "minLength"), ("body.isbn", "pattern")]
    assert engine.problems(value, limit=2) == engine.problems(value)[:2]
    assert not engine.is_valid(value)
    assert engine.is_valid(book(1))


def test_messages_quote_a_bounded_part_of_the_value() -> None:
    engine = SchemaEngine({"type": "string", "maxLength": 3, "pattern": "^a"}, {}, "oas31")
    problems = engine.problems("b" * 1_000_000)
    assert [p.rule for p in problems] == ["maxLength", "pattern"]
    assert all(len(p.message) < 200 for p in problems)


def test_a_recursive_schema_and_a_deep_value_give_a_problem_not_a_recursion_error() -> None:
    tree = {"type": "object", "properties": {"child": {"$ref": "#"}}, "required": ["x"]}
    value: Dict[str, Any] = {"x": 1}
    for _ in range(3000):
        value = {"x": 1, "child": value}
    for dialect in ("oas30", "oas31"):
        problems = SchemaEngine(tree, {}, dialect).problems(value)
        assert [p.rule for p in problems] == ["depth"]
    assert SchemaEngine({"$ref": "#"}, {}, "oas31").problems(1)[0].rule == "depth"


def test_unique_items_and_patterns_take_linear_time() -> None:
    engine = SchemaEngine({"type": "array", "uniqueItems": True,
                           "items": {"type": "object", "properties": {
                               "a": {"type": "string", "pattern": "^(a+)+$"}}}}, {}, "oas31")
    items = [{"a": "a" * 40 + "!", "n": n} for n in range(20_000)]
    started = time.perf_counter()
    problems = engine.problems(items, limit=5)
    assert time.perf_counter() - started < 5
    assert [p.rule for p in problems] == ["pattern"] * 5


def test_multiple_of_with_floats_is_decimal() -> None:
    engine = SchemaEngine({"multipleOf": 0.01}, {}, "oas31")
    assert engine.is_valid(19.99) and engine.is_valid(0.07)
    assert not engine.is_valid(0.075)


def test_ref_siblings_are_ignored_in_oas30_and_applied_in_oas31() -> None:
    schema = {"$ref": "#/definitions/Author", "maxProperties": 1}
    value = {"name": "Ann", "born": 1}
    assert SchemaEngine(schema, LIBRARY, "oas30").is_valid(value)
    assert [p.rule for p in SchemaEngine(schema, LIBRARY, "oas31").problems(value)] == [
        "maxProperties"]


def test_a_ref_into_nested_definitions() -> None:
    inner = "#/definitions/Outer/definitions/Inner"
    definitions = {"Outer": {"definitions": {"Inner": {"type": "integer"}},
                             "properties": {"x": {"$ref": inner}}}}
    engine = SchemaEngine({"$ref": "#/definitions/Outer"}, definitions, "oas30")
    assert engine.is_valid({"x": 1})
    assert fields(engine.problems({"x": "1"})) == [("body.x", "type")]


# -- OpenAPI 3.0: readOnly/writeOnly with required, per direction ---------------------------------
def test_read_only_is_refused_in_a_request_and_not_required_there() -> None:
    request = SchemaEngine({"$ref": "#/definitions/Book"}, LIBRARY, "oas30", "request")
    assert request.is_valid(book(1))  # id is required, but read-only: not in a request
    problems = request.problems(dict(book(1), id=3))
    assert fields(problems) == [("body.id", "readOnly")]
    assert problems[0].message == "id is read-only"
    response = SchemaEngine({"$ref": "#/definitions/Book"}, LIBRARY, "oas30", "response")
    assert fields(response.problems(book(1))) == [("body.id", "required")]
    assert response.is_valid(dict(book(1), id=3))


def test_read_only_through_a_ref_and_write_only_in_responses() -> None:
    definitions = {"Id": {"type": "integer", "readOnly": True},
                   "Secret": {"allOf": [{"type": "string"}, {"writeOnly": True}]},
                   "User": {"type": "object", "required": ["id", "password"], "properties": {
                       "id": {"$ref": "#/definitions/Id"},
                       "password": {"$ref": "#/definitions/Secret"}}}}
    request = SchemaEngine({"$ref": "#/definitions/User"}, definitions, "oas30", "request")
    response = SchemaEngine({"$ref": "#/definitions/User"}, definitions, "oas30", "response")
    assert request.is_valid({"password": "x"})
    assert fields(request.problems({"id": 1})) == [("body.id", "readOnly"),
                                                   ("body.password", "required")]
    assert response.is_valid({"id": 1})
    assert fields(response.problems({"id": 1, "password": "x"})) == [
        ("body.password", "writeOnly")]
    # OpenAPI 3.1: annotations only
    assert SchemaEngine({"$ref": "#/definitions/User"}, definitions, "oas31").problems(
        {"password": "x"}) == [Problem(("id",), "required", "'id' is a required property")]


def test_oas30_nullable_and_type_null() -> None:
    nullable = SchemaEngine({"type": "string", "nullable": True}, {}, "oas30")
    assert nullable.is_valid(None) and not nullable.is_valid(1)
    only_null = SchemaEngine({"type": "null"}, {}, "oas30")  # not a 3.0 type: only null
    assert only_null.is_valid(None) and not only_null.is_valid("x")


# -- discriminator (3.0 and 3.1) ------------------------------------------------------------------
PETS = {
    "Cat": {"type": "object", "required": ["kind", "purrs"],
            "properties": {"kind": {"type": "string"}, "purrs": {"type": "boolean"}}},
    "Dog": {"type": "object", "required": ["kind", "barks"],
            "properties": {"kind": {"type": "string"}, "barks": {"type": "boolean"}}},
}


@pytest.mark.parametrize("dialect", ["oas30", "oas31"])
@pytest.mark.parametrize("mapping", [
    None, {"cat": "#/definitions/Cat", "dog": "#/definitions/Dog"},
    {"cat": "Cat", "dog": "Dog"},
    {"cat": "#/components/schemas/Cat", "dog": "#/components/schemas/Dog"}])
def test_the_discriminator_picks_the_branch(dialect: str, mapping: Any) -> None:
    disc: Dict[str, Any] = {"propertyName": "kind"}
    if mapping:
        disc["mapping"] = mapping
    schema = {"oneOf": [{"$ref": "#/definitions/Cat"}, {"$ref": "#/definitions/Dog"}],
              "discriminator": disc}
    engine = SchemaEngine(schema, PETS, dialect)
    cat, dog = ("cat", "dog") if mapping else ("Cat", "Dog")
    assert engine.is_valid({"kind": cat, "purrs": True})
    assert engine.is_valid({"kind": dog, "barks": True})
    # checked against the picked branch only, every problem of it named
    assert fields(engine.problems({"kind": dog, "purrs": 1})) == [("body.barks", "required")]
    assert fields(engine.problems({"purrs": True})) == [("body.kind", "discriminator")]
    unknown = engine.problems({"kind": "cow"})
    assert fields(unknown) == [("body.kind", "discriminator")]
    assert repr(cat) in unknown[0].message and repr(dog) in unknown[0].message


def test_a_discriminator_in_allof_inheritance_checks_the_named_schema_too() -> None:
    definitions = {
        "Pet": {"type": "object", "required": ["petType"], "discriminator": {
            "propertyName": "petType"}, "properties": {"petType": {"type": "string"}}},
        "Dog": {"allOf": [{"$ref": "#/definitions/Pet"}, {
            "type": "object", "required": ["bark"], "properties": {"bark": {"type": "string"}}}]},
        "Error": {"type": "object", "required": ["code"]},  # derives from nothing
    }
    for dialect in ("oas30", "oas31"):
        pet = SchemaEngine({"$ref": "#/definitions/Pet"}, definitions, dialect)
        assert pet.is_valid({"petType": "Dog", "bark": "woof"})
        assert fields(pet.problems({"petType": "Dog"})) == [("body.bark", "required")]
        assert pet.is_valid({"petType": "Lizard"})  # names no schema: Pet only
        # a schema that does not derive from Pet is not followed (as the generated checks)
        assert pet.is_valid({"petType": "Error"})
        dog = SchemaEngine({"$ref": "#/definitions/Dog"}, definitions, dialect)
        assert fields(dog.problems({"petType": "Dog", "bark": 1})) == [("body.bark", "type")]


def test_oas30_ignores_the_draft4_keywords_its_schema_object_lacks() -> None:
    # patternProperties, dependencies, additionalItems are not OpenAPI 3.0 keywords: neither
    # the engine nor the generated checks validate them there; 3.1 (2020-12) does
    from pym_lambda.fastcheck import compile_checker

    schema = {"type": "object", "patternProperties": {"^x-": {"type": "integer"}},
              "dependencies": {"a": ["b"]}, "additionalProperties": False,
              "properties": {"a": {"type": "integer"}, "list": {"type": "array",
                                                            "additionalItems": False}}}
    values = [{"x-n": "text"}, {"a": 1}, {"x-n": 1, "a": 2, "b": 3}, {"list": [1, 2, 3]}]
    engine = SchemaEngine(schema, {}, "oas30")
    fast = compile_checker(schema, {}, "oas30", "request", "body")
    assert [engine.is_valid(v) for v in values] == [fast(v) is None for v in values] == [
        True, True, False, True]  # 'b' is no property: additionalProperties refuses it
    # patternProperties still tell which names are extras (jsonschema's rule)
    assert engine.is_valid({"x-other": [1]})
    in31 = SchemaEngine(dict(schema, dependentRequired={"a": ["b"]}), {}, "oas31")
    assert [in31.is_valid(v) for v in values] == [False, False, False, True]


# -- 2020-12 -------------------------------------------------------------------------------------
def test_unevaluated_properties_see_through_applicators() -> None:
    schema = {"allOf": [{"properties": {"a": True}}],
              "anyOf": [{"properties": {"b": True}, "required": ["b"]}, True],
              "unevaluatedProperties": False}
    engine = SchemaEngine(schema, {}, "oas31")
    assert engine.is_valid({"a": 1, "b": 2})
    assert fields(engine.problems({"a": 1, "c": 2, "d": 3})) == [
        ("body.c", "unevaluatedProperties"), ("body.d", "unevaluatedProperties")]


def test_a_5_book_body_is_checked_quickly() -> None:
    engine = SchemaEngine({"type": "array", "items": {"$ref": "#/definitions/Book"}},
                          LIBRARY, "oas30", "response")
    books = [dict(book(n), id=n) for n in range(5)]
    assert engine.is_valid(books)
    started = time.perf_counter()
    for _ in range(200):
        engine.is_valid(books)
    per_call = (time.perf_counter() - started) / 200
    assert per_call < 0.01  # ~0.2 ms here; fastcheck's generated code stays the fast path


def test_multiple_of_reads_decimal_numbers_in_both_checkers() -> None:
    # 0.3 / 0.1 == 2.9999999999999996 in binary floats: jsonschema refused 0.3
    from pym_lambda.fastcheck import compile_checker

    schema = {"type": "number", "multipleOf": 0.1}
    values = [0.3, 0.7, 1.1, 12.5, 0.35, 0.30000000000000004, 10**400, float("inf")]
    expected = [True, True, True, True, False, False, True, False]
    fast = compile_checker(schema, {}, "oas30", "request", "body")
    assert [fast(v) is None for v in values] == expected
    assert [SchemaEngine(schema, {}, "oas31").is_valid(v) for v in values] == expected
