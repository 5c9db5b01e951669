"""Body loaders (fastcheck/loader.py): a request body checked and made into model objects in one
walk, answer as the two passes (the body's check, then the model converter) on drawn bodies:
through BodyReader, the same model objects or the same 400 (description, problem list)."""
from __future__ import annotations

import datetime as dt
import json
import sys
from types import SimpleNamespace
from typing import Any, Dict, Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pym_lambda.errors import InvalidParameterError
from pym_lambda.fastcheck import generate_module
from pym_lambda.fastcheck.formats import _fmt_date_time
from pym_lambda.runtime.body import BodyReader
from pym_lambda.runtime.models import (
    Model,
    ModelFactory,
    _common_date_time,
    _extra,
    _parse_datetime,
)
from pym_lambda.runtime.operation_checks import build_checks
from pym_lambda.runtime.schema_validator import REQUEST, Explainer

D = "#/definitions/"
DEFINITIONS: Dict[str, Any] = {
    "Author": {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 20},
        "born": {"type": "integer", "minimum": -3000, "maximum": 2100}}},
    "NewBook": {"type": "object", "required": ["title", "authors"], "properties": {
        "title": {"type": "string", "minLength": 1},
        "authors": {"type": "array", "minItems": 1, "maxItems": 3,
                    "items": {"$ref": D + "Author"}},
        "tags": {"type": "array", "uniqueItems": True,
                 "items": {"type": "string", "pattern": "^[a-z]+$"}},
        "published_at": {"type": "string", "format": "date-time"},
        "due": {"type": "string", "format": "date"},
        "seen": {"type": "string", "format": "date-time", "nullable": True},
        "note": {"type": "string", "nullable": True},
        "main": {"$ref": D + "Author"},
        "rank": {"type": "number", "multipleOf": 0.5}}},
    "Book": {"allOf": [{"$ref": D + "NewBook"}, {
        "type": "object", "properties": {"available": {"type": "boolean"}}}]},
    "Node": {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string"},
        "children": {"type": "array", "maxItems": 3, "items": {"$ref": D + "Node"}}}},
    # not covered: served by the two passes
    "Stored": {"type": "object", "properties": {  # OAS 3.0: `required` skips read-only ones
        "id": {"type": "integer", "readOnly": True}, "name": {"type": "string"}},
        "required": ["id"]},
    "Open": {"type": "object", "additionalProperties": {"type": "integer"}},
    "Inline": {"type": "object", "properties": {"meta": {"type": "object"}}},
    "Kinded": {"type": "object", "properties": {"kind": {"$ref": D + "Kind"}}},
    "Kind": {"type": "string", "enum": ["novel", "essay"]},
    # covered, but its class keeps "to_json" as extra data: M says None, the two passes serve
    "Odd": {"type": "object", "properties": {"to_json": {"type": "string"}}},
}
COVERED = ("Author", "NewBook", "Book", "Node", "Odd")


def _entries(dialect: str) -> Dict[str, Any]:
    return {name: ({"$ref": D + name}, DEFINITIONS, dialect, REQUEST, "body")
            for name in DEFINITIONS if name != "Kind"}


def _compiled(dialect: str = "oas30") -> Any:
    made: Dict[str, Any] = {}
    checks = build_checks(_entries(dialect), None, made)
    return checks, {k[len("load_"):]: f for k, f in made.items() if k.startswith("load_")}


CHECKS, LOADERS = _compiled()
FACTORY = ModelFactory("books", DEFINITIONS)


def _reader(name: str, loaded: bool) -> BodyReader:
    body = {"required": True, "content": {"application/json": {"$ref": D + name}}}
    return BodyReader(
        body, checks={"application/json": CHECKS[name]},
        converts={"application/json": FACTORY.converter({"$ref": D + name})},
        deref=FACTORY._deref,
        explainers={"application/json": Explainer({"$ref": D + name}, DEFINITIONS, "oas30",
                                                  REQUEST, "body")},
        loaders={"application/json": LOADERS.get(name) if loaded else None},
        classes=FACTORY.loader_classes)


