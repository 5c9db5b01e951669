"""The two packages: the runtime (pym_lambda/ without build/ and testing/) imports nothing of
the build side or of the pytest plugin, save one documented bridge, and no import goes round in
a circle. Read from the source (every import, function-level ones and the `_LAZY` tables of
PEP 562 packages included), so an import that only runs on some path is caught too."""
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


VALIDATOR_LIBRARIES = ("jsonschema", "openapi_schema_validator", "pydantic", "fastjsonschema")


def test_no_runtime_module_imports_a_validator_library_on_any_path() -> None:
    # the reference the generated checks mirror is build-side (build/reference_validator.py):
    # whatever schema a spec holds, the runtime checks it with its own code (issue #17)
    found = []
    for name, path in sources():
        if not is_runtime(path):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):  # any depth
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                targets = [node.module or ""]
            else:
                continue
            found += [f"{name} imports {target}" for target in targets
                      if target.split(".")[0] in VALIDATOR_LIBRARIES]
    assert found == []


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


# --- no cycles ---------------------------------------------------------------------------------

def import_graph() -> Dict[str, Set[str]]:
    """Module -> the pym_lambda modules it imports, anywhere in it but under `if TYPE_CHECKING`
    (a name for the type checker: nothing is imported at run time). `from package import name`
    is an edge to package.name when that is a module, else to the package."""
    paths = dict(sources())
    graph: Dict[str, Set[str]] = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges: Set[str] = set()
        for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                edges.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                for alias in node.names:
                    edges.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in paths
                              else base)
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict) and any(
                    isinstance(t, ast.Name) and t.id == "_LAZY" for t in node.targets):
                edges.update(f"{package}.{v.value}" for v in node.value.values
                             if isinstance(v, ast.Constant) and isinstance(v.value, str))
        graph[name] = {e for e in edges if e in paths and e != name}
    return graph


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for child in node.orelse for n in [child, *_runtime_nodes(child)])
            continue
        yield node
        yield from _runtime_nodes(node)


def cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """Each import cycle once, as the modules along it."""
    found: List[List[str]] = []
    state: Dict[str, int] = {}  # 1: on the current path, 2: done
    path: List[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                found.append(path[path.index(target):] + [target])
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    return found


def test_no_module_imports_itself_through_others() -> None:
    graph = import_graph()
    assert len(graph) > 100 and "pym_lambda.build.cli" in graph
    assert cycles(graph) == []


def test_a_cycle_is_found_through_function_level_and_lazy_imports() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c", "a"]]
    code = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import x\n"
            "def f():\n    import y\n_LAZY = {'n': 'z'}\n")
    nodes = list(_runtime_nodes(ast.parse(code)))
    imported = {a.name for n in nodes if isinstance(n, ast.Import) for a in n.names}
    assert imported == {"y"} and any(isinstance(n, ast.Assign) for n in nodes)
