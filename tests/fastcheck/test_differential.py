"""The fast checkers accept and reject exactly what openapi-schema-validator does.

For every schema of the specs in the repository (tests/fixtures, apis, /work/shared/external)
and of a corpus of tricky schemas (fastcheck_schemas.py), Hypothesis draws instances both
derived from the schema (near the boundaries it sets) and arbitrary JSON, and checks:
- validity: `fast(x) is None` exactly when the reference validator's is_valid(x);
- the message: when invalid, the fast message is one of the reference's own errors, formatted
  as pym_lambda.runtime.validation formats them (same field path, same text). It is the first
  error of a depth-first walk, so its path is a real failing location, not always best_match's:
  how often it is best_match's too is counted and printed by the last test.
Formats are the exception: openapi-schema-validator's own format checks are wrong in places
(a leap second, 'joe.bloggs@', 'time' with an offset, hostname and uri not checked unless an
optional package is installed: tests/fastcheck/test_formats.py lists them). The reference class
here is the build side's (reference_patterns.with_re2_patterns), whose format checker runs the right
checks, pym_lambda/fastcheck/formats.py; those are tested against the JSON Schema Test Suite
in test_formats.py.
Where the reference is wrong the fast checkers are right instead (DEVIATIONS): those cases are
tested against the right answer in test_openapi_semantics.py, not here.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pym_lambda.build.openapi.compiler import compile_specs
from pym_lambda.build.reference_validator import (
    _multiple_of,
    _reference_class,
    bounded_message,
)
from pym_lambda.errors import SpecErrors
from pym_lambda.fastcheck import Unsupported, compile_checker, compile_checkers, generate_module
from pym_lambda.runtime.schema_validator import _field_path, _shorten
from pym_lambda.schema_engine import SchemaEngine

from .fastcheck_schemas import CASES, EDGE_VALUES, FORMAT_SAMPLES, REFUSED, Case

ROOT = Path(__file__).resolve().parents[2]
# Per schema; Hypothesis needs ~1-5 ms to draw one instance here, hence 100 by default
# (about a minute for the whole file); FASTCHECK_EXAMPLES=300 for a longer run.
EXAMPLES = int(os.environ.get("FASTCHECK_EXAMPLES", "100"))
PREFIX = "body"
STATS: Dict[str, int] = {"instances": 0, "valid": 0, "invalid": 0, "best_match_path": 0,
                         "reference_raised": 0, "cases": 0}
RAISED: Dict[str, int] = {}  # exceptions the reference raised, by type
# Where openapi-schema-validator 0.6-0.9 is wrong and fastcheck (and schema_engine) right.
DEVIATIONS = {
    "read-only wording": "OAS30Write/ReadValidator say 'Tried to write read-only property with "
                         "<value>'; we say '<field> is read-only' (translated below)",
    "required + readOnly through $ref/allOf": "OpenAPI 3.0.3: required applies to a read-only "
                                              "property in responses only; the reference "
                                              "judges only the property's own schema object",
    "oneOf/anyOf + discriminator (3.0)": "the reference resolves the mapping against "
                                         "'#/components/schemas/...', which the compiled form "
                                         "rewrote: every valid body was refused",
    "discriminator (3.1)": "the reference ignores it; the tag picks the branch (a value "
                           "matching two branches passes oneOf)",
    "allOf + discriminator (3.0)": "the reference checks the tagged schema instead of allOf",
    "type: 'null' (3.0)": "the reference raises UnknownType; we accept only null",
    "multipleOf with a float": "the reference divides binary floats (0.3 is no multiple of "
                               "0.1); we read the decimal numbers written (the reference's "
                               "multipleOf is replaced by ours here)",
}


# -- the schemas -------------------------------------------------------------------------------
def spec_files() -> List[Path]:
    files = sorted(ROOT.glob("tests/fixtures/**/*.yaml")) + sorted(ROOT.glob("apis/*.yaml"))
    files += sorted(Path("/work/shared/external").glob("**/*.yaml"))
    return files


def spec_cases() -> List[Case]:
    seen: Dict[str, Case] = {}
    for path in spec_files():
        try:
            compiled = compile_specs([(path, str(path))])
        except SpecErrors:
            continue  # fixtures of broken specs, for the compiler's own tests
        for api in compiled["apis"]:
            defs, dialect = api["definitions"], api["schema_dialect"]
            found: List[Tuple[str, Any]] = [
                ("request", {"$ref": f"#/definitions/{name}"}) for name in defs]
            found += [("response", {"$ref": f"#/definitions/{name}"}) for name in defs]
            for op in api["operations"]:
                found += [("request", p["schema"]) for p in op["params"]]
                found += [("request", s) for s in ((op["body"] or {}).get("content") or {})
                          .values()]
                found += [("response", s) for r in op["responses"].values()
                          for s in r["content"].values() if s is not None]
            for context, schema in found:
                key = json.dumps([schema, defs, dialect, context], sort_keys=True)
                name = f"{path.parent.name}/{path.stem}:{context}:{json.dumps(schema)[:50]}"
                seen.setdefault(key, (name, schema, defs, dialect, (context,)))
    return list(seen.values())


def all_cases() -> List[Tuple[str, Any, Dict[str, Any], str, str]]:
    out = []
    for name, schema, defs, dialect, contexts in spec_cases() + CASES:
        out += [(f"{name}[{context}]", schema, defs, dialect, context) for context in contexts]
    return out


ALL_CASES = all_cases()


# -- instances ---------------------------------------------------------------------------------
FINITE = st.floats(allow_nan=False, allow_infinity=False)
ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | FINITE | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner,
                                                                max_size=4),
    max_leaves=8)
FORMAT_STRATEGIES: Dict[str, Any] = {
    "date": st.from_regex(r"\A\d{4}-\d\d-\d\d\Z"),
    "date-time": st.from_regex(r"\A\d{4}-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-6]\d(\.\d+)?"
                               r"(Z|z|[+-]\d\d:\d\d)\Z"),
    "uuid": st.uuids().map(str),
    "ipv4": st.ip_addresses(v=4).map(str),
    "ipv6": st.ip_addresses(v=6).map(str),
    "time": st.from_regex(r"\A\d{1,2}:\d{1,2}:\d{1,2}(\.\d+)?(Z|z|[+-]\d\d:\d\d)?\Z"),
}
INT_EDGES = [0, 1, -1, 2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 2**63 - 1, 2**63, -(2**63) - 1]


def _numbers(schema: Dict[str, Any]) -> Any:
    edges: List[Any] = list(INT_EDGES)
    for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        bound = schema.get(key)
        if isinstance(bound, (int, float)) and not isinstance(bound, bool):
            edges += [bound, bound - 1, bound + 1, bound - 0.5, bound + 0.5, float(bound)]
    options = [st.sampled_from(edges), st.integers(), FINITE, st.integers().map(float)]
    divisor = schema.get("multipleOf")
    if isinstance(divisor, (int, float)) and divisor > 0:
        options.append(st.integers(-50, 50).map(lambda k: k * divisor))
        options.append(st.integers(-50, 50).map(lambda k: k * divisor + 0.05))
    return st.one_of(options)


def _strings(schema: Dict[str, Any]) -> Any:
    low = schema.get("minLength", 0)
    high = schema.get("maxLength")
    options = [st.text(min_size=max(0, low - 1), max_size=(high + 1) if high is not None else 8)]
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        try:
            options.append(st.from_regex(pattern))
        except Exception:  # Hypothesis cannot generate from every regex
            pass
    fmt = schema.get("format")
    if fmt in FORMAT_SAMPLES:
        options.append(st.sampled_from(FORMAT_SAMPLES[fmt]))
    if fmt in FORMAT_STRATEGIES:
        options.append(FORMAT_STRATEGIES[fmt])
    return st.one_of(options)


class Instances:
    """Strategies for values near what a schema accepts, plus arbitrary JSON."""

    MAX_DEPTH = 3

    def __init__(self, definitions: Dict[str, Any]) -> None:
        self.definitions = definitions
        self._cache: Dict[Tuple[int, int], Any] = {}

    def near(self, schema: Any, depth: int = 0) -> Any:
        key = (id(schema), depth)
        if key not in self._cache:
            self._cache[key] = self._near(schema, depth)
        return self._cache[key]

    def _near(self, schema: Any, depth: int) -> Any:
        if not isinstance(schema, dict) or depth > self.MAX_DEPTH:
            return ANY_JSON
        deeper = depth + 1
        options = [ANY_JSON]
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            target = self.definitions.get(ref.split("/")[-1])
            options.append(st.deferred(lambda: self.near(target, deeper)))
        for key in ("anyOf", "oneOf", "allOf"):
            options += [self.near(sub, deeper) for sub in schema.get(key) or []]
        if schema.get("allOf"):
            parts = [self.near(sub, deeper) for sub in schema["allOf"]]
            options.append(st.tuples(*parts).map(_merge))
        if "not" in schema:
            options.append(self.near(schema["not"], deeper))
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            options.append(st.sampled_from(schema["enum"]))
        if "const" in schema:
            options.append(st.just(schema["const"]))
        for kind in _kinds(schema):
            options.append(self._typed(kind, schema, deeper))
        return st.one_of(options)

    def _typed(self, kind: str, schema: Dict[str, Any], depth: int) -> Any:
        if kind in ("integer", "number"):
            return _numbers(schema)
        if kind == "string":
            return _strings(schema)
        if kind == "boolean":
            return st.booleans()
        if kind == "null":
            return st.none()
        if kind == "array":
            return self._arrays(schema, depth)
        return self._objects(schema, depth)

    def _arrays(self, schema: Dict[str, Any], depth: int) -> Any:
        items = schema.get("items")
        element = self.near(items, depth) if isinstance(items, dict) else ANY_JSON
        low, high = schema.get("minItems", 0), schema.get("maxItems")
        lists = st.lists(element, min_size=max(0, low - 1),
                         max_size=(high + 1) if high is not None else 4)
        options = [lists, lists.map(lambda xs: xs + xs[:1])]  # duplicates, for uniqueItems
        prefix = schema.get("prefixItems")
        if isinstance(prefix, list):
            heads = st.tuples(*(self.near(s, depth) for s in prefix)).map(list)
            options.append(st.tuples(heads, lists).map(lambda p: p[0] + p[1]))
        if isinstance(schema.get("contains"), dict):
            options.append(st.lists(self.near(schema["contains"], depth), max_size=5))
        return st.one_of(options)

    def _objects(self, schema: Dict[str, Any], depth: int) -> Any:
        props = schema.get("properties") or {}
        required = [n for n in schema.get("required") or [] if isinstance(n, str)]
        fields = {n: self.near(props.get(n, {}), depth) for n in required}
        optional = {n: self.near(s, depth) for n, s in props.items() if n not in fields}
        extra_keys = st.text(max_size=4)
        for pattern in schema.get("patternProperties") or {}:
            extra_keys = extra_keys | st.from_regex(pattern)
        extras = st.dictionaries(extra_keys, ANY_JSON, min_size=1, max_size=2)
        complete = st.fixed_dictionaries(fields, optional=optional)
        partial = st.fixed_dictionaries({}, optional={**fields, **optional})
        return complete | partial | st.tuples(complete, extras).map(lambda t: {**t[1], **t[0]})


def _merge(parts: Tuple[Any, ...]) -> Any:
    if all(isinstance(p, dict) for p in parts):
        out: Dict[str, Any] = {}
        for p in parts:
            out.update(p)
        return out
    return parts[0]


def _kinds(schema: Dict[str, Any]) -> List[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list):
        return [t for t in declared if isinstance(t, str)]
    kinds = []
    if {"properties", "required", "additionalProperties", "patternProperties",
            "propertyNames", "dependentRequired", "minProperties", "maxProperties"} & set(schema):
        kinds.append("object")
    if {"items", "prefixItems", "contains", "minItems", "maxItems", "uniqueItems"} & set(schema):
        kinds.append("array")
    if {"minLength", "maxLength", "pattern", "format"} & set(schema):
        kinds.append("string")
    if {"minimum", "maximum", "multipleOf", "exclusiveMinimum", "exclusiveMaximum"} & set(schema):
        kinds.append("number")
    return kinds


# -- the comparison ----------------------------------------------------------------------------
def reference_for(schema: Any, definitions: Dict[str, Any], dialect: str, context: str) -> Any:
    from jsonschema.validators import extend

    # jsonschema's keywords but multipleOf (DEVIATIONS); formats are formats.py's
    cls = extend(_reference_class(dialect, context), {"multipleOf": _multiple_of})
    root = dict(schema) if isinstance(schema, dict) else schema
    if isinstance(root, dict) and definitions:
        root["definitions"] = definitions
    return cls(root, format_checker=cls.FORMAT_CHECKER)


def reference_messages(validator: Any, value: Any) -> Tuple[Optional[List[str]], Any]:
    """Every reference error as our runtime words it, and best_match; None if it raised."""
    from jsonschema.exceptions import best_match

    try:
        errors = list(validator.iter_errors(value))
    except Exception as exc:  # e.g. UnicodeEncodeError from the 'byte' format on non-ASCII
        RAISED[type(exc).__name__] = RAISED.get(type(exc).__name__, 0) + 1
        return None, None
    messages = [_shorten(f"{_field_path(PREFIX, e.absolute_path)}: {_wording(e)}")
                for e in errors]
    return messages, best_match(iter(errors))


def _wording(error: Any) -> str:
    """The reference's message, in our words where only the words differ (DEVIATIONS)."""
    word = {"readOnly": "read-only", "writeOnly": "write-only"}.get(error.validator)
    if word and error.validator_value is True:
        path = list(error.absolute_path)
        return f"{path[-1] if path else 'value'} is {word}"
    return bounded_message(error)


