"""Lazy exports of a package (PEP 562), shared by pym_lambda, pym_lambda.tasks and
pym_lambda.clients: a name is imported from its module at its first access, so that importing
the package stays cheap (every import is paid at each Lambda cold start)."""
from __future__ import annotations

import sys
from typing import Any, Mapping


def lazy_attribute(package: str, sources: Mapping[str, str], name: str) -> Any:
    """The body of a package's ``__getattr__``: `name` imported from the module
    ``<package>.<sources[name]>`` at its first access, then kept in the package."""
    if name not in sources:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    import importlib  # not at import: a cold start that never asks for a lazy name skips it

    value = getattr(importlib.import_module(f"{package}.{sources[name]}"), name)
    setattr(sys.modules[package], name, value)  # once: later look-ups don't come here
    return value
