"""What an operationId or x-bind-server may name: the service's own code only."""
from __future__ import annotations

import os
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from pym_lambda.runtime.bindings import find_binding
from pym_lambda.runtime.own_code import foreign, module_of


@pytest.mark.parametrize("module, what", [
    ("chalicelib.library", None),
    ("app", None),
    ("tests.fixtures.petshop_impl", None),  # the project's own package, not installed
    ("os", "the standard library"),
    ("os.path", "the standard library"),
    ("sys", "the standard library"),
    ("yaml", "an installed package (yaml)"),
    ("pym_lambda.runtime.builtins", "the framework (pym_lambda)"),
    ("no_such_module_anywhere", None),  # importing it says what is wrong
])
def test_foreign(module: str, what: Any) -> None:
    assert foreign(module) == what


def test_module_of() -> None:
    assert module_of("a.b.c") == "a.b" and module_of("a.b:c.d") == "a.b"


def test_a_vendored_requirement_beside_chalicelib_is_not_own_code(tmp_path: Path,
                                                                   monkeypatch: Any) -> None:
    # Chalice's package installs the requirements next to chalicelib/, with their dist-info
    for name in ("vendored_dep", "own_pkg"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("")
    (tmp_path / "single_mod.py").write_text("")
    info = tmp_path / "vendored_dep-1.0.dist-info"
    info.mkdir()
    (info / "RECORD").write_text("vendored_dep/__init__.py,sha256=x,0\n")
    other = tmp_path / "single-2.0.dist-info"
    other.mkdir()
    (other / "top_level.txt").write_text("single_mod\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert foreign("vendored_dep.api") == "an installed package (vendored_dep)"
    assert foreign("single_mod") == "an installed package (single_mod)"
    assert foreign("own_pkg.api") is None


def test_a_plain_operation_id_skips_a_function_the_module_imported(monkeypatch: Any) -> None:
    def mine() -> None: ...

    mine.__module__ = "chalicelib.fake_api"
    module = types.ModuleType("chalicelib.fake_api")
    module.getcwd = os.getcwd  # type: ignore[attr-defined]  # from os import getcwd
    module.mine = mine  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "chalicelib.fake_api", module)
    op: Any = {"api": "fake_api", "operation_id": "getcwd", "bind": None}
    assert find_binding(op) == (None, False)
    assert find_binding({**op, "operation_id": "mine"}) == ("chalicelib.fake_api.mine", False)
