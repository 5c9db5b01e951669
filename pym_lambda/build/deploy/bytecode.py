"""Bytecode for the Lambda package, compiled for the functions' own Python (build time only).

Lambda's task root is read-only and the runtime writes no bytecode there, so a package of
sources is compiled module by module at every cold start. Shipping `__pycache__/*.pyc` beside
each source removes that cost, provided the bytecode is the runtime's: a pyc's magic number
names one Python minor version, and a pyc of another version is silently ignored (compiled
again at every start). So the compiling is done by an interpreter of the runtime's version
(`artifact.find_interpreter`: this one, a `python3.X` on PATH, or pyenv's); without one,
nothing is compiled and the caller says why.

Invalidation: UNCHECKED_HASH. The package is immutable once built, and sources and bytecode
are made together here; CHECKED_HASH would make every import read and hash its source again
(the cost we remove), TIMESTAMP would record the build's mtimes (not reproducible, and the zip
resets them). Unchecked hash pycs embed the source's hash, not its time: two builds of the
same sources give the same bytes.

The compiler runs in a fresh `python -I -S` process, one file after another in sorted order:
marshal's output depends on the compiling process's state (object reference counts), and a
fresh process with a fixed order makes it the same at every build.
"""
from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import List, Sequence, Tuple

from .artifact import Interpreter, find_interpreter
from .vendor import module_name

# Run by the target interpreter: stdin is a JSON list of paths relative to the root (argv[1]);
# each gets its pyc at importlib's own location for that interpreter. The source name recorded
# in the code objects is its /var/task path (the importer replaces it with the real path).
_COMPILER = """\
import json, os, py_compile, sys
root = sys.argv[1]
failed = []
for relative in json.load(sys.stdin):
    try:
        py_compile.compile(os.path.join(root, relative), dfile="/var/task/" + relative,
                           doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    except py_compile.PyCompileError as exc:
        failed.append([relative, exc.exc_type_name])
json.dump({"failed": failed}, sys.stdout)
"""


@dataclass(frozen=True)
class Bytecode:
    """What was compiled: `compiled` files for `python` (e.g. "3.11"), `failed` (path, error)
    for sources that do not compile (they fail on Lambda too, if imported); or why nothing
    was (`skipped`)."""
    runtime: str
    python: str = ""
    compiled: int = 0
    failed: Tuple[Tuple[str, str], ...] = ()
    skipped: str = ""

    def describe(self) -> str:
        if self.skipped:
            return (f"bytecode skipped: {self.skipped}; the package ships sources only, "
                    "compiled at every cold start")
        text = f"bytecode for python{self.python}: {self.compiled} modules"
        if self.failed:
            text += (f", {len(self.failed)} left as source (do not compile: "
                     + ", ".join(f"{p} {e}" for p, e in self.failed[:3])
                     + (" ..." if len(self.failed) > 3 else "") + ")")
        return text


def sources(root: Path) -> List[str]:
    """Every .py under `root`, relative, sorted (the compile order is part of the output)."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py")
                  if p.is_file() and "__pycache__" not in p.parts)


def compile_tree(root: Path, runtime: str, files: Sequence[str] = ()) -> Bytecode:
    """Write the pycs of `files` (default: every source under `root`) for `runtime`
    ("python3.11"), with that runtime's interpreter; a Bytecode saying why when there is none."""
    interpreter = find_interpreter(runtime)
    if not interpreter.available:
        return Bytecode(runtime, skipped=interpreter.reason)
    return _compile(root, interpreter, list(files) or sources(root))


def _compile(root: Path, interpreter: Interpreter, files: List[str]) -> Bytecode:
    assert interpreter.executable is not None
    try:
        run = subprocess.run([interpreter.executable, "-I", "-S", "-c", _COMPILER, str(root)],
                             input=json.dumps(files), capture_output=True, text=True,
                             timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Bytecode(interpreter.runtime, skipped=f"{interpreter.executable} failed: {exc}")
    if run.returncode != 0:
        detail = (run.stderr.strip().splitlines() or ["no output"])[-1][:200]
        return Bytecode(interpreter.runtime,
                        skipped=f"{interpreter.executable} failed to compile: {detail}")
    failed = tuple((str(p), str(e)) for p, e in json.loads(run.stdout)["failed"])
    return Bytecode(interpreter.runtime, interpreter.version, len(files) - len(failed), failed)


def bundle_package(root: Path, bytecode: Bytecode) -> int:
    """Write `<root>/pym_lambda/_modules.bundle`: the compiled modules of pym_lambda (but its
    __init__ and cold_start, which install the bundle's finder) in one file, from which a cold
    start reads them instead of a pyc each (pym_lambda/cold_start.py); their pycs are then
    removed (each module's bytecode ships once). Nothing without bytecode; the modules
    bundled."""
    from ...cold_start import BUNDLE_FILE, write_bundle

    folder = root / "pym_lambda"
    if bytecode.skipped or not bytecode.python or not folder.is_dir():
        return 0
    tag = "cpython-" + bytecode.python.replace(".", "")
    # what is imported before the bundle's finder is there: their own pycs
    outside = {"pym_lambda/__init__.py", "pym_lambda/cold_start.py"}
    entries = []
    pycs = []
    magic = b""
    for relative in sources(root):
        if not relative.startswith("pym_lambda/") or relative in outside:
            continue
        source = root / relative
        pyc = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
        if not pyc.is_file():
            continue  # left as source (did not compile): imported as usual
        data = pyc.read_bytes()
        magic = magic or data[:4]
        entries.append((module_name(source.relative_to(folder)), source.name == "__init__.py",
                        relative, data[16:]))
        pycs.append(pyc)
    if entries:
        (folder / BUNDLE_FILE).write_bytes(write_bundle(magic, entries))
    for pyc in pycs:
        pyc.unlink()
    return len(entries)
