"""Generated pym-lambda projects of N operations, for the scale benchmark.

    python benchmarks/gen_spec.py 100 /tmp/gen100      # writes a project there

A project of N operations has N/2 paths `/r{i}/items/{item_id}`, each with
- GET: a path parameter (integer, minimum 1), two query parameters (an integer with bounds and
  a default, a csv array of strings), a header parameter; returns `Resource{i}`;
- POST: the path parameter and a required JSON body `Resource{i}`; returns it (201).
`Resource{i}` is an object with nested objects (inline and through $refs) and arrays of $refs to
the shared definitions `Person`, `Address`, `Tag`; every operation declares `default: Error`.
chalicelib/gen.py holds the bound functions (x-bind-server).
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any, Dict

SHARED = {
    "Address": {
        "type": "object", "required": ["city"],
        "properties": {"street": {"type": "string", "maxLength": 200},
                       "city": {"type": "string", "minLength": 1},
                       "zip": {"type": "string", "pattern": "^[0-9]{5}$"}},
    },
    "Person": {
        "type": "object", "required": ["name"],
        "properties": {"name": {"type": "string", "minLength": 1},
                       "email": {"type": "string", "format": "email"},
                       "address": {"$ref": "#/components/schemas/Address"}},
    },
    "Tag": {
        "type": "object", "required": ["key"],
        "properties": {"key": {"type": "string", "pattern": "^[a-z0-9-]+$"},
                       "value": {"type": "string"}},
    },
    "Error": {
        "type": "object", "required": ["status", "error", "error_description"],
        "properties": {"status": {"type": "integer"}, "error": {"type": "string"},
                       "error_description": {"type": "string"},
                       "error_id": {"type": "string"}},
    },
}


def resource_schema(i: int) -> Dict[str, Any]:
    return {
        "type": "object",
        "required": ["name", "owner"],
        "properties": {
            "id": {"type": "integer", "readOnly": True},
            "name": {"type": "string", "minLength": 1, "maxLength": 100},
            "kind": {"type": "string", "enum": [f"k{i}", "other"]},
            "owner": {"$ref": "#/components/schemas/Person"},
            "members": {"type": "array", "items": {"$ref": "#/components/schemas/Person"}},
            "tags": {"type": "array", "items": {"$ref": "#/components/schemas/Tag"}},
            "meta": {
                "type": "object",
                "properties": {
                    "created": {"type": "string", "format": "date-time"},
                    "score": {"type": "number", "minimum": 0, "maximum": 1},
                    "labels": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    }


def spec(n_ops: int) -> Dict[str, Any]:
    paths: Dict[str, Any] = {}
    schemas: Dict[str, Any] = dict(SHARED)
    error = {"description": "Error",
             "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for i in range(max(1, n_ops // 2)):
        ref = {"$ref": f"#/components/schemas/Resource{i}"}
        schemas[f"Resource{i}"] = resource_schema(i)
        paths[f"/r{i}/items/{{item_id}}"] = {
            "parameters": [{"name": "item_id", "in": "path", "required": True,
                            "schema": {"type": "integer", "minimum": 1}}],
            "get": {
                "operationId": f"getR{i}",
                "x-bind-server": f"chalicelib.gen.get_r{i}",
                "parameters": [
                    {"name": "limit", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": 100,
                                "default": 10}},
                    {"name": "tags", "in": "query", "style": "form", "explode": False,
                     "schema": {"type": "array", "items": {"type": "string"}}},
                    {"name": "X-Trace", "in": "header", "schema": {"type": "string"}},
                ],
                "responses": {"200": {"description": "ok",
                                      "content": {"application/json": {"schema": ref}}},
                              "default": error},
            },
            "post": {
                "operationId": f"postR{i}",
                "x-bind-server": f"chalicelib.gen.post_r{i}",
                "requestBody": {"required": True,
                                "content": {"application/json": {"schema": ref}}},
                "responses": {"201": {"description": "created",
                                      "content": {"application/json": {"schema": ref}}},
                              "default": error},
            },
        }
    return {"openapi": "3.0.3",
            "info": {"title": f"Generated API ({n_ops} operations)", "version": "1.0.0"},
            "servers": [{"url": "/v1"}], "paths": paths, "components": {"schemas": schemas}}


def functions(n_ops: int) -> str:
    lines = ['"""Generated endpoints (benchmarks/gen_spec.py)."""', ""]
    for i in range(max(1, n_ops // 2)):
        lines += [
            f"def get_r{i}(item_id, limit=10, tags=None, x_trace=None):",
            f"    return {{'id': item_id, 'name': 'r{i}', 'owner': {{'name': 'ann'}}}}",
            "",
            f"def post_r{i}(body, item_id):",
            "    return 201, body",
            "",
        ]
    return "\n".join(lines)


def write_project(n_ops: int, target: Path) -> Path:
    """A project folder: app.py, apis/gen.yaml (YAML, as a service keeps it), chalicelib/."""
    import yaml

    if target.exists():
        shutil.rmtree(target)
    (target / "apis").mkdir(parents=True)
    (target / "chalicelib").mkdir()
    (target / ".chalice").mkdir()
    (target / "apis" / "gen.yaml").write_text(
        yaml.safe_dump(spec(n_ops), sort_keys=False), encoding="utf-8")
    (target / "chalicelib" / "__init__.py").write_text("")
    (target / "chalicelib" / "gen.py").write_text(functions(n_ops))
    (target / "app.py").write_text(
        "from pym_lambda import create_app\n\napp = create_app(__file__)\n")
    (target / ".chalice" / "config.json").write_text(
        json.dumps({"version": "2.0", "app_name": f"gen{n_ops}", "stages": {"dev": {}}}))
    return target


if __name__ == "__main__":
    n = int(sys.argv[1])
    out = write_project(n, Path(sys.argv[2]))
    print(f"wrote {out} ({n} operations)")
