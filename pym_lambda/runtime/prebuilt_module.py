"""The prebuilt checks module, its definitions executed one by one when first asked for.

The generated module (pym_lambda.fastcheck) holds every check of the app: GitHub's is 4 MB of
marshalled code, whose loading cost a first call 30+ ms when it was executed whole. The build
(build/compiled_form.write_prebuilt, `split_module`) cuts it into a base (imports, INDEX,
UNSUPPORTED and what they need) and one piece per top-level definition (a check, a named
schema's function, a constant, a helper), each compiled and marshalled alone, with the
pieces it refers to. `PrebuiltModule.get(name)` executes the base once, then the named piece
and what it needs, in source order, into one plain dict (the functions' globals stay a plain
dict: no lookup costs more per request than in a module executed whole).
"""
from __future__ import annotations

import marshal
import os
import threading
from typing import Any, Dict, List, Optional, Set, Tuple

# The parts as written: an 8-byte length, then the marshalled table (base code, piece names,
# each piece's end in the blob, each piece's dependencies by index), then the blob of the
# pieces' marshalled code, each unmarshalled alone (from a view: nothing copied).
Table = Tuple[Any, Tuple[str, ...], Tuple[int, ...], Tuple[Tuple[int, ...], ...]]


class PrebuiltModule:
    """The namespace of the prebuilt module, filled as names are asked for."""

    def __init__(self, table: Table, blob: memoryview) -> None:
        base, names, ends, self._deps = table
        self._blob = blob
        self._ends = ends
        self._index = {name: n for n, name in enumerate(names)}
        self._loaded: Set[int] = set()
        self._lock = threading.Lock()
        self.namespace: Dict[str, Any] = {"__name__": "pym_validators"}
        exec(base, self.namespace)

    def get(self, name: str, default: Any = None) -> Any:
        found = self.namespace.get(name, _MISSING)
        if found is not _MISSING:
            return found
        start = self._index.get(name)
        if start is None:
            return default
        with self._lock:  # first lookups in several threads: one executes the pieces
            self._load(start)
        return self.namespace.get(name, default)

    def _load(self, start: int) -> None:
        wanted: List[int] = []
        todo = [start]
        seen = set(self._loaded)
        while todo:  # the piece and every piece it needs, not yet executed
            n = todo.pop()
            if n in seen:
                continue
            seen.add(n)
            wanted.append(n)
            todo.extend(self._deps[n])
        for n in sorted(wanted):  # source order: a constant made of another comes after it
            start = self._ends[n - 1] if n else 0
            exec(marshal.loads(self._blob[start:self._ends[n]]), self.namespace)
            self._loaded.add(n)


_MISSING = object()


def mapped(path: Any) -> Optional[memoryview]:
    """The file's bytes, memory-mapped (read-only): only the pages sliced are read. None when
    there is no such file; an empty file maps to an empty view."""
    import mmap

    try:
        with open(path, "rb") as file:  # not pathlib: a cold start does not import it
            if not os.fstat(file.fileno()).st_size:
                return memoryview(b"")
            # the mapping outlives the file object (mmap keeps its own descriptor)
            return memoryview(mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ))
    except FileNotFoundError:
        return None


def load_parts(data: memoryview) -> Optional[PrebuiltModule]:
    size = int.from_bytes(data[:8], "little")
    table = marshal.loads(data[8:8 + size])
    if not isinstance(table, tuple) or len(table) != 4:
        return None
    return PrebuiltModule(table, data[8 + size:])


def split_module(source: str) -> bytes:
    """The generated module's source -> its marshalled parts (build time: ast)."""
    import ast
    from collections import Counter

    from ..fastcheck.statements import top_level

    future = "from __future__ import annotations\n"
    nodes: List[Tuple[Optional[str], Set[str], str]] = []  # (the one name defined, refers, text)
    counts: Counter[str] = Counter()
    for node, defines, refers, text in top_level(source):
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue  # each part starts with its own
        text += "\n"
        counts.update(defines)
        # and the names it imports: `if "x" not in globals(): from m import x` must find x
        refers |= {(a.asname or a.name).split(".")[0] for n in ast.walk(node)
                   if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
        one = next(iter(defines)) if len(defines) == 1 else None
        nodes.append((one, refers - defines, text))
    lazy = {one for one, _, _ in nodes if one and counts[one] == 1
            and one not in ("INDEX", "UNSUPPORTED")}
    # What the base refers to at module level is in the base too (and what that needs).
    base_refers = set().union(*(r for one, r, _ in nodes if one not in lazy))
    grew = True
    while grew:
        grew = False
        for one, refers, _ in nodes:
            if one in lazy and one in base_refers:
                lazy.discard(one)
                base_refers |= refers
                grew = True
    base = [text for one, _, text in nodes if one not in lazy]
    pieces = [(one, refers, text) for one, refers, text in nodes if one in lazy]
    position = {one: n for n, (one, _, _) in enumerate(pieces)}
    base_code = compile(future + "".join(base), "<pym_validators>", "exec")
    names = tuple(str(one) for one, _, _ in pieces)
    codes = [marshal.dumps(compile(future + text, f"<pym_validators {one}>", "exec"))
             for one, _, text in pieces]
    ends, end = [], 0
    for code in codes:
        end += len(code)
        ends.append(end)
    deps = tuple(tuple(sorted(position[r] for r in refers if r in position and r != one))
                 for one, refers, _ in pieces)
    table = marshal.dumps((base_code, names, tuple(ends), deps))
    return len(table).to_bytes(8, "little") + table + b"".join(codes)
