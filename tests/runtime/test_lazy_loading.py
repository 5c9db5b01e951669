"""A cold start costs the same whatever the number of operations (issue #18 item 3): what an
operation needs (its readers, checks, models) is made at its first call; the build makes all
of them, so that a problem shows there, not at a first call."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pym_lambda.errors import SpecErrors
from pym_lambda.runtime.app import bind_operations
from pym_lambda.runtime.operation import ApiRuntime, BoundOperation
from pym_lambda.runtime.operation_checks import LazyChecks
from tests.conftest import make_project, make_service
from tests.runtime.lambda_service import ROOT, json_operation

SPEC = f"""
openapi: 3.0.3
info: {{title: pets, version: '1'}}
paths:
  /pets:
{json_operation("chalicelib.pets.create", "Pet")}  /owners:
{json_operation("chalicelib.pets.create_owner", "Owner")}components:
  schemas:
    Pet:
      type: object
      required: [name]
      properties:
        name: {{type: string, minLength: 1, pattern: '^[a-z]+$'}}
        born: {{type: string, format: date}}
    Owner:
      type: object
      required: [name]
      properties: {{name: {{type: string}}}}
"""
IMPL = """
def create(pet):
    return 201, {"name": pet.name, "born": pet.born.isoformat()}

def create_owner(owner):
    return 201, {"name": owner.name}
"""
# What the Lambda package holds: app.py and chalicelib/ as the build wrote it, no apis/.
PROBE = """
import json, sys
sys.path[:0] = ['.', {root!r}]
import app
from chalice.test import Client
ops = {{op.id: op for op in app.app.pym_operations}}
models = app.app.pym_service.models._by_api["pets"]
checks = next(iter(ops.values())).api.checks

definitions = next(iter(ops.values())).api.definitions
HEAVY = ("jsonschema", "openapi_schema_validator", "pydantic", "pym_lambda.schema_engine", "re2")

def state(label):
    print(label, json.dumps({{"prepared": sorted(i for i, o in ops.items() if o.responses),
                             "models": sorted(models.made()), "checks": checks.loaded(),
                             "schemas": sorted(definitions.decoded()),
                             "fastcheck": "pym_lambda.fastcheck" in sys.modules,
                             "heavy": sorted(m for m in sys.modules if m.startswith(HEAVY))}}))

state("COLD")
with app.app.pym_service.use(), Client(app.app) as client:
    for body in ({{"name": "rex", "born": "2020-01-02"}}, {{"name": ""}}):
        reply = client.http.post("/pets", headers={{"content-type": "application/json"}},
                                 body=json.dumps(body))
        print("STATUS", reply.status_code, reply.body.decode())
        if body["name"]:
            state("CALLED")
