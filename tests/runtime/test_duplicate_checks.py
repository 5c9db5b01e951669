"""Two path keys that route alike (`/wms/` and `/wms//`, as TomTom's spec has): the second is a
duplicate with a warning, and the first is checked against its own parameters, not the
second's (their checks were once filed under the one routed path)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from chalice.test import Client

from pym_lambda import create_app
from tests.conftest import make_project

SPEC = """
openapi: 3.0.3
info: {title: maps, version: '1'}
paths:
  /wms/:
    get:
      operationId: get_map
      parameters:
        - {name: request, in: query, required: true, schema: {type: string, enum: [GetMap]}}
      responses: {'200': {description: a map}}
  /wms//:
    get:
      operationId: get_capabilities
      parameters:
        - {name: request, in: query, required: true,
           schema: {type: string, enum: [GetCapabilities]}}
      responses: {'200': {description: capabilities}}
"""


@pytest.mark.parametrize("value, status", [("GetMap", 501), ("GetCapabilities", 400)])
def test_the_served_operation_checks_its_own_parameters(tmp_path: Path, value: str,
                                                        status: int) -> None:
    app = create_app(make_project(tmp_path, {"maps": SPEC}), app_name="maps")
    with app.pym_service.use(), Client(app) as client:
        reply = client.http.get(f"/wms?request={value}")
    body = json.loads(reply.body)
    assert reply.status_code == status, body
    if status == 501:
        assert "get_map" in body["error_description"]
