"""Our own JSON Schema validator: draft 4 + the OpenAPI 3.0 Schema Object ("oas30") and
2020-12 + OpenAPI 3.1 ("oas31"), standard library only (RE2 for patterns, as fastcheck).

It reports every problem of a value (the explainer of a failed check) and is the fallback for
schemas fastcheck's generated code does not cover. See docs/guide.md (validation) for the
deviations from the JSON Schema Test Suite and the OpenAPI rules behind them.
"""
from __future__ import annotations

from .engine import SchemaEngine
from .problems import Problem

__all__ = ["Problem", "SchemaEngine"]
