"""An enum listing a value twice loads with a warning naming it (OpenAPI: values SHOULD be
unique; openapi-spec-validator accepts such a spec, and Stripe's has one) and still accepts
exactly its values."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

from pym_lambda import create_app
from pym_lambda.build.openapi.compiler import compile_specs
from pym_lambda.build.openapi.enums import drop_repeated_enum_values
from pym_lambda.runtime.spec_warnings import compiled_warnings
from tests.conftest import make_project

SPEC = """\
openapi: 3.0.3
info: {title: hooks, version: '1'}
paths:
  /hooks:
    post:
      operationId: create_hook
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              properties:
                version: {type: string, enum: ['2024-01-01', '2025-10-15', '2025-10-15',
                                               '2025-10-15']}
                level: {enum: [1, 1.0, true, 1]}
                enum: {type: string, enum: [a, b]}
      responses:
        '201': {description: created}
"""


def test_repeats_are_dropped_with_one_warning_per_enum_naming_its_pointer(
        tmp_path: Path) -> None:
    spec = tmp_path / "hooks.yaml"
    spec.write_text(SPEC)
    compiled = compile_specs([(spec, "apis/hooks.yaml")])
    base = ("apis/hooks.yaml: #/paths/~1hooks/post/requestBody/content/application~1json/"
            "schema/properties")
    assert compiled_warnings(compiled) == [
        f"{base}/version/enum: 2 repeated value(s) ignored (OpenAPI: enum values SHOULD be "
        "unique)",
        f"{base}/level/enum: 2 repeated value(s) ignored (OpenAPI: enum values SHOULD be "
        "unique)"]
    schema = compiled["apis"][0]["operations"][0]["body"]["content"]["application/json"]
    assert schema["properties"]["version"]["enum"] == ["2024-01-01", "2025-10-15"]
    # 1 and 1.0 are one JSON value; true is another
    assert schema["properties"]["level"]["enum"] == [1, True]


def test_an_enum_property_name_and_example_data_are_left_alone() -> None:
    doc: Any = {"properties": {"enum": {"type": "string"}},
                "example": {"enum": ["x", "x"]}, "x-values": {"enum": [1, 1]}}
    assert drop_repeated_enum_values(doc) == []
    assert doc["example"]["enum"] == ["x", "x"]


@pytest.mark.parametrize("version, status", [("2025-10-15", 501), ("2024-01-01", 501),
                                             ("2023-01-01", 400)])
def test_the_enum_still_accepts_exactly_its_values(tmp_path: Path, version: str,
                                                   status: int) -> None:
    app = create_app(make_project(tmp_path, {"hooks": SPEC}), app_name="hooks")
    with app.pym_service.use(), Client(app) as client:
        reply = client.http.post("/hooks", headers={"content-type": "application/json"},
                                 body=json.dumps({"version": version}).encode())
    assert reply.status_code == status, reply.body


def test_an_empty_enum_value_of_a_path_parameter_is_reported(tmp_path: Path) -> None:
    spec = tmp_path / "jobs.yaml"
    spec.write_text("""\
openapi: 3.0.3
info: {title: jobs, version: '1'}
paths:
  /jobs/{state}:
    get:
      operationId: get_jobs
      parameters:
        - {name: state, in: path, required: true, schema: {type: string, enum: ['', done]}}
      responses: {'200': {description: jobs}}
""")
    compiled = compile_specs([(spec, "apis/jobs.yaml")])
    assert compiled_warnings(compiled) == [
        "apis/jobs.yaml: GET /jobs/{state}: operation get_jobs: path parameter 'state': its "
        "enum value '' cannot be sent (a path segment is never empty)"]
