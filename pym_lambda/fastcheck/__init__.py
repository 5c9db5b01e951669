"""Fast schema checkers: JSON schemas compiled to plain Python, mirroring openapi-schema-validator.

`generate_module(entries)` writes one standalone module (standard library only) with a
`check_<key>(value)` per entry; `compile_checker(...)` builds one checker in process. Both
return None for a valid value, else "body.toys[1].name: 3 is not of type 'string'". A schema
using something not covered raises Unsupported: pym_lambda.schema_engine checks it instead.
The names load at their first access (PEP 562): pym_lambda.schema_engine imports helpers.py
and canonical.py from here without paying for the generator (~90 ms).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..lazy_exports import lazy_attribute

if TYPE_CHECKING:  # imported lazily below; spelled out for type checkers
    from .generator import Checker, compile_checker, compile_checkers, generate_module
    from .support import OAS30, OAS31, REQUEST, RESPONSE, Unsupported

__all__ = ["Checker", "OAS30", "OAS31", "REQUEST", "RESPONSE", "Unsupported",
           "compile_checker", "compile_checkers", "generate_module"]

_LAZY = {
    "Checker": "generator", "compile_checker": "generator", "compile_checkers": "generator",
    "generate_module": "generator", "OAS30": "support", "OAS31": "support",
    "REQUEST": "support", "RESPONSE": "support", "Unsupported": "support",
}


def __getattr__(name: str) -> Any:
    return lazy_attribute(__name__, _LAZY, name)
