"""The schema checks of an app's operations (runtime/operation_checks.py): a cold start uses the
prebuilt module as it is, and a schema fastcheck refuses gets its check at its first use, so
no cold start imports the fallback validator (issue #17)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pym_lambda.runtime.operation_checks import build_checks
from tests.conftest import make_service

ROOT = Path(__file__).resolve().parents[2]
# One schema fastcheck refuses (unevaluatedProperties: the fallback checks it), one it mirrors.
SPEC = """
openapi: 3.1.0
info: {title: refused, version: '1'}
paths:
  /things:
    post:
      x-bind-server: chalicelib.things.create
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties: {name: {type: string}}
              unevaluatedProperties: false
      responses:
        '200': {description: ok, content: {application/json: {schema: {type: object}}}}
"""
IMPL = "def create(body=None):\n    return {'ok': True}\n"
FALLBACK = ("jsonschema", "openapi_schema_validator", "referencing", "pym_lambda.fastcheck")


def test_a_refused_schema_is_checked_at_its_first_use_only(tmp_path):
    project = make_service(tmp_path, {"refused": SPEC}, {"things": IMPL})
    subprocess.run([sys.executable, "-m", "pym_lambda.build.cli", "build", "--project-dir",
                    str(project)], capture_output=True, text=True, check=True)
    assert (project / "chalicelib" / "pym_validators.bin").is_file()
    code = (f"import sys, json; sys.path[:0] = [{str(project)!r}, {str(ROOT)!r}]\n"
            "import app\n"
            f"print('IMPORTED', json.dumps([m for m in sys.modules\n"
            f"                               if m.startswith({FALLBACK!r})]))\n"
            "from chalice.test import Client\n"
            "with app.app.pym_service.use(), Client(app.app) as c:\n"
            "    for body in ({'name': 'a'}, {'name': 'a', 'x': 1}):\n"
            "        r = c.http.post('/things', headers={'content-type': 'application/json'},\n"
            "                        body=json.dumps(body))\n"
            "        print('STATUS', r.status_code)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True,
                         text=True, env={"PATH": "/usr/bin:/bin", "PYM_STAGE": "dev"})
    assert out.returncode == 0, out.stderr[-2000:]
    lines = [line.split(" ", 1) for line in out.stdout.splitlines()]
    imported = [json.loads(text) for tag, text in lines if tag == "IMPORTED"]
    assert imported == [[]], "a cold start imported the fallback or the generator"
    # then checked all the same, at its first use
    assert [text for tag, text in lines if tag == "STATUS"] == ["200", "400"]


def test_without_a_prebuilt_module_a_refused_schema_waits_for_its_first_use():
    refused = ({"unevaluatedProperties": False}, {}, "oas31", "request", "body")
    checks = build_checks({"k": refused})
    check = checks["k"]
    assert type(check).__name__ == "EngineCheck"
    assert check({"a": 1}) is not None and check({}) is None


def test_a_prebuilt_module_listing_an_entry_as_unsupported_is_not_generated_again():
    refused = ({"unevaluatedItems": False}, {}, "oas31", "request", "body")
    prebuilt = {"INDEX": {"k": "k0"}, "UNSUPPORTED": {"k0": "unevaluatedItems"}}
    calls = []
    import pym_lambda.fastcheck as fastcheck

    original = fastcheck.compile_checkers
    fastcheck.compile_checkers = lambda *a: calls.append(a) or original(*a)  # type: ignore
    try:
        checks = build_checks({"k": refused}, prebuilt)
    finally:
        fastcheck.compile_checkers = original  # type: ignore
    assert calls == [] and type(checks["k"]).__name__ == "EngineCheck"
