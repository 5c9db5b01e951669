"""What the Lambda package ships of the project, and what would break only on AWS.

Chalice packages app.py, chalicelib/ and vendor/ (and the requirements). Locally everything
under the project is importable and readable. Read statically (ast) from app.py,
chalicelib/**.py and the project code below, without importing anything:

- the project's own code outside chalicelib/ (a PyMacaron service's `helloworld/`): the
  top-level packages and modules that an `x-bind-server` names or the shipped sources import
  (and not an installed distribution, which requirements.txt or deploy's vendoring ship).
  `package` and `deploy` copy them into vendor/ (deploy/project_code.py): said, not warned;
- an @async_task (or PyMacaron's @asynctask) on a function defined inside another function or
  a class: the worker imports tasks by name, and the decorator refuses them when it runs;
- a file opened by a literal path (open(), Path(), os.path.join()) that exists in the project
  but outside what is shipped: these pass the tests and fail on Lambda at the first call.
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
        files += [p for p in module_files(package) if not p.name.startswith("pym_")]
    return files


def module_files(path: Path, every_file: bool = False) -> List[Path]:
    """A module's file, or a package's Python files (every file with `every_file`)."""
    if not path.is_dir():
        return [path]
    return sorted(p for p in path.rglob("*" if every_file else "*.py")
                  if "__pycache__" not in p.parts and p.is_file())


def is_shipped(root: Path, path: Path, code: Iterable[Path] = ()) -> bool:
    """Is `path` in the package: under app.py, chalicelib/, vendor/, or the project `code`
    that the build copies into vendor/ (which Chalice puts at the package's root)?"""
    try:
        relative = path.resolve().relative_to(root.resolve())
    except ValueError:
        return True  # outside the project: not ours to judge (/tmp, /etc, a mount...)
    parts = relative.parts
    return not parts or parts[0] in SHIPPED_DIRS or (len(parts) == 1 and parts[0] in
                                                      SHIPPED_FILES) \
        or parts[0] in {c.name for c in code}


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


def project_code(root: Path, targets: Iterable[str]) -> List[Path]:
    """The project's top-level packages and modules outside chalicelib/ that the Lambda code
    imports: those the binding `targets` ("module.function") name, those app.py and
    chalicelib/ import, and those these import in turn."""
    found: List[Path] = []
    pending = [t.rsplit(".", 1)[0] for t in targets if "." in t]
    for source in shipped_sources(root):
        pending += [name for _, name in imported_names(_parse(source))]
    while pending:
        path = local_module(root, pending.pop())
        if path is None or path in found:
            continue
        found.append(path)
        for source in module_files(path):
            pending += [name for _, name in imported_names(_parse(source))]
    return sorted(found)


def code_notes(root: Path, code: Iterable[Path]) -> List[str]:
    """One line per package or module of the project's code outside chalicelib/."""
    return [f"{_rel(root, path)} is outside chalicelib/: `package` and `deploy` copy it into "
            "the package's vendor/ (at the zip's root), so it imports on AWS as here"
            for path in code]


def source_warnings(root: Path, code: Iterable[Path] = ()) -> List[str]:
    """Every warning the shipped sources and the project `code` give, `file:line: ...` each."""
    code = list(code)
    found: List[str] = []
    for path in shipped_sources(root) + [f for c in code for f in module_files(c)]:
        tree = _parse(path)
        where = _rel(root, path)
        found += [f"{where}:{line}: {text}" for line, text in _nested_tasks(tree)]
        found += [f"{where}:{line}: {text}"
                  for line, text in _opened_files(root, path, tree, code)]
    return found


def _parse(path: Path) -> ast.Module:
    try:
        return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return ast.Module(body=[], type_ignores=[])  # validate's import of the bindings says


def imported_names(tree: ast.AST) -> Iterator[Tuple[int, str]]:
    """(line, module name) of every absolute import in `tree`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            yield node.lineno, node.module


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


def _opened_files(root: Path, source: Path, tree: ast.AST,
                  code: List[Path]) -> Iterator[Tuple[int, str]]:
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
            if candidate.exists() and not is_shipped(root, candidate, code):
                yield node.lineno, (f"opens {joined!r} ({_rel(root, candidate)}), outside "
                                    f"chalicelib/: {_WHY}, so on AWS it is missing")
                break


def _rel(root: Path, path: Path) -> str:
    try:
        text = str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        text = str(path)
    return text + "/" if path.is_dir() else text
