"""The compiled form: cached beside chalicelib/, reused while the specs are unchanged, and all
that the Lambda package needs (apis/ is not shipped)."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from chalice.test import Client

from pym_lambda.runtime import app as runtime_app
from tests.conftest import JsonClient, write_spec

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path):
    write_spec(tmp_path, "petshop", "petshop", "oas30")
    (tmp_path / "chalicelib").mkdir()
    return tmp_path


def test_compiled_form_is_cached_and_reused_until_a_spec_changes(project, monkeypatch):
    runtime_app.create_app(project, app_name="x")
    cached = json.loads((project / "chalicelib" / "pym_compiled.json").read_text())
    assert cached["fingerprint"] and cached["apis"][0]["name"] == "petshop"

    def no_compiling(*args, **kwargs):
        raise AssertionError("compiled again although the specs did not change")

    import pym_lambda.build.openapi.compiler as compiler

    monkeypatch.setattr(compiler, "compile_apis_dir", no_compiling)
    runtime_app.create_app(project, app_name="x")  # served from the cache
    spec = project / "apis" / "petshop.yaml"
    spec.write_text(spec.read_text().replace("version: 2.1.0", "version: 2.2.0"))
    with pytest.raises(AssertionError, match="compiled again"):
        runtime_app.create_app(project, app_name="x")


def test_without_apis_the_compiled_form_serves_alone(project):
    runtime_app.create_app(project, app_name="x")
    shutil.rmtree(project / "apis")
    with Client(runtime_app.create_app(project, app_name="x")) as raw:
        client = JsonClient(raw)
        assert client.get("/version").json["version"] == "2.1.0"
        assert client.get("/api/pets?limit=0").status == 400


def test_cli_build_writes_the_compiled_form(tmp_path):
    shutil.copytree(ROOT / "apis", tmp_path / "apis")
    shutil.copytree(ROOT / "chalicelib", tmp_path / "chalicelib",
                    ignore=shutil.ignore_patterns("pym_compiled.json", "__pycache__"))
    out = subprocess.run([sys.executable, "-m", "pym_lambda.build.cli", "build", "--project-dir",
                          str(tmp_path)], capture_output=True, text=True, check=True)
    assert "wrote chalicelib/pym_compiled.json" in out.stdout
    compiled = json.loads((tmp_path / "chalicelib" / "pym_compiled.json").read_text())
    assert [op["id"] for op in compiled["apis"][0]["operations"]][:2] == ["listBooks", "addBook"]


def test_cli_validate_reports_every_problem_with_exit_1(tmp_path):
    (tmp_path / "apis").mkdir()
    (tmp_path / "apis" / "bad.yaml").write_text(
        "swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get:\n"
        "      operationId: getX\n      x-bind-server: nowhere.at_all\n"
        "      responses: {'200': {description: ok, schema: {type: strng}}}\n")
    out = subprocess.run([sys.executable, "-m", "pym_lambda.build.cli", "validate", "--project-dir",
                          str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == 1
    assert "apis/bad.yaml: GET /x: operation getX: response 200: invalid schema" in out.stderr
    # its binding is checked all the same: the schema's problem does not hide it
    assert "operation getX: x-bind-server 'nowhere.at_all' cannot be bound: module 'nowhere' " \
        "not found" in out.stderr
    assert "2 problem(s) found" in out.stderr
    ok = subprocess.run([sys.executable, "-m", "pym_lambda.build.cli", "validate", "--project-dir",
                         str(ROOT)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "1 spec(s), 6 operation(s), 1 client spec(s) (reviews)" in ok.stdout


# Modules the example's Lambda package must not import at a cold start: each costs ms there,
# and none is needed before a request asks for it (YAML, the reference validator, boto3, pyjwt,
# requests) or at all (the others: the runtime avoids them on purpose).
COLD_START_FORBIDDEN = ("pathlib", "dataclasses", "inspect", "uuid", "platform", "hashlib",
                        "pkgutil", "yaml", "jsonschema", "openapi_schema_validator", "boto3",
                        "botocore", "jwt", "requests", "pym_lambda.fastcheck",
                        "pym_lambda.build.openapi.loader", "pym_lambda.tasks.envelope")


def test_the_lambda_package_imports_nothing_it_does_not_need(tmp_path):
    for name in ("app.py", "apis", "chalicelib", ".chalice", "pym-config.yaml"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns(
                "pym_compiled.json", "pym_validators.bin", "__pycache__"))
        else:
            shutil.copy2(source, tmp_path / name)
    subprocess.run([sys.executable, "-m", "pym_lambda.build.cli", "build", "--project-dir",
                    str(tmp_path)], capture_output=True, text=True, check=True)
    shutil.rmtree(tmp_path / "apis")  # what Chalice ships: app.py, chalicelib/ (and vendor/)
    (tmp_path / "pym-config.yaml").unlink()
    # As on Lambda: no site-packages .pth files run first (-S), the packages on sys.path.
    import chalice

    paths = [str(tmp_path), str(ROOT), str(Path(chalice.__file__).parents[1])]
    code = (f"import sys; sys.path[:0] = {paths!r}; import app; "
            f"print(sorted(m for m in sys.modules if m.startswith('pym_lambda.build'))); "
            f"print([m for m in {COLD_START_FORBIDDEN!r} if m in sys.modules])")
    env = {"PYM_STAGE": "dev", "JWT_SECRET": "x" * 40, "AWS_LAMBDA_FUNCTION_NAME": "pym-test",
           "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-S", "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    *_, build_side, forbidden = out.stdout.strip().splitlines()
    assert build_side == "[]", f"the Lambda package imported the build side: {build_side}"
    assert forbidden == "[]"