def _request(value: Any) -> Any:
    return SimpleNamespace(raw_body=json.dumps(value).encode(),
                           headers={"content-type": "application/json"},
                           to_original_event=dict)


def _answer(reader: BodyReader, value: Any) -> Any:
    request = value if isinstance(value, SimpleNamespace) else _request(value)
    try:
        return "ok", _plain(reader.read(request))
    except InvalidParameterError as exc:
        return "400", exc.status, exc.description, exc.problems


def _plain(value: Any) -> Any:
    """A loaded value, comparable: each model object's class, attributes (datetimes kept as
    objects) and extra data."""
    if isinstance(value, Model):
        return (type(value), {k: _plain(v) for k, v in value.__dict__.items()},
                list(value.__dict__), _extra(value))
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def test_covered_schemas_have_loaders_and_others_none():
    assert sorted(LOADERS) == sorted(COVERED)
    # OAS 3.1 does not skip read-only properties in `required`: covered there
    assert "Stored" in _compiled("oas31")[1]
    source = generate_module({"k0": _entries("oas30")["NewBook"],
                              "k1": _entries("oas30")["Open"]})
    assert "load_k0 = " in source and "load_k1" not in source
    assert "import" not in source.split("# -- generated checkers", 1)[1]  # nothing imported


def test_a_valid_body_is_loaded_in_one_walk_into_the_converters_objects():
    body = {"title": "Dune", "authors": [{"name": "Frank", "born": 1920}],
            "published_at": "1965-08-01T10:00:00.5+02:00", "due": "2030-01-31",
            "main": {"name": "F"}, "tags": ["sf"], "seen": None}
    loaded = LOADERS["NewBook"](body, FACTORY.loader_classes)
    assert loaded.__class__ is FACTORY.classes["NewBook"]
    assert _plain(loaded) == _plain(FACTORY.converter({"$ref": D + "NewBook"})(body))
    assert loaded.published_at == dt.datetime(1965, 8, 1, 10, 0, 0, 500000,
                                              dt.timezone(dt.timedelta(hours=2)))
    assert loaded.authors[0].__class__ is FACTORY.classes["Author"]
    assert loaded.due == dt.date(2030, 1, 31) and loaded.seen is None
    assert body["authors"] == [{"name": "Frank", "born": 1920}]  # the body is left as it was
    # what the loader does not vouch for is a tuple: the two passes then answer
    assert LOADERS["NewBook"](dict(body, extra=1), FACTORY.loader_classes).__class__ is tuple
    assert LOADERS["Odd"]({"to_json": "x"}, FACTORY.loader_classes).__class__ is tuple


# -- drawn bodies ---------------------------------------------------------------------------------
texts = st.sampled_from(["", "a", "abc", "Dune", "x" * 25, "A", "é", "sf"])
date_times = st.one_of(
    st.builds(lambda d, tz: d.replace(tzinfo=tz).isoformat(),
              st.datetimes(dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31)),
              st.sampled_from([None, dt.timezone.utc, dt.timezone(dt.timedelta(hours=-5)),
                               dt.timezone(dt.timedelta(hours=23, minutes=59))])),
    st.sampled_from(["2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "2016-12-31T23:59:60Z",
                     "2020-01-01t00:00:00z", "2020-01-01T24:00:00Z", "0000-01-01T00:00:00Z",
                     "2020-01-01T00:00:00.123456789-00:00", "2020-01-01 00:00:00Z",
                     "2020-01-01T00:00:00+24:00", "2020-13-01T00:00:00Z", "2020-01-01"]))
scalars = st.one_of(st.none(), st.booleans(), st.integers(-4000, 4000), texts, date_times,
                    st.sampled_from([0.5, -1.5, 2.0, 1.25, 1e300]))


