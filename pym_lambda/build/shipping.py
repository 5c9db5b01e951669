"""What would break only on AWS: code and files the service uses that Chalice does not ship.

Chalice packages app.py, chalicelib/ and vendor/ (and the requirements). Locally everything
under the project is importable and readable, so these pass the tests and fail on Lambda, at
import or at the first call. Read statically (ast) from app.py and chalicelib/**.py, without
importing anything:

- an import of a module of the project that lies outside chalicelib/ (and is not an installed
  distribution, which requirements.txt or deploy's vendoring ship), and an `x-bind-server`
  naming one;
- an @async_task (or PyMacaron's @asynctask) on a function defined inside another function or
  a class: the worker imports tasks by name, and the decorator refuses them when it runs;
- a file opened by a literal path (open(), Path(), os.path.join()) that exists in the project
  but outside what is shipped.
"""
from __future__ import annotations

import ast
import os
from functools import cache
from pathlib import Path
from typing import Iterable, Iterator, List, Optional, Set, Tuple

SHIPPED_DIRS = ("chalicelib", "vendor")
SHIPPED_FILES = ("app.py",)
TASK_DECORATORS = frozenset({"async_task", "asynctask"})
OPENERS = frozenset({"open", "Path", "PurePath", "join"})
_WHY = "Chalice ships only app.py, chalicelib/ and vendor/"


def shipped_sources(root: Path) -> List[Path]:
    """app.py and chalicelib's Python files (not the build outputs)."""
    files = [root / name for name in SHIPPED_FILES if (root / name).is_file()]
    package = root / "chalicelib"
    if package.is_dir():
        files += sorted(p for p in package.rglob("*.py") if "__pycache__" not in p.parts
                        and not p.name.startswith("pym_"))
    return files


def is_shipped(root: Path, path: Path) -> bool:
    try:
        relative = path.resolve().relative_to(root.resolve())
    except ValueError:
        return True  # outside the project: not ours to judge (/tmp, /etc, a mount...)
    parts = relative.parts
    return not parts or parts[0] in SHIPPED_DIRS or (len(parts) == 1 and parts[0] in
                                                      SHIPPED_FILES)


@cache
def _installed_top_levels() -> Set[str]:
    from importlib.metadata import packages_distributions

    return set(packages_distributions())


def local_module(root: Path, name: str) -> Optional[Path]:
    """The project file or folder a top-level module name resolves to, if it is the project's
    own and outside what is shipped."""
    top = name.split(".", 1)[0]
    if not top or top in SHIPPED_DIRS or top == "app" or top in _installed_top_levels():
        return None
    for candidate in (root / top, root / f"{top}.py"):
        if candidate.exists() and not is_shipped(root, candidate):
            return candidate
    return None


def binding_warnings(root: Path, targets: Iterable[Tuple[str, str]]) -> List[str]:
    """(where, "module.function") of x-bind-server: those naming unshipped code."""
    found = []
    for where, target in targets:
        module = target.rsplit(".", 1)[0] if "." in target else target
        path = local_module(root, module)
        if path is not None:
            found.append(f"{where}: x-bind-server {target!r} is in {_rel(root, path)}, outside "
                         f"chalicelib/: {_WHY}, so on AWS it cannot be imported")
    return found


def source_warnings(root: Path) -> List[str]:
    """Every warning the shipped sources give, `file:line: ...` each."""
    found: List[str] = []
    for path in shipped_sources(root):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (OSError, SyntaxError, ValueError):
            continue  # validate's import of the bindings reports it
        where = _rel(root, path)
        found += [f"{where}:{line}: {text}" for line, text in _imports(root, tree)]
        found += [f"{where}:{line}: {text}" for line, text in _nested_tasks(tree)]
        found += [f"{where}:{line}: {text}" for line, text in _opened_files(root, path, tree)]
    return found


def _imports(root: Path, tree: ast.AST) -> Iterator[Tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names, line = [alias.name for alias in node.names], node.lineno
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names, line = [node.module], node.lineno
        else:
            continue
        for name in names:
            path = local_module(root, name)
            if path is not None:
                yield line, (f"imports {name} ({_rel(root, path)}), outside "
                                    f"chalicelib/: {_WHY}, so on AWS the import fails")


def _decorator_name(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _nested_tasks(tree: ast.Module) -> Iterator[Tuple[int, str]]:
    def visit(node: ast.AST, outer: Optional[str]) -> Iterator[Tuple[int, str]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if outer is not None and not isinstance(child, ast.ClassDef) and any(
                        _decorator_name(d) in TASK_DECORATORS for d in child.decorator_list):
                    yield child.lineno, (
                        f"@async_task on {child.name!r}, defined inside {outer!r}: tasks must "
                        "be module-level functions (the worker imports them by name); it "
                        f"fails when {outer!r} runs")
                yield from visit(child, child.name)
            else:
                yield from visit(child, outer)

    yield from visit(tree, None)


def _opened_files(root: Path, source: Path, tree: ast.AST) -> Iterator[Tuple[int, str]]:
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _decorator_name(node.func) in OPENERS):
            continue
        literals = [a.value for a in node.args
                    if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        joined = os.path.join(*literals) if literals else ""
        if not joined or os.path.isabs(joined):
            continue
        # Lambda's working directory is the package root; code also opens beside __file__
        for base in (root, source.parent):
            candidate = base / joined
            if candidate.exists() and not is_shipped(root, candidate):
                yield node.lineno, (f"opens {joined!r} ({_rel(root, candidate)}), outside "
                                    f"chalicelib/: {_WHY}, so on AWS it is missing")
                break


def _rel(root: Path, path: Path) -> str:
    try:
        text = str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        text = str(path)
    return text + "/" if path.is_dir() else text
