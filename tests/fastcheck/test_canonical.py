"""canonical.py: JSON Schema equality as a hashable key; uniqueItems in linear time."""
from __future__ import annotations

import time

import pytest

from pym_lambda.build.reference_validator import SchemaValidator
from pym_lambda.fastcheck import compile_checker
from pym_lambda.fastcheck.canonical import _all_unique, _canonical


@pytest.mark.parametrize("one, two", [
    (1, 1.0), ({"a": 1, "b": [1, 2]}, {"b": [1.0, 2], "a": 1}), ([{"x": None}], [{"x": None}]),
    ("a", "a"), (1e300, int(1e300)),
])
def test_equal_values_have_equal_keys(one, two) -> None:
    assert _canonical(one) == _canonical(two) and not _all_unique([one, two])


@pytest.mark.parametrize("one, two", [
    (True, 1), (False, 0), ([1, 2], [2, 1]), ({"a": 1}, {"a": True}), ("1", 1), ([], {}),
    ([None], None), ({"a": []}, {"a": {}}), (float("nan"), float("nan")),
])
def test_unequal_values_have_unequal_keys(one, two) -> None:
    assert _canonical(one) != _canonical(two) and _all_unique([one, two])


SCHEMA = {"type": "array", "uniqueItems": True, "items": {"type": "object"}}


@pytest.mark.parametrize("check, count", [
    (compile_checker(SCHEMA, {}, "oas30", "request", "body"), 8000),
    # jsonschema spends ~0.1 ms per item on its other keywords: fewer items (2,000 objects
    # compared pairwise took 26 s; hashed, under a second)
    (SchemaValidator(SCHEMA, {}, "oas30", "request", "body").check, 2000),
], ids=["fastcheck", "reference"])
def test_unique_objects_are_linear(check, count) -> None:
    # 8,000 small objects (100 KiB) took 55-90 s when every pair was compared; hashing takes
    # milliseconds. The bound is generous on purpose (a shared, slow CI machine).
    items = [{"id": i, "name": "x"} for i in range(count)]
    check([])  # imports done
    started = time.perf_counter()
    assert check(items) is None
    problem = check(items + [{"name": "x", "id": count - 1.0}])
    assert time.perf_counter() - started < 3
    assert problem is not None and "non-unique" in problem and len(problem) <= 300
