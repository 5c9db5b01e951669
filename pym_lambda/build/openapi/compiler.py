"""Specs -> a compiled service: plain, JSON-serialisable data describing every operation.

The compiled form is what the runtime serves from. It holds no Chalice object and no validator,
so it can be produced at build time and shipped as JSON (the Lambda then never parses YAML).
Every problem found is collected and reported at once, each naming file, path and operation.
"""
from __future__ import annotations

import keyword
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from ...errors import SpecError, SpecErrors
from ...runtime.compiled_types import (
    COMPILED_FORMAT,
    CompiledApi,
    CompiledBody,
    CompiledDocument,
    CompiledOperation,
    CompiledParameter,
    CompiledResponse,
    Schema,
    SecurityScheme,
)
from ...runtime.path_templates import Segment, UnroutablePath, parse_path
from ...runtime.route_candidates import route_of
from .client_markers import add_client_markers  # x-bind-client, x-decorate-request
from .enums import drop_repeated_enum_values  # a warning, not a refusal
from .loader import OAS31, SWAGGER2, RawSpec, find_spec_files, load_spec
from .metaschema import check_schema
from .patterns import check_patterns  # RE2 runs them: refuse what it cannot run
from .schemas import RefError, SchemaNormalizer, validator_class_name

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
PARAM_LOCATIONS = ("path", "query", "header", "cookie")

# Swagger 2 collectionFormat -> OpenAPI 3 (style, explode)
_COLLECTION_FORMATS = {
    "csv": ("form", False), "ssv": ("spaceDelimited", False), "tsv": ("tabDelimited", False),
    "pipes": ("pipeDelimited", False), "multi": ("form", True),
}
_SWAGGER2_SCHEMA_KEYS = ("type", "format", "items", "enum", "default", "minimum", "maximum",
                         "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
                         "pattern", "minItems", "maxItems", "uniqueItems", "multipleOf",
                         "x-nullable", "collectionFormat")
_PATH_PARAM = re.compile(r"{([^{}]+)}")


def python_name(name: str, location: str = "") -> str:
    """A parameter's keyword-argument name: 'X-Request-Id' -> 'x_request_id', 'from' -> 'from_'."""
    out = re.sub(r"\W", "_", name)
    if location == "header":
        out = out.lower()
    if not out or out[0].isdigit():
        out = "_" + out
    return out + "_" if keyword.iskeyword(out) else out


_LOCATION_ORDER = {"path": 0, "query": 1, "header": 2, "cookie": 3}


def rename_clashes(params: List[CompiledParameter], form_fields: List[CompiledParameter]
                   ) -> List[str]:
    """Parameters whose argument names clash (a path and a query parameter both `path`) get
    distinct ones: the first in the order path, query, header, cookie, form field (then spec
    order) keeps it, each other gets `_<location>` appended (`path_query`; `_form` for a form
    field), then a number if that is taken too. A warning names each renamed one."""
    warnings: List[str] = []
    taken: Dict[str, CompiledParameter] = {}
    ordered = sorted(params, key=lambda p: _LOCATION_ORDER.get(p["in"], 4))
    form_ids = {id(f) for f in form_fields}
    for p in ordered + form_fields:
        name = p["pyname"]
        if name in taken:
            location = "form" if id(p) in form_ids else p["in"]
            renamed, count = f"{name}_{location}", 2
            while renamed in taken:
                renamed, count = f"{name}_{location}{count}", count + 1
            other = taken[name]
            warnings.append(
                f"{location} parameter {p['name']!r} and {other['in']} parameter "
                f"{other['name']!r} both make the argument {name!r}: the {location} one is "
                f"passed as {renamed!r}")
            p["pyname"] = name = renamed
        taken[name] = p
    return warnings


def base_path(spec: RawSpec) -> str:
    if spec.dialect == SWAGGER2:
        path = str(spec.doc.get("basePath") or "")
    else:
        servers = spec.doc.get("servers") or []
        first = servers[0] if servers and isinstance(servers[0], dict) else {}
        url = str(first.get("url", ""))
        for name, var in (first.get("variables") or {}).items():
            if isinstance(var, dict):
                url = url.replace("{" + name + "}", str(var.get("default", "")))
        path = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/]*", "", url)
    path = "/" + path.strip("/") if path.strip("/") else ""
    return path