def compare(fast: Callable[[Any], Optional[str]], validator: Any, value: Any,
            engine: Optional[SchemaEngine] = None) -> None:
    got = fast(value)
    if engine is not None:  # our own interpreter (EngineCheck, the problem lists) agrees too
        assert engine.is_valid(value) == (got is None), f"{value!r}: fast={got!r} engine=" \
            f"{engine.problems(value, 3)!r}"
    messages, best = reference_messages(validator, value)
    STATS["instances"] += 1
    if messages is None:
        STATS["reference_raised"] += 1  # no answer to agree with; the fast checker gave one
        return
    assert (got is None) == (not messages), f"{value!r}: fast={got!r} reference={messages!r}"
    if got is None:
        STATS["valid"] += 1
        return
    STATS["invalid"] += 1
    assert got in messages, f"{value!r}: {got!r} is not one of the reference's {messages!r}"
    if got.startswith(_field_path(PREFIX, best.absolute_path) + ": "):
        STATS["best_match_path"] += 1


def _case(index: int) -> Tuple[Callable[[Any], Optional[str]], Any, Any, SchemaEngine]:
    _, schema, defs, dialect, context = ALL_CASES[index]
    fast = compile_checker(schema, defs, dialect, context, PREFIX)
    engine = SchemaEngine(schema, defs, dialect, context)
    return (fast, reference_for(schema, defs, dialect, context), Instances(defs).near(schema),
            engine)


