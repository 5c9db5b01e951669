"""The compiled form's shape and version: the contract between the build and the runtime.

The build (pym_lambda.build.openapi.compiler, build/compiled_form.py) writes this document to
chalicelib/pym_compiled.json; the runtime reads it (project_files.read_compiled) and serves from
it. These TypedDicts (records.Shape) describe it exactly as the compiler emits it, for the type
checker: at run time the documents are plain dicts, and the classes keep their annotations as
written (typing.get_type_hints() reads them), so nothing here costs a cold start more than this
import.
The build may import this module; it imports nothing of the build.

`COMPILED_FORMAT` changes whenever the shape does: the runtime refuses a document of another
format (check_format) and the build's cache recompiles one (compile_or_reuse).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from ..records import Shape

try:
    from typing import NotRequired  # Python 3.11+ (typing.get_type_hints then reads the types)
except ImportError:  # pragma: no cover - Python 3.10: annotations stay strings, never evaluated
    pass

# 2: operations carry route, unserved, warnings; 3: schemas stored apart as written
# (runtime/stored_schemas.py)
COMPILED_FORMAT = 3

# A JSON Schema as the spec wrote it, its $refs normalised (open-ended by nature: a dict).
Schema = Dict[str, Any]
# A security scheme object, copied from the spec (`type`, `in`, `name`, `scheme`...).
SecurityScheme = Dict[str, Any]
# One alternative of an operation's `security`: scheme name -> scopes; `{}` means optional.
SecurityRequirement = Dict[str, List[str]]

# "in" is a keyword: the functional form.
CompiledParameter = Shape("CompiledParameter", {
    "name": str,
    "in": str,  # path, query, header or cookie (Swagger 2 formData fields read as query)
    "pyname": str,  # the keyword argument of the bound function
    "required": bool,
    "schema": Schema,
    "style": str,
    "explode": bool,
    "content_type": Optional[str],  # OpenAPI 3 `content:` parameters (JSON in a query string)
})


class CompiledBody(Shape):
    required: bool
    form_fields: List[CompiledParameter]  # Swagger 2 formData: one keyword argument each
    content: Dict[str, Schema]  # content type -> schema


class CompiledResponse(Shape):
    content: Dict[str, Optional[Schema]]  # content type -> schema, None when it declares none


class CompiledOperation(Shape):
    api: str  # the CompiledApi's name
    id: str  # operationId, else "<method>_<spec path>"
    operation_id: Optional[str]
    method: str  # upper case
    spec_path: str  # as written in the spec
    path: str  # base path + spec path, the operation's own parameter names
    # The Chalice route serving it: its path shape, named by the first operation there
    # (compiler.assign_routes); "" when no path reaches it (a duplicate, an unroutable key).
    route: NotRequired[str]
    unserved: NotRequired[str]  # why it cannot be served: it answers 501 (error if bound)
    warnings: NotRequired[List[str]]  # what `validate` prints and the load logs
    bind: Optional[str]  # x-bind-server
    decorate: List[str]  # x-decorate-server
    params: List[CompiledParameter]
    body: Optional[CompiledBody]
    responses: Dict[str, CompiledResponse]  # status ("200", "default") -> response
    security: List[SecurityRequirement]
    summary: str
    bind_client: NotRequired[str]  # x-bind-client: the client method's name
    decorate_request: NotRequired[str]  # x-decorate-request: module.function
    idempotent: NotRequired[bool]  # x-idempotent: true (runtime/idempotency.py)


class CompiledApi(Shape):
    name: str
    file: str  # the spec file, relative to the project
    dialect: str  # the spec's dialect (loader.SWAGGER2, OAS30, OAS31)
    schema_dialect: str  # the validator's dialect
    title: str
    version: str
    definitions: Dict[str, Schema]  # named schemas: the models
    security_schemes: Dict[str, SecurityScheme]
    operations: List[CompiledOperation]
    bind_client: NotRequired[str]  # x-bind-client: a service this one calls, not served
    client_url: NotRequired[str]  # the spec's own server origin
    warnings: NotRequired[List[str]]  # about the spec as a whole (a repeated enum value)
    base_path_dropped: NotRequired[bool]  # served without its basePath (serve_base_path)


class CompiledDocument(Shape):
    format: int  # COMPILED_FORMAT
    apis: List[CompiledApi]
    fingerprint: NotRequired[str]  # specs and framework version (build.compiled_form)
    config: NotRequired[Dict[str, Any]]  # pym-config.yaml as parsed (the package has no copy)
    app_name: NotRequired[str]  # written by deploy: the package has no .chalice/config.json


def format_problem(document: object) -> Optional[str]:
    """Why a compiled document cannot be served by this runtime, or None when it can."""
    found = document.get("format") if isinstance(document, dict) else None
    if found == COMPILED_FORMAT:
        return None
    if not isinstance(document, dict) or not isinstance(document.get("apis"), list):
        return "not a compiled form"
    return f"compiled form format {found!r}, this pym-lambda reads format {COMPILED_FORMAT}"
