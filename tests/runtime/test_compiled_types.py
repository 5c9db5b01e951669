"""The compiled form: its TypedDicts describe what the compiler emits, key for key, and its
format version is checked where the runtime reads it and where the build reuses its cache."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NotRequired, Union, get_args, get_origin, get_type_hints

import pytest

from pym_lambda.build import compiled_form
from pym_lambda.build.openapi import compiler
from pym_lambda.build.openapi.client_specs import compile_client_specs
from pym_lambda.errors import SpecErrors
from pym_lambda.runtime.builtins import builtin_api
from pym_lambda.runtime.compiled_types import COMPILED_FORMAT, CompiledApi, CompiledDocument
from pym_lambda.runtime.project_files import read_compiled
from pym_lambda.runtime.stored_schemas import restore_operation
from tests.conftest import write_spec

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


def _hints(cls: Any) -> dict:
    return get_type_hints(cls, include_extras=True)


def _is_shape(hint: Any) -> bool:
    """A TypedDict of compiled_types: a records.Shape at run time (a dict class keeping its
    annotations as written), a typing.TypedDict to the type checker."""
    return isinstance(hint, type) and issubclass(hint, dict) and "__annotations__" in vars(hint)


def check_shape(value: Any, hint: Any, where: str) -> None:
    """Assert that `value` is of the type `hint` (TypedDicts checked key for key)."""
    if hint is Any:
        return
    if _is_shape(hint):
        assert isinstance(value, dict), f"{where}: {value!r} is not a {hint.__name__}"
        hints = _hints(hint)
        required = {k for k, t in hints.items() if get_origin(t) is not NotRequired}
        assert not required - value.keys(), f"{where}: missing {sorted(required - value.keys())}"
        assert not value.keys() - hints.keys(), \
            f"{where}: {sorted(value.keys() - hints.keys())} not declared in {hint.__name__}"
        for key, item in value.items():
            declared = hints[key]
            if get_origin(declared) is NotRequired:
                declared = get_args(declared)[0]
            check_shape(item, declared, f"{where}.{key}")
        return
    origin, args = get_origin(hint), get_args(hint)
    if origin is Union:
        assert any(_fits(value, arg) for arg in args), f"{where}: {value!r} is not {hint}"
    elif origin is list:
        assert isinstance(value, list), f"{where}: {value!r} is not a list"
        for n, item in enumerate(value):
            check_shape(item, args[0], f"{where}[{n}]")
    elif origin is dict:
        assert isinstance(value, dict), f"{where}: {value!r} is not a dict"
        for key, item in value.items():
            check_shape(key, args[0], f"{where} key")
            check_shape(item, args[1], f"{where}[{key!r}]")
    elif hint is type(None):
        assert value is None, f"{where}: {value!r} is not None"
    else:
        assert isinstance(value, hint) and not (hint is int and isinstance(value, bool)), \
            f"{where}: {value!r} is not a {hint.__name__}"


def _fits(value: Any, hint: Any) -> bool:
    try:
        check_shape(value, hint, "")
    except AssertionError:
        return False
    return True


@pytest.mark.parametrize("fixture,dialect", [
    ("petshop", "swagger2"), ("petshop", "oas30"), ("petshop", "oas31"),
    ("secured", "swagger2"), ("secured", "oas30"), ("clients", "swagger2"),
    ("clients", "oas30")])
def test_the_compiled_form_of_each_fixture_is_as_the_types_declare(tmp_path, fixture, dialect):
    write_spec(tmp_path, fixture, fixture, dialect)
    document = compiler.compile_apis_dir(tmp_path / "apis", tmp_path)
    check_shape(json.loads(json.dumps(document)), CompiledDocument, "compiled")
    assert document["format"] == COMPILED_FORMAT


def test_the_example_project_and_its_client_spec_are_as_the_types_declare():
    project = compiled_form.compile_project(ROOT)  # pym-config.yaml kept as `config`
    assert "config" in project and any(a.get("bind_client") for a in project["apis"])
    check_shape(project, CompiledDocument, "compiled")
    clients = compile_client_specs([(ROOT / "apis" / "reviews.yaml", "apis/reviews.yaml")])
    check_shape(clients, CompiledDocument, "client specs")


def test_the_builtin_api_is_a_compiled_api():
    check_shape(builtin_api([], with_auth=True), CompiledApi, "builtins")


def test_a_key_the_types_do_not_declare_is_caught():
    api = builtin_api([])
    api["operations"][0]["surprise"] = 1  # type: ignore[typeddict-unknown-key]
    with pytest.raises(AssertionError, match="surprise"):
        check_shape(api, CompiledApi, "builtins")


def _package(tmp_path: Path, document: Any) -> Path:
    (tmp_path / "chalicelib").mkdir()
    text = document if isinstance(document, str) else json.dumps(document)
    (tmp_path / "chalicelib" / "pym_compiled.json").write_text(text)
    return tmp_path


def test_the_runtime_reads_a_document_of_its_format(tmp_path):
    project = _package(tmp_path, {"format": COMPILED_FORMAT, "apis": []})
    assert read_compiled(project) == {"format": COMPILED_FORMAT, "apis": []}


@pytest.mark.parametrize("document,found", [
    ({"format": COMPILED_FORMAT + 1, "apis": []}, f"format {COMPILED_FORMAT + 1}"),
    ({"apis": []}, "format None"),
    ([1, 2], "not a compiled form"),
    ("{not json", "not a compiled form"),
])
def test_the_runtime_refuses_a_document_of_another_format(tmp_path, document, found):
    project = _package(tmp_path, document)
    with pytest.raises(SpecErrors) as caught:
        read_compiled(project)
    (error,) = caught.value.errors
    message = str(error)
    assert "\n" not in message
    assert message.startswith(str(project / "chalicelib" / "pym_compiled.json") + ": ")
    assert found in message and "rebuild it (`pym-lambda build`" in message


def test_the_build_cache_recompiles_a_document_of_another_format(tmp_path, monkeypatch):
    write_spec(tmp_path, "petshop", "petshop", "oas30")
    (tmp_path / "chalicelib").mkdir()
    monkeypatch.delenv("PYM_NO_COMPILE_CACHE", raising=False)
    first = compiled_form.compile_or_reuse(tmp_path)
    cache = tmp_path / "chalicelib" / "pym_compiled.json"
    assert json.loads(cache.read_text())["fingerprint"] == first["fingerprint"]
    reused = compiled_form.compile_or_reuse(tmp_path)
    for api in reused["apis"]:  # each operation's schemas are read at its first call
        for op in api["operations"]:
            assert "responses" not in op
            restore_operation(op)
    assert reused == first  # reused: same format, same specs

    stale = {**first, "format": COMPILED_FORMAT - 1, "apis": []}  # same specs, older format
    cache.write_text(json.dumps(stale))
    again = compiled_form.compile_or_reuse(tmp_path)
    assert again["format"] == COMPILED_FORMAT and again["apis"] == first["apis"]
    assert json.loads(cache.read_text())["format"] == COMPILED_FORMAT