@pytest.mark.parametrize("index", range(len(ALL_CASES)), ids=[c[0] for c in ALL_CASES])
def test_fast_checker_agrees_with_openapi_schema_validator(index: int) -> None:
    fast, validator, instances, engine = _case(index)
    STATS["cases"] += 1

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(instances)
    def agree(value: Any) -> None:
        compare(fast, validator, value, engine)

    agree()


@pytest.mark.parametrize("index", range(len(ALL_CASES)), ids=[c[0] for c in ALL_CASES])
def test_edge_values_agree(index: int) -> None:
    _, schema, defs, dialect, context = ALL_CASES[index]
    fast = compile_checker(schema, defs, dialect, context, PREFIX)
    validator = reference_for(schema, defs, dialect, context)
    for value in EDGE_VALUES:
        compare(fast, validator, value)


# -- the messages, as the runtime words them ---------------------------------------------------
PET = {"type": "object", "required": ["name", "kind"], "additionalProperties": False,
       "properties": {
           "name": {"type": "string", "maxLength": 5},
           "kind": {"type": "string", "enum": ["cat", "dog"]},
           "age": {"type": "integer", "minimum": 1},
           "tag": {"type": "string", "pattern": "^[a-z]+$"},
           "born": {"type": "string", "format": "date-time"},
           "toys": {"type": "array", "items": {"type": "object", "properties": {
               "name": {"type": "string"}}}}}}
