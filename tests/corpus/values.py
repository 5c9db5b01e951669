"""A value valid for an OpenAPI 3.x schema, and a wrong one: what the corpus harness sends.

Valid: const, enum, default and example first (when they fit the schema's type), else built from
the type and its constraints; `pattern` strings come from hypothesis' `from_regex`. The generator
is deliberately small: when it cannot satisfy a schema, the request it builds may earn a 4xx,
which the harness counts apart (see harness.py).
"""
from __future__ import annotations

import functools
import math
import warnings
from typing import Any, Dict, Optional
from urllib.parse import unquote

FORMATS = {
    "date": "2024-01-02", "date-time": "2024-01-02T03:04:05Z", "time": "03:04:05Z",
    "email": "someone@example.com", "idn-email": "someone@example.com",
    "uuid": "123e4567-e89b-42d3-a456-426614174000", "uri": "https://example.com/x",
    "url": "https://example.com/x", "uri-reference": "https://example.com/x",
    "iri": "https://example.com/x", "hostname": "example.com", "idn-hostname": "example.com",
    "ipv4": "192.0.2.1", "ipv6": "2001:db8::1", "byte": "YWJj", "binary": "abc",
    "password": "secret", "duration": "P1D", "json-pointer": "/a", "regex": "a+",
    "uri-template": "https://example.com/{x}", "int32": "1", "int64": "1",
}
MAX_DEPTH = 12


class Unsatisfiable(Exception):
    """The generator cannot build a value for this schema (an impossible or exotic one)."""


def resolve(doc: Dict[str, Any], schema: Any, depth: int = 0) -> Any:
    """schema with its `$ref` (a local JSON pointer) followed, transitively."""
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and depth < 50:
        ref = schema["$ref"]
        if not ref.startswith("#"):
            raise Unsatisfiable(f"non-local $ref {ref}")
        target: Any = doc
        for part in unquote(ref[1:]).split("/")[1:]:  # a URI fragment: percent-encoded
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(target, list) and part.isdigit():
                target = target[int(part)]
            elif isinstance(target, dict) and part in target:
                target = target[part]
            else:
                raise Unsatisfiable(f"unresolvable $ref {ref}")
        schema, depth = target, depth + 1
    return schema


def _type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _types(schema: Dict[str, Any]) -> list:
    declared = schema.get("type")
    if isinstance(declared, list):
        return [t for t in declared if t != "null"] or ["null"]
    if isinstance(declared, str):
        return [declared]
    if "properties" in schema or "additionalProperties" in schema or "required" in schema:
        return ["object"]
    if "items" in schema:
        return ["array"]
    return []


def _fits(value: Any, schema: Dict[str, Any]) -> bool:
    """A cheap check that a spec's example/default suits the schema's type and enum."""
    kinds = _types(schema)
    kind = _type_of(value)
    if kinds and kind not in kinds and not (kind == "integer" and "number" in kinds):
        return False
    if kind == "string" and ("pattern" in schema or "format" in schema or
                             len(value) < schema.get("minLength", 0) or
                             len(value) > schema.get("maxLength", math.inf)):
        return False  # spec examples often miss their own pattern/format: generate instead
    if kind in ("integer", "number"):
        low, high = schema.get("minimum", -math.inf), schema.get("maximum", math.inf)
        if not (low <= value <= high):
            return False
    return kind not in ("object", "array")  # composite examples: too often incomplete


@functools.lru_cache(maxsize=4096)
def pattern_string(pattern: str, low: int, high: Optional[int]) -> str:
    """A string matching `pattern` (searched, as JSON Schema does) of a length in [low, high]:
    the first hypothesis finds, unshrunk (shrinking costs seconds a pattern)."""
    from hypothesis import HealthCheck, Phase, find, settings
    from hypothesis import strategies as st

    try:
        strategy = st.from_regex(pattern, fullmatch=False, alphabet=st.characters(
            codec="ascii", categories=["L", "N"], include_characters="-_.:"))
    except Exception as exc:  # re.error, InvalidArgument: Python cannot read it
        raise Unsatisfiable(f"pattern {pattern!r}: {exc}") from None
    low = max(low, 1)  # an empty path segment or query value reads as absent
    limit = high if high is not None else 10**6
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return str(find(strategy, lambda s: low <= len(s) <= limit and s.strip() == s,
                            settings=settings(database=None, max_examples=200, deadline=None,
                                              phases=[Phase.generate],
                                              suppress_health_check=list(HealthCheck))))
        except Exception as exc:  # Unsatisfiable, NoSuchExample...: give up on this one
            raise Unsatisfiable(f"pattern {pattern!r}: {type(exc).__name__}") from None


