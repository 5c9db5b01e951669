"""Whether a binding target is the service's own code: what operationId / x-bind-server may name.

An operationId such as `os.getcwd` must not serve the standard library, nor a dependency's
function. Own code is `chalicelib` and `app` (what Chalice ships as the service), and any other
top-level module that is neither the standard library, nor the framework, nor installed: not
under a site-packages folder, nor listed by a `*.dist-info` beside it (Chalice's package puts
the requirements next to chalicelib/). The module is located, never run, to decide.
"""
from __future__ import annotations

import os
import sys
from typing import Optional

_OWN = ("chalicelib", "app")
_FRAMEWORK = ("pym_lambda", "chalice")
_INSTALLED_DIRS = ("site-packages", "dist-packages")


def module_of(target: str) -> str:
    """'pkg.module.func' or 'pkg.module:func' -> 'pkg.module'."""
    return target.partition(":")[0] if ":" in target else target.rpartition(".")[0]


def foreign(module: str) -> Optional[str]:
    """None when `module` is the service's own code, else what it is instead."""
    top = module.split(".", 1)[0]
    if top in _OWN or not top:
        return None
    if top in sys.builtin_module_names or top in getattr(sys, "stdlib_module_names", ()):
        return "the standard library"
    if top in _FRAMEWORK:
        return f"the framework ({top})"
    import importlib.util

    try:
        spec = importlib.util.find_spec(top)  # finds the top-level module without running it
    except (ImportError, ValueError):
        return None  # importing it will say what is wrong
    if spec is None:
        return None
    location = spec.origin if spec.origin and spec.origin not in ("built-in", "frozen") else None
    if location is None and spec.submodule_search_locations:
        location = next(iter(spec.submodule_search_locations), None)
    if location is None:
        return "the standard library" if spec.origin in ("built-in", "frozen") else None
    parts = os.path.normpath(location).split(os.sep)
    if any(p in _INSTALLED_DIRS for p in parts):
        return f"an installed package ({top})"
    is_package = os.path.basename(location) == "__init__.py" or bool(
        spec.submodule_search_locations)
    folder = os.path.dirname(os.path.dirname(location) if is_package and
                             location.endswith(".py") else location)
    if _listed_by_distribution(folder, top):
        return f"an installed package ({top})"
    return None


def _listed_by_distribution(folder: str, top: str) -> bool:
    """A `*.dist-info` in folder names `top` among its top-level modules (vendored wheels)."""
    try:
        entries = os.listdir(folder)
    except OSError:
        return False
    for entry in entries:
        if not entry.endswith(".dist-info"):
            continue
        info = os.path.join(folder, entry)
        try:
            with open(os.path.join(info, "top_level.txt"), encoding="utf-8") as handle:
                if top in handle.read().split():
                    return True
            continue
        except OSError:
            pass
        try:
            with open(os.path.join(info, "RECORD"), encoding="utf-8") as handle:
                for line in handle:
                    first = line.split(",", 1)[0].split("/", 1)[0]
                    if first == top or first == top + ".py":
                        return True
        except OSError:
            continue
    return False
