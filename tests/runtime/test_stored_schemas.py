"""The compiled form's schemas, stored apart by the build and decoded one by one at first use
(runtime/stored_schemas.py, build/compiled_form.stored_form)."""
from __future__ import annotations

import copy
import json
from pathlib import Path

from pym_lambda.build.compiled_form import stored_form, write_compiled
from pym_lambda.runtime.project_files import read_compiled
from pym_lambda.runtime.stored_schemas import (
    SCHEMAS_FILE,
    StoredDefinitions,
    extended_names,
    restore_operation,
)
from tests.conftest import make_project

SPEC = """
openapi: 3.0.3
info: {title: shop, version: '1'}
paths:
  /items/{item_id}:
    get:
      operationId: getItem
      parameters:
        - {name: item_id, in: path, required: true, schema: {type: integer, minimum: 1}}
        - {name: q, in: query, schema: {type: string, maxLength: 5}}
      responses:
        '200':
          description: ok
          content: {application/json: {schema: {$ref: '#/components/schemas/Item'}}}
    put:
      operationId: putItem
      parameters:
        - {name: item_id, in: path, required: true, schema: {type: integer}}
      requestBody:
        content: {application/json: {schema: {$ref: '#/components/schemas/Item'}}}
      responses:
        '204': {description: done}
components:
  schemas:
    Item:
      type: object
      properties: {name: {type: string, description: "caf\\u00e9 \\u2603"}}
    Tagged:
      x-persist: tests.runtime.test_stored_schemas.Persist
      type: object
"""


class Persist:
    pass


def _compiled(tmp_path: Path):
    from pym_lambda.build.compiled_form import compile_project

    return compile_project(make_project(tmp_path, {"shop": SPEC}))


def test_the_schemas_file_is_json_and_every_place_holds_its_schema(tmp_path):
    compiled = _compiled(tmp_path)
    original = copy.deepcopy(compiled)
    stored, text = stored_form(compiled)
    assert compiled == original  # the in-memory form is left as it was
    values = json.loads(text)  # one JSON array: readable as a whole too
    api = stored["apis"][0]
    assert "definitions" not in api
    for name, (start, end) in api["stored_definitions"]["slices"].items():
        assert json.loads(text[start:end]) == original["apis"][0]["definitions"][name]
        assert json.loads(text[start:end]) in values
    assert api["stored_definitions"]["extended"] == ["Tagged"]
    for op, whole in zip(api["operations"], original["apis"][0]["operations"], strict=True):
        assert "responses" not in op and all("schema" not in p for p in op["params"])
        start, end = op["stored"]
        record = json.loads(text[start:end])
        assert record["responses"] == whole["responses"]
        assert record["params"] == [p["schema"] for p in whole["params"]]


def test_the_runtime_decodes_each_schema_at_its_first_use_only(tmp_path):
    compiled = _compiled(tmp_path)
    original = copy.deepcopy(compiled)
    chalicelib = tmp_path / "chalicelib"
    chalicelib.mkdir()
    assert write_compiled(chalicelib / "pym_compiled.json", compiled)
    assert (chalicelib / SCHEMAS_FILE).is_file()
    document = read_compiled(tmp_path)
    api = document["apis"][0]
    definitions = api["definitions"]
    assert isinstance(definitions, StoredDefinitions)
    assert sorted(definitions) == ["Item", "Tagged"] and definitions.decoded() == []
    assert extended_names(definitions) == ["Tagged"]  # found without decoding it
    item = definitions["Item"]
    assert item == original["apis"][0]["definitions"]["Item"]
    assert definitions["Item"] is item  # decoded once: the same object (identity matters)
    assert definitions.decoded() == ["Item"]
    assert dict(definitions) == original["apis"][0]["definitions"]
    # operations: their schemas back at restore_operation, once
    for op, whole in zip(api["operations"], original["apis"][0]["operations"], strict=True):
        assert "responses" not in op
        assert restore_operation(op) == whole
        assert restore_operation(op) == whole  # a second time changes nothing
