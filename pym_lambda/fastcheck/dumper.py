"""Response dumpers: one generated function per response schema that turns what a handler
returned (model objects, dicts) into JSON-ready data AND checks it, in one walk.

Today's path walks a returned model twice: `to_jsonable()` builds the JSON tree, then the
schema's check walks that tree again. A dumper does both per object: it copies the object's
attributes (a C-level dict copy: the key order is the object's, as `Model.to_json` writes
it), drops the None values `to_json` drops, and checks each declared property where it
converts it (nested objects by their own dumper, other values by the same statements the
check runs, SchemaEmitter's).

A dumper returns the JSON-ready data, or a tuple when anything is wrong. The runtime
(runtime/responses.py) then takes today's two-pass path, which reports the problem (and every
other, BAD_RESPONSE) exactly as before: a dumper never words an error itself. Anything a
dumper does not know (a class overriding to_json, extra properties, undeclared keys, a value
that is not an object) goes through `_dump_any`: to_jsonable() and the check, as today.

Covered: a `$ref` to a named object schema made of `properties`, `required` and `allOf`
members of the same shape (annotations and x- extensions aside), or an array of those. Any
other response schema has no dumper (its entry has no `dump_<id>`): the two passes serve it.

The runtime puts `_to_jsonable` (models.to_jsonable), `_DATETIME` (datetime.datetime) and
`_MODEL_NULLABLE` (model class -> the names to_json keeps when None, or None for a class it
cannot vouch for) in the generated module's namespace: the module itself imports nothing.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional, Set, Tuple

from .base import ALL_KINDS, ARRAY, At
from .support import DEFINITIONS_REF, RESPONSE, Unsupported, resolve_ref
from .writer import FunctionState, Lines, block, identifier, indent, literal

if TYPE_CHECKING:
    from .generator import ModuleGenerator, Scope

# What runs a value a dumper does not take apart: today's two passes.
DUMP_SOURCE = [
    "def _dump_any(o, check):",
    "    v = _to_jsonable(o)",
    "    r = check(v)",
    "    return v if r is None else r",
]
# Keywords an object schema may carry and still be dumped: what shapes it, and annotations.
_SHAPE = frozenset(("type", "properties", "required", "allOf"))
_ANNOTATIONS = frozenset(("description", "title", "example", "examples", "externalDocs",
                          "deprecated", "xml", "readOnly"))
MAX_HOPS = 16

Shape = Tuple[Dict[str, Any], Set[str]]  # declared properties (name -> schema), required names


class NamedFunctions:
    """Generated functions per named schema (dumpers, loaders) of one module: their names by
    (scope, ref), None for a schema not covered, and those still to write."""

    def __init__(self, gen: ModuleGenerator) -> None:
        self.gen = gen
        self.names: Dict[Tuple[Tuple[int, str, str], str], Optional[str]] = {}
        self.pending: List[Tuple[str, str, Shape, Scope]] = []

    def saved(self) -> Any:
        return dict(self.names), len(self.pending)

    def restore(self, saved: Any) -> None:
        names, pending = saved
        self.names = dict(names)  # a copy: a second restore finds it as it was saved
        del self.pending[pending:]

    def drain(self) -> None:
        """Write every function still to write (one may ask for others: a nested schema)."""
        while self.pending:
            name, ref, shape, scope = self.pending.pop()
            self.gen.functions.append(self._source(name, ref, shape, scope))

    def _source(self, name: str, ref: str, shape: Shape, scope: Scope) -> Lines:
        raise NotImplementedError  # each kind of function writes its own


class Dumpers(NamedFunctions):
    """The dumper functions of one generated module (ModuleGenerator holds one)."""

    def entry_source(self, name: str, schema: Any, scope: Scope, check: str) -> Optional[Lines]:
        """The source of `dump_<id>` for a response entry's schema (`check` is the function
        checking it), or None when not covered: a `$ref` to a covered object schema, or an
        array of them."""
        if scope.rules.context != RESPONSE or not isinstance(schema, dict):
            return None
        if list(schema) == ["$ref"]:
            dumper = self.function(schema["$ref"], scope)
            return None if dumper is None else [f"{name} = {dumper}"]
        items = schema.get("items")
        if not (_plain_array(schema) and isinstance(items, dict) and list(items) == ["$ref"]):
            return None
        dumper = self.function(items["$ref"], scope)
        if dumper is None:
            return None
        from .emitter import SchemaEmitter

        state = FunctionState()
        emitter = SchemaEmitter(self.gen, scope, state)
        rest = {k: v for k, v in schema.items() if k != "items"}
        return [f"def {name}(o):", *indent([
            *block("if o.__class__ is list or o.__class__ is tuple:", [
                *self._items_dumped("o", "y", dumper, state),
                *emitter.schema(rest, At("y", (), frozenset((ARRAY,)), "#/dump", 2)),
                "return y"]),
            f"return _dump_any(o, {check})"])]

    def _items_dumped(self, x: str, y: str, dumper: str, state: FunctionState) -> Lines:
        """A fresh list of x's items, each by the dumper; a refusal returned."""
        z = state.var("z")
        return [f"{y} = []", *block(f"for {z} in {x}:", [
            f"{z} = {dumper}({z})",
            *block(f"if {z}.__class__ is tuple:", [f"return {z}"]),
            f"{y}.append({z})"])]

    def function(self, ref: Any, scope: Scope) -> Optional[str]:
        """The name of the dumper of a named schema, None when its shape is not covered."""
        key = (scope.key, ref)
        if key in self.names:
            return self.names[key]
        try:
            target = resolve_ref(ref, scope.definitions, ref)
        except Unsupported:
            return None
        shape = self._shape(target, scope, 0)
        if shape is None or (scope.rules.write_only_fails
                             and flagged(self.gen, scope, shape, "writeOnly")):
            return None  # OAS 3.0 responses: `required` skips writeOnly ones, not mirrored
        rules = scope.rules
        name = self.gen._name(f"_dump_{identifier(ref[len(DEFINITIONS_REF):])}_{rules.dialect}")
        self.names[key] = name
        self.pending.append((name, ref, shape, scope))
        return name

    # -- what is covered ------------------------------------------------------------------------
    def _shape(self, schema: Any, scope: Scope, hops: int) -> Optional[Shape]:
        """An object schema's properties and required names, allOf members merged; None when
        it has anything else (a property declared twice included)."""
        if not isinstance(schema, dict) or hops > MAX_HOPS:
            return None
        for key in schema:
            if key not in _SHAPE and key not in _ANNOTATIONS and not key.startswith("x-"):
                return None
        if "type" in schema and schema["type"] != "object":
            return None
        props: Dict[str, Any] = {}
        required: Set[str] = set()
        members = schema.get("allOf", [])
        own = schema.get("properties", {})
        names = schema.get("required", [])
        if not (isinstance(members, list) and isinstance(own, dict) and isinstance(names, list)
                and all(isinstance(n, str) for n in names)):
            return None
        for member in members:
            if isinstance(member, dict) and list(member) == ["$ref"]:
                try:
                    member = resolve_ref(member["$ref"], scope.definitions, "")
                except Unsupported:
                    return None
            found = self._shape(member, scope, hops + 1)
            if found is None or set(found[0]) & set(props):
                return None
            props.update(found[0])
            required |= found[1]
        if set(own) & set(props):
            return None
        props.update(own)
        required |= set(names)
        if not required <= set(props):
            return None
        return props, required

    # -- the generated function -----------------------------------------------------------------
    def _source(self, name: str, ref: str, shape: Shape, scope: Scope) -> Lines:
        from .emitter import SchemaEmitter

        gen, consts = self.gen, self.gen.consts
        props, required = shape
        check = gen.ref_function(ref, scope, ref)  # today's check: what _dump_any runs
        known = consts.add(f"frozenset({literal(list(props))})", "PROPS")
        miss = consts.add("object()", "MISS")
        plain = consts.add("frozenset((str, int, float, bool, type(None)))", "PLAIN")
        failed = consts.add("((), 'refused')", "REFUSED")
        state = FunctionState()
        emitter = SchemaEmitter(gen, scope, state)
        lines: Lines = [
            "c = o.__class__",
            "if c is dict:",
            f"    if not {known}.issuperset(o):",
            f"        return _dump_any(o, {check})",
            "    nl = None",  # a dict keeps its None values (to_jsonable)
            "    out = o.copy()",
            "else:",
            "    nl = _MODEL_NULLABLE[c]",
            "    if nl is None:",
            f"        return _dump_any(o, {check})",
            "    d = o.__dict__",
            "    try:",
            "        e = o.__pym_extra__",
            "    except AttributeError:",
            "        e = None",
            f"    if e or not {known}.issuperset(d):",
            f"        return _dump_any(o, {check})",
            "    out = d.copy()",
        ]
        for prop, sub in props.items():
            x = state.var("x")
            key = repr(prop)
            convert = self._property(sub, x, key, scope, emitter, state, plain)
            lines += [
                f"{x} = out.get({key}, {miss})",
                *block(f"if {x} is None and nl is not None and {key} not in nl:",
                       [f"del out[{key}]", f"{x} = {miss}"]),  # to_json leaves it out
            ]
            if prop in required:
                lines += block(f"if {x} is {miss}:", [f"return {failed}"]) + convert
            else:
                lines += block(f"if {x} is not {miss}:", convert or ["pass"])
        return [f"def {name}(o):", *indent(lines), "    return out"]

    def _property(self, sub: Any, x: str, key: str, scope: Scope, emitter: Any,
                  state: FunctionState, plain: str) -> Lines:
        """Convert the property's value (written back when it changed), check it."""
        if isinstance(sub, dict) and list(sub) == ["$ref"]:
            dumper = self.function(sub["$ref"], scope)
            if dumper is not None:
                return [f"{x} = {dumper}({x})",
                        *block(f"if {x}.__class__ is tuple:", [f"return {x}"]),
                        f"out[{key}] = {x}"]
        items = sub.get("items") if isinstance(sub, dict) else None
        if isinstance(items, dict) and list(items) == ["$ref"] and _plain_array(sub):
            dumper = self.function(items["$ref"], scope)
            if dumper is not None:
                rest = {k: v for k, v in sub.items() if k != "items"}
                y = state.var("y")
                dumped = [
                    *self._items_dumped(x, y, dumper, state),
                    f"{x} = {y}",
                    f"out[{key}] = {x}",
                    # a fresh list: the array's own keywords (its type known)
                    *emitter.schema(rest, At(x, (), frozenset((ARRAY,)), f"{key}/dump", 3)),
                ]
                return [f"if {x}.__class__ is list or {x}.__class__ is tuple:", *indent(dumped),
                        "else:", *indent(self._generic(sub, x, key, emitter, plain))]
        if self._scalar_items(sub):
            # The items' checks pass only for str/int/bool instances (subclasses included),
            # which to_jsonable() keeps as they are: its list is a copy
            copied = [f"{x} = list({x})", f"out[{key}] = {x}",
                      *emitter.schema(sub, At(x, (), frozenset((ARRAY,)), f"{key}/dump", 3))]
            return [f"if {x}.__class__ is list or {x}.__class__ is tuple:", *indent(copied),
                    "else:", *indent(self._generic(sub, x, key, emitter, plain))]
        return self._generic(sub, x, key, emitter, plain)

    def _scalar_items(self, sub: Any) -> bool:
        if not isinstance(sub, dict):  # OAS 3.1's true/false schemas
            return False
        items = sub.get("items")
        return (sub.get("type") == "array" and isinstance(items, dict)
                and items.get("type") in ("string", "integer", "boolean")
                and items.get("format") != "binary")  # OAS 3.0's binary: bytes pass

    def _generic(self, sub: Any, x: str, key: str, emitter: Any, plain: str) -> Lines:
        """to_jsonable() where the value is not plain JSON already, then the statements the
        check runs on this property."""
        lines = [*block(f"if {x}.__class__ not in {plain}:",
                        [f"{x} = _to_jsonable({x})", f"out[{key}] = {x}"]),
                 *emitter.schema(sub, At(x, (), ALL_KINDS, f"{key}/dump", 3))]
        if not _bare_date_time(sub):
            return lines
        # A datetime, written as to_jsonable() writes it (isoformat, "Z" when naive): that
        # text is an RFC 3339 date-time unless its offset has seconds (isoformat's
        # "+HH:MM:SS", 25 or 32 characters otherwise), so the format's check is not run on it
        refused = self.gen.consts.add("((), 'refused')", "REFUSED")
        written = [*block(f"if {x}.tzinfo is None:", [f"{x} = {x}.isoformat() + 'Z'"]),
                   "else:", *indent([f"{x} = {x}.isoformat()", *block(
                       f"if len({x}) != 25 and len({x}) != 32:", [f"return {refused}"])]),
                   f"out[{key}] = {x}"]
        return [f"if {x}.__class__ is _DATETIME:", *indent(written), "else:", *indent(lines)]


def flagged(gen: ModuleGenerator, scope: Scope, shape: Shape, flag: str) -> bool:
    """Whether a property of the shape is readOnly/writeOnly (through $ref and allOf)."""
    from .emitter import SchemaEmitter

    emitter = SchemaEmitter(gen, scope, FunctionState())
    return any(emitter._flagged(sub, flag, 0) for sub in shape[0].values())


def keyword_free(schema: Dict[str, Any], allowed: Any) -> bool:
    """Whether the schema has no keyword but `allowed` ones, annotations and x- extensions."""
    return all(k in allowed or k in _ANNOTATIONS or k.startswith("x-") for k in schema)


def _plain_array(schema: Dict[str, Any]) -> bool:
    """An array schema whose own keywords hold for a fresh list of the dumped items: no
    uniqueness (it compares the items), nothing but sizes and annotations."""
    return schema.get("type") == "array" and keyword_free(
        schema, ("type", "items", "minItems", "maxItems"))


def _bare_date_time(sub: Any) -> bool:
    """A string of format date-time and nothing else to check (annotations aside)."""
    return (isinstance(sub, dict) and sub.get("type") == "string"
            and sub.get("format") == "date-time"
            and keyword_free(sub, ("type", "format", "nullable")))