MESSAGES = [
    ({"kind": "cat"}, "body: 'name' is a required property"),
    ({"name": "x", "kind": "bird"}, "body.kind: 'bird' is not one of ['cat', 'dog']"),
    ({"name": "x", "kind": "cat", "age": 0}, "body.age: 0 is less than the minimum of 1"),
    ({"name": "abcdef", "kind": "cat"}, "body.name: 'abcdef' is too long"),
    ({"name": "x", "kind": "cat", "tag": "A"}, "body.tag: 'A' does not match '^[a-z]+$'"),
    ({"name": "x", "kind": "cat", "born": "x"}, "body.born: 'x' is not a 'date-time'"),
    ({"name": "x", "kind": "cat", "x": 1},
     "body: Additional properties are not allowed ('x' was unexpected)"),
    ({"name": "x", "kind": "cat", "toys": [{"name": "a"}, {"name": 3}]},
     "body.toys[1].name: 3 is not of type 'string'"),
    ({"name": "x", "kind": "cat", "toys": [], "age": 2}, None),
]


def test_where_the_reference_raises_the_fast_checker_answers() -> None:
    # openapi-schema-validator raises UnicodeEncodeError (byte) and OverflowError (multipleOf)
    byte = compile_checker({"type": "string", "format": "byte"}, {}, "oas30", "request")
    assert byte("é") == "'é' is not a 'byte'"
    half = compile_checker({"multipleOf": 0.5}, {}, "oas30", "request")
    assert half(10**400) is None and half(10**400 + 1) is None  # exact: both are multiples
    third = compile_checker({"multipleOf": 0.3}, {}, "oas30", "request")
    assert third(10**400) is not None


