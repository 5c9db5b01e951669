"""The deployment zip as it ships: Chalice's zip, slimmed, with bytecode, byte for byte
reproducible (build time only).

Chalice's packager ships sources only (its zip is already deterministic for one tree: fixed
dates, but files in directory order and with the building machine's modes). `finish()` unpacks
it and writes it again:
- without what the Lambda runtime never reads (`unused()`): type-checker files, the wheels'
  installer records, the Beanstalk container's adapter, the specs as written when the stage
  serves no /doc;
- with a `__pycache__/<module>.cpython-3XY.pyc` beside every source, compiled for the
  functions' runtime (bytecode.py), or one line saying why not; pym_lambda's modules' bytecode
  in one file instead, read module by module at a cold start (bytecode.bundle_package,
  pym_lambda/cold_start.py);
- members sorted, dated 1980-01-01, mode 644 (755 where an execute bit was set), compressed at
  one fixed level: the same tree gives the same bytes, so the same CodeSha256.
Chalice reuses its cached zip while the project is unchanged: package.py keeps Chalice's own
zip and finishes that one at every build; a finished zip says so in its comment (FINISHED).
"""
from __future__ import annotations

import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from .artifact import unpack
from .bytecode import Bytecode, bundle_package, compile_tree
from .vendor import imported_modules, module_name

ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can say; what Chalice writes too
COMPRESS_LEVEL = 6  # zlib's default, named so that it never depends on a default
# The wheels' installer records: pip's, for uninstalling; never read by an import. (WHEEL
# stays: it names the platform a native wheel was built for, which an audit of the zip reads.)
INSTALLER_RECORDS = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})
# pym_lambda's WSGI adapter and SQS poller run the Beanstalk container only.
BEANSTALK_ONLY = "pym_lambda/wsgi/"
PUBLISHED_SPECS = "chalicelib/pym_apis/"  # read by the /doc routes only (docs/specs.py)
FINISHED = b"pym-lambda: finished"  # the zip's comment: never finish a finished zip again


@dataclass(frozen=True)
class Finished:
    """What finish() did: the files removed by reason (count, bytes), the bytecode."""
    bytecode: Bytecode
    removed: Dict[str, Tuple[int, int]] = field(default_factory=dict)
    files: int = 0
    size: int = 0  # the zip's bytes
    bundled: int = 0  # pym_lambda's modules in its one-file bundle (not as pycs)

    def describe(self) -> str:
        removed = ", ".join(f"{reason} ({count} files, {size / 1024:.0f} KiB)"
                            for reason, (count, size) in self.removed.items())
        bundled = f" (pym_lambda's {self.bundled} in one bundle)" if self.bundled else ""
        return (self.bytecode.describe() + bundled
                + (f"; left out: {removed}" if removed else ""))


def unused(relative: str, docs_enabled: bool) -> Optional[str]:
    """Why the Lambda runtime never reads this member of the package, or None (it ships)."""
    parts = relative.split("/")
    if "__pycache__" in parts or relative.endswith((".pyc", ".pyo")):
        return "stale bytecode"  # made again for the runtime below
    if relative.endswith(".pyi") or parts[-1] == "py.typed":
        return "type-checker files"
    if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] in INSTALLER_RECORDS:
        return "installer records"
    if relative.startswith(BEANSTALK_ONLY):
        return "the Beanstalk container's adapter"
    if relative.startswith(PUBLISHED_SPECS) and not docs_enabled:
        return "the specs as written (/doc is disabled)"
    return None


def finish(package: Path, runtime: str, *, docs_enabled: bool) -> Finished:
    """Rewrite `package` (Chalice's deployment.zip) in place, as the module doc says."""
    with tempfile.TemporaryDirectory(prefix="pym-zip-") as scratch:
        root = unpack(package, Path(scratch))
        removed: Dict[str, Tuple[int, int]] = {}
        for relative in _members(root):
            reason = unused(relative, docs_enabled)
            if reason is None or (reason.startswith("the Beanstalk")
                                  and _imported_by_others(root, BEANSTALK_ONLY)):
                continue
            path = root / relative
            count, size = removed.get(reason, (0, 0))
            removed[reason] = (count + 1, size + path.stat().st_size)
            path.unlink()
        removed.pop("stale bytecode", None)  # not a saving: remade for the runtime
        bytecode = compile_tree(root, runtime)
        bundled = bundle_package(root, bytecode)  # pym_lambda's modules in one file too
        files = write_zip(root, package)
    return Finished(bytecode, removed, files, package.stat().st_size, bundled)


def _members(root: Path) -> List[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _imported_by_others(root: Path, subtree: str) -> bool:
    """Does a shipped pym_lambda module outside `subtree` import one inside it? (Then it
    stays: the vendor wall checks the copy the same way, vendor.wall_problems.)"""
    package = root / "pym_lambda"
    if not package.is_dir():
        return False
    prefix = module_name(Path(subtree.split("/", 1)[1].rstrip("/")))
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package)
        if path.relative_to(root).as_posix().startswith(subtree):
            continue
        found = imported_modules(path.read_text(encoding="utf-8"), module_name(relative),
                                 relative.name == "__init__.py")
        if any(name == prefix or name.startswith(prefix + ".") for name in found):
            return True
    return False


def write_zip(root: Path, target: Path) -> int:
    """Every file under `root` into `target` (replaced atomically), reproducibly; the count."""
    members = _members(root)
    partial = target.with_name(target.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as z:
        z.comment = FINISHED
        for relative in members:
            path = root / relative
            info = zipfile.ZipInfo(relative, ZIP_DATE)
            info.create_system = 3  # unix: the mode below is read by Lambda
            executable = path.stat().st_mode & 0o111
            info.external_attr = (0o100755 if executable else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, path.read_bytes(), compresslevel=COMPRESS_LEVEL)
    os.replace(partial, target)
    return len(members)


def is_finished(package: Path) -> bool:
    """Was this zip written by write_zip() (rather than by Chalice)?"""
    with zipfile.ZipFile(package) as archive:
        return archive.comment == FINISHED
