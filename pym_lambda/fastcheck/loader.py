"""Body loaders: one generated function per request body schema that checks the parsed JSON
AND builds its model objects, in one walk.

The two-pass path checks the body (`check_<id>`), then walks it again to build the model
objects (runtime/models.py, ModelFactory.converter). A loader does both per object: it makes
the model object, copies the body's dict into its attributes, runs on each declared property
the statements the check runs (SchemaEmitter's) and converts what the converter converts
(nested objects by their own loader, lists of them, date-time and date strings).

A loader returns the model object, or a tuple when anything is wrong or not known to it (a
problem, an undeclared key, a value that is not a dict, a date-time Python cannot read, a
class with reserved names). The runtime (runtime/body.py) then takes the two-pass path,
which words the error and lists every problem exactly as before: a loader never words an
error itself, so errors are unchanged by construction.

Covered: a `$ref` to a named object schema of the dumpers' shape (`properties`, `required`,
`allOf`, annotations; fastcheck/dumper.py) whose every property is a `$ref` to a covered
schema, an array of those, or a schema the converter leaves as it is or only parses
(date-time, date). OAS 3.0 request schemas with read-only properties are not covered
(`required` skips them there). Anything else has no `load_<id>`: the two passes serve it.

A loader is called as `load_<id>(value, M)`: M maps a schema's name to its model class of the
API being served (ModelFactory.loader_classes; None for a class the loader cannot build as
the converter does). The runtime puts `_LOAD_DT`, `_LOAD_DATE` (a parsed value, or None)
and `_SET_EXTRA` in the generated module's namespace (models.DUMP_HELPERS).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional, Tuple

from .base import ALL_KINDS, ARRAY, At
from .dumper import NamedFunctions, Shape, _bare_date_time, flagged, keyword_free
from .support import DEFINITIONS_REF, REQUEST, Unsupported, resolve_ref
from .writer import FunctionState, Lines, block, identifier, indent, literal

if TYPE_CHECKING:
    from .generator import Scope

# An array property's own keywords a loader checks on the body's list before loading items.
_ARRAY_OWN = frozenset(("type", "items", "minItems", "maxItems", "uniqueItems"))
# What the converter parses: format -> the helper the runtime gives the loader.
_PARSED = {"date-time": "_LOAD_DT", "date": "_LOAD_DATE"}


class Loaders(NamedFunctions):
    """The loader functions of one generated module (ModuleGenerator holds one)."""

    def entry_source(self, name: str, schema: Any, scope: Scope) -> Optional[Lines]:
        """`load_<id> = <the named schema's loader>` for a body entry, None when the entry is
        not a `$ref` to a covered schema."""
        if scope.rules.context != REQUEST or not isinstance(schema, dict) \
                or list(schema) != ["$ref"]:
            return None
        loader = self.function(schema["$ref"], scope)
        return None if loader is None else [f"{name} = {loader}"]

    def function(self, ref: Any, scope: Scope) -> Optional[str]:
        """The loader's name for a named schema, None when its shape is not covered."""
        key = (scope.key, ref)
        if key in self.names:
            return self.names[key]
        saved = self.saved()
        name = self._covered(ref, scope)
        if name is None:  # and none of the loaders made meanwhile, which may call it
            self.restore(saved)
            self.names[key] = None
        return name

    def _covered(self, ref: Any, scope: Scope) -> Optional[str]:
        # The model class is found by the name ModelFactory gives it: the ref's plain tail.
        if not isinstance(ref, str) or any(c in ref[len(DEFINITIONS_REF):] for c in "~/%"):
            return None
        try:
            target = resolve_ref(ref, scope.definitions, ref)
        except Unsupported:
            return None
        shape = self.gen.dumpers._shape(target, scope, 0)
        if shape is None or not shape[0]:  # no property: a free-form object (kept as data)
            return None
        if scope.rules.read_only_fails and flagged(self.gen, scope, shape, "readOnly"):
            return None
        name = self.gen._name(f"_load_{identifier(ref[len(DEFINITIONS_REF):])}_"
                              f"{scope.rules.dialect}")
        self.names[(scope.key, ref)] = name  # a recursive schema's properties find it
        if any(self._kind(sub, scope) is None for sub in shape[0].values()):
            return None
        self.pending.append((name, ref, shape, scope))
        return name

    # -- what a property needs ------------------------------------------------------------------
    def _kind(self, sub: Any, scope: Scope) -> Optional[Tuple[str, Any]]:
        """How a property is loaded: ("ref", loader), ("array", loader), ("parse", helper),
        ("kept", None); None when not covered."""
        if isinstance(sub, dict) and list(sub) == ["$ref"]:
            loader = self.function(sub["$ref"], scope)
            return None if loader is None else ("ref", loader)
        if not isinstance(sub, dict):
            return ("kept", None)  # OAS 3.1's true/false: the converter leaves the value
        items = sub.get("items")
        if sub.get("type") == "array" and isinstance(items, dict) and list(items) == ["$ref"] \
                and keyword_free(sub, _ARRAY_OWN):
            loader = self.function(items["$ref"], scope)
            return None if loader is None else ("array", loader)
        if keeps(sub):
            return ("kept", None)
        fmt = sub.get("format")
        if sub.get("type") == "string" and fmt in _PARSED and "$ref" not in sub:
            return ("parse", _PARSED[fmt])
        return None

    # -- the generated function -----------------------------------------------------------------
    def _source(self, name: str, ref: str, shape: Shape, scope: Scope) -> Lines:
        from .emitter import SchemaEmitter

        consts = self.gen.consts
        props, required = shape
        known = consts.add(f"frozenset({literal(list(props))})", "PROPS")
        model = consts.add(literal(ref[len(DEFINITIONS_REF):]), "MODEL")
        miss = consts.add("object()", "MISS")
        refused = consts.add("((), 'refused')", "REFUSED")
        state = FunctionState()
        emitter = SchemaEmitter(self.gen, scope, state)
        lines: Lines = [
            f"if v.__class__ is not dict or not {known}.issuperset(v):",
            f"    return {refused}",
            f"c = M[{model}]",
            "if c is None:",
            f"    return {refused}",
            "o = c.__new__(c)",
            "_SET_EXTRA(o, None)",
            "d = o.__dict__",
            "d.update(v)",  # the body's order, as the converter keeps it
        ]
        for prop, sub in props.items():
            x = state.var("x")
            key = repr(prop)
            kind = self._kind(sub, scope)
            assert kind is not None  # _covered() looked at every property
            load = self._property(kind, sub, x, key, emitter, state, refused)
            lines.append(f"{x} = v.get({key}, {miss})")
            if prop in required:
                lines += block(f"if {x} is {miss}:", [f"return {refused}"]) + load
            else:
                lines += block(f"if {x} is not {miss}:", load or ["pass"])
        return [f"def {name}(v, M):", *indent(lines), "    return o"]

    def _property(self, kind: Tuple[str, Any], sub: Any, x: str, key: str, emitter: Any,
                  state: FunctionState, refused: str) -> Lines:
        how, helper = kind
        if how == "ref":
            return [f"{x} = {helper}({x}, M)",
                    *block(f"if {x}.__class__ is tuple:", [f"return {x}"]),
                    f"d[{key}] = {x}"]
        if how == "array":
            rest = {k: v for k, v in sub.items() if k != "items"}
            y, z = state.var("y"), state.var("z")
            return [
                *block(f"if {x}.__class__ is not list:", [f"return {refused}"]),
                # the list's own keywords (uniqueItems too) on the body's items, as the check
                *emitter.schema(rest, At(x, (), frozenset((ARRAY,)), f"{key}/load", 3)),
                f"{y} = []",
                *block(f"for {z} in {x}:", [
                    f"{z} = {helper}({z}, M)",
                    *block(f"if {z}.__class__ is tuple:", [f"return {z}"]),
                    f"{y}.append({z})"]),
                f"d[{key}] = {y}"]
        checked: Lines = emitter.schema(sub, At(x, (), ALL_KINDS, f"{key}/load", 3))
        if how == "kept":
            return checked
        parsed = [*checked, *block(f"if {x}.__class__ is str:", [
            f"{x} = {helper}({x})",
            *block(f"if {x} is None:", [f"return {refused}"]),  # two passes word it
            f"d[{key}] = {x}"])]
        if not (helper == "_LOAD_DT" and _bare_date_time(sub)):
            return parsed
        # The common date-time text: parsed, its check implied (models._common_date_time)
        y = state.var("y")
        return [f"{y} = _LOAD_DT_COMMON({x}) if {x}.__class__ is str else None",
                f"if {y} is None:", *indent(parsed), "else:", f"    d[{key}] = {y}"]


def keeps(sub: Any) -> bool:
    """Whether ModelFactory.converter leaves a value of this schema as it is (its rules,
    mirrored: a $ref or an object schema becomes a model, a date-time or date is parsed)."""
    if not isinstance(sub, dict):
        return True
    if isinstance(sub.get("$ref"), str):
        return False
    types = sub.get("type")
    if types == "array" or (types is None and "items" in sub):
        return keeps(sub.get("items") or {})
    if types == "object" or "properties" in sub or "allOf" in sub:
        return False
    return sub.get("format") not in ("date-time", "date")

