"""Where `$ref` and `$dynamicRef` lead: base URIs (`$id`, draft 4's `id`), `$anchor`,
`$dynamicAnchor`, JSON pointers (~0, ~1, percent-encoding), other documents by URL.

The registry walks each document once, keyword by keyword (a "$id" inside an enum or under
`properties` as a name is no identifier), and records every schema's base URI by identity.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple
from urllib.parse import unquote, urljoin, urlsplit

# Keywords whose value is a schema, a list of schemas, or a map of names to schemas.
SINGLE = ("additionalProperties", "propertyNames", "contains", "not", "if", "then", "else",
          "unevaluatedItems", "unevaluatedProperties", "additionalItems", "contentSchema")
LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas",
        "dependencies")


def subschemas(schema: Dict[str, Any]) -> Iterator[Tuple[str, Any]]:
    """(JSON pointer token path, subschema) of every direct subschema of a schema object."""
    for key in SINGLE:
        if key in schema:
            yield key, schema[key]
    items = schema.get("items")
    if isinstance(items, list):
        for index, each in enumerate(items):
            yield f"items/{index}", each
    elif items is not None:
        yield "items", items
    for key in LISTS:
        value = schema.get(key)
        if isinstance(value, list):
            for index, each in enumerate(value):
                yield f"{key}/{index}", each
    for key in MAPS:
        value = schema.get(key)
        if isinstance(value, dict):
            for name, each in value.items():
                if isinstance(each, (dict, bool)):  # dependencies: a list is no schema
                    yield f"{key}/{name}", each


def split_fragment(uri: str) -> Tuple[str, str]:
    where, _, fragment = uri.partition("#")
    return where, fragment


def join(base: str, ref: str) -> str:
    """ref resolved against base (RFC 3986), also for bases urljoin leaves alone (urn:)."""
    if urlsplit(ref).scheme:
        return ref
    if ref.startswith("#"):
        return split_fragment(base)[0] + ref
    if not base:
        return ref
    scheme = urlsplit(base).scheme
    if scheme and scheme not in ("http", "https", "file", "ftp"):
        return ref  # urn:/tag: bases have no relative form
    return urljoin(base, ref)


def _unescape(token: str) -> str:
    return unquote(token).replace("~1", "/").replace("~0", "~")


class Resource:
    """A schema with its own base URI: its anchors and dynamic anchors."""

    __slots__ = ("root", "anchors", "dynamic")

    def __init__(self, root: Any) -> None:
        self.root = root
        self.anchors: Dict[str, Any] = {}
        self.dynamic: Dict[str, Any] = {}


class Registry:
    """Every resource the engine can reach by URI; documents fetched by `load` when first named."""

    __slots__ = ("id_key", "resources", "bases", "load", "uses_unevaluated", "_cache")

    def __init__(self, id_key: str, load: Callable[[str], Any]) -> None:
        self.id_key = id_key  # "$id" (2020-12) or "id" (draft 4)
        self.resources: Dict[str, Resource] = {}
        self.bases: Dict[int, str] = {}  # id(schema) -> its base URI
        self.load = load
        self.uses_unevaluated = False
        self._cache: Dict[Tuple[str, str], Tuple[Any, str, bool]] = {}

    def add(self, document: Any, uri: str) -> None:
        """Walk a document (iteratively: a deep schema is no recursion) from base URI uri."""
        uri = split_fragment(uri)[0]
        self.resources.setdefault(uri, Resource(document))
        stack: List[Tuple[Any, str]] = [(document, uri)]
        while stack:
            schema, base = stack.pop()
            if not isinstance(schema, dict):
                continue
            base = self._enter(schema, base)
            self.bases[id(schema)] = base
            if "unevaluatedProperties" in schema or "unevaluatedItems" in schema:
                self.uses_unevaluated = True
            for _, child in subschemas(schema):
                stack.append((child, base))

    def _enter(self, schema: Dict[str, Any], base: str) -> str:
        ident = schema.get(self.id_key)
        if isinstance(ident, str) and not ("$ref" in schema and self.id_key == "id"):
            where, fragment = split_fragment(join(base, ident))
            if split_fragment(ident)[0]:
                base = where
                self.resources.setdefault(base, Resource(schema))
            if fragment and not fragment.startswith("/") and base in self.resources:
                self.resources[base].anchors[fragment] = schema  # draft 4's "id": "#foo"
        resource = self.resources.get(base)
        if resource is not None:
            anchor = schema.get("$anchor")
            if isinstance(anchor, str):
                resource.anchors[anchor] = schema
            dynamic = schema.get("$dynamicAnchor")
            if isinstance(dynamic, str):
                resource.anchors.setdefault(dynamic, schema)
                resource.dynamic[dynamic] = schema
        return base

    def resource(self, uri: str) -> Optional[Resource]:
        if uri not in self.resources:
            document = self.load(uri)
            if document is None:
                return None
            self.add(document, uri)
        return self.resources.get(uri)

    def resolve(self, base: str, ref: str) -> Optional[Tuple[Any, str, bool]]:
        """(schema, its base URI, whether a dynamic anchor named the fragment) or None."""
        key = (base, ref)
        if key in self._cache:
            return self._cache[key]
        target = join(base, ref)
        where, fragment = split_fragment(target)
        resource = self.resource(where)
        found: Optional[Tuple[Any, str, bool]] = None
        if resource is not None:
            if fragment.startswith("/") or not fragment:
                node = self._pointer(resource.root, fragment)
                if node is not _MISSING:
                    found = (node, self.bases.get(id(node), where), False)
            elif fragment in resource.anchors:
                node = resource.anchors[fragment]
                found = (node, self.bases.get(id(node), where), fragment in resource.dynamic)
        if found is None and base and ref.startswith("#/definitions/"):
            # the compiled form's refs name the root document's definitions, also from inside
            # a schema with its own $id
            return self.resolve("", ref)
        if found is not None:
            self._cache[key] = found
        return found

    def dynamic_anchor(self, uri: str, name: str) -> Optional[Any]:
        resource = self.resources.get(uri)
        return None if resource is None else resource.dynamic.get(name)

    def _pointer(self, node: Any, pointer: str) -> Any:
        if not pointer:
            return node
        for raw in pointer[1:].split("/"):
            token = _unescape(raw)
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                return _MISSING
        return node  # under a keyword the walk does not know, its base is the resource's


_MISSING = object()


def documents_loader(documents: Optional[Mapping[str, Any]]) -> Callable[[str], Any]:
    """Other documents by URL, given up front (no network: a spec's refs were inlined by the
    compiler; the test suite serves its remotes this way)."""
    table = {split_fragment(uri)[0]: doc for uri, doc in (documents or {}).items()}

    def load(uri: str) -> Any:
        return table.get(uri)

    return load
