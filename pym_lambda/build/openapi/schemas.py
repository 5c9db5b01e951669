"""Schemas of every dialect brought to one form.

Named schemas (Swagger 2 `definitions`, OpenAPI 3 `components/schemas`) are kept by name and
every `$ref` to them becomes `#/definitions/<Name>`; any other local `$ref` is inlined. Swagger 2
`x-nullable` becomes OpenAPI 3.0 `nullable`. The result validates with openapi-schema-validator's
OAS 3.0 validator (Swagger 2 and OpenAPI 3.0) or its OAS 3.1 validator.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from ...errors import PymLambdaError
from .loader import (
    OAS31,
    SWAGGER2,
    RawSpec,
    escape_pointer_token,
    is_local_ref,
    pointer_tokens,
    resolve_pointer,
)

DEFINITIONS_REF = "#/definitions/"

# Keywords whose value is a schema, a list of schemas, or a map of schemas.
_SCHEMA_KEYS = ("additionalProperties", "items", "not", "contains", "if", "then", "else",
                "propertyNames", "unevaluatedProperties", "unevaluatedItems",
                "additionalItems", "contentSchema")
_SCHEMA_LIST_KEYS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_MAP_KEYS = ("properties", "patternProperties", "dependentSchemas", "$defs")


class RefError(PymLambdaError):
    """A `$ref` that cannot be followed; the compiler adds the spec, path and operation."""


def definitions_pointer(spec: RawSpec) -> Tuple[str, ...]:
    if spec.dialect == SWAGGER2:
        return ("definitions",)
    return ("components", "schemas")


class SchemaNormalizer:
    """Normalises the schemas of one spec, remembering which named schemas were used."""

    def __init__(self, spec: RawSpec) -> None:
        self.spec = spec
        self.prefix = definitions_pointer(spec)
        node: Any = spec.doc
        for key in self.prefix:
            node = node.get(key) if isinstance(node, dict) else None
        self.named: Dict[str, Any] = node if isinstance(node, dict) else {}

    def definitions(self) -> Dict[str, Any]:
        """Every named schema, normalised (refs between them kept as refs)."""
        result = {}
        for name, schema in self.named.items():
            try:
                result[name] = self.normalize(schema)
            except RefError as exc:
                raise RefError(f"schema {name!r}: {exc}") from None
        return result

    def _named_ref(self, ref: str) -> Optional[str]:
        tokens = pointer_tokens(ref)
        if tuple(tokens[:len(self.prefix)]) == self.prefix and len(tokens) > len(self.prefix):
            rest = tokens[len(self.prefix):]
            return DEFINITIONS_REF + "/".join(escape_pointer_token(t) for t in rest)
        return None

    def follow(self, ref: Any, seen: Tuple[str, ...] = ()) -> Any:
        """Resolve a local ref (of a parameter, response, request body...) to its target."""
        if not is_local_ref(ref):
            raise RefError(f"$ref {ref!r}: only local references ('#/...') are supported")
        if ref in seen:
            raise RefError(f"$ref {ref!r} refers to itself")
        try:
            target = resolve_pointer(self.spec.doc, ref)
        except KeyError:
            raise RefError(f"$ref {ref!r} points to nothing") from None
        if isinstance(target, dict) and "$ref" in target:
            return self.follow(target["$ref"], seen + (ref,))
        return target

    def normalize(self, schema: Any, seen: Tuple[str, ...] = ()) -> Any:
        if not isinstance(schema, dict):
            return schema  # booleans (OAS 3.1) and junk: the meta-schema check reports junk
        if "$ref" in schema:
            ref = schema["$ref"]
            if not is_local_ref(ref):
                raise RefError(f"$ref {ref!r}: only local references ('#/...') are supported")
            try:
                target = resolve_pointer(self.spec.doc, ref)
            except KeyError:
                raise RefError(f"$ref {ref!r} points to nothing") from None
            named = self._named_ref(ref)
            if named is not None:
                out = {k: self.normalize_value(k, v, seen) for k, v in schema.items()}
                out["$ref"] = named
                return out
            if ref in seen:
                raise RefError(f"$ref {ref!r} is recursive outside of the named schemas")
            return self.normalize(target, seen + (ref,))
        return {k: self.normalize_value(k, v, seen) for k, v in self._dialect_fixes(schema).items()}

    def normalize_value(self, key: str, value: Any, seen: Tuple[str, ...]) -> Any:
        if key == "$ref":
            return value
        if key in _SCHEMA_KEYS and isinstance(value, dict):
            return self.normalize(value, seen)
        if key in _SCHEMA_LIST_KEYS and isinstance(value, list):
            return [self.normalize(v, seen) for v in value]
        if key == "items" and isinstance(value, list):
            return [self.normalize(v, seen) for v in value]
        if key in _SCHEMA_MAP_KEYS and isinstance(value, dict):
            return {k: self.normalize(v, seen) for k, v in value.items()}
        return value

    def _dialect_fixes(self, schema: Dict[str, Any]) -> Dict[str, Any]:
        if self.spec.dialect != SWAGGER2:
            return schema
        if "x-nullable" in schema:
            schema = dict(schema)
            schema["nullable"] = bool(schema.pop("x-nullable"))
        if schema.get("type") == "file":
            schema = dict(schema, type="string", format="binary")
        return schema


def validator_class_name(dialect: str) -> str:
    return "oas31" if dialect == OAS31 else "oas30"