class Generator:
    def __init__(self, doc: Dict[str, Any], direction: str = "request") -> None:
        self.doc = doc
        self.direction = direction

    def value(self, schema: Any, depth: int = 0) -> Any:
        schema = resolve(self.doc, schema)
        if schema is True or schema is None or schema == {}:
            return "x"
        if schema is False:
            raise Unsatisfiable("false schema")
        if not isinstance(schema, dict):
            raise Unsatisfiable(f"schema is a {type(schema).__name__}")
        if depth > MAX_DEPTH:
            raise Unsatisfiable("schema nested too deep (recursive?)")
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            usable = [v for v in schema["enum"] if v is not None] or schema["enum"]
            return usable[0]
        if "allOf" in schema:
            return self._all_of(schema, depth)
        for key in ("oneOf", "anyOf"):
            if isinstance(schema.get(key), list) and schema[key]:
                return self._one_of(schema, key, depth)
        for key in ("default", "example"):
            if key in schema and _fits(schema[key], schema):
                return schema[key]
        examples = schema.get("examples")
        if isinstance(examples, list) and examples and _fits(examples[0], schema):
            return examples[0]
        kinds = _types(schema)
        kind = kinds[0] if kinds else "string"
        return getattr(self, "_" + kind, self._unknown)(schema, depth)

    def non_empty(self, schema: Any) -> Any:
        """A value whose text is not empty: for a path parameter, as no path segment is empty
        (peertube's enum offers '' for "no filter", stoplight's default is '')."""
        value = self.value(schema)
        if value != "":
            return value
        schema = resolve(self.doc, schema)
        if isinstance(schema, dict) and isinstance(schema.get("enum"), list):
            usable = [v for v in schema["enum"] if v not in (None, "")]
            if not usable:
                raise Unsatisfiable("only an empty value, which no path segment can carry")
            return usable[0]
        if isinstance(schema, dict):
            rest = {k: v for k, v in schema.items() if k not in ("default", "example",
                                                                   "examples")}
            return self.value({**rest, "minLength": max(1, int(rest.get("minLength") or 0))})
        return "x"

    def _unknown(self, schema: Dict[str, Any], depth: int) -> Any:
        raise Unsatisfiable(f"type {schema.get('type')!r}")

    def _null(self, schema: Dict[str, Any], depth: int) -> Any:
        return None

    def _boolean(self, schema: Dict[str, Any], depth: int) -> Any:
        return True

    def _integer(self, schema: Dict[str, Any], depth: int) -> Any:
        return int(self._number(schema, depth, integer=True))

    def _number(self, schema: Dict[str, Any], depth: int, integer: bool = False) -> Any:
        low = schema.get("minimum")
        high = schema.get("maximum")
        if schema.get("exclusiveMinimum") is True and low is not None:
            low = low + 1
        elif isinstance(schema.get("exclusiveMinimum"), (int, float)) and \
                not isinstance(schema.get("exclusiveMinimum"), bool):
            low = schema["exclusiveMinimum"] + 1
        if schema.get("exclusiveMaximum") is True and high is not None:
            high = high - 1
        elif isinstance(schema.get("exclusiveMaximum"), (int, float)) and \
                not isinstance(schema.get("exclusiveMaximum"), bool):
            high = schema["exclusiveMaximum"] - 1
        value = low if low is not None else (min(1, high) if high is not None else 1)
        step = schema.get("multipleOf")
        if isinstance(step, (int, float)) and step > 0:
            value = math.ceil(value / step) * step
        if integer:
            value = math.ceil(value)
        if high is not None and value > high:
            raise Unsatisfiable("numeric bounds")
        return value

    def _string(self, schema: Dict[str, Any], depth: int) -> Any:
        low = int(schema.get("minLength") or 0)
        high = schema.get("maxLength")
        if isinstance(schema.get("pattern"), str):
            return self._pattern(schema["pattern"], low, high)
        fmt = schema.get("format")
        value = FORMATS.get(fmt, "x") if isinstance(fmt, str) else "x"
        if len(value) < low:
            value = value + "x" * (low - len(value)) if fmt not in FORMATS else value
        if high is not None and len(value) > high:
            value = value[:max(int(high), low)] if fmt not in FORMATS else value
        if len(value) < low:
            value = "x" * low
        return value

    def _pattern(self, pattern: str, low: int, high: Optional[int]) -> str:
        return pattern_string(pattern, low, high)

    def _array(self, schema: Dict[str, Any], depth: int) -> Any:
        count = max(int(schema.get("minItems") or 0), 1)
        if schema.get("maxItems") is not None:
            count = min(count, int(schema["maxItems"]))
        item = self.value(schema.get("items", {}), depth + 1) if count else None
        if count > 1 and schema.get("uniqueItems"):
            raise Unsatisfiable("uniqueItems with minItems > 1")
        return [item] * count

    def _object(self, schema: Dict[str, Any], depth: int) -> Any:
        props = schema.get("properties") or {}
        out: Dict[str, Any] = {}
        required = schema.get("required") or []
        for name in required:
            sub = resolve(self.doc, props.get(name, {}))
            if self._skipped(sub):
                continue
            out[name] = self.value(sub, depth + 1)
        minimum = int(schema.get("minProperties") or 0)
        for name, sub in props.items():
            if len(out) >= minimum:
                break
            if name not in out and not self._skipped(resolve(self.doc, sub)):
                out[name] = self.value(sub, depth + 1)
        while len(out) < minimum:
            extra = schema.get("additionalProperties", {})
            out[f"extra{len(out)}"] = self.value({} if extra is True else extra, depth + 1)
        return out

    def _skipped(self, schema: Any) -> bool:
        # OAS 3.0: a readOnly property is refused in a request (and writeOnly in a response)
        flag = "readOnly" if self.direction == "request" else "writeOnly"
        return isinstance(schema, dict) and schema.get(flag) is True

    def _all_of(self, schema: Dict[str, Any], depth: int) -> Any:
        merged: Any = None
        rest = {k: v for k, v in schema.items() if k != "allOf"}
        for part in list(schema["allOf"]) + ([rest] if _types(rest) or "properties" in rest
                                              else []):
            value = self.value(part, depth + 1)
            if isinstance(merged, dict) and isinstance(value, dict):
                merged = {**merged, **value}
            elif merged is None or merged == "x":
                merged = value
        if merged is None:
            raise Unsatisfiable("empty allOf")
        return merged

    def _one_of(self, schema: Dict[str, Any], key: str, depth: int) -> Any:
        branches = schema[key]
        disc = schema.get("discriminator")
        last: Optional[Exception] = None
        for branch in branches:
            try:
                value = self.value(branch, depth + 1)
            except Unsatisfiable as exc:
                last = exc
                continue
            if isinstance(disc, dict) and isinstance(value, dict) and disc.get("propertyName"):
                value[disc["propertyName"]] = self._discriminator_value(disc, branch)
            rest = {k: v for k, v in schema.items() if k not in (key, "discriminator")}
            if isinstance(value, dict) and (rest.get("properties") or rest.get("required")):
                value = {**self._object(rest, depth + 1), **value}
            return value
        raise Unsatisfiable(f"no {key} branch: {last}")

    @staticmethod
    def _discriminator_value(disc: Dict[str, Any], branch: Any) -> str:
        ref = branch.get("$ref", "") if isinstance(branch, dict) else ""
        for value, target in (disc.get("mapping") or {}).items():
            if target == ref or ref.endswith("/" + str(target)):
                return str(value)
        return ref.rsplit("/", 1)[-1]


def wrong_value(schema: Any, doc: Dict[str, Any]) -> Optional[Any]:
    """A value of the wrong JSON type for `schema`, or None when any type would do."""
    schema = resolve(doc, schema)
    if not isinstance(schema, dict):
        return None
    declared = schema.get("type")  # only a declared type refuses others (not `properties`)
    kinds = [declared] if isinstance(declared, str) else list(declared or [])
    if not kinds or schema.get("nullable") or "null" in kinds:
        return None
    for candidate in ("not-a-number", 12345, [1, 2], {"a": 1}):
        if _type_of(candidate) not in kinds and not (
                isinstance(candidate, int) and "number" in kinds):
            return candidate
    return None
