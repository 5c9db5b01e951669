"""The two packages: the runtime (pym_lambda/ without build/ and testing/) imports nothing of
the build side or of the pytest plugin, save one documented bridge. Read from the source
(every import, function-level ones and the `_LAZY` tables of PEP 562 packages included), so an
import that only runs on some path is caught too."""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

import pym_lambda
from pym_lambda.build.deploy.vendor import (
    DEVELOPMENT_BRIDGE,
    LEFT_OUT,
    imported_modules,
    module_name,
)

PACKAGE = Path(pym_lambda.__file__).parent
WALLED_OFF = ("pym_lambda.build", "pym_lambda.testing")


def sources() -> Iterator[Tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if "__pycache__" not in path.parts:
            yield module_name(path.relative_to(PACKAGE)), path


def is_runtime(path: Path) -> bool:
    return path.relative_to(PACKAGE).parts[0] not in LEFT_OUT


def walled_off(target: str) -> bool:
    return any(target == side or target.startswith(side + ".") for side in WALLED_OFF)


def test_the_runtime_imports_nothing_of_the_build_side_but_the_development_bridge() -> None:
    source_module, bridge = DEVELOPMENT_BRIDGE
    crossings: List[str] = []
    bridged: Set[str] = set()
    for name, path in sources():
        if not is_runtime(path):
            continue
        found = imported_modules(path.read_text(encoding="utf-8"), name,
                                 path.name == "__init__.py")
        for target in sorted(t for t in found if walled_off(t)):
            if name == source_module and (target == bridge or target.startswith(bridge + ".")):
                bridged.add(name)  # `from ..build.compiled_form import x` names x too
            else:
                crossings.append(f"{name} imports {target}")
    assert crossings == []
    assert bridged == {source_module}  # the bridge is where it is documented


def test_the_bridge_is_the_development_fallback_of_load_compiled() -> None:
    """Only in load_compiled(), never at import: a Lambda package has no apis/, so the
    function returns before it gets there."""
    source_module, bridge = DEVELOPMENT_BRIDGE
    path = PACKAGE.joinpath(*source_module.split(".")[1:]).with_suffix(".py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    where: Dict[str, str] = {}
    for function in ast.walk(tree):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)) \
                        and walled_off(module_of(node, source_module)):
                    where[function.name] = module_of(node, source_module)
    assert where == {"load_compiled": bridge}
    assert not [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))
                and walled_off(module_of(node, source_module))]


def module_of(node: ast.stmt, importer: str) -> str:
    if isinstance(node, ast.Import):
        return node.names[0].name
    assert isinstance(node, ast.ImportFrom)
    if not node.level:
        return node.module or ""
    anchor = importer.split(".")[:-node.level]
    return ".".join(anchor + ([node.module] if node.module else []))
