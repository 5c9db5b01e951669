"""Response dumpers (fastcheck/dumper.py): what a handler returned, converted and checked in one
walk, answer as today's two passes (to_jsonable() then the schema's check) on drawn values,
refusals included: through ResponseWriter, the same response or the same BAD_RESPONSE."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Dict, Optional, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pym_lambda.errors import BadResponseError
from pym_lambda.fastcheck import compile_checkers, generate_module
from pym_lambda.runtime.models import DUMP_HELPERS, Model, ModelFactory, _extra, to_jsonable
from pym_lambda.runtime.operation_checks import build_checks
from pym_lambda.runtime.responses import ResponseSpec, ResponseWriter, dumps
from pym_lambda.runtime.schema_validator import RESPONSE, Explainer

D = "#/definitions/"
DEFINITIONS: Dict[str, Any] = {
    "Author": {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 20},
        "born": {"type": "integer", "minimum": -3000, "maximum": 2100}}},
    "NewBook": {"type": "object", "required": ["title", "authors"], "properties": {
        "title": {"type": "string", "minLength": 1},
        "authors": {"type": "array", "minItems": 1, "items": {"$ref": D + "Author"}},
        "tags": {"type": "array", "uniqueItems": True,
                 "items": {"type": "string", "pattern": "^[a-z]+$"}},
        "published_at": {"type": "string", "format": "date-time"},
        "note": {"type": "string", "nullable": True},
        "kind": {"$ref": D + "Kind"},
        "meta": {"type": "object"}}},
    "Book": {"allOf": [{"$ref": D + "NewBook"}, {
        "type": "object", "required": ["id"], "properties": {
            "id": {"type": "integer", "readOnly": True}, "available": {"type": "boolean"}}}]},
    "BookList": {"type": "object", "required": ["books", "count"], "properties": {
        "count": {"type": "integer"}, "books": {"type": "array", "items": {"$ref": D + "Book"}}}},
    "Kind": {"type": "string", "enum": ["novel", "essay"]},
    "Node": {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string"},
        "children": {"type": "array", "maxItems": 3, "items": {"$ref": D + "Node"}}}},
    # not covered (additionalProperties): served by the two passes
    "Open": {"type": "object", "additionalProperties": {"type": "integer"}},
}
COVERED = ("Author", "NewBook", "Book", "BookList", "Node", "Books")
ENTRIES = {name: ({"$ref": D + name}, DEFINITIONS, "oas30", RESPONSE, "")
           for name in DEFINITIONS}
# a list endpoint's response: an array of a named object schema
ENTRIES["Books"] = ({"type": "array", "maxItems": 2, "items": {"$ref": D + "Book"}},
                    DEFINITIONS, "oas30", RESPONSE, "")


def _compiled() -> Tuple[Dict[str, Any], Dict[str, Any]]:
    made: Dict[str, Any] = {}
    checks = build_checks(ENTRIES, None, made)
    return checks, dumpers_in(made)


def dumpers_in(made: Dict[str, Any]) -> Dict[str, Any]:
    """build_checks' generated functions: the dumpers, by entry key."""
    return {key[len("dump_"):]: f for key, f in made.items() if key.startswith("dump_")}


CHECKS, DUMPERS = _compiled()
CLASSES = ModelFactory("books", DEFINITIONS).classes


class Parent(Model):
    """An x-parent style base overriding to_json: a dumper must not copy its attributes."""

    def to_json(self) -> Dict[str, Any]:
        return {"title": "from to_json", "authors": [{"name": "x"}], "id": 1}


SubBook = type("SubBook", (Parent, CLASSES["Book"]), {})


def test_covered_schemas_have_dumpers_and_others_none():
    assert sorted(DUMPERS) == sorted(COVERED)
    assert "Kind" not in DUMPERS and "Open" not in DUMPERS
    books = (_book(), CLASSES["Book"](id=5, title="t", authors=[{"name": "n"}]))
    assert DUMPERS["Books"](books) == to_jsonable(books)
    assert DUMPERS["Books"](books * 2).__class__ is tuple  # maxItems
    source = generate_module({"k0": ENTRIES["Book"], "k1": ENTRIES["Open"]})
    assert "dump_k0 = " in source and "dump_k1" not in source
    assert "import" not in source.split("# -- generated checkers", 1)[1]  # nothing imported


# -- drawn values ---------------------------------------------------------------------------------
texts = st.sampled_from(["", "a", "abc", "Dune", "x" * 25, "A", "é"])
scalars = st.one_of(st.none(), st.booleans(), st.integers(-4000, 4000), texts,
                    st.sampled_from([0.5, -1.5, 2.0, 1e300]))
offsets = st.one_of(st.none(), st.builds(dt.timezone, st.timedeltas(
    dt.timedelta(hours=-24) + dt.timedelta(microseconds=1),
    dt.timedelta(hours=24) - dt.timedelta(microseconds=1))), st.sampled_from([
        dt.timezone.utc, dt.timezone(dt.timedelta(hours=-5)),
        dt.timezone(dt.timedelta(seconds=3725))]))  # seconds: no RFC 3339 date-time
