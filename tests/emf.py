"""Reading Embedded Metric Format lines as CloudWatch Logs does: each line that is a JSON object
with an `_aws` member is checked against the specification (tests/fixtures/emf/emf-schema.json,
then the references JSON Schema cannot express) and gives one datum per metric and dimension
set. An invalid document fails the test with the reason CloudWatch would reject it for."""
from __future__ import annotations

import json
import time
from functools import cache
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Tuple

import jsonschema

SCHEMA = Path(__file__).parent / "fixtures" / "emf" / "emf-schema.json"
MAX_DIMENSION_VALUE = 1024
PAST_MS, FUTURE_MS = 14 * 86400 * 1000, 2 * 3600 * 1000  # CloudWatch drops older/later points


class Datum(NamedTuple):
    namespace: str
    dimensions: Tuple[Tuple[str, str], ...]
    name: str
    value: float
    unit: str


@cache
def _validator() -> Any:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def documents(output: str) -> List[Dict[str, Any]]:
    """The EMF documents among the lines of `output` (other lines: ordinary logs)."""
    found = []
    for line in output.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict) and "_aws" in value:
            found.append(value)
    return found


def extract(document: Dict[str, Any]) -> List[Datum]:
    """The metric data CloudWatch extracts from one document (AssertionError if invalid)."""
    errors = sorted(_validator().iter_errors(document), key=str)
    assert not errors, f"not a valid EMF document: {errors[0].message} in {document}"
    meta = document["_aws"]
    now = time.time() * 1000
    assert now - PAST_MS <= meta["Timestamp"] <= now + FUTURE_MS, meta["Timestamp"]
    data: List[Datum] = []
    for directive in meta["CloudWatchMetrics"]:
        for dimension_set in directive["Dimensions"]:
            for key in dimension_set:
                assert key in document, f"dimension {key} missing from {document}"
                value = document[key]
                assert isinstance(value, str) and 0 < len(value) <= MAX_DIMENSION_VALUE, (
                    f"dimension {key} is {value!r}: CloudWatch needs a string")
        for metric in directive["Metrics"]:
            name = metric["Name"]
            assert name in document, f"metric {name} missing from {document}"
            value = document[name]
            values = value if isinstance(value, list) else [value]
            assert values and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                  for v in values), f"metric {name} is {value!r}"
            for dimension_set in directive["Dimensions"] or [[]]:
                dims = tuple((key, document[key]) for key in dimension_set)
                data += [Datum(directive["Namespace"], dims, name, v, metric.get("Unit", "None"))
                         for v in values]
    return data


def all_data(output: str) -> List[Datum]:
    return [datum for document in documents(output) for datum in extract(document)]
