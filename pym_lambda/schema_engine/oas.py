"""What OpenAPI adds to JSON Schema: readOnly/writeOnly per direction (3.0) and the
discriminator (3.0 and 3.1), as docs/guide.md describes and fastcheck implements.

- OAS 3.0 readOnly: a property whose schema says readOnly: true is refused in a request, and
  `required` does not apply to it there (3.0.3: it applies to the response only); writeOnly
  mirrors it in responses. Also through $ref and allOf.
- discriminator with oneOf/anyOf: the property's value picks the branch (mapping, whose values
  may be '#/definitions/<Name>', a bare name or '#/components/schemas/<Name>'; else the schema
  name), then the value is checked against that branch only. Without oneOf/anyOf (allOf
  inheritance), a value naming another schema is checked against it too.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, FrozenSet, List, Optional, Set, Tuple

from ..quoting import quote
from .annotations import Evaluated
from .problems import Path

if TYPE_CHECKING:
    from .engine import Run

MAX_HOPS = 64  # $ref/allOf hops followed to learn whether a property is read-only


def directional_flag(context: str) -> str:
    """The flag that makes a property one-way in this direction (OAS 3.0)."""
    return "readOnly" if context == "request" else "writeOnly"


def _has_flag(run: Run, schema: Any, base: str, flag: str, hops: int) -> bool:
    if not isinstance(schema, dict) or hops > MAX_HOPS:
        return False
    if schema.get(flag) is True:
        return True
    ref = schema.get("$ref")
    if isinstance(ref, str):
        found = run.registry.resolve(base, ref)
        if found is not None and _has_flag(run, found[0], found[1], flag, hops + 1):
            return True
    members = schema.get("allOf")
    return isinstance(members, list) and any(
        _has_flag(run, member, base, flag, hops + 1) for member in members)


def one_way_names(run: Run, schema: Dict[str, Any], base: str, flag: str,
                  hops: int = 0) -> Set[str]:
    """The properties of schema (its own, its allOf members', through $ref) that are flagged."""
    names: Set[str] = set()
    if hops > MAX_HOPS:
        return names
    properties = schema.get("properties")
    if isinstance(properties, dict):
        names.update(name for name, sub in properties.items()
                     if _has_flag(run, sub, base, flag, hops))
    ref = schema.get("$ref")
    if isinstance(ref, str):
        found = run.registry.resolve(base, ref)
        if found is not None and isinstance(found[0], dict):
            names |= one_way_names(run, found[0], found[1], flag, hops + 1)
    members = schema.get("allOf")
    if isinstance(members, list):
        for member in members:
            if isinstance(member, dict):
                names |= one_way_names(run, member, base, flag, hops + 1)
    return names


def kw_one_way(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path, base: str,
               ev: Evaluated) -> None:
    """readOnly in a request, writeOnly in a response (OAS 3.0): the value must be absent."""
    if kw is True:
        name = path[-1] if path else "value"
        where = "read-only" if run.context == "request" else "write-only"
        run.report(path, directional_flag(run.context), f"{name} is {where}")


def _name_of(ref: str) -> str:
    # '#/definitions/Dog', '#/components/schemas/Dog', 'other.yaml#/...' or 'Dog' -> 'Dog'
    return ref.rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~")


def _branches(schema: Dict[str, Any]) -> Optional[List[Any]]:
    for key in ("oneOf", "anyOf"):
        if isinstance(schema.get(key), list):
            return list(schema[key])
    return None


def _pick(schema: Dict[str, Any], disc: Dict[str, Any], tag: Any,
          branches: List[Any]) -> Tuple[Optional[Any], Optional[str]]:
    """(the branch the tag picks, or None; the schema name it names, or None)."""
    if not isinstance(tag, str):
        return None, None
    mapping = disc.get("mapping")
    target = mapping.get(tag) if isinstance(mapping, dict) else None
    name = _name_of(target) if isinstance(target, str) else tag
    for branch in branches:
        ref = branch.get("$ref") if isinstance(branch, dict) else None
        if isinstance(ref, str) and _name_of(ref) == name:
            return branch, name
    return None, name


def allowed_tags(disc: Dict[str, Any], branches: List[Any]) -> List[str]:
    mapping = disc.get("mapping")
    tags: Set[str] = set(mapping) if isinstance(mapping, dict) else set()
    tags.update(_name_of(branch["$ref"]) for branch in branches
                if isinstance(branch, dict) and isinstance(branch.get("$ref"), str))
    return sorted(tags)


def kw_discriminator(run: Run, kw: Any, schema: Dict[str, Any], value: Any, path: Path,
                     base: str, ev: Evaluated) -> None:
    prop = kw.get("propertyName") if isinstance(kw, dict) else None
    if not isinstance(prop, str) or not isinstance(value, dict):
        return
    branches = _branches(schema)
    if branches is None:  # allOf inheritance: the tag may name a schema deriving from this one
        tag = value.get(prop)
        branch, name = _pick(schema, kw, tag, [])
        target = run.definition(name) if name is not None else None
        mapping = kw.get("mapping")
        mapped = isinstance(mapping, dict) and tag in mapping
        if target is not None and target is not schema and (
                mapped or _reaches(run, target, schema, base, 0)):
            ev.merge(run.enter_once(target, value, path, base))
        return
    if prop not in value:
        run.report(path + (prop,), "discriminator", f"{prop!r} is a required property (it "
                                                    "names the schema of this object)")
        return
    branch, name = _pick(schema, kw, value[prop], branches)
    if branch is None and name is not None:
        branch = run.definition(name)  # a mapping to a schema that is no branch
    if branch is None:
        allowed = allowed_tags(kw, branches)
        run.report(path + (prop,), "discriminator",
                   f"{quote(value[prop])} is not one of {quote(allowed, 200)}")
        return
    ev.merge(run.enter_once(branch, value, path, base))


def _reaches(run: Run, candidate: Any, schema: Dict[str, Any], base: str, hops: int) -> bool:
    """Whether candidate's allOf reaches schema through $refs: it derives from it. A tag naming
    any other schema is not followed (as fastcheck's generated checks, emitter._deriving)."""
    if not isinstance(candidate, dict) or hops > 8:
        return False
    members = candidate.get("allOf")
    for member in members if isinstance(members, list) else ():
        target = member
        if isinstance(member, dict) and isinstance(member.get("$ref"), str):
            found = run.registry.resolve(base, member["$ref"])
            target = found[0] if found is not None else None
        if target is schema or _reaches(run, target, schema, base, hops + 1):
            return True
    return False


def discriminated(schema: Dict[str, Any], value: Any) -> bool:
    """Whether the discriminator, not oneOf/anyOf, checks this value."""
    disc = schema.get("discriminator")
    return (isinstance(disc, dict) and isinstance(disc.get("propertyName"), str)
            and isinstance(value, dict))


EMPTY: FrozenSet[str] = frozenset()
