"""The endpoints every service has, as PyMacaron had them: GET /ping and GET /version.

Declared as compiled operations (plain data, no YAML to parse) and served by the same
pipeline as the user's operations. A spec that declares /ping or /version itself wins.
"""
from __future__ import annotations

import os
import sys
from typing import Any, Dict, List, Optional

from ..config.environment import runtime_environment
from ..version import __version__ as pym_version
from .compiled_types import CompiledApi, CompiledOperation, Schema, SecurityRequirement
from .service import current_service

VERSION_SCHEMA = {
    "type": "object",
    "required": ["name", "version"],
    "properties": {
        "name": {"type": "string"},
        "version": {"type": "string"},
        "apis": {"type": "array", "items": {"type": "string"}},
        "pym_env": {"type": "string"},
        "pym_lambda": {"type": "string"},
        "python": {"type": "string"},
        "runtime": {"type": "string"},
        "container": {"type": "string"},
    },
}


def set_service_info(name: str, version: str, apis: List[str]) -> None:
    """What /version tells of the current service."""
    current_service().info.update(name=name, version=version, apis=list(apis))


def runtime_kind() -> str:
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return "lambda"
    runtime = runtime_environment().runtime
    if runtime:
        return runtime
    return "chalice-local" if "chalice.local" in sys.modules else "python"


def _pym_env() -> str:
    env = runtime_environment()
    return env.env_name or env.stage or ""


def ping() -> Dict[str, Any]:
    return {}


def version() -> Dict[str, Any]:
    service = current_service()  # the request's app
    info = service.info
    answer = {"name": info["name"], "version": info["version"], "apis": info["apis"],
              "pym_env": _pym_env()}
    # A production stage (settings.production, true unless the stage says false) is public:
    # it tells an attacker nothing of the platform (which Python, framework, kernel).
    if not getattr(service.settings, "production", True):
        import platform  # 2 ms to import: paid by /version, not by every cold start

        answer.update(pym_lambda=pym_version, python=platform.python_version(),
                      runtime=runtime_kind(), container=os.environ.get(
                          "AWS_EXECUTION_ENV", platform.platform(terse=True)))
    if "container" in info:  # a PyMacaron service: its field, the deployed version
        answer["container"] = info["container"]
    return answer


def _operation(op_id: str, path: str, bind: str, schema: Schema,
               security: Optional[List[SecurityRequirement]] = None) -> CompiledOperation:
    return {
        "api": "pym", "id": op_id, "operation_id": op_id, "method": "GET", "spec_path": path,
        "path": path, "bind": bind, "decorate": [], "params": [], "body": None,
        "responses": {"200": {"content": {"application/json": schema}}},
        "security": security or [], "summary": "",
    }


def builtin_api(taken_paths: List[str], with_auth: bool = False) -> CompiledApi:
    """/ping, /version and, when the service verifies JWTs, /auth/version (as PyMacaron had)."""
    ops = [_operation("ping", "/ping", f"{__name__}.ping", {"type": "object"}),
           _operation("version", "/version", f"{__name__}.version", VERSION_SCHEMA)]
    if with_auth:
        ops.append(_operation("auth_version", "/auth/version", f"{__name__}.version",
                              VERSION_SCHEMA, security=[{"pym_bearer": []}]))
    return {
        "name": "pym", "file": "<pym_lambda built-ins>", "dialect": "oas30",
        "schema_dialect": "oas30", "title": "pym-lambda built-ins", "version": pym_version,
        "definitions": {}, "security_schemes": {"pym_bearer": {"type": "http",
                                                               "scheme": "bearer"}},
        "operations": [op for op in ops if op["path"] not in taken_paths],
    }
