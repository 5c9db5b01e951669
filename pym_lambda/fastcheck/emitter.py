"""One schema object -> the Python statements checking a value against it.

Statements return `(path, message)` at the first failure and fall through when the value is
valid. Keywords checking the value itself come before those descending into it, so the error
reported is as shallow as a depth-first walk allows (jsonschema's best_match prefers shallow).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from .base import ALL_KINDS, NULL, STRING, At, type_kinds, type_test
from .containers import ContainerKeywords
from .support import OAS30_TYPES, OAS31_TYPES, check_keywords, need
from .values import ValueKeywords
from .writer import FunctionState, Lines, block, fail, literal, path_source, repr_message

if TYPE_CHECKING:
    from .generator import ModuleGenerator, Scope


def propagate(result: str, path: Tuple[str, ...]) -> str:
    """Return a callee's failure, its path prefixed with where the callee was applied."""
    if not path:
        return f"return {result}"
    return f"return ({path_source(path)} + {result}[0], {result}[1])"


class SchemaEmitter(ValueKeywords, ContainerKeywords):
    def __init__(self, gen: ModuleGenerator, scope: Scope, state: FunctionState) -> None:
        super().__init__(scope.rules, gen.consts, state)
        self.gen = gen
        self.scope = scope

    def schema(self, schema: Any, at: At) -> Lines:
        if isinstance(schema, bool) and not self.rules.oas30:
            return [] if schema else [
                fail(at.path, f"'False schema does not allow ' + repr({at.var})")]
        need(isinstance(schema, dict), at.where, f"schema {schema!r} is not a mapping")
        check_keywords(schema, self.rules, at.where)
        lines, at = self.type_check(schema, at)
        enum_lines, at = self.enum_const(schema, at)
        lines += enum_lines
        always = self.read_write_only(schema, at)
        if always:
            return lines + always  # every value fails: nothing else can matter
        lines += self.numbers(schema, at)
        lines += self.strings(schema, at)
        lines += self.formats(schema, at)
        lines += self.arrays(schema, at)
        lines += self.objects(schema, at)
        lines += self.reference(schema, at)
        lines += self.combinators(schema, at)
        return lines

    # -- type --------------------------------------------------------------------------------
    def type_check(self, schema: Dict[str, Any], at: At) -> Tuple[Lines, At]:
        if not self.has(schema, "type"):
            return [], at
        dialect, v = self.rules.dialect, at.var
        declared = schema["type"]
        if self.rules.oas30:
            # openapi_schema_validator._keywords.type: `nullable: true` lets None through;
            # 'binary' strings may be bytes
            need(isinstance(declared, str) and declared in OAS30_TYPES, at.where,
                 f"type {declared!r}")
            nullable = schema.get("nullable") is True
            kinds = type_kinds(dialect, declared)
            test = type_test(dialect, declared, v)
            if declared == "string" and schema.get("format") == "binary":
                kinds, test = kinds | {"bytes"}, f"isinstance({v}, (str, bytes))"
            if nullable:
                kinds = kinds | {NULL}
            if at.kinds <= kinds:
                return [], at
            wrong = repr_message(v, f" is not of type {declared!r}")
            if nullable:
                return block(f"if {v} is not None and not {test}:", [fail(at.path, wrong)]), \
                    at.narrow(kinds)
            if NULL in at.kinds:
                wrong = f"('None for not nullable' if {v} is None else {wrong})"
            return block(f"if not {test}:", [fail(at.path, wrong)]), at.narrow(kinds)
        names = [declared] if isinstance(declared, str) else declared
        need(isinstance(names, list) and all(n in OAS31_TYPES for n in names), at.where,
             f"type {declared!r}")
        kinds = frozenset().union(*(type_kinds(dialect, n) for n in names))
        if at.kinds <= kinds:
            return [], at
        test = " or ".join(type_test(dialect, n, v) for n in names) or "False"
        reprs = ", ".join(repr(n) for n in names)
        return block(f"if not ({test}):",
                     [fail(at.path, repr_message(v, f" is not of type {reprs}"))]), \
            at.narrow(kinds)

    # -- enum, const, readOnly/writeOnly -------------------------------------------------------
    def enum_const(self, schema: Dict[str, Any], at: At) -> Tuple[Lines, At]:
        lines: Lines = []
        v = at.var
        if self.has(schema, "enum"):
            enum = schema["enum"]
            need(isinstance(enum, list), at.where, "enum must be a list")
            wrong = fail(at.path, repr_message(v, f" is not one of {enum!r}"))
            if enum and all(isinstance(e, str) for e in enum):
                # jsonschema's equal() compares strings with ==: a set lookup is the same
                members = self.consts.add(f"frozenset({literal(enum)})", "ENUM")
                test = (f"{v} not in {members}" if at.kinds <= {STRING}
                        else f"not (isinstance({v}, str) and {v} in {members})")
                lines += block(f"if {test}:", [wrong])
                at = at.narrow(frozenset((STRING,)))
            else:
                members = self.consts.add(literal(enum), "ENUM")
                lines += block(f"if not _in_enum({v}, {members}):", [wrong])
        if self.has(schema, "const"):
            const = schema["const"]
            value = self.consts.add(literal(const), "CONST")
            lines += block(f"if not _equal({v}, {value}):",
                           [fail(at.path, repr(f"{const!r} was expected"))])
        return lines, at

    def read_write_only(self, schema: Dict[str, Any], at: At) -> Lines:
        # OAS30WriteValidator fails any value under `readOnly: true`, whatever it is; the
        # read validator does the same with writeOnly
        if self.rules.read_only_fails and schema.get("readOnly"):
            return [fail(at.path, f"f'Tried to write read-only property with {{{at.var}}}'")]
        if self.rules.write_only_fails and schema.get("writeOnly"):
            return [fail(at.path, f"f'Tried to read write-only property with {{{at.var}}}'")]
        return []

    # -- $ref and the combinators --------------------------------------------------------------
    def reference(self, schema: Dict[str, Any], at: At) -> Lines:
        if not self.has(schema, "$ref"):
            return []
        name = self.gen.ref_function(schema["$ref"], self.scope, at.where)
        r = self.state.var("r")
        return [f"{r} = {name}({at.var})", *block(f"if {r} is not None:",
                                                   [propagate(r, at.path)])]

    def _branches(self, schema: Dict[str, Any], key: str, at: At) -> List[Optional[str]]:
        subs = schema[key]
        need(isinstance(subs, list), at.where, f"{key} must be a list")
        return [self.function_for(sub, at, f"{key}/{i}") for i, sub in enumerate(subs)]

    def combinators(self, schema: Dict[str, Any], at: At) -> Lines:
        v, lines = at.var, []
        if self.has(schema, "allOf"):
            need(isinstance(schema["allOf"], list), at.where, "allOf must be a list")
            for i, sub in enumerate(schema["allOf"]):
                lines += self.schema(sub, at._replace(where=f"{at.where}/allOf/{i}"))
        none_valid = repr_message(v, " is not valid under any of the given schemas")
        if self.has(schema, "anyOf"):
            branches = self._branches(schema, "anyOf", at)
            if None not in branches:  # a branch accepting everything satisfies anyOf
                test = " and ".join(f"{f}({v}) is not None" for f in branches) or "True"
                lines += block(f"if {test}:", [fail(at.path, none_valid)])
        if self.has(schema, "oneOf"):
            checks = [f or "_valid" for f in self._branches(schema, "oneOf", at)]
            reprs = self.consts.add(literal([repr(s) for s in schema["oneOf"]]), "REPRS")
            m = self.state.var("m")
            lines += [f"{m} = _one_of({v}, ({''.join(c + ', ' for c in checks)}), {reprs})",
                      *block(f"if {m} is not None:", [fail(at.path, m)])]
        if self.has(schema, "not"):
            check = self.function_for(schema["not"], at, "not")
            wrong = fail(at.path, repr_message(v, f" should not be valid under "
                                                  f"{schema['not']!r}"))
            lines += block(f"if {check}({v}) is None:", [wrong]) if check else [wrong]
        return lines

    # -- descending ------------------------------------------------------------------------------
    def function_for(self, sub: Any, at: At, where: str) -> Optional[str]:
        return self.gen.function(sub, self.scope, f"{at.where}/{where}")

    def descend(self, sub: Any, at: At, var: str, part: Optional[str], where: str) -> Lines:
        """Check `var` (a part of at.var, at `part` in the path) against a subschema."""
        path = at.path + ((part,) if part is not None else ())
        if sub is False:  # jsonschema's descend() reports a false schema at the parent's path
            path = at.path
        child = At(var, path, ALL_KINDS, f"{at.where}/{where}", at.depth, at.loops)
        if child.loops <= FunctionState.MAX_LOOPS and child.depth <= FunctionState.MAX_DEPTH:
            return self.schema(sub, child)
        name = self.gen.function(sub, self.scope, child.where)  # too nested: a new function
        if name is None:
            return []
        r = self.state.var("r")
        return [f"{r} = {name}({var})", *block(f"if {r} is not None:", [propagate(r, path)])]
