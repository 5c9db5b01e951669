"""Units of the compiler and runtime that need no app: names, coercion, pointers, models."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pym_lambda.build.openapi.compiler import base_path, python_name, route_path
from pym_lambda.build.openapi.loader import RawSpec, resolve_pointer
from pym_lambda.errors import PymError, error_body
from pym_lambda.runtime.models import Model, ModelFactory, to_jsonable
from pym_lambda.runtime.params import CoercionError, coerce_scalar


@pytest.mark.parametrize("name, location, expected", [
    ("limit", "query", "limit"), ("X-Request-Id", "header", "x_request_id"),
    ("page-size", "query", "page_size"), ("from", "query", "from_"), ("1st", "query", "_1st"),
])
def test_python_name(name, location, expected):
    assert python_name(name, location) == expected


@given(st.integers())
def test_integers_round_trip_through_text(n):
    assert coerce_scalar(str(n), ["integer"]) == n


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_numbers_round_trip_through_text(x):
    assert coerce_scalar(repr(x), ["number"]) == x


@given(st.text())
def test_text_that_is_not_an_integer_never_coerces_silently(text):
    try:
        value = coerce_scalar(text, ["integer"])
    except CoercionError:
        return
    assert isinstance(value, int) and value == int(text)


@pytest.mark.parametrize("raw, expected", [("true", True), ("FALSE", False), ("1", True),
                                           ("0", False)])
def test_booleans(raw, expected):
    assert coerce_scalar(raw, ["boolean"]) is expected


@pytest.mark.parametrize("raw", ["yes", "", "2", "inf", "nan"])
def test_not_booleans_nor_numbers(raw):
    with pytest.raises(CoercionError):
        coerce_scalar(raw, ["boolean"])
    if raw in ("inf", "nan", "yes", ""):
        with pytest.raises(CoercionError):
            coerce_scalar(raw, ["number"])


def test_json_pointer_escapes():
    doc = {"a/b": {"c~d": [10, 20]}}
    assert resolve_pointer(doc, "#/a~1b/c~0d/1") == 20
    with pytest.raises(KeyError):
        resolve_pointer(doc, "#/a~1b/c~0d/5")


@pytest.mark.parametrize("doc, expected", [
    ({"swagger": "2.0", "basePath": "/v1/"}, "/v1"),
    ({"swagger": "2.0"}, ""),
    ({"openapi": "3.0.0", "servers": [{"url": "https://x.com/api/v2"}]}, "/api/v2"),
    ({"openapi": "3.0.0", "servers": [{"url": "{s}://x.com/ds",
                                       "variables": {"s": {"default": "https"}}}]}, "/ds"),
    ({"openapi": "3.0.0", "servers": [{"url": "/"}]}, ""),
])
def test_base_path(doc, expected):
    dialect = "swagger2" if "swagger" in doc else "oas30"
    assert base_path(RawSpec("x", "x.yaml", dialect, doc)) == expected


def test_route_path():
    assert route_path("", "/") == "/" and route_path("/v1", "/") == "/v1"
    assert route_path("/v1", "/pets/") == "/v1/pets"


def test_error_class_code_defaults_to_upper_snake_name():
    class UserNotFound(PymError):
        status = 404

    err = UserNotFound("no user 3")
    body = error_body(err.status, err.code, err.description)
    assert body["status"] == 404 and body["error"] == "USER_NOT_FOUND"
    assert body["error_description"] == "no user 3" and len(body["error_id"]) == 36


DEFS = {
    "Owner": {"type": "object", "properties": {"name": {"type": "string"},
                                                "since": {"type": "string", "format": "date"}}},
    "Pet": {"type": "object", "properties": {
        "name": {"type": "string"}, "nick": {"type": "string", "nullable": True},
        "owner": {"$ref": "#/definitions/Owner"},
        "born": {"type": "string", "format": "date-time"},
        "friends": {"type": "array", "items": {"$ref": "#/definitions/Pet"}}}},
}


def test_models_from_json_to_json_and_equality():
    pet_cls = ModelFactory("t", DEFS).classes["Pet"]
    data = {"name": "Rex", "owner": {"name": "Ann", "since": "2020-01-02"},
            "born": "2019-01-01T00:00:00+00:00", "friends": [{"name": "Tom"}]}
    pet = pet_cls.from_json(data)
    assert isinstance(pet, Model) and pet.owner.since == dt.date(2020, 1, 2)
    assert pet.born.year == 2019 and type(pet.friends[0]) is pet_cls
    assert pet.to_json() == data
    assert pet == pet_cls.from_json(data) and pet != pet_cls(name="Other")
    assert pet_cls(name="Rex", nick=None).to_json() == {"name": "Rex", "nick": None}
    owner = ModelFactory("t", DEFS).classes["Owner"](name="Ann", since=None)
    assert owner.to_json() == {"name": "Ann"}  # None dropped: 'since' is not nullable


def test_to_jsonable_naive_datetime_is_utc_and_unknown_types_refused():
    assert to_jsonable(dt.datetime(2020, 1, 1)) == "2020-01-01T00:00:00Z"
    with pytest.raises(TypeError):
        to_jsonable({"x": object()})
