"""Bounded quotes of a client's input in messages: a 1 MB value never becomes a 1 MB error
description or log line. Every message that quotes request data goes through quote() or
clamp(). Standard library only, no relative imports, typing not imported at run time:
pym_lambda.fastcheck.generate_module pastes this file into every generated module.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_QUOTE = 80  # characters of one quoted value
MAX_MESSAGE = 300  # characters of one whole validation message


def clamp(text: str, limit: int = MAX_MESSAGE) -> str:
    """text, or its first limit - 3 characters then '...'."""
    return text if len(text) <= limit else text[:limit - 3] + "..."


def quote(value: Any, limit: int = MAX_QUOTE) -> str:
    """repr(value) in at most about limit characters. A long string is cut before repr(), so
    quoting a 1 MB value costs no 1 MB repr."""
    if isinstance(value, str) and len(value) > limit:
        return repr(value[:limit]) + "..."
    return clamp(repr(value), limit)
