"""The project's own code outside chalicelib/, shipped in the Lambda package.

A PyMacaron service keeps its code in a package of its own (helloworld: `helloworld/`, bound by
`x-bind-server: helloworld.api.do_hello`). Chalice ships app.py, chalicelib/ and vendor/ only,
and puts vendor/'s content at the zip's root; so each top-level package or module of the
project that the bindings or the shipped sources import (found statically: shipping.py, then
what those import of the project, and so on) is copied into vendor/ at each build, as
the framework is (vendor.py), and imports on Lambda as it does locally. The code stays where it
is. vendor/.pym-project-code lists the copies: the next build removes them before copying
anew, and never touches what the user keeps in vendor/ themselves.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Tuple

from ..shipping import module_files, project_code
from .errors import DeployError

STEP = "build"
MANIFEST = Path("vendor") / ".pym-project-code"
_NOT_COPIED = shutil.ignore_patterns("__pycache__", "*.pyc")


@dataclass(frozen=True)
class ProjectCode:
    paths: Tuple[Path, ...] = ()  # <project>/helloworld, <project>/helpers.py
    files: int = 0

    def describe(self) -> str:
        names = ", ".join(p.name + ("/" if p.is_dir() else "") for p in self.paths)
        return (f"the project's own {names} ({self.files} file(s)) copied into vendor/, "
                "which the package ships at its root" if names else "")


def vendor_project_code(root: Path, targets: Iterable[str]) -> ProjectCode:
    """Copy project_code() into vendor/, anew; the copies of the last build removed first."""
    manifest = root / MANIFEST
    try:
        for name in (manifest.read_text(encoding="utf-8").split() if manifest.is_file()
                     else ()):
            old = root / "vendor" / name
            if old.is_dir():
                shutil.rmtree(old)
            else:
                old.unlink(missing_ok=True)
        manifest.unlink(missing_ok=True)
    except OSError as exc:
        raise DeployError(STEP, f"cannot remove the last build's copies in vendor/: {exc}") \
            from None
    paths = project_code(root, targets)
    copied, files = [], 0
    try:
        for path in paths:
            target = root / "vendor" / path.name
            if target.exists():
                raise DeployError(STEP, f"vendor/{path.name} would shadow the project's own "
                                  f"{path.name}: remove one of the two")
            target.parent.mkdir(exist_ok=True)
            if path.is_dir():
                shutil.copytree(path, target, ignore=_NOT_COPIED)
            else:
                shutil.copy2(path, target)
            copied.append(path.name)
            manifest.write_text("\n".join(copied) + "\n", encoding="utf-8")
            files += len(module_files(target, every_file=True))
    except OSError as exc:
        raise DeployError(STEP, f"cannot copy the project's code into vendor/: {exc}") from None
    return ProjectCode(tuple(paths), files)
