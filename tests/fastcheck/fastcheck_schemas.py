"""Hand-written schemas where a fast checker is most likely to differ from openapi-schema-validator.

Each case: (name, schema, definitions, dialect, contexts). Schemas are in the normalised form
of pym_lambda.build.openapi.schemas (refs are '#/definitions/<Name>', Swagger's x-nullable is
nullable).
"""
from __future__ import annotations

from typing import Any, Dict, List, Tuple

Case = Tuple[str, Any, Dict[str, Any], str, Tuple[str, ...]]
REQ = ("request",)
BOTH = ("request", "response")

TREE_DEFS: Dict[str, Any] = {
    "Tree": {"type": "object", "required": ["value"], "properties": {
        "value": {"type": "integer"},
        "children": {"type": "array", "items": {"$ref": "#/definitions/Tree"}}}},
    "Node": {"type": "object", "nullable": True, "properties": {
        "label": {"type": "string", "minLength": 1},
        "next": {"$ref": "#/definitions/Node"}}},
    "ReadOnlyId": {"type": "integer", "readOnly": True},
    "Secret": {"type": "string", "writeOnly": True},
    "Cat": {"type": "object", "required": ["meows"], "properties": {
        "meows": {"type": "boolean"}}},
    "Dog": {"type": "object", "required": ["barks"], "properties": {
        "barks": {"type": "integer", "minimum": 0}}},
}
TREE31_DEFS: Dict[str, Any] = {
    "Expr": {"oneOf": [
        {"type": "number"},
        {"type": "object", "required": ["op", "args"], "additionalProperties": False,
         "properties": {"op": {"enum": ["+", "*"]},
                        "args": {"type": "array", "minItems": 2,
                                 "items": {"$ref": "#/definitions/Expr"}}}}]},
    "Named": {"type": "object", "properties": {"name": {"type": ["string", "null"]}}},
}

_DEEP: Any = {"type": "integer"}
for _ in range(12):  # deeper than one generated function nests loops
    _DEEP = {"type": "array", "items": _DEEP}

_DEEP_OBJECT: Any = {"type": "string", "maxLength": 2}
for _ in range(45):  # deeper than one generated function indents
    _DEEP_OBJECT = {"type": "object", "properties": {"a": _DEEP_OBJECT, "b": {"enum": [1]}}}

