"""Keywords on numbers and strings, and formats (jsonschema._keywords, _legacy_keywords)."""
from __future__ import annotations

from typing import Any, Dict

from .base import BYTES, INT, NUMBERS, STRING, At, EmitterBase
from .support import compile_pattern, is_number, need
from .writer import Lines, block, fail, literal, repr_message

_INT_FORMATS = ("_fmt_int32", "_fmt_int64")


class ValueKeywords(EmitterBase):
    def numbers(self, schema: Dict[str, Any], at: At) -> Lines:
        return self.guard(at, NUMBERS, f"_is_number({at.var})",
                          lambda a: self._bounds(schema, a) + self._multiple_of(schema, a))

    def _bound(self, at: At, op: str, limit: Any, words: str, where: str) -> Lines:
        need(is_number(limit), where, f"bound {limit!r} is not a number")
        text = f" is {words} of {limit!r}"
        return block(f"if {at.var} {op} {literal(limit)}:",
                     [fail(at.path, repr_message(at.var, text))])

    def _bounds(self, schema: Dict[str, Any], at: At) -> Lines:
        lines: Lines = []
        where = at.where
        if self.rules.oas30:
            # draft 4: exclusiveMinimum/Maximum are flags read by minimum/maximum (truthiness)
            if "minimum" in schema:
                strict = bool(schema.get("exclusiveMinimum", False))
                lines += self._bound(at, "<=" if strict else "<", schema["minimum"],
                                     "less than or equal to the minimum" if strict
                                     else "less than the minimum", where)
            if "maximum" in schema:
                strict = bool(schema.get("exclusiveMaximum", False))
                lines += self._bound(at, ">=" if strict else ">", schema["maximum"],
                                     "greater than or equal to the maximum" if strict
                                     else "greater than the maximum", where)
            return lines
        for key, op, words in (
                ("minimum", "<", "less than the minimum"),
                ("maximum", ">", "greater than the maximum"),
                ("exclusiveMinimum", "<=", "less than or equal to the minimum"),
                ("exclusiveMaximum", ">=", "greater than or equal to the maximum")):
            if key in schema:
                lines += self._bound(at, op, schema[key], words, where)
        return lines

    def _multiple_of(self, schema: Dict[str, Any], at: At) -> Lines:
        if "multipleOf" not in schema:
            return []
        divisor = schema["multipleOf"]
        need(is_number(divisor) and divisor > 0, at.where, f"multipleOf {divisor!r}")
        # ints by %, floats as the decimal numbers they print as (helpers._not_multiple)
        test = (f"_not_multiple({at.var}, {literal(divisor)})" if isinstance(divisor, float)
                else f"({at.var} % {literal(divisor)} if {at.var}.__class__ is int "
                     f"else _not_multiple({at.var}, {literal(divisor)}))")
        return block(f"if {test}:",
                     [fail(at.path, repr_message(at.var, f" is not a multiple of {divisor}"))])

    def strings(self, schema: Dict[str, Any], at: At) -> Lines:
        return self.guard(at, frozenset((STRING,)), f"isinstance({at.var}, str)",
                          lambda a: self._string_keywords(schema, a))

    def _string_keywords(self, schema: Dict[str, Any], at: At) -> Lines:
        lines: Lines = []
        v = at.var
        if "minLength" in schema:
            size = schema["minLength"]
            need(is_number(size), at.where, f"minLength {size!r}")
            text = " should be non-empty" if size == 1 else " is too short"
            lines += block(f"if len({v}) < {literal(size)}:",
                           [fail(at.path, repr_message(v, text))])
        if "maxLength" in schema:
            size = schema["maxLength"]
            need(is_number(size), at.where, f"maxLength {size!r}")
            text = " is expected to be empty" if size == 0 else " is too long"
            lines += block(f"if len({v}) > {literal(size)}:",
                           [fail(at.path, repr_message(v, text))])
        if "pattern" in schema:
            pattern = schema["pattern"]
            compile_pattern(pattern, at.where)
            regex = self.consts.pattern(pattern)
            lines += block(f"if not {regex}.found({v}):",
                           [fail(at.path, repr_message(v, f" does not match {pattern!r}"))])
        return lines

    def formats(self, schema: Dict[str, Any], at: At) -> Lines:
        if not self.has(schema, "format"):
            return []
        name = schema["format"]
        helper = self.rules.format_helper(name, at.where)
        if helper is None:
            return []
        if helper in _INT_FORMATS:
            needed, test = frozenset((INT,)), f"isinstance({at.var}, int)"
        elif helper == "_fmt_byte":
            needed, test = frozenset((STRING, BYTES)), f"isinstance({at.var}, (str, bytes))"
        else:
            needed, test = frozenset((STRING,)), f"isinstance({at.var}, str)"
        check = block(f"if not {helper}({at.var}):",
                      [fail(at.path, repr_message(at.var, f" is not a {name!r}"))])
        return self.guard(at, needed, test, lambda a: check)