def route_path(base: str, path: str) -> str:
    full = (base + "/" + path.strip("/")) if path.strip("/") else (base or "/")
    return full if full == "/" else full.rstrip("/")


class _OperationCompiler:
    def __init__(self, spec: RawSpec, norm: SchemaNormalizer, errors: List[SpecError]) -> None:
        self.spec = spec
        self.doc = spec.doc
        self.norm = norm
        self.errors = errors
        self.dialect = spec.dialect
        self.op: Dict[str, Any] = {}  # the operation being compiled (its consumes/produces)

    def error(self, message: str, path: str = "", method: str = "", op: str = "") -> None:
        self.errors.append(SpecError(message, spec_file=self.spec.file, path=path,
                                     method=method, operation=op))

    def schema(self, schema: Any, where: str) -> Schema:
        normalized = self.norm.normalize(schema)
        problem = check_schema(normalized, self.dialect)
        if problem:
            raise RefError(f"{where}: invalid schema: {problem}")
        return normalized

    def operations(self, base: str) -> List[CompiledOperation]:
        paths = self.doc.get("paths") or {}
        if not isinstance(paths, dict):
            self.error("'paths' must be a mapping")
            return []
        out: List[CompiledOperation] = []
        for spec_path, item in paths.items():
            if not isinstance(item, dict):
                self.error("a path item must be a mapping", path=spec_path)
                continue
            if "$ref" in item:
                try:
                    item = self.norm.follow(item["$ref"])
                except RefError as exc:
                    self.error(str(exc), path=spec_path)
                    continue
            for method, op in item.items():
                if method in ("parameters", "summary", "description", "servers") or \
                        method.startswith("x-"):
                    continue
                if method not in HTTP_METHODS:
                    self.error(f"method {method!r} is not served (API Gateway routes "
                               f"{', '.join(m.upper() for m in HTTP_METHODS)})", path=spec_path)
                    continue
                if not isinstance(op, dict):
                    self.error("an operation must be a mapping", path=spec_path, method=method)
                    continue
                op_name = str(op.get("operationId") or f"{method}_{spec_path}")
                try:
                    out.append(self.operation(base, spec_path, method, op, item, op_name))
                except RefError as exc:
                    self.error(str(exc), path=spec_path, method=method, op=op_name)
                    # validate still checks the binding of an operation that did not compile
                    self.errors[-1].bind = op.get("x-bind-server")
        return out

    def operation(self, base: str, spec_path: str, method: str, op: Dict[str, Any],
                  item: Dict[str, Any], op_name: str) -> CompiledOperation:
        self.op = op
        params, body = self.parameters(item.get("parameters") or [], op.get("parameters") or [])
        if self.dialect != SWAGGER2 and op.get("requestBody") is not None:
            body = self.request_body(op["requestBody"])
        declared = {p["name"] for p in params if p["in"] == "path"}
        in_template = _PATH_PARAM.findall(spec_path)
        for name in declared - set(in_template):
            raise RefError(f"path parameter {name!r} is not in the path")
        for name in in_template:
            if name not in declared:  # lenient, as most tools are: an undeclared string
                params.append(self.param_entry(name, "path", True, {"type": "string"},
                                               "simple", False, None))
        warnings = rename_clashes(params, body["form_fields"] if body else [])
        warnings += [f"path parameter {p['name']!r}: its enum value '' cannot be sent (a path "
                     f"segment is never empty)" for p in params
                     if p["in"] == "path" and isinstance(p["schema"], dict)
                     and "" in (p["schema"].get("enum") or ())]  # PeerTube's "no filter"
        if not isinstance(op.get("x-idempotent", False), bool):
            warnings.append(f"x-idempotent is {op['x-idempotent']!r}, not true or false: "
                            "ignored (the operation is not idempotent)")
        bind = op.get("x-bind-server")
        decorate = op.get("x-decorate-server") or []
        security = op.get("security", self.doc.get("security"))
        compiled: CompiledOperation = {
            "api": self.spec.name,
            "id": op_name,
            "operation_id": op.get("operationId"),
            "method": method.upper(),
            "spec_path": spec_path,
            "path": route_path(base, spec_path),
            "bind": bind,
            "decorate": [decorate] if isinstance(decorate, str) else list(decorate),
            "params": params,
            "body": body,
            "responses": self.responses(op.get("responses") or {}, op),
            "security": security if isinstance(security, list) else [],
            "summary": op.get("summary", ""),
            **({"warnings": warnings} if warnings else {}),  # type: ignore[typeddict-item]
        }
        if op.get("x-idempotent") is True:  # an Idempotency-Key replays the first response
            compiled["idempotent"] = True
        return compiled

    # -- parameters --------------------------------------------------------------------------
    def param_entry(self, name: str, location: str, required: bool, schema: Any,
                    style: str, explode: bool, content_type: Optional[str]
                    ) -> CompiledParameter:
        return {"name": name, "in": location, "pyname": python_name(name, location),
                "required": bool(required), "schema": schema, "style": style,
                "explode": explode, "content_type": content_type}

    def parameters(self, path_level: List[Any], op_level: List[Any]
                   ) -> Tuple[List[CompiledParameter], Optional[CompiledBody]]:
        merged: Dict[Tuple[str, str], Dict[str, Any]] = {}
        for raw in list(path_level) + list(op_level):
            p = self.norm.follow(raw["$ref"]) if isinstance(raw, dict) and "$ref" in raw else raw
            if not isinstance(p, dict) or "name" not in p or "in" not in p:
                raise RefError("a parameter needs 'name' and 'in'")
            merged[(p["in"], p["name"])] = p  # operation level overrides path level
        params: List[CompiledParameter] = []
        body: Optional[CompiledBody] = None
        form: List[CompiledParameter] = []
        for (location, name), p in merged.items():
            where = f"parameter {name!r}"
            if location == "body" and self.dialect == SWAGGER2:
                body = {"required": bool(p.get("required")), "form_fields": [],
                        "content": {ct: self.schema(p.get("schema") or {}, where)
                                    for ct in self.consumes()}}
            elif location == "formData" and self.dialect == SWAGGER2:
                form.append(self.swagger2_param(p, where))
            elif location in PARAM_LOCATIONS:
                params.append(self.swagger2_param(p, where) if self.dialect == SWAGGER2
                              else self.oas3_param(p, where))
            else:
                raise RefError(f"{where}: unknown location 'in: {location}'")
        if form:
            cts = [ct for ct in self.consumes() if "form" in ct] or \
                ["application/x-www-form-urlencoded"]
            body = {"required": any(f["required"] for f in form), "form_fields": form,
                    "content": {ct: self.form_schema(form) for ct in cts}}
        return params, body

    def form_schema(self, fields: List[CompiledParameter]) -> Schema:
        return {"type": "object",
                "properties": {f["name"]: f["schema"] for f in fields},
                "required": [f["name"] for f in fields if f["required"]]}

    def consumes(self) -> List[str]:
        return list(self.op.get("consumes") or self.doc.get("consumes") or ["application/json"])

    def swagger2_param(self, p: Dict[str, Any], where: str) -> CompiledParameter:
        location = p["in"]
        raw = {k: v for k, v in p.items() if k in _SWAGGER2_SCHEMA_KEYS}
        style, explode = _COLLECTION_FORMATS.get(raw.pop("collectionFormat", "csv"),
                                                 ("form", False))
        if location == "path" or location == "header":
            style = "simple" if style == "form" else style
        schema = self.schema(raw, where)
        required = p.get("required", location == "path")
        return self.param_entry(p["name"], "query" if location == "formData" else location,
                                required, schema, style, explode, None)

    def oas3_param(self, p: Dict[str, Any], where: str) -> CompiledParameter:
        location = p["in"]
        content_type = None
        if "content" in p and isinstance(p["content"], dict) and p["content"]:
            content_type, media = next(iter(p["content"].items()))
            raw_schema = (media or {}).get("schema") or {}
        else:
            raw_schema = p.get("schema") or {}
        default_style = "form" if location in ("query", "cookie") else "simple"
        style = p.get("style", default_style)
        explode = p.get("explode", style == "form")
        return self.param_entry(p["name"], location, p.get("required", location == "path"),
                                self.schema(raw_schema, where), style, explode, content_type)

    def request_body(self, raw: Any) -> CompiledBody:
        rb = self.norm.follow(raw["$ref"]) if isinstance(raw, dict) and "$ref" in raw else raw
        if not isinstance(rb, dict) or not isinstance(rb.get("content"), dict):
            raise RefError("requestBody needs a 'content' mapping")
        content = {ct: self.schema((media or {}).get("schema") or {}, f"requestBody {ct}")
                   for ct, media in rb["content"].items()}
        return {"required": bool(rb.get("required")), "form_fields": [], "content": content}

    # -- responses ---------------------------------------------------------------------------
    def responses(self, raw: Dict[str, Any], op: Dict[str, Any]
                  ) -> Dict[str, CompiledResponse]:
        out: Dict[str, CompiledResponse] = {}
        for status, resp in raw.items():
            status = str(status)
            if isinstance(resp, dict) and "$ref" in resp:
                resp = self.norm.follow(resp["$ref"])
            if not isinstance(resp, dict):
                raise RefError(f"response {status}: must be a mapping")
            where = f"response {status}"
            if self.dialect == SWAGGER2:
                schema = resp.get("schema")
                cts = list(op.get("produces") or self.doc.get("produces") or ["application/json"])
                content = {ct: (self.schema(schema, where) if schema is not None else None)
                           for ct in cts} if schema is not None else {}
            else:
                content = {ct: (self.schema(m["schema"], f"{where} {ct}")
                                if isinstance(m, dict) and "schema" in m else None)
                           for ct, m in (resp.get("content") or {}).items()}
            out[status] = {"content": content}
        return out


