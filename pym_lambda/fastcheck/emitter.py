"""One schema object -> the Python statements checking a value against it.

Statements return `(path, message)` at the first failure and fall through when the value is
valid. Keywords checking the value itself come before those descending into it, so the error
reported is as shallow as a depth-first walk allows (jsonschema's best_match prefers shallow).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional, Set, Tuple

from ..quoting import quote
from .base import ALL_KINDS, NULL, OBJECT, STRING, At, type_kinds, type_test
from .containers import ContainerKeywords
from .support import (
    DEFINITIONS_REF,
    OAS30_TYPES,
    OAS31_TYPES,
    Unsupported,
    check_keywords,
    need,
    resolve_ref,
)
from .values import ValueKeywords
from .writer import (
    FunctionState,
    Lines,
    block,
    fail,
    indent,
    literal,
    path_source,
    repr_message,
)

if TYPE_CHECKING:
    from .generator import ModuleGenerator, Scope


def propagate(result: str, path: Tuple[str, ...]) -> str:
    """Return a callee's failure, its path prefixed with where the callee was applied."""
    if not path:
        return f"return {result}"
    return f"return ({path_source(path)} + {result}[0], {result}[1])"


MAX_HOPS = 64  # $ref/allOf hops followed to learn whether a property is read-only
MISSING_TAG = " is a required property (it names the schema of this object)"


def _name_of(ref: str) -> str:
    """'#/definitions/Dog', '#/components/schemas/Dog' or 'Dog' -> 'Dog'."""
    return ref.rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~")


