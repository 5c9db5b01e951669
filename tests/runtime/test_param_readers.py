"""ParamReader decides once where a parameter is read and whether it is coerced and converted
(params.py); these readers give the same keyword arguments and the same 400s as the reading it
replaced, which decided all of it at each request (`reference_read` below, that code as it was),
for every location, type, style and value, on requests built from API Gateway REST events."""
from __future__ import annotations

import itertools
from typing import Any, Dict, List, Optional

from chalice.app import Request
from hypothesis import given, settings
from hypothesis import strategies as st

from pym_lambda.aws_events import rest_proxy_event
from pym_lambda.context import request_header
from pym_lambda.errors import InvalidParameterError
from pym_lambda.runtime import params as params_module
from pym_lambda.runtime.models import _identity
from pym_lambda.runtime.params import _MISSING, CoercionError, ParamReader, _cookies

SCHEMAS = [{"type": "integer"}, {"type": "string"}, {"type": "number"}, {"type": "boolean"},
           {"type": ["integer", "null"]}, {}, {"type": "string", "default": "d"},
           {"type": "integer", "default": 7},
           {"type": "array", "items": {"type": "integer"}},
           {"type": "array", "items": {"type": "string"}}]
TEXTS = st.one_of(st.sampled_from(["1", "-2", "x", "", "true", "null", "1.5", "1,2", "a|b",
                                   "007", "1e3"]), st.text(max_size=6))


def reference_read(reader: ParamReader, request: Any, kwargs: Dict[str, Any]) -> None:
    """ParamReader.read before it was specialised: every decision taken at each call."""
    if reader.location == "path":
        raw = (request.uri_params or {}).get(reader.name, _MISSING)
    elif reader.location == "query":
        found = request.query_params
        if not found or reader.name not in found:
            raw = _MISSING
        else:
            values = found.getlist(reader.name)
            raw = values if reader.multi else values[-1]
    elif reader.location == "header":
        value = request_header(request, reader.name)
        raw = _MISSING if value is None else value
    else:
        raw = _cookies(request).get(reader.name, _MISSING)
    if raw is _MISSING:
        if reader.default is not _MISSING:
            kwargs[reader.pyname] = reader.convert(reader.default)
        elif reader.required:
            raise reader.invalid(f"{reader.label} is required", "required")
        return
    try:
        value = reader.coerce(raw)
    except CoercionError as exc:
        raise reader.invalid(f"{reader.label}: {exc}", "type") from None
    if reader.check is not None:
        problem = reader.check(value)
        if problem:
            raise InvalidParameterError(problem, problems=None)
    kwargs[reader.pyname] = reader.convert(value)


def outcome(read: Any, reader: ParamReader, request: Any) -> Any:
    kwargs: Dict[str, Any] = {}
    try:
        read(reader, request, kwargs)
    except InvalidParameterError as exc:
        return ("error", exc.status, exc.description, exc.problems)
    except Exception as exc:  # noqa: BLE001 - whatever fails, fails the same way both ways
        return ("raised", type(exc), str(exc))
    return ("ok", kwargs)


def small_positive(value: Any) -> Optional[str]:  # a check: refuses negative numbers
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
        return f"{value} is less than the minimum of 0"
    return None


def marked(value: Any) -> Any:  # a converter that changes the value (a model's would)
    return ("converted", value)


LOCATIONS = ["path", "query", "header", "cookie"]
STYLES = ["form", "simple", "pipeDelimited"]
VALUE_LISTS = [[], ["1"], ["-2"], ["x"], [""], ["1", "2"], ["1,2"], ["a|b", "3"], ["true"],
               ["null"], ["1.5"], ['{"a": 1}']]


def test_every_combination_of_a_small_table():
    for case in itertools.product(LOCATIONS, SCHEMAS, [True, False], STYLES, [True, False],
                                  VALUE_LISTS, [True, False], [True, False], [True, False]):
        check_same(*case)


@settings(max_examples=300, deadline=None)
@given(location=st.sampled_from(LOCATIONS), schema=st.sampled_from(SCHEMAS),
       required=st.booleans(), style=st.sampled_from(STYLES), explode=st.booleans(),
       values=st.lists(TEXTS, max_size=3), checked=st.booleans(), converted=st.booleans(),
       json_content=st.booleans())
def test_any_text_is_read_as_the_reading_it_replaced(location, schema, required, style, explode,
                                                      values, checked, converted, json_content):
    check_same(location, schema, required, style, explode, values, checked, converted,
               json_content)


def check_same(location: str, schema: Dict[str, Any], required: bool, style: str,
               explode: bool, values: List[str], checked: bool, converted: bool,
               json_content: bool) -> None:
    param = {"name": "p", "in": location, "pyname": "p", "required": required,
             "schema": schema, "style": style, "explode": explode}
    if json_content:
        param["content_type"] = "application/json"
    reader = ParamReader(param, lambda s: s, small_positive if checked else None,
                         marked if converted else _identity)
    assert reader.as_is == (not json_content and schema.get("type") in (None, "string")
                            and "array" not in str(schema.get("type")))
    path, query, headers = {}, {}, {"Host": ["x"]}
    if values:
        if location == "path":
            path["p"] = values[-1]
        elif location == "query":
            query["p"] = list(values)
        elif location == "header":
            headers["P"] = [values[-1]]
        else:
            headers["Cookie"] = [f"p={values[-1]}"]
    event = rest_proxy_event("GET", "/x", resource="/x", headers=headers, query=query,
                             path_parameters=path or None)
    request = Request(event)
    got = outcome(ParamReader.read, reader, request)
    assert got == outcome(reference_read, reader, request), (location, schema, values, got)


def test_a_query_mapping_that_is_not_chalices_is_read_as_before():
    class Query(dict):  # a request built without an event: a mapping with getlist
        def getlist(self, name: str) -> List[str]:
            return list(self[name])

    reader = ParamReader({"name": "n", "in": "query", "pyname": "n", "required": True,
                          "schema": {"type": "integer"}, "style": "form", "explode": True},
                         lambda s: s, None, _identity)
    request = type("R", (), {"query_params": Query(n=["1", "2"])})()
    assert outcome(ParamReader.read, reader, request) == ("ok", {"n": 2})
    request.query_params = Query(m=["1"])
    assert outcome(ParamReader.read, reader, request)[2] == "query parameter 'n' is required"
    assert params_module.MultiDict is not Query


def test_a_json_content_array_in_the_query_is_one_json_text_not_exploded_values():
    """`content: application/json` with an array schema: the text is JSON, one value (a
    repeated one: its last), a 400 naming the parameter when it is not JSON, never a 500."""
    reader = ParamReader({"name": "ids", "in": "query", "pyname": "ids", "required": True,
                          "schema": {"type": "array", "items": {"type": "integer"}},
                          "style": "form", "explode": True,
                          "content_type": "application/json"}, lambda s: s, None, _identity)

    def read(*values: str) -> Any:
        event = rest_proxy_event("GET", "/x", resource="/x", headers={"Host": ["x"]},
                                 query={"ids": list(values)})
        return outcome(ParamReader.read, reader, Request(event))

    assert read("[1, 2]") == ("ok", {"ids": [1, 2]})
    assert read("[1]", "[2, 3]") == ("ok", {"ids": [2, 3]})
    error = read("1,2]")
    assert error[:2] == ("error", 400) and "query parameter 'ids'" in error[2]
