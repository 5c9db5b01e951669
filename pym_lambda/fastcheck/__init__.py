"""Fast schema checkers: JSON schemas compiled to plain Python, mirroring openapi-schema-validator.

`generate_module(entries)` writes one standalone module (standard library only) with a
`check_<key>(value)` per entry; `compile_checker(...)` builds one checker in process. Both
return None for a valid value, else "body.toys[1].name: 3 is not of type 'string'". A schema
using something not mirrored raises Unsupported: keep openapi-schema-validator for it.
"""
from .generator import Checker, compile_checker, compile_checkers, generate_module
from .support import OAS30, OAS31, REQUEST, RESPONSE, Unsupported

__all__ = ["Checker", "OAS30", "OAS31", "REQUEST", "RESPONSE", "Unsupported",
           "compile_checker", "compile_checkers", "generate_module"]
