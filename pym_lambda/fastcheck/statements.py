"""A module's top-level statements with what each defines and names, for cutting generated code
into what is used (generator.only_used) and into pieces run at first use
(runtime/prebuilt_module.split_module). Build time only (ast)."""
from __future__ import annotations

import ast
from typing import List, NamedTuple, Set


class Statement(NamedTuple):
    node: ast.stmt
    defines: Set[str]  # a def's or class's name, an assignment's targets
    refers: Set[str]  # every name it reads or writes
    text: str  # its source, decorators included


def top_level(code: str) -> List[Statement]:
    tree = ast.parse(code)
    lines = code.splitlines(keepends=True)
    found: List[Statement] = []
    for node in tree.body:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        defines: Set[str] = set()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defines = {node.name}
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            defines = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        refers = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        found.append(Statement(node, defines, refers,
                               "".join(lines[first - 1:node.end_lineno])))
    return found