datetimes = st.builds(lambda d, tz: d.replace(tzinfo=tz),
                      st.datetimes(dt.datetime(1, 1, 1), dt.datetime(9999, 1, 1)), offsets)
leaves = st.one_of(scalars, datetimes, st.dates(), st.just(object()))


def objects(name: str, depth: int) -> st.SearchStrategy[Any]:
    """A model object or a dict for the named schema: mostly plausible, often broken."""
    props = declared(DEFINITIONS[name])
    fields = {key: value_for(sub, depth) for key, sub in props.items()}
    chosen = st.fixed_dictionaries({}, optional=fields)
    extra = st.dictionaries(st.sampled_from(["undeclared", "to_json"]), leaves, max_size=1)
    cls = CLASSES[name]

    def build(kind: int, values: Dict[str, Any], more: Dict[str, Any]) -> Any:
        if kind == 0:
            return dict(values, **more)
        if kind == 1:
            return dict(values)
        if kind == 2:
            return SubBook(**values) if name == "Book" and values.keys() <= props.keys() \
                else cls(**values)
        obj = cls(**values)
        if more:  # an attribute set by hand, or extra data (item access)
            obj.__dict__["undeclared"] = 1 if "undeclared" in more else None
            if "to_json" in more:
                _extra(obj, create=True)["to_json"] = more["to_json"]
        return obj

    return st.builds(build, st.integers(0, 4), chosen, extra)


def declared(schema: Dict[str, Any]) -> Dict[str, Any]:
    props: Dict[str, Any] = {}
    for member in schema.get("allOf", []):
        props.update(declared(DEFINITIONS[member["$ref"][len(D):]] if "$ref" in member
                              else member))
    props.update(schema.get("properties", {}))
    return props


def value_for(sub: Any, depth: int) -> st.SearchStrategy[Any]:
    if "$ref" in sub:
        name = sub["$ref"][len(D):]
        if name in COVERED and depth < 3:
            return st.one_of(objects(name, depth + 1), leaves)
        return st.one_of(st.sampled_from(["novel", "essay", "poem"]), leaves)
    if sub.get("type") == "array":
        items = value_for(sub["items"], depth)
        lists = st.lists(items, max_size=3 if depth < 2 else 1)
        return st.one_of(lists, lists.map(tuple), leaves)
    if sub.get("type") == "object":
        return st.one_of(st.dictionaries(texts, leaves, max_size=2), leaves)
    if sub.get("format") == "date-time":
        return st.one_of(datetimes, leaves)
    return leaves


def two_passes(name: str, value: Any) -> Tuple[str, Optional[str]]:
    """What today's path answers: ("ok", text) or ("refused", problem) or ("type", error)."""
    try:
        data = to_jsonable(value)
    except TypeError as exc:
        return "type", str(exc)
    problem = CHECKS[name](data)
    return ("refused", problem) if problem else ("ok", dumps(data))


@pytest.mark.parametrize("name", COVERED)
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_dumper_answers_as_the_two_passes(name, data):
    if name == "BookList":
        value = data.draw(st.builds(
            lambda books, count: CLASSES["BookList"](books=books, count=count),
            st.lists(objects("Book", 1), max_size=3), st.one_of(st.integers(0, 5), leaves)))
    elif name == "Books":
        books = st.lists(objects("Book", 1), max_size=3)
        value = data.draw(st.one_of(books, books.map(tuple), objects("Book", 1)))
    else:
        value = data.draw(objects(name, 0))
    expected = two_passes(name, value)
    try:
        dumped = DUMPERS[name](value)
    except TypeError:
        dumped = ()  # an unserialisable value: the two passes raise it themselves
    if dumped.__class__ is tuple:  # refused: the writer takes the two passes (its answer)
        return
    assert expected[0] == "ok", (expected, dumped)
    assert dumps(dumped) == expected[1]


def writer(name: str, with_dumper: bool) -> ResponseWriter:
    spec = ResponseSpec("application/json", CHECKS[name], True,
                        Explainer(ENTRIES[name][0], DEFINITIONS, "oas30", RESPONSE, ""),
                        DUMPERS[name] if with_dumper else None)
    return ResponseWriter("op", {"200": spec})


def answer(w: ResponseWriter, value: Any) -> Any:
    try:
        reply = w.build(value)
    except BadResponseError as exc:
        return "BAD_RESPONSE", exc.description, exc.problems
    except RecursionError:  # too deep for to_jsonable() too: a 500
        return "RecursionError"
    return reply.status_code, reply.body, reply.headers


@pytest.mark.parametrize("name", ["Book", "Node", "Books"])
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_the_writer_answers_the_same_with_or_without_the_dumper(name, data):
    value = data.draw(st.lists(objects("Book", 0), max_size=3) if name == "Books"
                      else objects(name, 0))
    assert answer(writer(name, True), value) == answer(writer(name, False), value)


