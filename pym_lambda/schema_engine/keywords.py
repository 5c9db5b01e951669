"""The keywords of JSON Schema, one function each: (run, keyword value, schema, value, path,
base URI, what was evaluated) -> None, problems reported through run.report. Each applies to
the types it names and lets every other value pass, as JSON Schema says."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, List

from ..fastcheck.canonical import _all_unique
from ..fastcheck.helpers import PatternError, _equal, _not_multiple, _SpecPattern
from ..quoting import quote
from .annotations import Evaluated
from .format_lookup import format_check
from .problems import Path

if TYPE_CHECKING:
    from .engine import Run

Keyword = Callable[["Run", Any, Dict[str, Any], Any, Path, str, Evaluated], None]


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def search(run: Run, pattern: str, text: str) -> bool:
    """RE2, as fastcheck (linear time); a pattern RE2 refuses was refused when the spec loaded."""
    searcher = run.engine.patterns.get(pattern)
    if searcher is None:
        searcher = run.engine.patterns[pattern] = _SpecPattern(pattern)
    try:
        return searcher.search(text)
    except PatternError:
        return True  # never run on a backtracking engine


def _type_ok(run: Run, name: Any, value: Any) -> bool:
    if name == "string":
        return isinstance(value, str)
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    if name == "number":
        return is_number(value)
    if name == "integer":
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (
            not run.draft4 and isinstance(value, float) and value.is_integer())
    return False


def kw_type(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path, base: str,
            ev: Evaluated) -> None:
    names = kw if isinstance(kw, list) else [kw]
    if value is None and run.draft4 and schema.get("nullable") is True:
        return  # OpenAPI 3.0: nullable adds null to the type
    if not any(_type_ok(run, name, value) for name in names):
        shown = names[0] if len(names) == 1 else names
        run.report(path, "type", f"{quote(value)} is not of type {shown!r}")


def kw_enum(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path, base: str,
            ev: Evaluated) -> None:
    if isinstance(kw, list) and not any(_equal(each, value) for each in kw):
        run.report(path, "enum", f"{quote(value)} is not one of {quote(kw, 200)}")


def kw_const(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path, base: str,
             ev: Evaluated) -> None:
    if not _equal(kw, value):
        run.report(path, "const", f"{quote(kw)} was expected")


def kw_multiple_of(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path,
                   base: str, ev: Evaluated) -> None:
    if is_number(value) and is_number(kw) and _not_multiple(value, kw):
        run.report(path, "multipleOf", f"{quote(value)} is not a multiple of {kw}")


def kw_maximum(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path, base: str,
               ev: Evaluated) -> None:
    if not (is_number(value) and is_number(kw)):
        return
    if run.draft4 and schema.get("exclusiveMaximum") is True:
        if value >= kw:
            run.report(path, "maximum", f"{quote(value)} is greater than or equal to the "
                                        f"maximum of {kw}")
    elif value > kw:
        run.report(path, "maximum", f"{quote(value)} is greater than the maximum of {kw}")


def kw_minimum(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path, base: str,
               ev: Evaluated) -> None:
    if not (is_number(value) and is_number(kw)):
        return
    if run.draft4 and schema.get("exclusiveMinimum") is True:
        if value <= kw:
            run.report(path, "minimum", f"{quote(value)} is less than or equal to the "
                                        f"minimum of {kw}")
    elif value < kw:
        run.report(path, "minimum", f"{quote(value)} is less than the minimum of {kw}")


def kw_exclusive_maximum(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path,
                         base: str, ev: Evaluated) -> None:
    if is_number(value) and is_number(kw) and value >= kw:
        run.report(path, "exclusiveMaximum", f"{quote(value)} is greater than or equal to "
                                             f"the maximum of {kw}")


def kw_exclusive_minimum(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path,
                         base: str, ev: Evaluated) -> None:
    if is_number(value) and is_number(kw) and value <= kw:
        run.report(path, "exclusiveMinimum", f"{quote(value)} is less than or equal to the "
                                             f"minimum of {kw}")


def kw_max_length(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path,
                  base: str, ev: Evaluated) -> None:
    if isinstance(value, str) and is_number(kw) and len(value) > kw:  # code points
        run.report(path, "maxLength", f"{quote(value)} is longer than {kw} characters")


def kw_min_length(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path,
                  base: str, ev: Evaluated) -> None:
    if isinstance(value, str) and is_number(kw) and len(value) < kw:
        run.report(path, "minLength", f"{quote(value)} is shorter than {kw} characters")


def kw_pattern(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path, base: str,
               ev: Evaluated) -> None:
    if isinstance(value, str) and isinstance(kw, str) and not search(run, kw, value):
        run.report(path, "pattern", f"{quote(value)} does not match {quote(kw)}")


def kw_format(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path, base: str,
              ev: Evaluated) -> None:
    if not isinstance(kw, str):
        return
    formats = run.engine.formats
    if kw not in formats:
        formats[kw] = format_check(kw, run.dialect)
    check = formats[kw]
    if check is not None and not check(value):
        run.report(path, "format", f"{quote(value)} is not a {kw!r}")


# -- arrays ---------------------------------------------------------------------------------------
def kw_max_items(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path,
                 base: str, ev: Evaluated) -> None:
    if isinstance(value, list) and is_number(kw) and len(value) > kw:
        run.report(path, "maxItems", f"{len(value)} items, more than the maximum of {kw}")


def kw_min_items(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path,
                 base: str, ev: Evaluated) -> None:
    if isinstance(value, list) and is_number(kw) and len(value) < kw:
        run.report(path, "minItems", f"{len(value)} items, fewer than the minimum of {kw}")


def kw_unique_items(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path,
                    base: str, ev: Evaluated) -> None:
    if kw is True and isinstance(value, list) and not _all_unique(value):  # hashed: linear
        run.report(path, "uniqueItems", f"{quote(value)} has non-unique elements")


def kw_items(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path, base: str,
             ev: Evaluated) -> None:
    if not isinstance(value, list):
        return
    if isinstance(kw, list):  # draft 4's tuple form
        for index, (sub, item) in enumerate(zip(kw, value, strict=False)):
            run.evaluate(sub, item, path + (index,), base)
            ev.items.add(index)
        return
    start = 0
    if not run.draft4 and isinstance(schema.get("prefixItems"), list):
        start = len(schema["prefixItems"])
    for index in range(start, len(value)):
        run.evaluate(kw, value[index], path + (index,), base)
    ev.all_items = True


def kw_additional_items(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path,
                        base: str, ev: Evaluated) -> None:
    items = schema.get("items")
    if not isinstance(value, list) or not isinstance(items, list):
        return  # draft 4: additionalItems applies after a tuple of items only
    if kw is False and len(value) > len(items):
        run.report(path, "additionalItems",
                   f"{len(value) - len(items)} items more than the {len(items)} allowed")
        return
    for index in range(len(items), len(value)):
        run.evaluate(kw, value[index], path + (index,), base)


def kw_prefix_items(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path,
                    base: str, ev: Evaluated) -> None:
    if not isinstance(value, list) or not isinstance(kw, list):
        return
    for index, (sub, item) in enumerate(zip(kw, value, strict=False)):
        run.evaluate(sub, item, path + (index,), base)
        ev.items.add(index)


def kw_contains(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path,
                base: str, ev: Evaluated) -> None:
    if not isinstance(value, list):
        return
    low = schema.get("minContains", 1)
    high = schema.get("maxContains")
    matched = 0
    for index, item in enumerate(value):
        if run.passes(kw, item, path + (index,), base) is not None:
            matched += 1
            ev.items.add(index)
    if is_number(low) and matched < low:
        if not matched:
            run.report(path, "contains", f"{quote(value)} does not contain items matching "
                                         "the given schema")
        else:
            run.report(path, "minContains", f"only {matched} items match the given schema, "
                                            f"fewer than {low}")
    if high is not None and is_number(high) and matched > high:
        run.report(path, "maxContains", f"{matched} items match the given schema, more than "
                                        f"{high}")


# -- objects --------------------------------------------------------------------------------------
def kw_max_properties(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path,
                      base: str, ev: Evaluated) -> None:
    if isinstance(value, dict) and is_number(kw) and len(value) > kw:
        run.report(path, "maxProperties", f"{len(value)} properties, more than the maximum "
                                          f"of {kw}")


def kw_min_properties(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path,
                      base: str, ev: Evaluated) -> None:
    if isinstance(value, dict) and is_number(kw) and len(value) < kw:
        run.report(path, "minProperties", f"{len(value)} properties, fewer than the minimum "
                                          f"of {kw}")


def kw_required(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path, base: str,
                ev: Evaluated) -> None:
    if not isinstance(value, dict) or not isinstance(kw, list):
        return
    skipped = run.not_required(schema, value, base)
    for name in kw:
        if isinstance(name, str) and name not in value and name not in skipped:
            run.report(path + (name,), "required", f"{name!r} is a required property")


def kw_properties(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path,
                  base: str, ev: Evaluated) -> None:
    if not isinstance(value, dict) or not isinstance(kw, dict):
        return
    for name, item in value.items():  # in the value's order: problems in document order
        if name in kw:
            run.evaluate(kw[name], item, path + (name,), base)
            ev.props.add(name)


def kw_pattern_properties(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path,
                          base: str, ev: Evaluated) -> None:
    if not isinstance(value, dict) or not isinstance(kw, dict):
        return
    for name, item in value.items():
        for pattern, sub in kw.items():
            if search(run, pattern, name):
                run.evaluate(sub, item, path + (name,), base)
                ev.props.add(name)


def _extras(run: Run, schema: Dict[str, Any], value: Dict[str, Any]) -> List[str]:
    properties = schema.get("properties")
    patterns = schema.get("patternProperties")
    names = properties if isinstance(properties, dict) else {}
    regexes = list(patterns) if isinstance(patterns, dict) else []
    return [name for name in value if name not in names
            and not any(search(run, pattern, name) for pattern in regexes)]


def kw_additional_properties(run: Run, kw: Any, schema: Dict[str, Any], value: Any,
                             path: Path, base: str, ev: Evaluated) -> None:
    if not isinstance(value, dict):
        return
    extras = _extras(run, schema, value)
    if kw is False:
        if extras:
            shown = ", ".join(quote(name) for name in extras[:5])
            more = f" and {len(extras) - 5} more" if len(extras) > 5 else ""
            run.report(path, "additionalProperties",
                       f"Additional properties are not allowed ({shown}{more} unexpected)")
    else:
        for name in extras:
            run.evaluate(kw, value[name], path + (name,), base)
    ev.props.update(extras)


def kw_property_names(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path,
                      base: str, ev: Evaluated) -> None:
    if not isinstance(value, dict):
        return
    for name in value:
        if run.passes(kw, name, path, base) is None:
            run.report(path + (name,), "propertyNames", f"{quote(name)} is not a valid "
                                                        "property name")


def kw_dependent_required(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path,
                          base: str, ev: Evaluated) -> None:
    if not isinstance(value, dict) or not isinstance(kw, dict):
        return
    for name, needed in kw.items():
        if name in value and isinstance(needed, list):
            for other in needed:
                if other not in value:
                    run.report(path + (other,), "dependentRequired",
                               f"{other!r} is a dependency of {name!r}")


def kw_dependent_schemas(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path,
                         base: str, ev: Evaluated) -> None:
    if not isinstance(value, dict) or not isinstance(kw, dict):
        return
    for name, sub in kw.items():
        if name in value:
            ev.merge(run.evaluate(sub, value, path, base))


def kw_dependencies(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path,
                    base: str, ev: Evaluated) -> None:
    # draft 4: a list of names (dependentRequired) or a schema (dependentSchemas)
    if not isinstance(value, dict) or not isinstance(kw, dict):
        return
    for name, needed in kw.items():
        if name not in value:
            continue
        if isinstance(needed, list):
            for other in needed:
                if other not in value:
                    run.report(path + (other,), "dependencies",
                               f"{other!r} is a dependency of {name!r}")
        else:
            run.evaluate(needed, value, path, base)


# -- applicators ----------------------------------------------------------------------------------
def kw_all_of(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path, base: str,
              ev: Evaluated) -> None:
    if isinstance(kw, list):
        with run.members_of(schema, value, base):
            for sub in kw:
                ev.merge(run.evaluate(sub, value, path, base))


def kw_any_of(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path, base: str,
              ev: Evaluated) -> None:
    if not isinstance(kw, list) or run.discriminated(schema, value):
        return
    passed = False
    for sub in kw:
        found = run.passes(sub, value, path, base)
        if found is not None:
            passed = True
            ev.merge(found)
            if not run.registry.uses_unevaluated:
                break  # no unevaluated* reads the other branches' annotations
    if not passed:
        run.report(path, "anyOf", f"{quote(value)} is not valid under any of the given "
                                  "schemas")


def kw_one_of(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path, base: str,
              ev: Evaluated) -> None:
    if not isinstance(kw, list) or run.discriminated(schema, value):
        return
    valid: List[int] = []
    found: List[Evaluated] = []
    for index, sub in enumerate(kw):
        result = run.passes(sub, value, path, base)
        if result is not None:
            valid.append(index)
            found.append(result)
            if len(valid) > 1:
                break
    if not valid:
        run.report(path, "oneOf", f"{quote(value)} is not valid under any of the given "
                                  "schemas")
    elif len(valid) > 1:
        run.report(path, "oneOf", f"{quote(value)} is valid under more than one of the given "
                                  f"schemas (#{valid[0]} and #{valid[1]})")
    else:
        ev.merge(found[0])


def kw_not(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path, base: str,
           ev: Evaluated) -> None:
    if run.passes(kw, value, path, base) is not None:
        run.report(path, "not", f"{quote(value)} should not be valid under {quote(kw)}")


def kw_if(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path, base: str,
          ev: Evaluated) -> None:
    found = run.passes(kw, value, path, base)
    if found is not None:
        ev.merge(found)
        if "then" in schema:
            ev.merge(run.evaluate(schema["then"], value, path, base))
    elif "else" in schema:
        ev.merge(run.evaluate(schema["else"], value, path, base))


def kw_ref(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path, base: str,
           ev: Evaluated) -> None:
    if isinstance(kw, str):
        ev.merge(run.follow(kw, value, path, base, dynamic=False))


def kw_dynamic_ref(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path,
                   base: str, ev: Evaluated) -> None:
    if isinstance(kw, str):
        ev.merge(run.follow(kw, value, path, base, dynamic=True))


def unevaluated(run: Run, schema: Dict[str, Any], value: Any, path: Path, base: str,
                ev: Evaluated) -> None:
    """unevaluatedItems and unevaluatedProperties: after every other keyword of the schema."""
    if isinstance(value, list) and "unevaluatedItems" in schema and not ev.all_items:
        sub = schema["unevaluatedItems"]
        left = [index for index in range(len(value)) if index not in ev.items]
        if sub is False and left:
            run.report(path + (left[0],), "unevaluatedItems",
                       f"{len(left)} unevaluated items are not allowed")
        else:
            for index in left:
                run.evaluate(sub, value[index], path + (index,), base)
        ev.all_items = True
    if isinstance(value, dict) and "unevaluatedProperties" in schema:
        sub = schema["unevaluatedProperties"]
        names = [name for name in value if name not in ev.props]
        for name in names:
            if sub is False:
                run.report(path + (name,), "unevaluatedProperties",
                           f"unevaluated property {quote(name)} is not allowed")
            else:
                run.evaluate(sub, value[name], path + (name,), base)
        ev.props.update(names)


COMMON: Dict[str, Keyword] = {
    "type": kw_type, "enum": kw_enum, "multipleOf": kw_multiple_of, "maximum": kw_maximum,
    "minimum": kw_minimum, "maxLength": kw_max_length, "minLength": kw_min_length,
    "pattern": kw_pattern, "format": kw_format, "maxItems": kw_max_items,
    "minItems": kw_min_items, "uniqueItems": kw_unique_items, "items": kw_items,
    "maxProperties": kw_max_properties, "minProperties": kw_min_properties,
    "required": kw_required, "properties": kw_properties,
    "patternProperties": kw_pattern_properties,
    "additionalProperties": kw_additional_properties, "allOf": kw_all_of,
    "anyOf": kw_any_of, "oneOf": kw_one_of, "not": kw_not, "$ref": kw_ref,
}
DRAFT4 = dict(COMMON, additionalItems=kw_additional_items, dependencies=kw_dependencies)
# OpenAPI 3.0's Schema Object (and Swagger 2.0's) is a subset of draft 4 without
# patternProperties, dependencies and additionalItems: they are not validated (as
# openapi-schema-validator and fastcheck do), though additionalProperties still reads
# patternProperties to tell which names are extras (jsonschema's find_additional_properties).
OAS30_SUBSET = {key: kw for key, kw in DRAFT4.items()
                if key not in ("patternProperties", "dependencies", "additionalItems")}
DRAFT2020 = dict(
    COMMON, const=kw_const, exclusiveMaximum=kw_exclusive_maximum,
    exclusiveMinimum=kw_exclusive_minimum, prefixItems=kw_prefix_items, contains=kw_contains,
    propertyNames=kw_property_names, dependentRequired=kw_dependent_required,
    dependentSchemas=kw_dependent_schemas, **{"if": kw_if, "$dynamicRef": kw_dynamic_ref})
