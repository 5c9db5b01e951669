"""request_caps: counts of query values, headers and cookies checked against the limits."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from chalice.app import MultiDict

from pym_lambda.config import LimitSettings
from pym_lambda.errors import HeadersTooLargeError, InvalidParameterError
from pym_lambda.runtime.request_caps import RequestCaps


def request(query=None, headers=None, multi_headers=None):
    event = {"headers": headers or {}, "multiValueHeaders": multi_headers}
    return SimpleNamespace(query_params=MultiDict(query) if query else None,
                           headers=headers or {}, to_original_event=lambda: event)


def test_caps_come_from_the_limits() -> None:
    limits = LimitSettings(max_query_params=3, max_headers=4, max_cookies=5)
    assert RequestCaps.from_limits(limits) == RequestCaps(3, 4, 5)
    assert RequestCaps.from_limits(None) == RequestCaps()


def test_within_the_caps() -> None:
    RequestCaps(2, 2, 2).check(request({"a": ["1", "2"]}, {"cookie": "a=1; b=2"}))


def test_each_value_of_a_repeated_query_parameter_counts() -> None:
    with pytest.raises(InvalidParameterError, match=r"limits.max_query_params \(2\)"):
        RequestCaps(2, 9, 9).check(request({"a": ["1", "2", "3"]}))


def test_headers_counted_with_their_repeated_values() -> None:
    with pytest.raises(HeadersTooLargeError, match="limits.max_headers"):
        RequestCaps(9, 2, 9).check(request(multi_headers={"x": ["1", "2"], "y": ["3"]}))


def test_cookies() -> None:
    with pytest.raises(InvalidParameterError, match="limits.max_cookies"):
        RequestCaps(9, 9, 2).check(request(headers={"cookie": "a=1; b=2; c=3"}))


class _Unwalkable(list):
    def __len__(self) -> int:  # a value list the cap must not need to look into
        raise AssertionError("the values were walked although the names exceed the cap")


def test_the_event_is_counted_and_past_the_cap_in_names_no_value_is_walked() -> None:
    event = {"multiValueQueryStringParameters": {f"p{i}": _Unwalkable(["1"]) for i in range(5)},
             "headers": {}}
    req = SimpleNamespace(query_params=None, headers={}, to_original_event=lambda: event)
    with pytest.raises(InvalidParameterError, match=r"5 parameter values.*max_query_params"):
        RequestCaps(max_query_params=3).check(req)
    event["multiValueQueryStringParameters"] = {"a": ["1", "2"], "b": ["3", "4"]}
    with pytest.raises(InvalidParameterError, match=r"4 parameter values"):
        RequestCaps(max_query_params=3).check(req)


@pytest.mark.parametrize("mapping, count", [
    ({"a": ["1", "2"], "b": ["3"]}, 3),  # API Gateway's multi-value map: lists only
    ({"a": "1", "b": "22"}, 2),  # a single-value map: one per name, not the text's length
    ({"a": ["1", "2"], "b": "33"}, 3),  # mixed (an event built by hand)
    ({}, 0),
])
def test_values_are_counted_whatever_the_map_holds(mapping, count) -> None:
    from pym_lambda.runtime.request_caps import _values

    assert _values(mapping, 99) == count
