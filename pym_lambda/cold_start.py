"""What `import pym_lambda` does first on a Lambda cold start, and create_app() undoes last.

Two costs of a cold start that are not the framework's own code (measured on the example's
package, Python 3.11, `import app`):

- **The import system, per module.** Each of the ~50 pym_lambda modules a cold start imports
  is looked for in its folder, then its bytecode opened, read and closed (~8 system calls and
  ~0.1 M instructions of importlib each). The package build (build/deploy/bytecode.py)
  writes the bytecode of pym_lambda's modules (but this one and __init__) into one file,
  BUNDLE_FILE, instead of a pyc each; when it is there and its bytecode is this
  interpreter's, a finder serves pym_lambda's modules from it: one read (pread) each, no
  search. The sources stay beside it (tracebacks, tools); a module it lacks is imported as
  usual.
- **The cyclic garbage collector.** Importing the framework and building the app makes ~15k
  objects that live as long as the process; the ~22 automatic collections while they are made
  walk them for nothing (~3-4 ms of a ~50 ms cold import). On Lambda (AWS_LAMBDA_FUNCTION_NAME
  set), collections wait until create_app() has built the app (a raised threshold, not
  gc.disable(): were no app ever built, they would still run, less often); create_app() then
  freezes what exists (gc.freeze: later collections, during requests, skip it) and puts the
  threshold back.
"""
from __future__ import annotations

import _frozen_importlib as _bootstrap  # already loaded: importlib's own, no import cost
import _frozen_importlib_external as _external
import _imp
import gc
import marshal
import os
import sys
from typing import Any, Dict, Optional, Sequence, Tuple, cast

BUNDLE_FILE = "_modules.bundle"  # beside this file, in a built package only
BUNDLE_VERSION = 1
# Young objects allowed before a collection while the app is built: above what a cold start
# makes (~15k tracked objects), so that none runs before create_app() ends.
HELD_THRESHOLD = 100_000

_held: Optional[Tuple[int, ...]] = None  # the thresholds to put back, while held
_fix_co_filename = getattr(_imp, "_fix_co_filename")  # noqa: B009 - untyped in typeshed


def hold_collections() -> None:
    """On Lambda, no automatic collection until release_collections() (create_app's end)."""
    global _held
    if _held is None and os.environ.get("AWS_LAMBDA_FUNCTION_NAME") and gc.isenabled():
        _held = gc.get_threshold()
        gc.set_threshold(HELD_THRESHOLD, *_held[1:])


def release_collections() -> None:
    """The objects made so far frozen (never walked again), the thresholds put back."""
    global _held
    if _held is not None:
        gc.freeze()
        gc.set_threshold(*_held)
        _held = None


# The bundle file: _MARK, the index's length (4 bytes, little-endian), the index (marshal:
# BUNDLE_VERSION, the pycs' magic number, one (name, is package, source path relative to the
# folder holding pym_lambda, offset, length) per module), then each module's marshalled code
# at its offset after the index. A module's code is read when it is imported (os.pread), so a
# cold start reads the index and the modules it imports, not the whole file.
_MARK = b"PYMB"
Index = Dict[str, Tuple[bool, str, int, int]]  # name -> is package, source, offset, length


def write_bundle(magic: bytes, modules: Sequence[Tuple[str, bool, str, bytes]]) -> bytes:
    """What the build writes to BUNDLE_FILE (modules: name, is package, source, code). Sorted,
    marshal version 2 (no object references, whose flags depend on the writing process): the
    same modules give the same bytes."""
    index, blob, offset = [], [], 0
    for name, is_package, source, code in sorted(modules):
        index.append((name, is_package, source, offset, len(code)))
        blob.append(code)
        offset += len(code)
    header = marshal.dumps((BUNDLE_VERSION, magic, tuple(index)), 2)
    return _MARK + len(header).to_bytes(4, "little") + header + b"".join(blob)


def read_bundle_index(fd: int) -> Optional[Index]:
    """The bundle's modules, offsets from the file's start; None when it is no bundle or was
    written for another Python."""
    head = os.pread(fd, 8, 0)
    if len(head) != 8 or head[:4] != _MARK:
        return None
    size = int.from_bytes(head[4:], "little")
    version, magic, index = marshal.loads(os.pread(fd, size, 8))
    if version != BUNDLE_VERSION or magic != _external.MAGIC_NUMBER:
        return None
    return {name: (is_package, source, 8 + size + offset, length)
            for name, is_package, source, offset, length in index}


class BundleFinder:
    """Finds and loads pym_lambda's modules from the bundle (a meta path finder and loader)."""

    def __init__(self, root: str, fd: int, index: Index) -> None:
        self.root = root  # the folder holding the pym_lambda package
        self.fd = fd  # the bundle, open read-only for the process's life (one pread a module)
        self.index = index

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        entry = self.index.get(name)
        if entry is None:
            return None
        origin = os.path.join(self.root, entry[1])
        spec = _bootstrap.ModuleSpec(name, cast(Any, self), origin=origin, is_package=entry[0])
        spec.has_location = True  # __file__ is the source's path, as from the path finder
        if entry[0]:
            spec.submodule_search_locations = [os.path.dirname(origin)]
        return spec

    def create_module(self, spec: Any) -> None:
        return None  # the default module object

    def exec_module(self, module: Any) -> None:
        exec(self.get_code(module.__name__), module.__dict__)  # noqa: S102 - the build's code

    def get_code(self, name: str) -> Any:
        _, source, offset, length = self.index[name]
        code = marshal.loads(os.pread(self.fd, length, offset))
        # As importlib does for a pyc: the code names the source where it is now.
        _fix_co_filename(code, os.path.join(self.root, source))
        return code

    def is_package(self, name: str) -> bool:
        return self.index[name][0]

    def get_source(self, name: str) -> Optional[str]:
        try:
            with open(os.path.join(self.root, self.index[name][1]), encoding="utf-8") as f:
                return f.read()
        except OSError:
            return None


def install_bundle(package_file: str) -> Optional[BundleFinder]:
    """Serve pym_lambda's modules from the bundle beside `package_file` (pym_lambda's
    __init__.py), when there is one for this Python; the finder, or None."""
    folder = os.path.dirname(package_file)
    try:
        fd = os.open(os.path.join(folder, BUNDLE_FILE), os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None  # a project tree, or a package built without one
    try:
        index = read_bundle_index(fd)
    except (OSError, ValueError, EOFError, TypeError):
        index = None  # unreadable: the modules are imported as usual
    if not index:
        os.close(fd)
        return None
    finder = BundleFinder(os.path.dirname(folder), fd, index)
    sys.meta_path.insert(0, finder)
    return finder