class SchemaEmitter(ValueKeywords, ContainerKeywords):
    def __init__(self, gen: ModuleGenerator, scope: Scope, state: FunctionState,
                 plain: bool = False) -> None:
        super().__init__(scope.rules, gen.consts, state)
        self.gen = gen
        self.scope = scope
        # The function checks a value some schema's allOf-style discriminator sent here: the
        # schemas applied to that same value dispatch no more (Cat's allOf reaches Pet again)
        self.plain = plain
        # One-way properties of the allOf groups being emitted inline around this schema: a
        # `required` in one allOf member skips those another member declares read-only
        self.group_one_way: Set[str] = set()

    def _plain(self, at: At) -> bool:
        return self.plain and at.var == "v"  # "v": the function's own value, not a part of it

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
            # 'null' is no 3.0 type: "only null", as 3.1 says (the reference raised on it)
            need(isinstance(declared, str) and (declared in OAS30_TYPES or declared == "null"),
                 at.where, f"type {declared!r}")
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
        # OAS 3.0: a readOnly value is not sent in a request, a writeOnly one not returned
        for flag, fails, word in (("readOnly", self.rules.read_only_fails, "read-only"),
                                  ("writeOnly", self.rules.write_only_fails, "write-only")):
            if fails and schema.get(flag) is True:  # named by the entry (ONE_WAY_SOURCE)
                return [fail(at.path, repr(" is " + word))]
        return []

    def one_way(self, schema: Dict[str, Any]) -> Set[str]:
        """The properties `required` skips here (OAS 3.0): readOnly ones in a request,
        writeOnly ones in a response, judged through $ref and allOf."""
        if self.rules.read_only_fails:
            return self._one_way_names(schema, "readOnly", 0) | self.group_one_way
        if self.rules.write_only_fails:
            return self._one_way_names(schema, "writeOnly", 0) | self.group_one_way
        return set()

    def _target(self, ref: Any) -> Any:
        try:
            return resolve_ref(ref, self.scope.definitions, "")
        except Unsupported:
            return None  # refused where the $ref itself is checked

    def _flagged(self, schema: Any, flag: str, hops: int) -> bool:
        if not isinstance(schema, dict) or hops > MAX_HOPS:
            return False
        if schema.get(flag) is True:
            return True
        if "$ref" in schema and self._flagged(self._target(schema["$ref"]), flag, hops + 1):
            return True
        members = schema.get("allOf")
        return isinstance(members, list) and any(
            self._flagged(m, flag, hops + 1) for m in members)

    def _one_way_names(self, schema: Any, flag: str, hops: int) -> Set[str]:
        names: Set[str] = set()
        if not isinstance(schema, dict) or hops > MAX_HOPS:
            return names
        props = schema.get("properties")
        if isinstance(props, dict):
            names.update(n for n, sub in props.items() if self._flagged(sub, flag, hops))
        if "$ref" in schema:
            names |= self._one_way_names(self._target(schema["$ref"]), flag, hops + 1)
        members = schema.get("allOf")
        for member in members if isinstance(members, list) else []:
            names |= self._one_way_names(member, flag, hops + 1)
        return names

    # -- $ref and the combinators --------------------------------------------------------------
    def reference(self, schema: Dict[str, Any], at: At) -> Lines:
        if not self.has(schema, "$ref"):
            return []
        name = self.gen.ref_function(schema["$ref"], self.scope, at.where, self._plain(at))
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
            outer = self.group_one_way
            self.group_one_way = outer | self.one_way(schema)  # the whole group's, same value
            for i, sub in enumerate(schema["allOf"]):
                lines += self.schema(sub, at._replace(where=f"{at.where}/allOf/{i}"))
            self.group_one_way = outer
        prop = self._discriminator_property(schema)
        choice = self.one_any_of(schema, at)
        if prop is None or not at.kinds & {OBJECT}:
            lines += choice
        elif "oneOf" in schema or "anyOf" in schema:
            # the discriminator picks the branch of an object; other values: oneOf/anyOf
            lines += self.guard(at, frozenset((OBJECT,)), f"isinstance({v}, dict)",
                                lambda a: self._dispatch(schema, prop, a))
            if at.kinds - {OBJECT}:
                lines += block(f"if not isinstance({v}, dict):", choice)
        elif not self._plain(at):
            lines += self.guard(at, frozenset((OBJECT,)), f"isinstance({v}, dict)",
                                lambda a: self._derived(schema, prop, a))
        if self.has(schema, "not"):
            check = self.function_for(schema["not"], at, "not")
            wrong = fail(at.path, repr_message(v, f" should not be valid under "
                                                  f"{schema['not']!r}"))
            lines += block(f"if {check}({v}) is None:", [wrong]) if check else [wrong]
        lines += self.conditional(schema, at)
        return lines

    def one_any_of(self, schema: Dict[str, Any], at: At) -> Lines:
        v, lines = at.var, []
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
        return lines

    # -- discriminator (OpenAPI 3.0 and 3.1; docs/guide.md) -----------------------------------
    def _discriminator_property(self, schema: Dict[str, Any]) -> Optional[str]:
        disc = schema.get("discriminator") if self.has(schema, "discriminator") else None
        prop = disc.get("propertyName") if isinstance(disc, dict) else None
        return prop if isinstance(prop, str) else None

    def _mapping(self, schema: Dict[str, Any]) -> Dict[str, Any]:
        mapping = schema["discriminator"].get("mapping")
        return mapping if isinstance(mapping, dict) else {}

    def _named(self, name: str, at: At, plain: bool = False) -> Optional[str]:
        """The function of the named schema, or None when there is no such schema."""
        if name not in self.scope.definitions:
            return None
        ref = DEFINITIONS_REF + name.replace("~", "~0").replace("/", "~1")
        return self.gen.ref_function(ref, self.scope, at.where, plain)

    def _dispatch(self, schema: Dict[str, Any], prop: str, at: At) -> Lines:
        """oneOf/anyOf + discriminator: the tag picks the branch, checked alone; a missing
        tag, or one naming no schema, is the problem reported, naming the allowed tags."""
        v, mapping = at.var, self._mapping(schema)
        branches: List[Any] = next((schema[k] for k in ("oneOf", "anyOf")
                                    if isinstance(schema.get(k), list)), [])
        by_name: Dict[str, Tuple[int, Any]] = {}
        for i, branch in enumerate(branches):
            if isinstance(branch, dict) and isinstance(branch.get("$ref"), str):
                by_name.setdefault(_name_of(branch["$ref"]), (i, branch))
        allowed = sorted(set(mapping) | set(by_name))
        tag_path = at.path + (repr(prop),)
        t = self.state.var("t")
        lines = block(f"if {prop!r} not in {v}:", [fail(tag_path, repr(repr(prop) + MISSING_TAG))])
        lines.append(f"{t} = {v}[{prop!r}]")
        chain: Lines = []
        for tag in allowed:
            target = mapping.get(tag)
            name = _name_of(target) if isinstance(target, str) else tag
            if name in by_name:
                i, branch = by_name[name]
                check = self.function_for(branch, at, f"discriminator/{i}")
            elif name in self.scope.definitions:
                check = self._named(name, at)
            else:
                continue  # a mapping to nothing: the tag is refused
            r = self.state.var("r")
            body = [f"{r} = {check}({v})", *block(f"if {r} is not None:",
                                                    [propagate(r, at.path)])] if check else []
            chain += [f"{'elif' if chain else 'if'} {t} == {tag!r}:", *indent(body or ['pass'])]
        unknown = self.consts.text(" is not one of " + quote(allowed, 200))
        wrong = [fail(tag_path, f"quote({t}) + {unknown}")]
        return lines + (chain + ["else:", *indent(wrong)] if chain else wrong)

    def _derived(self, schema: Dict[str, Any], prop: str, at: At) -> Lines:
        """allOf-style discriminator: a tag naming another schema (through the mapping or by
        name) checks the value against that schema too. Only schemas deriving from this one
        (their allOf reaching it) or mapped are considered, to bound the generated code."""
        v, mapping = at.var, self._mapping(schema)
        names: Dict[str, str] = {}
        for tag, target in mapping.items():
            if isinstance(target, str):
                names[tag] = _name_of(target)
        for name in self._deriving(schema):
            names.setdefault(name, name)
        t = self.state.var("t")
        chain: Lines = []
        for tag, name in sorted(names.items()):
            if self.scope.definitions.get(name) is schema:
                continue  # naming this very schema: nothing more
            check = self._named(name, at, plain=True)
            if check is None:
                continue
            r = self.state.var("r")
            chain += [f"{'elif' if chain else 'if'} {t} == {tag!r}:",
                      *indent([f"{r} = {check}({v})",
                               *block(f"if {r} is not None:", [propagate(r, at.path)])])]
        if not chain:
            return []
        return [f"{t} = {v}.get({prop!r})", *chain]

    def _deriving(self, schema: Dict[str, Any]) -> List[str]:
        """The named schemas whose allOf reaches `schema` through $refs."""
        found: List[str] = []
        for name, candidate in self.scope.definitions.items():
            if candidate is not schema and self._reaches(candidate, schema, 0):
                found.append(name)
        return found

    def _reaches(self, candidate: Any, schema: Dict[str, Any], hops: int) -> bool:
        if not isinstance(candidate, dict) or hops > 8:
            return False
        members = candidate.get("allOf")
        for member in members if isinstance(members, list) else ():
            target = self._target(member["$ref"]) if isinstance(member, dict) and \
                "$ref" in member else member
            if target is schema or self._reaches(target, schema, hops + 1):
                return True
        return False

    # -- if/then/else, dependentSchemas (2020-12) ----------------------------------------------
    def conditional(self, schema: Dict[str, Any], at: At) -> Lines:
        v, lines = at.var, []
        if self.has(schema, "if") and ("then" in schema or "else" in schema):
            test = self.function_for(schema["if"], at, "if")
            then = self.function_for(schema["then"], at, "then") if "then" in schema else None
            other = self.function_for(schema["else"], at, "else") if "else" in schema else None
            r = self.state.var("r")
            call = [*block(f"if {r} is not None:", [propagate(r, at.path)])]
            if test is None:  # every value passes `if`
                lines += [f"{r} = {then}({v})", *call] if then else []
            else:
                yes = [f"{r} = {then}({v})", *call] if then else ["pass"]
                no = [f"{r} = {other}({v})", *call] if other else []
                lines += block(f"if {test}({v}) is None:", yes) + (
                    ["else:", *indent(no)] if no else [])
        if self.has(schema, "dependentSchemas"):
            dependent = schema["dependentSchemas"]
            need(isinstance(dependent, dict), at.where, "dependentSchemas must be a mapping")
            checks: Lines = []
            for name, sub in dependent.items():
                check = self.function_for(sub, at, f"dependentSchemas/{name}")
                if check is None:
                    continue
                r = self.state.var("r")
                checks += block(f"if {name!r} in {v}:", [
                    f"{r} = {check}({v})", *block(f"if {r} is not None:", [propagate(r, at.path)])])
            lines += self.guard(at, frozenset((OBJECT,)), f"isinstance({v}, dict)",
                                lambda a: checks)
        return lines

    # -- descending ------------------------------------------------------------------------------
    def function_for(self, sub: Any, at: At, where: str) -> Optional[str]:
        return self.gen.function(sub, self.scope, f"{at.where}/{where}",
                                 plain=self._plain(at))

    def descend(self, sub: Any, at: At, var: str, part: Optional[str], where: str) -> Lines:
        """Check `var` (a part of at.var, at `part` in the path) against a subschema."""
        path = at.path + ((part,) if part is not None else ())
        if sub is False:  # jsonschema's descend() reports a false schema at the parent's path
            path = at.path
        child = At(var, path, ALL_KINDS, f"{at.where}/{where}", at.depth, at.loops)
        if child.loops <= FunctionState.MAX_LOOPS and child.depth <= FunctionState.MAX_DEPTH:
            outer, self.group_one_way = self.group_one_way, set()  # another value: not its group
            try:
                return self.schema(sub, child)
            finally:
                self.group_one_way = outer
        name = self.gen.function(sub, self.scope, child.where)  # too nested: a new function
        if name is None:
            return []
        r = self.state.var("r")
        return [f"{r} = {name}({var})", *block(f"if {r} is not None:", [propagate(r, path)])]