OAS30_CASES: List[Case] = [
    ("allOf-objects", {"allOf": [
        {"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}},
        {"type": "object", "required": ["b"], "properties": {"b": {"type": "integer"}}}]},
     {}, "oas30", REQ),
    ("anyOf-string-or-big-int", {"anyOf": [{"type": "string", "maxLength": 3},
                                           {"type": "integer", "minimum": 10}]}, {}, "oas30", REQ),
    ("oneOf-overlapping", {"oneOf": [{"type": "integer"},
                                     {"type": "number", "multipleOf": 0.5}]}, {}, "oas30", REQ),
    ("oneOf-refs", {"oneOf": [{"$ref": "#/definitions/Cat"}, {"$ref": "#/definitions/Dog"}]},
     TREE_DEFS, "oas30", REQ),
    ("nullable-enum", {"type": "string", "nullable": True, "enum": ["a", "b"]}, {}, "oas30", REQ),
    ("nullable-without-type", {"nullable": True, "minLength": 2}, {}, "oas30", REQ),
    ("nullable-false", {"type": "integer", "nullable": False}, {}, "oas30", REQ),
    ("nullable-next-to-ref", {"$ref": "#/definitions/Cat", "nullable": True}, TREE_DEFS,
     "oas30", REQ),
    ("nullable-in-allOf", {"nullable": True, "allOf": [{"type": "string"}]}, {}, "oas30", REQ),
    ("enum-mixed", {"enum": [1, "1", True, None, 1.5, [1, "a"], {"a": 1}, 0]}, {}, "oas30", REQ),
    ("enum-bool-vs-int", {"type": "integer", "enum": [0, 1]}, {}, "oas30", REQ),
    ("exclusive-bounds", {"type": "number", "minimum": 0, "exclusiveMinimum": True,
                          "maximum": 10, "exclusiveMaximum": True}, {}, "oas30", REQ),
    ("inclusive-bounds-float", {"type": "number", "minimum": -1.5, "maximum": 2.25}, {},
     "oas30", REQ),
    ("exclusive-flag-without-bound", {"type": "integer", "exclusiveMinimum": True}, {},
     "oas30", REQ),
    ("multipleOf-float", {"type": "number", "multipleOf": 0.1}, {}, "oas30", REQ),
    ("multipleOf-int", {"multipleOf": 3}, {}, "oas30", REQ),
    ("multipleOf-on-integer", {"type": "integer", "multipleOf": 2.5}, {}, "oas30", REQ),
    ("uniqueItems", {"type": "array", "uniqueItems": True}, {}, "oas30", REQ),
    ("uniqueItems-nested", {"type": "array", "uniqueItems": True,
                            "items": {"type": "array", "maxItems": 2}}, {}, "oas30", REQ),
    ("additional-false", {"type": "object", "additionalProperties": False,
                          "properties": {"a": {"type": "integer"}, "b": {}}}, {}, "oas30", REQ),
    ("additional-schema", {"type": "object", "properties": {"a": {"type": "string"}},
                           "additionalProperties": {"type": "integer", "minimum": 0}}, {},
     "oas30", REQ),
    ("additional-false-with-patterns", {"type": "object", "additionalProperties": False,
                                        "patternProperties": {"^x-": {"type": "integer"}},
                                        "properties": {"id": {"type": "integer"}}}, {},
     "oas30", REQ),
    # 'ref_id' is not required: through a $ref, `required` on a read-only property is where
    # the reference is wrong (DEVIATIONS in test_differential.py; test_openapi_semantics.py)
    ("read-write-only", {"type": "object", "required": ["id", "password", "name"],
                         "properties": {"id": {"type": "integer", "readOnly": True},
                                        "password": {"type": "string", "writeOnly": True},
                                        "name": {"type": "string"},
                                        "ref_id": {"$ref": "#/definitions/ReadOnlyId"},
                                        "secret": {"$ref": "#/definitions/Secret"}}},
     TREE_DEFS, "oas30", BOTH),
    ("read-only-root", {"type": "string", "readOnly": True}, {}, "oas30", BOTH),
    ("recursive-tree", {"$ref": "#/definitions/Tree"}, TREE_DEFS, "oas30", REQ),
    ("recursive-nullable-list", {"$ref": "#/definitions/Node"}, TREE_DEFS, "oas30", REQ),
    ("ref-into-a-property", {"$ref": "#/definitions/Dog/properties/barks"}, TREE_DEFS, "oas30",
     REQ),
    ("pattern-unicode-word", {"type": "string", "pattern": "^\\w+$"}, {}, "oas30", REQ),
    ("pattern-accents", {"type": "string", "pattern": "^[à-ÿ]{1,3}$"}, {}, "oas30", REQ),
    ("pattern-unanchored", {"type": "string", "pattern": "a|é"}, {}, "oas30", REQ),
    ("length-non-bmp", {"type": "string", "minLength": 2, "maxLength": 3}, {}, "oas30", REQ),
    ("length-one-and-zero", {"properties": {"a": {"type": "string", "minLength": 1},
                                            "b": {"type": "string", "maxLength": 0}}}, {},
     "oas30", REQ),
    ("not-string", {"not": {"type": "string"}}, {}, "oas30", REQ),
    ("not-enum", {"not": {"enum": [1, 2]}}, {}, "oas30", REQ),
    ("untyped-keywords", {"minimum": 5, "minLength": 2, "minItems": 1, "required": ["a"],
                          "maxProperties": 2}, {}, "oas30", REQ),
    ("integer-vs-float-30", {"type": "integer"}, {}, "oas30", REQ),
    ("boolean-int32", {"type": "boolean", "format": "int32"}, {}, "oas30", REQ),
    ("items-sizes", {"type": "array", "minItems": 1, "maxItems": 3,
                     "items": {"type": "array", "maxItems": 0}}, {}, "oas30", REQ),
    ("properties-count", {"type": "object", "minProperties": 1, "maxProperties": 2}, {},
     "oas30", REQ),
    ("deeply-nested-arrays", _DEEP, {}, "oas30", REQ),
    ("deeply-nested-objects", _DEEP_OBJECT, {}, "oas30", REQ),
    ("discriminator-alone", {"type": "object", "discriminator": {"propertyName": "kind"},
                             "properties": {"kind": {"type": "string"}}}, {}, "oas30", REQ),
    ("ignored-31-keywords", {"const": 1, "contains": {"type": "string"}, "prefixItems": [],
                             "exclusiveMinimum": 5, "propertyNames": {"maxLength": 1}}, {},
     "oas30", REQ),
    ("empty-anyOf", {"anyOf": []}, {}, "oas30", REQ),
]

_FORMATS_30 = ["date", "date-time", "time", "uuid", "email", "idn-email", "ipv4", "ipv6",
               "byte", "binary", "password", "regex", "float", "double", "unknown-format",
               "duration", "hostname", "idn-hostname", "uri", "uri-reference", "iri",
               "iri-reference", "uri-template", "json-pointer", "relative-json-pointer"]
OAS30_CASES += [(f"format-{f}", {"type": "string", "format": f}, {}, "oas30", REQ)
                for f in _FORMATS_30]
OAS30_CASES += [
    ("format-int32", {"type": "integer", "format": "int32"}, {}, "oas30", REQ),
    ("format-int64", {"type": "integer", "format": "int64"}, {}, "oas30", REQ),
    ("format-without-type", {"properties": {"d": {"format": "date"},
                                            "i": {"format": "int32"},
                                            "b": {"format": "byte"}}}, {}, "oas30", REQ),
]

OAS31_CASES: List[Case] = [
    ("type-list-null", {"type": ["string", "null"], "maxLength": 2}, {}, "oas31", REQ),
    ("type-list-mixed", {"type": ["integer", "boolean"]}, {}, "oas31", REQ),
    ("nullable-ignored-31", {"type": "string", "nullable": True}, {}, "oas31", REQ),
    ("exclusive-numbers-31", {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
     {}, "oas31", REQ),
    ("bounds-31", {"minimum": 0, "maximum": 10, "multipleOf": 0.25}, {}, "oas31", REQ),
    ("const-number", {"const": 1}, {}, "oas31", REQ),
    ("const-object", {"const": {"a": [1, True]}}, {}, "oas31", REQ),
    ("prefixItems-closed", {"type": "array", "prefixItems": [{"type": "string"},
                                                           {"type": "integer"}],
                            "items": False}, {}, "oas31", REQ),
    ("prefixItems-then-items", {"prefixItems": [{"const": "x"}], "items": {"type": "number"}},
     {}, "oas31", REQ),
    ("contains", {"type": "array", "contains": {"type": "integer", "minimum": 5}}, {},
     "oas31", REQ),
    ("contains-min-max", {"contains": {"type": "string"}, "minContains": 2, "maxContains": 3},
     {}, "oas31", REQ),
    ("contains-zero", {"contains": {"type": "string"}, "minContains": 0}, {}, "oas31", REQ),
    ("patterns-and-additional", {"type": "object", "additionalProperties": False,
                                 "patternProperties": {"^x-": {"type": "integer"},
                                                       "^y": {"type": "string"}},
                                 "properties": {"id": {"type": "integer"}}}, {},
     "oas31", REQ),
    ("empty-patterns-and-additional", {"additionalProperties": False,
                                       "patternProperties": {}}, {}, "oas31", REQ),
    ("property-names", {"type": "object", "propertyNames": {"pattern": "^[a-z]+$",
                                                            "maxLength": 3}}, {},
     "oas31", REQ),
    ("dependent-required", {"dependentRequired": {"a": ["b", "c"], "b": []}}, {},
     "oas31", REQ),
    ("boolean-subschemas", {"type": "object", "properties": {"no": False, "yes": True},
                            "additionalProperties": {"not": True}}, {}, "oas31", REQ),
    ("items-false", {"items": False}, {}, "oas31", REQ),
    ("read-only-ignored-31", {"type": "object", "required": ["id"],
                              "properties": {"id": {"type": "integer", "readOnly": True}}},
     {}, "oas31", BOTH),
    ("integer-vs-float-31", {"type": "integer", "format": "int32"}, {}, "oas31", REQ),
    ("recursive-oneOf-31", {"$ref": "#/definitions/Expr"}, TREE31_DEFS, "oas31", REQ),
    ("ref-with-siblings-31", {"$ref": "#/definitions/Named", "required": ["name"]},
     TREE31_DEFS, "oas31", REQ),
    ("format-byte-unchecked-31", {"type": "string", "format": "byte"}, {}, "oas31", REQ),
    ("format-date-time-31", {"format": "date-time"}, {}, "oas31", REQ),
    ("combinators-31", {"allOf": [{"type": ["object", "array"]}],
                        "anyOf": [{"required": ["a"]}, {"minItems": 1}],
                        "not": {"maxProperties": 0}}, {}, "oas31", REQ),
    ("enum-31", {"enum": ["a", 1, None, [1.0]]}, {}, "oas31", REQ),
    ("if-then-else", {"if": {"type": "string"}, "then": {"minLength": 2},
                      "else": {"type": "integer", "minimum": 3}}, {}, "oas31", REQ),
    ("if-then", {"if": {"required": ["a"]}, "then": {"required": ["b"]}}, {}, "oas31", REQ),
    ("if-else-only", {"if": {"type": "string"}, "else": {"type": "array", "maxItems": 1}}, {},
     "oas31", REQ),
    ("if-always-true", {"if": True, "then": {"type": "object"}}, {}, "oas31", REQ),
    ("dependent-schemas", {"type": "object", "dependentSchemas": {
        "a": {"required": ["b"]}, "c": {"properties": {"d": {"type": "string"}}}}}, {},
     "oas31", REQ),
    ("ref-into-defs-31", {"$ref": "#/definitions/Named/properties/name"}, TREE31_DEFS,
     "oas31", REQ),
    ("true-schema", True, {}, "oas31", REQ),
    ("false-schema", False, {}, "oas31", REQ),
]

CASES: List[Case] = OAS30_CASES + OAS31_CASES

# Schemas the generator must refuse (the reference evaluates what it does not mirror).
REFUSED: List[Tuple[str, Any, str]] = [
    ("unevaluatedProperties", {"unevaluatedProperties": False}, "oas31"),
    ("unevaluatedItems", {"unevaluatedItems": False}, "oas31"),
    ("dynamicRef", {"$dynamicRef": "#meta"}, "oas31"),
    ("id-31", {"$id": "https://example.com/s", "type": "string"}, "oas31"),
    ("schema-31", {"$schema": "https://json-schema.org/draft/2020-12/schema"}, "oas31"),
    ("id-30", {"id": "https://example.com/s", "type": "string"}, "oas30"),
    ("boolean-schema-30", {"properties": {"a": False}}, "oas30"),
    ("type-list-30", {"type": ["string", "null"]}, "oas30"),
    ("tuple-items-30", {"items": [{"type": "string"}]}, "oas30"),
    ("ref-outside-definitions", {"$ref": "#/components/schemas/Cat"}, "oas30"),
    ("ref-to-nothing", {"$ref": "#/definitions/Nope"}, "oas30"),
    ("unknown-type", {"type": "file"}, "oas30"),
]
# (Formats are no longer refused when an optional package is installed: formats.py checks
# every format OpenAPI names, the same whatever is installed; tests/fastcheck/test_formats.py.)

# Strings near each format's edge, mixed into the generated instances.
FORMAT_SAMPLES: Dict[str, List[Any]] = {
    "date": ["2020-02-29", "2021-02-29", "2020-13-01", "0000-01-01", "2020-1-01", "2020-04-31",
             "２０２０-01-01", "2020-01-01\n", "9999-12-31"],
    "date-time": ["2020-01-01T00:00:00Z", "2020-01-01t00:00:00z", "2020-02-30T00:00:00Z",
                  "1998-12-31T23:59:60Z", "1998-12-31T23:58:60Z",
                  "2020-01-01T00:00:00.123+01:00", "2020-01-01T24:00:00Z",
                  "2020-01-01 00:00:00Z", "2020-01-01T00:00:00Z\n", "0000-01-01T00:00:00Z",
                  "2020-01-01T00:00:60Z", "2020-01-01T00:00:00"],
    "time": ["12:00:00", "1:2:3", "24:00:00", "12:00", " 12:00:00", "23:59:59", "12:00:00Z",
             "23:59:60Z", "12:00:00+01:00"],
    "uuid": ["123e4567-e89b-12d3-a456-426614174000", "123E4567-E89B-12D3-A456-426614174000",
             "urn:uuid:123e4567-e89b-12d3-a456-426614174000", "123e4567e89b12d3a456426614174000",
             "{123e4567-e89b-12d3-a456-426614174000}", "123e4567-e89b-12d3-a456-42661417400g",
             "123e4567-e89b12d3-a456-4266-14174000", "+23e4567-e89b-12d3-a456-426614174000"],
    "email": ["a@b", "ab", "@", "", "joe.bloggs@", "a..b@c", '"a b"@c'],
    "idn-email": ["é@b", "x"],
    "ipv4": ["1.2.3.4", "01.2.3.4", "256.1.1.1", "1.2.3", "0.0.0.0", "1.2.3.4/8", "١.2.3.4"],
    "ipv6": ["::1", "fe80::1%eth0", "1::2::3", "::ffff:1.2.3.4", "1.2.3.4", "::"],
    "byte": ["aGVsbG8=", "aGVsbG8", "é", "", "!!!!", "YQ==", "YQ=", "a b="],
    "regex": ["^a+$", "(", "[a-", "\\d", "a{2,1}", "[[a]", "\\a", "(?i)a"],
    "duration": ["P1D", "PT1H", "P1", "P1W1D", "PT"],
    "hostname": ["a.b", "a_b", "-a", "a..b", "xn--X", "a" * 64],
    "idn-hostname": ["例え.テスト", "München", "a\u00b7l", "l\u00b7l"],
    "uri": ["http://a/b?c#d", "a b", "/a", "http://[::1]:80/"],
    "uri-reference": ["/a", "a:b", ":a", "#a#b"],
    "iri": ["http://é/", "é"],
    "iri-reference": ["é", "\\a"],
    "uri-template": ["{a}", "{a", "a}", "{a:0}"],
    "json-pointer": ["", "/a~0", "/a~", "a"],
    "relative-json-pointer": ["0#", "01", "1/a", "-1"],
}

# Values random generation rarely hits, tried on every schema too.
EDGE_VALUES: List[Any] = [
    None, True, False, 0, 1, -1, 1.0, -0.0, 0.5, 0.3, 2**31, -(2**31) - 1, 2**63, 10**400, 1e308,
    "", "a", "é", "😀", "😀😀😀", "1", "2020-02-29", "2020-01-01T00:00:00Z\n", "aGVsbG8=",
    [], [1, True], [1, 1.0], [0, False], [[1], [True]], [{"a": 1}, {"a": 1.0}], ["a", "a"],
    [None, None], {}, {"a": 1}, {"a": None}, {"x-a": 1, "yb": "s"}, {"op": "+", "args": [1, 2]},
    {"value": 1, "children": [{"value": 2, "children": [{"value": "x"}]}]},
]
