"""SchemaEngine: one schema, compiled to nothing (interpreted), every problem of a value.

A Run is one evaluation: the sink of its problems, the dynamic scope ($dynamicRef), the depth
(a recursive schema and a deep value give a problem, never a RecursionError). Sub-evaluations
whose problems are not the value's (anyOf branches, not, if, contains) get a sink of one.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Dict, FrozenSet, Iterator, List, Mapping, Optional, Set, Tuple

from ..fastcheck.helpers import _SpecPattern
from ..quoting import quote
from . import oas
from .annotations import Evaluated
from .format_lookup import FormatCheck
from .keywords import DRAFT2020, OAS30_SUBSET, Keyword, unevaluated
from .problems import Full, Path, Problem, Sink, in_document_order
from .references import Registry, documents_loader, split_fragment

OAS30 = "oas30"
OAS31 = "oas31"
REQUEST = "request"
RESPONSE = "response"
MAX_DEPTH = 200  # nested evaluations (~3 Python frames each): under the recursion limit


def keyword_table(dialect: str, context: str) -> Dict[str, Keyword]:
    if dialect == OAS30:
        return dict(OAS30_SUBSET, discriminator=oas.kw_discriminator,
                    **{oas.directional_flag(context): oas.kw_one_way})
    return dict(DRAFT2020, discriminator=oas.kw_discriminator)


class SchemaEngine:
    """A JSON Schema validator for one schema of a spec.

    schema: the schema; definitions: the compiled form's named schemas, which
    `#/definitions/<Name>` refs point to; dialect: "oas30" (draft 4 + the OpenAPI 3.0 Schema
    Object) or "oas31" (2020-12 + OpenAPI 3.1); context: "request" or "response" (OAS 3.0
    readOnly/writeOnly); documents: other schema documents by URL ($ref to them)."""

    __slots__ = ("root", "dialect", "context", "draft4", "keywords", "registry", "patterns",
                 "formats", "_one_way")

    def __init__(self, schema: Any, definitions: Optional[Mapping[str, Any]] = None,
                 dialect: str = OAS31, context: str = REQUEST,
                 documents: Optional[Mapping[str, Any]] = None) -> None:
        if dialect not in (OAS30, OAS31):
            raise ValueError(f"dialect {dialect!r} (expected {OAS30!r} or {OAS31!r})")
        if context not in (REQUEST, RESPONSE):
            raise ValueError(f"context {context!r} (expected {REQUEST!r} or {RESPONSE!r})")
        root = schema
        if isinstance(schema, dict) and definitions:
            # refs are '#/definitions/<Name>': resolved against this root document
            own = schema.get("definitions")
            root = dict(schema, definitions=dict(own, **definitions)
                        if isinstance(own, dict) else dict(definitions))
        self.root = root
        self.dialect = dialect
        self.context = context
        self.draft4 = dialect == OAS30
        self.keywords = keyword_table(dialect, context)
        self.registry = Registry("id" if self.draft4 else "$id", documents_loader(documents))
        self.registry.add(root, "")
        self._one_way: Dict[int, FrozenSet[str]] = {}
        self.patterns: Dict[str, _SpecPattern] = {}  # RE2 search sets, built at first use
        self.formats: Dict[str, Optional[FormatCheck]] = {}  # format name -> its check

    def problems(self, value: Any, limit: int = 20) -> List[Problem]:
        """Every problem of value, up to limit, in the order the value is written."""
        run = Run(self, max(1, limit))
        try:
            run.enter_once(self.root, value, (), "")
        except Full:
            pass
        except RecursionError:  # the depth bound is meant to come first
            run.sink.problems.append(Problem((), "depth", "nested too deeply"))
        return in_document_order(value, run.sink.problems)

    def is_valid(self, value: Any) -> bool:
        """Whether value has no problem (stops at the first)."""
        return not self.problems(value, 1)

    def one_way_names(self, run: Run, schema: Dict[str, Any], base: str) -> FrozenSet[str]:
        key = id(schema)
        if key not in self._one_way:
            self._one_way[key] = frozenset(oas.one_way_names(
                run, schema, base, oas.directional_flag(self.context)))
        return self._one_way[key]


class Run:
    """One evaluation of one value."""

    __slots__ = ("engine", "registry", "draft4", "dialect", "context", "keywords", "sink",
                 "depth", "scope", "active", "skip")

    def __init__(self, engine: SchemaEngine, limit: int) -> None:
        self.engine = engine
        self.registry = engine.registry
        self.draft4 = engine.draft4
        self.dialect = engine.dialect
        self.context = engine.context
        self.keywords = engine.keywords
        self.sink = Sink(limit)
        self.depth = 0
        self.scope: List[str] = []  # base URIs entered, outermost first ($dynamicRef)
        self.active: Set[Tuple[int, int]] = set()  # (schema, value) being evaluated by ref
        self.skip: Tuple[int, FrozenSet[str]] = (0, oas.EMPTY)  # required-exempt, by value

    def report(self, path: Path, rule: str, message: str) -> None:
        self.sink.add(path, rule, message)

    def evaluate(self, schema: Any, value: Any, path: Path, base: str) -> Evaluated:
        ev = Evaluated()
        if not isinstance(schema, dict):
            if schema is False:
                self.report(path, "false", f"{quote(value)} is not allowed here")
            return ev  # true, or no schema at all
        if self.depth >= MAX_DEPTH:
            self.report(path, "depth", "nested too deeply")
            return ev
        base = self.registry.bases.get(id(schema), base)
        scope = self.scope
        pushed = not scope or scope[-1] != base
        if pushed:
            scope.append(base)
        self.depth += 1
        # no try/finally: passes() and problems() restore depth and scope when Full unwinds
        if self.draft4 and "$ref" in schema:  # draft 4 / OAS 3.0: $ref replaces siblings
            ref = schema["$ref"]
            if isinstance(ref, str):
                ev.merge(self.follow(ref, value, path, base, dynamic=False))
        else:
            table = self.keywords
            for key, kw in schema.items():
                check = table.get(key)
                if check is not None:
                    check(self, kw, schema, value, path, base, ev)
            if not self.draft4 and ("unevaluatedProperties" in schema
                                    or "unevaluatedItems" in schema):
                unevaluated(self, schema, value, path, base, ev)
        self.depth -= 1
        if pushed:
            scope.pop()
        return ev

    def passes(self, schema: Any, value: Any, path: Path, base: str) -> Optional[Evaluated]:
        """What schema evaluated if value is valid under it, else None (problems dropped)."""
        outer, depth, entered = self.sink, self.depth, len(self.scope)
        self.sink = Sink(1)
        try:
            return self.evaluate(schema, value, path, base)
        except Full:
            self.depth = depth
            del self.scope[entered:]
            return None
        finally:
            self.sink = outer

    def enter_once(self, schema: Any, value: Any, path: Path, base: str) -> Evaluated:
        """Evaluate, unless this schema is already checking this very value (a discriminator
        naming the schema that refers to it: allOf inheritance)."""
        key = (id(schema), id(value))
        if key in self.active:
            return Evaluated()
        self.active.add(key)
        try:
            return self.evaluate(schema, value, path, base)
        finally:
            self.active.discard(key)

    def follow(self, ref: str, value: Any, path: Path, base: str, dynamic: bool) -> Evaluated:
        found = self.registry.resolve(base, ref)
        if found is None:
            self.report(path, "$ref", f"{ref!r} points to no schema")
            return Evaluated()
        target, target_base, by_dynamic_anchor = found
        if dynamic and by_dynamic_anchor:
            name = split_fragment(ref)[1]
            for uri in self.scope:  # the outermost resource with that dynamic anchor wins
                node = self.registry.dynamic_anchor(uri, name)
                if node is not None:
                    target, target_base = node, self.registry.bases.get(id(node), uri)
                    break
        key = (id(target), id(value))
        fresh = key not in self.active
        if fresh:
            self.active.add(key)
        try:
            return self.evaluate(target, value, path, target_base)
        finally:
            if fresh:
                self.active.discard(key)

    def definition(self, name: str) -> Optional[Any]:
        """The compiled form's schema of that name, or None."""
        token = name.replace("~", "~0").replace("/", "~1").replace("%", "%25")
        found = self.registry.resolve("", "#/definitions/" + token)
        return None if found is None else found[0]

    def discriminated(self, schema: Dict[str, Any], value: Any) -> bool:
        return oas.discriminated(schema, value)

    def not_required(self, schema: Dict[str, Any], value: Any, base: str) -> FrozenSet[str]:
        """The required names that do not apply here (OAS 3.0 readOnly in requests...)."""
        if not self.draft4:
            return oas.EMPTY
        names = self.engine.one_way_names(self, schema, base)
        if self.skip[0] == id(value):
            names = names | self.skip[1]
        return names

    @contextmanager
    def members_of(self, schema: Dict[str, Any], value: Any, base: str) -> Iterator[None]:
        """allOf members see the read-only names of the whole schema (OAS 3.0)."""
        if not self.draft4 or not isinstance(value, dict):
            yield
            return
        outer = self.skip
        self.skip = (id(value), self.not_required(schema, value, base))
        try:
            yield
        finally:
            self.skip = outer