def valid(sub: Any) -> st.SearchStrategy[Any]:
    """A value the property's own schema accepts (its nested objects aside)."""
    if sub.get("format") == "date-time":
        return date_times.filter(_fmt_date_time)
    if sub.get("format") == "date":
        return st.dates().map(dt.date.isoformat)
    if sub.get("type") == "array":
        return st.lists(st.sampled_from(["sf", "epic", "old"]), max_size=3, unique=True)
    if sub.get("type") == "integer":
        return st.integers(-3000, 2100)
    if sub.get("type") == "number":
        return st.integers(-10, 10).map(lambda n: n / 2)
    return st.sampled_from(["a", "Dune", "é"])


def value_for(sub: Any, depth: int) -> st.SearchStrategy[Any]:
    if "$ref" in sub or "$ref" in sub.get("items", {}):
        target = sub.get("items", sub)["$ref"][len(D):]
        one = bodies(target, depth + 1) if depth < 3 else st.just({"name": "leaf"})
        return st.lists(one, max_size=4) if "items" in sub else one
    return valid(sub)


def bodies(name: str, depth: int = 0) -> st.SearchStrategy[Any]:
    """A body for the named schema: valid, or broken in one place (a wrong value, a required
    property missing, an undeclared one), or not an object."""
    schema = DEFINITIONS[name]
    props: Dict[str, Any] = {}
    required: list = []
    for part in schema.get("allOf", [schema]):
        part = DEFINITIONS[part["$ref"][len(D):]] if "$ref" in part else part
        props.update(part.get("properties", {}))
        required += part.get("required", [])
    fields = {key: value_for(sub, depth) for key, sub in props.items()}
    whole = st.fixed_dictionaries({k: v for k, v in fields.items() if k in required},
                                  optional={k: v for k, v in fields.items() if k not in required})

    def spoil(body: Dict[str, Any], how: int, key: str, bad: Any) -> Dict[str, Any]:
        body = dict(body)
        if how == 1:
            body[key] = bad
        elif how == 2:
            body.pop(key, None)
        elif how == 3:
            body["to_json" if bad is None else "undeclared"] = bad
        return body

    broken = st.builds(spoil, whole, st.integers(0, 3), st.sampled_from(sorted(props)), scalars)
    if depth:  # mostly whole inside: a body's one problem is then often deep in it
        return st.one_of(whole, whole, whole, whole, broken)
    return st.one_of(whole, whole, broken, broken, scalars)


@pytest.mark.parametrize("name", ["NewBook", "Book", "Node"])
@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_loader_answers_as_the_two_passes(name, data):
    value = data.draw(bodies(name))
    assert _answer(_reader(name, True), value) == _answer(_reader(name, False), value)
    loaded = LOADERS[name](value, FACTORY.loader_classes)
    if loaded.__class__ is not tuple:  # what it vouches for, the two passes accept
        assert _answer(_reader(name, False), value)[0] == "ok"


@settings(max_examples=500, deadline=None)
@given(text=st.one_of(date_times, st.text(alphabet="0123456789-:.TtZz+ ", max_size=30)))
def test_a_common_date_time_is_one_the_check_accepts_parsed_as_the_converter_does(text):
    parsed = _common_date_time(text)
    if parsed is not None:
        assert _fmt_date_time(text) and parsed == _parse_datetime(text)
        assert parsed.utcoffset() == _parse_datetime(text).utcoffset()


def test_a_body_too_deep_for_the_loader_is_answered_by_the_two_passes():
    value: Optional[Dict[str, Any]] = None
    for _ in range(200):
        value = {"name": "n", "children": [value] if value else []}
    loaded, twice = _reader("Node", True), _reader("Node", False)
    for reader in (loaded, twice):  # parsed before: here the loader is what overflows
        reader.parse = lambda *_: value  # type: ignore[method-assign]
    request = _request({})
    assert isinstance(loaded.read(request), FACTORY.classes["Node"])
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + 120)  # the loader's calls, one per level, overflow
    try:
        answers = [_answer(reader, request)[:3] for reader in (loaded, twice)]
    finally:
        sys.setrecursionlimit(limit)
    assert answers[0] == answers[1] and answers[0][0] == "400"
