"""The one place the engine learns what a format means: fastcheck's checks (formats.py), so
that the engine and the generated checkers agree on every format."""
from __future__ import annotations

from importlib import import_module
from typing import Any, Callable, Optional

FormatCheck = Callable[[Any], bool]


def format_check(name: str, dialect: str) -> Optional[FormatCheck]:
    """The check of a format (True: valid; non-strings pass string formats), or None for a
    format nobody defines (an annotation)."""
    formats = import_module("pym_lambda.fastcheck.formats")
    support = import_module("pym_lambda.fastcheck.support")
    helper = support.FORMATS.get(dialect, {}).get(name)
    check: Optional[FormatCheck] = None if helper is None else getattr(formats, helper, None)
    return check
