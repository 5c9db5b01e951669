"""Keywords on arrays and objects (jsonschema._keywords; openapi_schema_validator._keywords)."""
from __future__ import annotations

from typing import Any, Dict, List

from .base import ARRAY, OBJECT, At, EmitterBase
from .support import compile_pattern, is_number, need
from .writer import Lines, block, fail, literal, repr_message


class ContainerKeywords(EmitterBase):
    # -- arrays ----------------------------------------------------------------------------------
    def arrays(self, schema: Dict[str, Any], at: At) -> Lines:
        return self.guard(at, frozenset((ARRAY,)), f"isinstance({at.var}, list)",
                          lambda a: self._array_keywords(schema, a))

    def _size(self, at: At, schema: Dict[str, Any], key: str, op: str,
              texts: Dict[Any, str], default: str) -> Lines:
        size = schema[key]
        need(is_number(size), at.where, f"{key} {size!r}")
        text = next((t for value, t in texts.items() if size == value), default)
        return block(f"if len({at.var}) {op} {literal(size)}:",
                     [fail(at.path, repr_message(at.var, text))])

    def _array_keywords(self, schema: Dict[str, Any], at: At) -> Lines:
        v = at.var
        lines: Lines = []
        if "minItems" in schema:
            lines += self._size(at, schema, "minItems", "<", {1: " should be non-empty"},
                                " is too short")
        if "maxItems" in schema:
            lines += self._size(at, schema, "maxItems", ">", {0: " is expected to be empty"},
                                " is too long")
        unique = bool(schema.get("uniqueItems"))
        not_unique = [fail(at.path, repr_message(v, " has non-unique elements"))]
        hashed_alike = unique and self._scalar_items(schema)
        if unique and not hashed_alike:
            lines += block(f"if not _uniq({v}):", not_unique)
        prefix = 0
        if self.has(schema, "prefixItems"):
            items = schema["prefixItems"]
            need(isinstance(items, list), at.where, "prefixItems is not a list")
            prefix = len(items)
            for index, sub in enumerate(items):
                x = self.state.var("x")
                body = self.descend(sub, at.inside(), x, str(index), f"prefixItems/{index}")
                lines += block(f"if len({v}) > {index}:", [f"{x} = {v}[{index}]"] + body
                               if body else [])
        if self.has(schema, "items"):
            lines += self._items(schema["items"], prefix, at)
        if self.has(schema, "contains"):
            lines += self._contains(schema, at)
        if hashed_alike:  # the items passed: strings or integers, where a set is equal()'s
            lines += block(f"if len(set({v})) != len({v}):", not_unique)
        return lines

    def _scalar_items(self, schema: Dict[str, Any]) -> bool:
        items = schema.get("items")
        if "prefixItems" in schema or not isinstance(items, dict):
            return False
        if self.rules.oas30 and (items.get("nullable") is True
                                 or items.get("format") == "binary"):
            return False
        return items.get("type") in ("string", "integer")  # no NaN among them

    def _items(self, items: Any, prefix: int, at: At) -> Lines:
        v = at.var
        need(isinstance(items, dict) or (not self.rules.oas30 and isinstance(items, bool)),
             at.where, "items must be a schema")
        if items is False:
            return block(f"if len({v}) > {prefix}:",
                         [fail(at.path, f"_too_many_items({v}, {prefix})")])
        i, x = self.state.var("i"), self.state.var("x")
        body = self.descend(items, at.inside(loops=1), x, i, "items")
        if not body:
            return []
        if prefix:
            return block(f"for {i} in range({prefix}, len({v})):", [f"{x} = {v}[{i}]"] + body)
        return block(f"for {i}, {x} in enumerate({v}):", body)

    def _contains(self, schema: Dict[str, Any], at: At) -> Lines:
        low, high = schema.get("minContains", 1), schema.get("maxContains")
        need(is_number(low) and (high is None or is_number(high)), at.where,
             "minContains/maxContains must be numbers")
        check = self.function_for(schema["contains"], at, "contains") or "_valid"
        m = self.state.var("m")
        return [f"{m} = _contains({at.var}, {check}, {literal(low)}, {literal(high)})",
                *block(f"if {m} is not None:", [fail(at.path, m)])]

    # -- objects ---------------------------------------------------------------------------------
    def objects(self, schema: Dict[str, Any], at: At) -> Lines:
        return self.guard(at, frozenset((OBJECT,)), f"isinstance({at.var}, dict)",
                          lambda a: self._object_keywords(schema, a))

    def _required(self, schema: Dict[str, Any], at: At) -> List[str]:
        names = schema["required"]
        need(isinstance(names, list) and all(isinstance(n, str) for n in names), at.where,
             "required must be a list of names")
        skipped = self.one_way(schema)  # OAS 3.0: required applies in one direction only
        return [name for name in names if name not in skipped]

    def _object_keywords(self, schema: Dict[str, Any], at: At) -> Lines:
        v = at.var
        lines: Lines = []
        present = self._required(schema, at) if self.has(schema, "required") else []
        for name in present:
            lines += block(f"if {name!r} not in {v}:",
                           [fail(at.path, repr(f"{name!r} is a required property"))])
        if "minProperties" in schema:
            lines += self._size(at, schema, "minProperties", "<", {1: " should be non-empty"},
                                " does not have enough properties")
        if "maxProperties" in schema:
            lines += self._size(at, schema, "maxProperties", ">",
                                {0: " is expected to be empty"}, " has too many properties")
        if self.has(schema, "dependentRequired"):
            lines += self._dependent_required(schema["dependentRequired"], at)
        props = schema.get("properties", {})
        need(isinstance(props, dict), at.where, "properties must be a mapping")
        if self.has(schema, "additionalProperties"):
            lines += self._additional(schema, props, at)
        if self.has(schema, "properties"):
            for name, sub in props.items():
                x = self.state.var("x")
                if name in present:  # checked above: no need to test again
                    body = self.descend(sub, at, x, repr(name), f"properties/{name}")
                    lines += [f"{x} = {v}[{name!r}]", *body] if body else []
                    continue
                body = self.descend(sub, at.inside(), x, repr(name), f"properties/{name}")
                lines += block(f"if {name!r} in {v}:", [f"{x} = {v}[{name!r}]"] + body
                               if body else [])
        if self.has(schema, "patternProperties"):
            for pattern, sub in self._patterns(schema, at).items():
                k, x = self.state.var("k"), self.state.var("x")
                body = self.descend(sub, at.inside(2, loops=1), x, k,
                                    f"patternProperties/{pattern}")
                regex = self.consts.pattern(pattern)
                lines += block(f"for {k}, {x} in {v}.items():",
                               block(f"if {regex}.found({k}):", body))
        if self.has(schema, "propertyNames"):
            k = self.state.var("k")
            body = self.descend(schema["propertyNames"], at.inside(loops=1), k, None,
                                "propertyNames")
            lines += block(f"for {k} in {v}:", body)
        return lines

    def _dependent_required(self, dependencies: Any, at: At) -> Lines:
        need(isinstance(dependencies, dict), at.where, "dependentRequired must be a mapping")
        lines: Lines = []
        for name, others in dependencies.items():
            need(isinstance(others, list), at.where, "dependentRequired values must be lists")
            checks: Lines = []
            for other in others:
                text = f"{other!r} is a dependency of {name!r}"
                checks += block(f"if {other!r} not in {at.var}:", [fail(at.path, repr(text))])
            lines += block(f"if {name!r} in {at.var}:", checks)
        return lines

    def _patterns(self, schema: Dict[str, Any], at: At) -> Dict[str, Any]:
        patterns: Dict[str, Any] = schema.get("patternProperties", {})
        need(isinstance(patterns, dict), at.where, "patternProperties must be a mapping")
        for pattern in patterns:
            compile_pattern(pattern, at.where)
        return patterns

    def _additional(self, schema: Dict[str, Any], props: Dict[str, Any], at: At) -> Lines:
        extra = schema["additionalProperties"]
        need(isinstance(extra, (bool, dict)), at.where, "additionalProperties must be a schema")
        if extra is True:
            return []
        v = at.var
        known = self.consts.add(f"frozenset({literal(list(props))})", "PROPS")
        # find_additional_properties: one search of the patterns joined with '|'
        joined = "|".join(self._patterns(schema, at))
        if joined:
            compile_pattern(joined, at.where)
        regex = self.consts.pattern(joined) if joined else "None"
        k = self.state.var("k")
        is_extra = f"{k} not in {known}" + (f" and not {regex}.found({k})" if joined else "")
        if extra is False:
            if self.rules.oas30:
                message = f"_extras30({v}, {known}, {regex})"
            else:
                reprs = None
                if "patternProperties" in schema:
                    reprs = ", ".join(repr(p) for p in sorted(schema["patternProperties"]))
                message = f"_extras31({v}, {known}, {regex}, {literal(reprs)})"
            if not joined:
                return block(f"if not {known}.issuperset({v}):", [fail(at.path, message)])
            return block(f"for {k} in {v}:", block(f"if {is_extra}:", [fail(at.path, message)]))
        x = self.state.var("x")
        body = self.descend(extra, at.inside(2, loops=1), x, k, "additionalProperties")
        return block(f"for {k}, {x} in {v}.items():", block(f"if {is_extra}:", body))
