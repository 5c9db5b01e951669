"""What the generator mirrors, per dialect and context, and what it refuses.

The reference is openapi-schema-validator: OAS30WriteValidator for requests and
OAS30ReadValidator for responses (dialect "oas30": draft 4 plus `nullable`, readOnly/writeOnly),
OAS31Validator for both (dialect "oas31": draft 2020-12). A keyword the reference evaluates but
the generator does not mirror raises Unsupported, so the caller keeps the reference validator
for that schema; keywords the reference ignores are ignored here too.
"""
from __future__ import annotations

import re
from typing import Any, Dict, FrozenSet, NamedTuple, Optional

from .helpers import PatternError, _re2_compile

OAS30 = "oas30"
OAS31 = "oas31"
REQUEST = "request"
RESPONSE = "response"
DEFINITIONS_REF = "#/definitions/"


class Unsupported(Exception):
    """The schema needs something the generator does not mirror: use the reference validator."""


# Keywords each reference class evaluates (its VALIDATORS); all others are annotations to it.
OAS30_KEYWORDS = frozenset((
    "$ref", "additionalProperties", "allOf", "anyOf", "deprecated", "discriminator", "enum",
    "example", "externalDocs", "format", "items", "maxItems", "maxLength", "maxProperties",
    "maximum", "minItems", "minLength", "minProperties", "minimum", "multipleOf", "not", "oneOf",
    "pattern", "properties", "readOnly", "required", "type", "uniqueItems", "writeOnly", "xml"))
OAS31_KEYWORDS = frozenset((
    "$dynamicRef", "$ref", "additionalProperties", "allOf", "anyOf", "const", "contains",
    "dependentRequired", "dependentSchemas", "description", "discriminator", "enum", "example",
    "exclusiveMaximum", "exclusiveMinimum", "externalDocs", "format", "if", "items", "maxItems",
    "maxLength", "maxProperties", "maximum", "minItems", "minLength", "minProperties", "minimum",
    "multipleOf", "not", "oneOf", "pattern", "patternProperties", "prefixItems", "properties",
    "propertyNames", "required", "type", "unevaluatedItems", "unevaluatedProperties",
    "uniqueItems", "xml"))
# Evaluated by the reference, not mirrored here.
REFUSED = {
    OAS30: frozenset(),
    OAS31: frozenset(("$dynamicRef", "unevaluatedItems", "unevaluatedProperties")),
}
# They change how `$ref` resolves (or which validator class runs): never mirrored.
RESOLUTION_KEYWORDS = frozenset(("$id", "$schema", "$anchor", "$dynamicAnchor",
                                 "$recursiveAnchor", "$recursiveRef"))
OAS30_TYPES = frozenset(("string", "number", "integer", "boolean", "array", "object"))
OAS31_TYPES = OAS30_TYPES | {"null"}

# Formats checked: name -> its check in formats.py (None: every value is one). Every format
# OpenAPI names or uses, checked whatever is installed; any other format is ignored. OpenAPI
# 3.0's 'byte' and 'binary' are not 3.1's (3.1 describes such strings with contentEncoding).
_CHECKED_FORMATS = (
    "date", "date-time", "time", "duration", "email", "idn-email", "hostname", "idn-hostname",
    "ipv4", "ipv6", "uri", "uri-reference", "iri", "iri-reference", "uri-template",
    "json-pointer", "relative-json-pointer", "uuid", "regex", "int32", "int64")
_COMMON_FORMATS: Dict[str, Optional[str]] = dict(
    {name: "_fmt_" + name.replace("-", "_") for name in _CHECKED_FORMATS},
    float=None, double=None, password=None)
FORMATS: Dict[str, Dict[str, Optional[str]]] = {
    OAS30: dict(_COMMON_FORMATS, binary=None, byte="_fmt_byte"),
    OAS31: dict(_COMMON_FORMATS),
}


class Rules(NamedTuple):
    """How one reference validator class behaves."""

    dialect: str
    context: str

    @property
    def oas30(self) -> bool:
        return self.dialect == OAS30

    @property
    def keywords(self) -> FrozenSet[str]:
        return OAS30_KEYWORDS if self.oas30 else OAS31_KEYWORDS

    @property
    def read_only_fails(self) -> bool:  # OAS30WriteValidator: readOnly values are not sent
        return self.oas30 and self.context == REQUEST

    @property
    def write_only_fails(self) -> bool:  # OAS30ReadValidator: writeOnly values not returned
        return self.oas30 and self.context == RESPONSE

    def format_helper(self, name: Any, where: str) -> Optional[str]:
        if not isinstance(name, str):
            raise Unsupported(f"{where}: format {name!r} is not a string")
        return FORMATS[self.dialect].get(name)


def rules_for(dialect: str, context: str) -> Rules:
    if dialect not in (OAS30, OAS31):
        raise Unsupported(f"dialect {dialect!r} (expected {OAS30!r} or {OAS31!r})")
    if context not in (REQUEST, RESPONSE):
        raise Unsupported(f"context {context!r} (expected {REQUEST!r} or {RESPONSE!r})")
    return Rules(dialect, context)


def check_keywords(schema: Dict[str, Any], rules: Rules, where: str) -> None:
    """Refuse the keywords of one schema object that are evaluated but not mirrored."""
    for key in schema:
        if key in RESOLUTION_KEYWORDS or (rules.oas30 and key == "id"
                                          and isinstance(schema[key], str)):
            raise Unsupported(f"{where}: {key!r} changes reference resolution")
        if key in REFUSED[rules.dialect]:
            raise Unsupported(f"{where}: {key!r} is not supported by the fast checker")


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def need(condition: bool, where: str, what: str) -> None:
    if not condition:
        raise Unsupported(f"{where}: {what}")


def compile_pattern(pattern: Any, where: str) -> None:
    """Refuse, as PatternError (not Unsupported: the reference runs patterns on RE2 too), a
    pattern RE2 cannot run. The compiler refuses those first, naming the spec file."""
    need(isinstance(pattern, str), where, f"pattern {pattern!r} is not a string")
    try:
        _re2_compile(pattern)
    except PatternError as exc:
        raise PatternError(f"{where}: {exc}") from None


# referencing percent-decodes and URI-joins refs: only plain names are resolved the same here
_SAFE_REF = re.compile(r"#/definitions(/[A-Za-z0-9_.~$-]+)+\Z")


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def resolve_ref(ref: Any, definitions: Dict[str, Any], where: str) -> Any:
    """The schema a `#/definitions/...` ref points to (the only refs schemas.py leaves)."""
    if not isinstance(ref, str) or not _SAFE_REF.match(ref):
        raise Unsupported(f"{where}: $ref {ref!r} is not '#/definitions/<name>'")
    node: Any = definitions
    for token in ref[len(DEFINITIONS_REF):].split("/"):
        token = _unescape(token)
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise Unsupported(f"{where}: $ref {ref!r} points to nothing")
    return node