# -- the fast path is taken -----------------------------------------------------------------------
def _book(**more: Any) -> Any:
    author = CLASSES["Author"](name="Frank", born=1920)
    values = dict(id=3, title="Dune", authors=[author, {"name": "Brian"}], tags=["sf"],
                  published_at=dt.datetime(1965, 8, 1), note=None, kind="novel",
                  meta={"a": [1, dt.date(2000, 1, 2)]})
    return CLASSES["Book"](**dict(values, **more))


def test_valid_models_are_converted_without_to_jsonable_but_where_needed(monkeypatch):
    namespace = DUMPERS["Book"].__globals__
    calls = []
    monkeypatch.setitem(namespace, "_to_jsonable",
                        lambda value: calls.append(type(value).__name__) or to_jsonable(value))
    books = CLASSES["BookList"](books=[_book(), _book(id=4, available=None)], count=2)
    data = DUMPERS["BookList"](books)
    assert data == to_jsonable(books)
    assert calls == ["dict", "dict"]  # only `meta`, a free-form object
    first = data["books"][0]
    assert list(first) == list(vars(_book()))  # the object's order, as to_json writes it
    # None: kept where nullable, left out elsewhere (as to_json does)
    assert first["note"] is None and "available" not in data["books"][1]
    assert first["published_at"] == "1965-08-01T00:00:00Z"


@settings(max_examples=500, deadline=None)
@given(datetimes)
def test_a_datetime_written_by_a_dumper_is_checked_as_its_text(value):
    # the dumper skips the date-time format's check where the text's length proves it
    from pym_lambda.fastcheck.formats import _fmt_date_time

    text = to_jsonable(value)
    proven = value.tzinfo is None or len(text) in (25, 32)
    assert _fmt_date_time(text) is proven
    book = {"title": "t", "authors": [{"name": "n"}], "id": 1, "published_at": value}
    assert answer(writer("Book", True), book) == answer(writer("Book", False), book)


def test_a_class_with_its_own_to_json_is_serialised_by_it():
    value = SubBook(id=1, title="t", authors=[{"name": "n"}])
    assert DUMPERS["Book"](value) == {"title": "from to_json", "authors": [{"name": "x"}],
                                      "id": 1}


def test_a_refused_response_is_reported_as_before_with_every_problem():
    bad = _book(id="three", title="", tags=["sf", "sf"])
    with pytest.raises(BadResponseError) as with_dumper:
        writer("Book", True).build(bad)
    with pytest.raises(BadResponseError) as without:
        writer("Book", False).build(bad)
    assert with_dumper.value.description == without.value.description
    assert with_dumper.value.problems == without.value.problems
    assert len(with_dumper.value.problems) == 3


@pytest.mark.parametrize("depth", [50, 300, 600, 3000])
def test_a_deep_recursive_value_is_answered_as_by_the_two_passes(depth):
    node: Any = {"name": "leaf"}
    for _ in range(depth):
        node = {"name": "n", "children": [CLASSES["Node"](name="m", children=[node])]}
    assert answer(writer("Node", True), node) == answer(writer("Node", False), node)


def test_the_helpers_are_put_in_the_generated_module():
    namespace = compile_checkers({"m0": ENTRIES["Author"]})[0]["m0"].__globals__
    assert "dump_m0" in namespace and "_to_jsonable" not in namespace  # nothing imported
    assert DUMPERS["Author"].__globals__["_MODEL_NULLABLE"] is DUMP_HELPERS["_MODEL_NULLABLE"]
    assert json.loads(dumps(DUMPERS["Author"](CLASSES["Author"](name="a")))) == {"name": "a"}


ODD = {  # OAS 3.1 shapes a dumper must take or leave, never break on
    "A": {"type": "object", "required": ["a"], "properties": {
        "a": True, "b": False, "c": {"type": "array", "items": True},
        "d": {"type": ["string", "null"], "format": "date-time"},
        "e": {"type": "array", "items": {"$ref": D + "A"}, "minItems": 0}}},
    "B": {"allOf": [{"$ref": D + "A"}, {"properties": {"a": {"type": "string"}}}]},  # twice
    "C": {"type": "object", "properties": {"x": {"$ref": D + "Missing"}}},
}


def test_odd_schemas_are_dumped_as_checked_or_left_to_the_two_passes():
    entries = {name: ({"$ref": D + name}, ODD, "oas31", RESPONSE, "") for name in ODD}
    made: Dict[str, Any] = {}
    checks = build_checks(entries, None, made)
    dumpers = dumpers_in(made)
    assert sorted(dumpers) == ["A"]  # B declares `a` twice; C's $ref points to nothing
    when = dt.datetime(2020, 1, 2, 3, 4, 5)
    for value in ({"a": 1}, {"a": None, "b": 1}, {"a": 1, "c": (1, when)}, {"a": 1, "d": when},
                  {"a": 1, "e": [{"a": 2, "e": []}]}, {"a": 1, "e": [{"b": 2}]}, {}):
        dumped = dumpers["A"](value)
        data = to_jsonable(value)
        if checks["A"](data) is None:
            assert dumped == data
        else:
            assert dumped.__class__ is tuple