def security_schemes(spec: RawSpec) -> Dict[str, SecurityScheme]:
    if spec.dialect == SWAGGER2:
        return dict(spec.doc.get("securityDefinitions") or {})
    return dict((spec.doc.get("components") or {}).get("securitySchemes") or {})


def compile_spec(spec: RawSpec, errors: List[SpecError],
                 serve_base_path: bool = True) -> CompiledApi:
    errors.extend(check_patterns(spec.doc, spec.file))
    warnings = drop_repeated_enum_values(spec.doc)  # before the schemas are normalised
    norm = SchemaNormalizer(spec)
    definitions: Dict[str, Schema] = {}
    try:
        definitions = norm.definitions()
    except RefError as exc:
        errors.append(SpecError(str(exc), spec_file=spec.file))
    for name, schema in definitions.items():
        problem = check_schema(schema, spec.dialect)
        if problem:
            errors.append(SpecError(f"schema {name!r}: invalid schema: {problem}",
                                    spec_file=spec.file))
    compiler = _OperationCompiler(spec, norm, errors)
    info: Dict[str, Any] = spec.doc["info"] if isinstance(spec.doc.get("info"), dict) else {}
    api: CompiledApi = {
        "name": spec.name,
        "file": spec.file,
        "dialect": spec.dialect,
        "schema_dialect": validator_class_name(spec.dialect),
        "title": info.get("title", spec.name),
        "version": str(info.get("version", "")),
        "definitions": definitions,
        "security_schemes": security_schemes(spec),
        # serve_base_path false: the path keys alone, as PyMacaron served them.
        "operations": compiler.operations(base_path(spec) if serve_base_path else ""),
        **({"warnings": warnings} if warnings else {}),  # type: ignore[typeddict-item]
    }
    if not serve_base_path and base_path(spec):
        api["base_path_dropped"] = True  # the docs serve the spec without it too
    try:
        add_client_markers(api, spec.doc)
    except SpecError as exc:
        errors.append(exc)
    return api