@pytest.mark.parametrize("value,message", MESSAGES)
def test_messages_are_the_runtimes(value: Any, message: Optional[str]) -> None:
    from pym_lambda.build.reference_validator import SchemaValidator

    assert compile_checker(PET, {}, "oas30", "request", PREFIX)(value) == message
    assert SchemaValidator(PET, {}, "oas30", "request", PREFIX).check(value) == message


# -- what is refused, what is generated ------------------------------------------------------
@pytest.mark.parametrize("name,schema,dialect", REFUSED, ids=[r[0] for r in REFUSED])
def test_unsupported_schemas_are_refused(name: str, schema: Any, dialect: str) -> None:
    defs = {"Cat": {"type": "object"}}
    with pytest.raises(Unsupported):
        compile_checker(schema, defs, dialect, "request")


ENTRIES = {f"c{i}": (schema, defs, dialect, context, PREFIX)
           for i, (_, schema, defs, dialect, context) in enumerate(ALL_CASES)}


def test_one_module_for_every_schema_agrees_with_one_checker_each() -> None:
    """Entries of one API share their named schemas' functions in one module: no difference."""
    namespace: Dict[str, Any] = {}
    exec(compile(generate_module(ENTRIES), "<generated>", "exec"), namespace)
    checkers, refused = compile_checkers(ENTRIES)
    assert not refused and namespace["UNSUPPORTED"] == {}
    for key, entry in ENTRIES.items():
        alone = compile_checker(*entry)
        for value in EDGE_VALUES:
            assert checkers[key](value) == namespace[f"check_{key}"](value) == alone(value)


def test_generated_module_imports_only_the_standard_library(tmp_path: Path) -> None:
    (tmp_path / "checkers.py").write_text(generate_module(ENTRIES), encoding="utf-8")
    script = ("import sys, checkers\n"
              "bad = [m for m in sys.modules if m.split('.')[0] in ('jsonschema', "
              "'openapi_schema_validator', 'referencing', 'pydantic', 'pym_lambda')]\n"
              "assert not bad, bad\n"
              "assert checkers.check_c0 is not None\n")
    subprocess.run([sys.executable, "-c", script], cwd=tmp_path, check=True)


def test_fastcheck_package_does_not_import_the_reference() -> None:
    script = ("import sys, pym_lambda.fastcheck as f\n"
              "f.compile_checker({'type': 'string'}, {}, 'oas30', 'request')\n"
              "bad = [m for m in sys.modules if m.split('.')[0] in ('jsonschema', "
              "'openapi_schema_validator')]\n"
              "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True)


def test_generate_module_lists_refused_entries() -> None:
    source = generate_module({"ok": ({"type": "string"}, {}, "oas30", "request"),
                              "no": ({"unevaluatedProperties": False}, {}, "oas31", "request")},
                             skip_unsupported=True)
    namespace: Dict[str, Any] = {}
    exec(compile(source, "<generated>", "exec"), namespace)
    assert namespace["check_ok"](3) == "3 is not of type 'string'"
    assert "check_no" not in namespace and "no" in namespace["UNSUPPORTED"]
    with pytest.raises(Unsupported):
        generate_module({"no": ({"unevaluatedItems": False}, {}, "oas31", "request")})


def test_zz_summary() -> None:
    """Printed with -s: the size of the differential run and how often paths = best_match."""
    if not STATS["cases"]:
        pytest.skip("run with the differential tests")
    share = STATS["best_match_path"] / max(1, STATS["invalid"])
    print(f"\nfastcheck differential: {STATS['cases']} schema cases, {STATS['instances']} "
          f"instances ({STATS['valid']} valid, {STATS['invalid']} invalid, "
          f"{STATS['reference_raised']} where the reference raised {RAISED}); the fast "
          f"message's path is best_match's in {share:.0%} of the invalid ones")
    assert STATS["valid"] and STATS["invalid"]
