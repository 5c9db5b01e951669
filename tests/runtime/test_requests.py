"""Parameters and bodies: parsed, coerced, validated, turned into models (every dialect)."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.fixtures import petshop_impl

NEW_PET = {
    "name": "Rex", "kind": "dog", "birth": "2020-05-17T10:30:00Z", "vaccinated_on": "2021-01-02",
    "owner": {"name": "Ann", "friend": {"name": "Bob"}}, "tags": ["good", "loud"],
    "toys": [{"name": "ball", "squeaks": True}, {"name": "bone"}],
}


def assert_error(reply, status, code, *fragments):
    assert reply.status == status, reply
    assert set(reply.json) >= {"status", "error", "error_description", "error_id"}
    assert reply.json["status"] == status
    assert reply.json["error"] == code
    for fragment in fragments:
        assert fragment in reply.json["error_description"], reply.json
    assert len(reply.json["error_id"]) == 36


def test_query_params_are_coerced_and_defaults_applied(petshop):
    reply = petshop.get("/api/pets?tags=a,b&kinds=cat&kinds=dog&verbose=true&min_weight=2.5"
                        "&since=2024-03-01T12:00:00%2B02:00", headers={"X-Trace-Id": "abc"})
    assert reply.status == 200, reply
    call = petshop_impl.CALLS["list_pets"]
    assert call["limit"] == 10  # the default
    assert call["tags"] == ["a", "b"]
    assert call["kinds"] == ["cat", "dog"]
    assert call["verbose"] is True
    assert call["min_weight"] == 2.5
    assert call["x_trace_id"] == "abc"
    assert call["since"] == dt.datetime(2024, 3, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2)))


@pytest.mark.parametrize("query, fragments", [
    ("limit=abc", ["query parameter 'limit'", "'abc' is not an integer"]),
    ("limit=1.5", ["query parameter 'limit'"]),
    ("limit=0", ["query parameter 'limit'", "minimum"]),
    ("limit=51", ["query parameter 'limit'", "maximum"]),
    ("verbose=maybe", ["query parameter 'verbose'", "not a boolean"]),
    ("kinds=bird", ["query parameter 'kinds'", "'bird' is not one of"]),
    ("since=yesterday", ["query parameter 'since'", "date-time"]),
    ("min_weight=heavy", ["query parameter 'min_weight'", "not a number"]),
    ("min_weight=nan", ["query parameter 'min_weight'"]),
])
def test_bad_query_values_are_400_naming_the_parameter(petshop, query, fragments):
    assert_error(petshop.get(f"/api/pets?{query}"), 400, "INVALID_PARAMETER", *fragments)


def test_bad_header_value_is_400_naming_the_header(petshop):
    reply = petshop.get("/api/pets", headers={"X-Trace-Id": "much-too-long"})
    assert_error(reply, 400, "INVALID_PARAMETER", "header parameter 'X-Trace-Id'")


def test_path_params_coerced_and_hyphenated_names_work(petshop):
    petshop.post("/api/pets", dict(NEW_PET, owner={"name": "Ann"}))
    assert petshop.get("/api/owners/Ann/pets").json == ["Rex"]
    assert_error(petshop.get("/api/owners/A/pets"), 400, "INVALID_PARAMETER",
                 "path parameter 'owner-name'")
    assert_error(petshop.get("/api/pets/notanumber"), 400, "INVALID_PARAMETER",
                 "path parameter 'pet_id'", "'notanumber' is not an integer")


def test_body_becomes_a_model_with_nested_models_lists_and_datetimes(petshop):
    reply = petshop.post("/api/pets", NEW_PET)
    assert reply.status == 201, reply
    pet = petshop_impl.CALLS["add_pet"]
    assert type(pet).__name__ == "NewPet"
    assert pet.name == "Rex"
    assert pet.birth == dt.datetime(2020, 5, 17, 10, 30, tzinfo=dt.timezone.utc)
    assert pet.vaccinated_on == dt.date(2021, 1, 2)
    assert type(pet.owner).__name__ == "Owner" and pet.owner.name == "Ann"
    assert type(pet.owner.friend).__name__ == "Owner" and pet.owner.friend.name == "Bob"
    assert [type(t).__name__ for t in pet.toys] == ["Toy", "Toy"]
    assert pet.toys[0].squeaks is True and pet.toys[1].squeaks is None  # declared, unset
    assert pet.tags == ["good", "loud"]
    assert pet.nickname is None
    with pytest.raises(AttributeError):
        pet.nmae  # noqa: B018  # a typo is an error, not a silent None
    # ...and the response went back through the Pet schema, datetimes serialised.
    assert reply.json["id"] == 1
    assert reply.json["birth"] in ("2020-05-17T10:30:00+00:00", "2020-05-17T10:30:00Z")
    assert reply.json["owner"] == {"name": "Ann", "friend": {"name": "Bob"}}


def test_nullable_property_accepts_null(petshop):
    reply = petshop.post("/api/pets", dict(NEW_PET, nickname=None))
    assert reply.status == 201, reply
    assert reply.json["nickname"] is None


@pytest.mark.parametrize("body, fragments", [
    ({"kind": "dog"}, ["body", "'name' is a required property"]),
    (dict(NEW_PET, kind="bird"), ["body.kind", "'bird' is not one of"]),
    (dict(NEW_PET, name=""), ["body.name"]),
    (dict(NEW_PET, owner={"email": "x"}), ["body.owner", "'name' is a required property"]),
    (dict(NEW_PET, toys=[{"name": "ok"}, {"name": 3}]), ["body.toys[1].name", "not of type"]),
    (dict(NEW_PET, birth="not a date"), ["body.birth", "date-time"]),
    (dict(NEW_PET, nickname=5), ["body.nickname"]),
    ([1, 2], ["body", "not of type 'object'"]),
])
def test_invalid_body_is_400_naming_the_field(petshop, body, fragments):
    assert_error(petshop.post("/api/pets", body), 400, "INVALID_PARAMETER", *fragments)


@pytest.mark.parametrize("raw, fragment", [
    ("{not json", "body is not valid JSON"),
    ('{"name": NaN, "kind": "dog"}', "body is not valid JSON"),
    (b"\xff\xfe{}", "UTF-8"),
    ("[" * 5000 + "]" * 5000, "nested"),
])
def test_malformed_body_is_400(petshop, raw, fragment):
    reply = petshop.request("POST", "/api/pets", body=raw,
                            headers={"content-type": "application/json"})
    assert_error(reply, 400, "INVALID_PARAMETER", fragment)


def test_missing_required_body_is_400(petshop):
    reply = petshop.request("POST", "/api/pets", headers={"content-type": "application/json"})
    assert_error(reply, 400, "INVALID_PARAMETER", "body is required")


def test_wrong_content_type_is_415_naming_the_accepted_ones(petshop):
    reply = petshop.request("POST", "/api/pets", body="name=Rex",
                            headers={"content-type": "text/plain"})
    assert_error(reply, 415, "UNSUPPORTED_MEDIA_TYPE", "'text/plain'", "application/json")


def test_json_content_type_with_charset_is_accepted(petshop):
    reply = petshop.request("POST", "/api/pets", body='{"name": "Rex", "kind": "dog"}',
                            headers={"content-type": "application/json; charset=utf-8"})
    assert reply.status == 201, reply


def test_oversized_body_is_413(petshop):
    reply = petshop.post("/api/pets", dict(NEW_PET, name="x" * (1024 * 1024 + 10)))
    assert_error(reply, 413, "PAYLOAD_TOO_LARGE")


def test_optional_free_form_body(petshop):
    assert petshop.request("PUT", "/api/echo").status == 200
    assert petshop_impl.CALLS["echo"] is None
    reply = petshop.request("PUT", "/api/echo", json_body={"a": [1, {"b": None}]})
    assert reply.json == {"a": [1, {"b": None}]}