def route_warning(op: CompiledOperation, message: str) -> None:
    op.setdefault("warnings", []).append(message)


_ROUTE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")


def assign_routes(apis: List[CompiledApi]) -> None:
    """Give every served operation its Chalice route (`route`), one per path shape.

    API Gateway routes a shape once (`/orgs/{}/attestations/{}`), and allows one parameter
    name per level of its resource tree, whatever each operation names its parameters: each
    level takes the name of the first operation reaching it (spec order; `p<N>` for the N-th
    segment where that one is not a plain `{name}`), and each operation keeps its own
    (route_candidates maps them). An operation that cannot be served gets `unserved` (why) and
    a warning instead of refusing the spec: a duplicate (same method, same template) gets no
    route; a path key with `?` or `#` is routed on the path before it if that is free (it then
    answers 501); one that is not a path at all gets no route.
    """
    # The name of the parameter ending each path prefix: API Gateway allows one variable per
    # level of its resource tree (`/repos/{owner}/{repo}` and `/repos/{user}/{name}/pulls`
    # share `/repos/{owner}/{repo}`), so it is named once, by the first operation reaching it.
    level_names: Dict[Tuple[str, ...], str] = {}
    slots: Dict[Tuple[Tuple[str, ...], Tuple[str, ...], str], Tuple[str, CompiledOperation]] = {}
    late: List[Tuple[str, CompiledOperation, str, Optional[List[Segment]]]] = []

    def place(file: str, op: CompiledOperation, segments: List[Segment], fallback: bool) -> bool:
        shape = tuple(s.shape for s in segments)
        slot = (shape, tuple(s.template_shape for s in segments), op["method"])
        if slot in slots:
            if not fallback:
                other_file, other = slots[slot]
                op["unserved"] = (f"duplicate route: {other['method']} {other['path']} (operation "
                                  f"{other['id']}, {other_file}): that one is served")
                route_warning(op, op["unserved"])
            op["route"] = ""
            return False
        slots[slot] = (file, op)
        used: List[str] = []
        for index, seg in enumerate(segments):
            if seg.kind == "literal":
                continue
            prefix = shape[:index + 1]
            name = level_names.get(prefix, "")
            if not name or name in used:
                name = seg.parts[1] if seg.kind != "partial" else ""
                if not _ROUTE_NAME.fullmatch(name) or name in used:
                    name = f"p{index + 1}"
                level_names.setdefault(prefix, name)
            used.append(name)
        op["route"] = route_of(segments, used)
        return True

    for api in apis:
        if api.get("bind_client"):
            continue  # a spec of another service, called through a client: not served here
        for op in api["operations"]:
            try:
                segments = parse_path(op["path"])
            except UnroutablePath as exc:
                before = re.split(r"[?#]", op["path"], maxsplit=1)[0]
                try:
                    before_key: Optional[List[Segment]] = (
                        parse_path(before) if before != op["path"] else None)
                except UnroutablePath:
                    before_key = None
                late.append((api["file"], op, f"cannot be routed: {exc}", before_key))
                continue
            place(api["file"], op, segments, fallback=False)
    for file, op, reason, before_key in late:
        op["unserved"] = reason
        if before_key is None or not place(file, op, before_key, fallback=True):
            op["route"] = ""
            reason += " (no path reaches it)"
        else:
            reason += f" (answers 501 NOT_IMPLEMENTED on {op['route']})"
        route_warning(op, reason)


