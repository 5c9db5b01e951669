"""Schemas of every dialect brought to one form.

Named schemas (Swagger 2 `definitions`, OpenAPI 3 `components/schemas`) are kept by name and
every `$ref` to them becomes `#/definitions/<Name>`, a `$ref` into one of them (its nested
`definitions`, `$defs`, properties...) `#/definitions/<Name>/<rest>`; any other local `$ref` is
inlined. A discriminator's `mapping` values are rewritten the same way. Swagger 2 `x-nullable`
becomes OpenAPI 3.0 `nullable`. A `$ref` leading nowhere is a RefError (a load error naming the
spec file), never a failure at the first request. The result validates with
openapi-schema-validator's OAS 3.0 validator (Swagger 2 and OpenAPI 3.0) or its OAS 3.1 one.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

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
# `definitions` is no keyword of OpenAPI's Schema Object, but schemas written for JSON Schema
# keep their subschemas there and `$ref` into them (draft 4's convention, as `$defs` is 2020-12's)
_SCHEMA_MAP_KEYS = ("properties", "patternProperties", "dependentSchemas", "$defs", "definitions")


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
        """`#/definitions/<Name>[/<rest>]` when the ref points into a named schema along
        keywords the normalised form keeps as they are, else None (the target is inlined)."""
        tokens = pointer_tokens(ref)
        if tuple(tokens[:len(self.prefix)]) != self.prefix or len(tokens) <= len(self.prefix):
            return None
        rest = tokens[len(self.prefix):]
        if len(rest) > 1 and not self._kept_path(rest):
            return None
        return DEFINITIONS_REF + "/".join(escape_pointer_token(t) for t in rest)

    def _kept_path(self, rest: List[str]) -> bool:
        """The pointer walks only through subschema positions normalize() rewrites in place
        (never through another `$ref`, which it may inline): the same pointer then leads to
        the normalised target inside the normalised named schema."""
        node: Any = self.named.get(rest[0])
        i = 1
        while i < len(rest):
            if not isinstance(node, dict) or "$ref" in node:
                return False
            key = rest[i]
            value = node.get(key)
            if key in _SCHEMA_KEYS and isinstance(value, dict):
                node, i = value, i + 1
            elif (key in _SCHEMA_LIST_KEYS or key == "items") and isinstance(value, list) \
                    and i + 1 < len(rest) and rest[i + 1].isdigit() \
                    and int(rest[i + 1]) < len(value):
                node, i = value[int(rest[i + 1])], i + 2
            elif key in _SCHEMA_MAP_KEYS and isinstance(value, dict) and i + 1 < len(rest) \
                    and rest[i + 1] in value:
                node, i = value[rest[i + 1]], i + 2
            else:
                return False
        return True

    def _mapping(self, discriminator: Any) -> Any:
        """The discriminator with its mapping's refs rewritten (bare schema names stay)."""
        mapping = discriminator.get("mapping") if isinstance(discriminator, dict) else None
        if not isinstance(mapping, dict):
            return discriminator
        out = {}
        for value, target in mapping.items():
            if isinstance(target, str) and target.startswith("#"):
                self._resolve(target)
                named = self._named_ref(target)
                if named is None:
                    raise RefError(f"discriminator mapping {value!r}: {target!r} is not a "
                                   f"named schema ({'/'.join(('#',) + self.prefix)}/<Name>)")
                target = named
            elif isinstance(target, str) and target not in self.named:
                raise RefError(f"discriminator mapping {value!r}: {target!r} is not a local "
                               f"reference or the name of a schema")
            out[value] = target
        return dict(discriminator, mapping=out)

    def _resolve(self, ref: Any) -> Any:
        if not is_local_ref(ref):
            raise RefError(f"$ref {ref!r}: only local references ('#/...') are supported")
        try:
            return resolve_pointer(self.spec.doc, ref)
        except KeyError:
            raise RefError(f"$ref {ref!r} points to nothing") from None

    def follow(self, ref: Any, seen: Tuple[str, ...] = ()) -> Any:
        """Resolve a local ref (of a parameter, response, request body...) to its target."""
        if is_local_ref(ref) and ref in seen:
            raise RefError(f"$ref {ref!r} refers to itself")
        target = self._resolve(ref)
        if isinstance(target, dict) and "$ref" in target:
            return self.follow(target["$ref"], seen + (ref,))
        return target

    def normalize(self, schema: Any, seen: Tuple[str, ...] = ()) -> Any:
        if not isinstance(schema, dict):
            return schema  # booleans (OAS 3.1) and junk: the meta-schema check reports junk
        if "$ref" in schema:
            ref = schema["$ref"]
            target = self._resolve(ref)
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
        if key == "discriminator":
            return self._mapping(value)
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