dump = ops["post_/pets"].responses.specs["201"].dump
print("DUMP", json.dumps(dump.__code__.co_filename))
load = ops["post_/pets"].body.loaders["application/json"]
print("LOAD", json.dumps(load.__code__.co_filename))
"""


def _package(tmp_path: Path) -> Path:
    project = make_service(tmp_path / "project", {"pets": SPEC}, {"pets": IMPL})
    subprocess.run([sys.executable, "-m", "pym_lambda.build.cli", "build", "--project-dir",
                    str(project)], capture_output=True, text=True, check=True)
    task = tmp_path / "task"
    task.mkdir()
    shutil.copy(project / "app.py", task / "app.py")
    shutil.copytree(project / "chalicelib", task / "chalicelib")
    return task


def test_an_operation_is_prepared_at_its_first_call_and_serves_as_before(tmp_path):
    task = _package(tmp_path)
    out = subprocess.run([sys.executable, "-c", PROBE.format(root=str(ROOT))], cwd=task,
                         capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "PYM_STAGE": "dev"})
    assert out.returncode == 0, out.stderr[-2000:]
    lines = [line.split(" ", 1) for line in out.stdout.splitlines()]
    found = {tag: json.loads(text) for tag, text in lines if tag in ("COLD", "CALLED")}
    # a cold start made no operation's readers, no model class, loaded no check
    assert found["COLD"] == {"prepared": [], "models": [], "checks": False, "schemas": [],
                             "fastcheck": False, "heavy": []}
    # the first call made its own operation's, and the classes its body and response name
    called = found["CALLED"]
    assert called["prepared"] == ["post_/pets"] and called["models"] == ["Pet"]
    assert called["schemas"] == ["Pet"]  # Owner never decoded
    # RE2 for the pattern, at this first call; no validator library
    assert [m for m in called["heavy"] if not m.startswith("re2")] == []
    # the prebuilt checks, loaded (no generator ran)
    assert called["checks"] is True and called["fastcheck"] is False
    statuses = [text for tag, text in lines if tag == "STATUS"]
    assert statuses[0] == '201 {"name":"rex","born":"2020-01-02"}'  # a model, a date
    assert statuses[1].startswith("400 ") and "name" in statuses[1]  # checked as before
    # the response was converted and checked by the prebuilt module's dumper (one walk)
    dumper = next(json.loads(text) for tag, text in lines if tag == "DUMP")
    assert dumper == "<pym_validators _dump_Pet_oas30>"
    # and the body checked and made into a Pet by its loader (one walk), prebuilt too
    loader = next(json.loads(text) for tag, text in lines if tag == "LOAD")
    assert loader == "<pym_validators _load_Pet_oas30>"


def _compiled(project: Path) -> Any:
    """The compiled specs, every operation unbound (no chalicelib here: 501)."""
    from pym_lambda.build.compiled_form import compile_project

    compiled = compile_project(project)
    for api in compiled["apis"]:
        for op in api["operations"]:
            op["bind"] = None
    return compiled


def test_the_build_prepares_every_operation(tmp_path):
    compiled = _compiled(make_project(tmp_path, {"pets": SPEC}))
    operations = bind_operations({"format": compiled["format"], "apis": compiled["apis"]})
    assert operations and all(op.responses is not None for op in operations)
    models = operations[0].api.models.classes
    assert sorted(models.made()) == ["Owner", "Pet"]  # type: ignore[attr-defined]


def test_a_model_class_that_cannot_be_made_fails_the_build(tmp_path):
    # x-parent on a schema no operation names: only making every class finds the conflict.
    project = make_project(tmp_path, {"pets": SPEC.replace(
        "    Owner:\n", "    Owner:\n      x-parent: tests.runtime.test_lazy_loading.IntBase\n")})
    compiled = _compiled(project)
    apis = compiled["apis"]
    for api in apis:
        api["operations"] = [op for op in api["operations"] if op["path"] == "/pets"]
    with pytest.raises((TypeError, SpecErrors)):
        bind_operations({"format": compiled["format"], "apis": apis})
    # a cold start does not make it (nor anything else) before a call
    assert bind_operations({"format": compiled["format"], "apis": apis}, prepare=False)


class IntBase(int):
    """A base class whose layout no Model can share (x-parent in the test above)."""


def test_lazy_checks_build_nothing_before_the_first_lookup():
    loads = []
    checks = LazyChecks([], lambda: loads.append(1) or None)
    assert not checks.loaded() and loads == []
    assert checks.get("missing") is None
    assert checks.loaded() and loads == [1]
    checks.get("other")
    assert loads == [1]  # once


def test_prepare_is_idempotent(tmp_path):
    api = _compiled(make_project(tmp_path, {"pets": SPEC}))["apis"][0]
    runtime = ApiRuntime(api, {})
    op = BoundOperation(api["operations"][0], runtime, lambda body: body)
    assert op.responses is None
    op.prepare()
    writer = op.responses
    op.prepare()
    assert op.responses is writer


def test_a_key_the_prebuilt_index_lacks_is_compiled_not_let_through(tmp_path):
    # The index is built from the same specs (the fingerprint matched): a missing key is a
    # bug, and the check must still refuse what its schema refuses (fail closed).
    from pym_lambda.runtime.operation_checks import body_key
    from pym_lambda.runtime.stored_schemas import restore_operation

    api = _compiled(make_project(tmp_path, {"pets": SPEC}))["apis"][0]
    checks = LazyChecks([api], lambda: {"INDEX": {}})
    op = next(o for o in map(restore_operation, api["operations"])
              if o["spec_path"] == "/pets")
    check = checks.get(body_key(api["name"], op, "application/json"))
    assert check is not None
    assert check({"name": "rex"}) is None
    assert "name" in (check({"name": "Rex!"}) or "")