def compile_specs(files: List[Tuple[Path, str]],
                  errors: Optional[List[SpecError]] = None,
                  serve_base_path: bool = True) -> CompiledDocument:
    """Compile spec files (path, display name); raise SpecErrors listing every problem. Given
    an `errors` list, append the problems to it instead and return what compiled (validate
    checks the bindings of the rest). `serve_base_path` false: routes are the path keys
    without the spec's basePath."""
    collect = errors is not None
    errors = [] if errors is None else errors
    apis: List[CompiledApi] = []
    for path, display in files:
        try:
            spec = load_spec(path, display)
        except SpecError as exc:
            errors.append(exc)
            continue
        apis.append(compile_spec(spec, errors, serve_base_path))
    assign_routes(apis)
    if errors and not collect:
        raise SpecErrors(errors)
    return {"format": COMPILED_FORMAT, "apis": apis}


def compile_apis_dir(apis_dir: Path, project_dir: Optional[Path] = None,
                     errors: Optional[List[SpecError]] = None,
                     serve_base_path: bool = True) -> CompiledDocument:
    files = find_spec_files(apis_dir)
    if not files:
        problem = SpecError(f"no spec (*.yaml, *.yml, *.json) in {apis_dir}")
        if errors is None:
            raise SpecErrors([problem])
        errors.append(problem)
    root = project_dir or apis_dir.parent
    return compile_specs([(p, _display(p, root)) for p in files], errors, serve_base_path)


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


__all__ = ["compile_specs", "compile_apis_dir", "python_name", "OAS31", "COMPILED_FORMAT"]
