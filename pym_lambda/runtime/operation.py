"""One operation, ready to serve: its readers, its bound function, its response writer.

What reads and writes is built at an operation's first call (prepare()), so that a cold start
imports none of it; later requests only run prepared callables.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

from ..errors import InvalidParameterError, PymError
from .compiled_types import (
    CompiledApi,
    CompiledOperation,
    CompiledParameter,
    Schema,
    SecurityScheme,
)
from .models import ModelFactory
from .operation_checks import accepts_everything, body_key, param_key, response_key
from .request_caps import RequestCaps
from .stored_schemas import extended_names, restore_operation

if TYPE_CHECKING:  # imported by _prepare(), at an operation's first call, not at a cold start
    from .body import BodyReader
    from .params import ParamReader
    from .responses import ResponseWriter
    from .schema_validator import Explainer


class ApiRuntime:
    """What the operations of one API share: definitions, dialect, model classes, checks."""

    def __init__(self, api: CompiledApi, checks: Any) -> None:
        self.name: str = api["name"]
        self.file: str = api["file"]
        self.dialect: str = api["schema_dialect"]
        self.definitions: Dict[str, Schema] = api["definitions"]
        self.models = ModelFactory(self.name, self.definitions,
                                   *model_extensions(self.definitions, self.file))
        self.security_schemes: Dict[str, SecurityScheme] = api.get("security_schemes") or {}
        # by key (operation_checks.py), built once for the whole app: a dict, or LazyChecks
        self.checks = checks

    def deref(self, schema: Any) -> Any:
        return self.models._deref(schema)


def model_extensions(definitions: Dict[str, Schema], file: str
                     ) -> Tuple[Dict[str, type], Dict[str, Any]]:
    """PyMacaron's `x-parent: module.Class` (a base class for the model) and `x-persist:
    module.Class` (its load_from_db/save_to_db) of each named schema, imported."""
    from ..errors import SpecError
    from .bindings import import_target
    found: Tuple[Dict[str, Any], Dict[str, Any]] = ({}, {})
    for name in extended_names(definitions):  # not every schema, when stored apart
        schema = definitions[name]
        for index, key in enumerate(("x-parent", "x-persist")):
            target = schema.get(key) if isinstance(schema, dict) else None
            if not target:
                continue
            try:
                found[index][name] = import_target(str(target))
            except ImportError as exc:
                raise SpecError(f"schema {name!r}: {key} {target!r}: {exc}",
                                spec_file=file) from None
    return found


_NO_CAPS = RequestCaps()  # until prepare(): the settings' caps

# A step runs before the bound function; it may raise a PymError (auth, limits...).
Step = Callable[[Any, "BoundOperation"], None]


class BoundOperation:
    """Runs, for each request: its own steps (auth, from the spec), the service's
    `before_steps`, reads the parameters and body, calls the function, hands its result
    through the service's `after_steps`, then checks and serialises the response."""

    def __init__(self, op: CompiledOperation, api: ApiRuntime, func: Optional[Callable[..., Any]],
                 steps: Optional[List[Step]] = None, limits: Any = None,
                 service: Any = None) -> None:
        self.op = op
        self.id: str = op["id"]
        self.api = api
        self.method: str = op["method"]
        self.path: str = op["path"]
        self.route: str = op.get("route", op["path"])  # "": not routed (see compiled_types)
        self.func = func
        self.steps: List[Step] = list(steps or [])
        self.service = service  # its before/after steps are read at each call: lists to edit
        self.strict = bool(getattr(limits, "strict", False))
        self.limits = limits
        # What reads the request and writes the response (readers, checks, models, writer) is
        # made at the first call (prepare()): a cold start then costs the same whatever the
        # number of operations. The build prepares every one (pym-lambda build and package),
        # so that a problem shows there, not at a first call.
        self.params: List[ParamReader] = []
        self.caps = _NO_CAPS
        self.query_names: List[str] = []
        self.body: Optional[BodyReader] = None
        self.form_kwargs = False
        # strict mode's check of the query's names (strict.py), set by prepare()
        self.query_check: Optional[Callable[[Any, List[str]], None]] = None
        self.responses: Optional[ResponseWriter] = None
        if op.get("idempotent"):  # x-idempotent: an Idempotency-Key replays the first answer
            from .idempotency import IdempotentCall

            self.call = IdempotentCall(self, self.call)  # type: ignore[method-assign]

    def prepare(self) -> None:
        """Make the readers, checks, models and response writer (the first call does it)."""
        if self.responses is not None:
            return
        with self.api.models.lock:  # first calls in several threads: one prepares, as the
            if self.responses is None:  # converters it makes must be whole before any call
                self._prepare()

    def _prepare(self) -> None:
        # The readers, checks and writer's modules: a cold start imports none of them.
        from .body import BodyReader
        from .params import ParamReader
        from .responses import ResponseSpec, ResponseWriter, pick_content
        from .schema_validator import RESPONSE
        from .strict import body_checker, check_query

        op, api, limits = restore_operation(self.op), self.api, self.limits
        params = [
            ParamReader(p, api.deref, _check(api, param_key(api.name, op, p), p["schema"]),
                        api.models.converter(p["schema"]),
                        _explainer(api, p["schema"], f"{p['in']} parameter '{p['name']}'"))
            for p in op["params"]]
        reader: Optional[BodyReader] = None
        body = op.get("body")
        if body:
            checks = {ct: _check(api, body_key(api.name, op, ct), schema)
                      for ct, schema in body["content"].items()}
            if self.strict:
                checks = {ct: _both(check, body_checker(body["content"][ct], api.deref,
                                                        api.models._properties))
                          for ct, check in checks.items()}
            # the generated loaders (check and build models in one walk); not under strict,
            # whose extra check they do not run
            find = None if self.strict else getattr(api.checks, "loader", None)
            loaders = {ct: find(body_key(api.name, op, ct)) if find and checks[ct] else None
                       for ct in body["content"]}
            reader = BodyReader(
                body,
                checks=checks,
                loaders=loaders, classes=api.models.loader_classes,
                converts={ct: api.models.converter(s) for ct, s in body["content"].items()},
                deref=api.deref,
                explainers={ct: _explainer(api, s, "body") for ct, s in body["content"].items()},
                **({"max_bytes": limits.max_body_bytes, "max_depth": limits.max_json_depth,
                    "max_fields": limits.max_form_fields} if limits is not None else {}))
        specs = {}
        for status, resp in op["responses"].items():
            ct, schema = pick_content(resp["content"])
            key = response_key(api.name, op, status)
            check = _check(api, key, schema)
            dumper = getattr(api.checks, "dumper", None)  # LazyChecks; a dict has none
            specs[status] = ResponseSpec(ct, check, schema is not None,
                                         _explainer(api, schema, "", RESPONSE),
                                         dumper(key) if dumper and check else None)
        # Set together, the writer last: it says the operation is ready (another thread may
        # be preparing it too; what both make is the same).
        self.params, self.body = params, reader
        self.caps = RequestCaps.from_limits(limits)
        self.query_names = [p["name"] for p in op["params"] if p["in"] == "query"]
        self.form_kwargs = bool(body and body.get("form_fields"))
        self.query_check = check_query if self.strict else None
        self.responses = ResponseWriter(self.id, specs)

    def call(self, request: Any) -> Any:
        """Run the steps, read the parameters and body, call the function, build the response."""
        if self.responses is None:
            self.prepare()
        self.caps.check(request)  # cheap counts first: what follows is bounded by them
        for step in self.steps:
            step(request, self)
        service = self.service
        if service is not None:
            for step in service.before_steps:
                step(request, self)
        if self.query_check is not None:
            self.query_check(request, self.query_names)
        kwargs: Dict[str, Any] = {}
        refused: List[InvalidParameterError] = []  # every parameter's and the body's problems
        for reader in self.params:
            try:
                reader.read(request, kwargs)
            except InvalidParameterError as exc:
                refused.append(exc)
        args = []
        if self.body is not None:
            try:
                body = self.body.read(request)
            except PymError as exc:
                if not refused:
                    raise
                if isinstance(exc, InvalidParameterError):
                    refused.append(exc)
                body = None
            if self.form_kwargs:
                kwargs.update(_form_kwargs(self.body.form_fields, body))
            else:
                args.append(body)
        if refused:
            raise _together(refused)
        assert self.func is not None
        result = self.func(*args, **kwargs)
        if service is not None:
            for after in service.after_steps:
                result = after(request, self, result)
        return self.responses.build(result)  # type: ignore[union-attr]  # prepared above


def _check(api: ApiRuntime, key: str, schema: Any) -> Optional[Callable[[Any], Optional[str]]]:
    """The check of one schema, None when it accepts everything (such schemas have none)."""
    return None if accepts_everything(schema) else api.checks.get(key)


def _explainer(api: ApiRuntime, schema: Any, prefix: str, context: Optional[str] = None
               ) -> Optional[Explainer]:
    if accepts_everything(schema):
        return None
    from .schema_validator import REQUEST, Explainer

    return Explainer(schema, api.definitions, api.dialect, context or REQUEST, prefix)


def _together(refused: List[InvalidParameterError]) -> InvalidParameterError:
    """One 400 for the whole request: the first problem described, every one listed."""
    if len(refused) == 1:
        return refused[0]
    listed: List[Dict[str, str]] = []
    for exc in refused:
        listed += exc.problems or [{"field": "", "rule": "", "message": exc.description}]
    from .schema_validator import MAX_PROBLEMS

    first = refused[0]
    return InvalidParameterError(first.description, user_message=first.user_message,
                                 problems=listed[:MAX_PROBLEMS])


def _both(first: Any, second: Callable[[Any], Optional[str]]) -> Callable[[Any], Optional[str]]:
    if first is None:
        return second
    return lambda value: first(value) or second(value)


def _form_kwargs(fields: List[CompiledParameter], body: Any) -> Dict[str, Any]:
    data = body if body is not None else {}  # a Model (item access: every property) or a dict
    return {f["pyname"]: data[f["name"]] for f in fields if f["name"] in data}
