"""create_app(): a project's specs -> a Chalice app with every operation routed.

The compiled form comes from `apis/*.yaml` when the folder is there (local runs, tests), or from
`chalicelib/pym_compiled.json` written at build time (the Lambda package, where `apis/` is not
shipped: Chalice packages only app.py, chalicelib/ and vendor/).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from chalice.app import Chalice

from ..errors import SpecError, SpecErrors
from . import builtins
from .bindings import bind_operation
from .models import models
from .operation import ApiRuntime, BoundOperation
from .router import Dispatcher, register_routes

COMPILED_FILE = "pym_compiled.json"


def project_root(project: Union[str, Path]) -> Path:
    path = Path(project).resolve()
    return path.parent if path.is_file() else path


def read_app_name(project_dir: Path) -> str:
    config = project_dir / ".chalice" / "config.json"
    try:
        name = json.loads(config.read_text()).get("app_name")
    except (OSError, ValueError):
        name = None
    return str(name or project_dir.name)


def load_compiled(project_dir: Path) -> Dict[str, Any]:
    apis_dir = project_dir / "apis"
    if apis_dir.is_dir():
        from ..spec.compiler import compile_apis_dir  # build-time code: only when compiling

        return compile_apis_dir(apis_dir, project_dir)
    prebuilt = project_dir / "chalicelib" / COMPILED_FILE
    if prebuilt.is_file():
        return dict(json.loads(prebuilt.read_text(encoding="utf-8")))
    raise SpecErrors([SpecError(f"no apis/ folder and no chalicelib/{COMPILED_FILE} in "
                                f"{project_dir}")])


def bind_operations(compiled: Dict[str, Any]) -> List[BoundOperation]:
    """Every operation bound to its function; SpecErrors listing every binding problem."""
    problems: List[SpecError] = []
    bound: List[BoundOperation] = []
    for api in compiled["apis"]:
        runtime = ApiRuntime(api)
        if api["name"] != "pym":
            models.register(api["name"], runtime.models.classes)
        for op in api["operations"]:
            try:
                func, _target = bind_operation(op, api["file"])
            except SpecError as exc:
                problems.append(exc)
                continue
            bound.append(BoundOperation(op, runtime, func))
    if problems:
        raise SpecErrors(problems)
    return bound


def register_apis(app: Chalice, project: Union[str, Path],
                  compiled: Optional[Dict[str, Any]] = None,
                  version: str = "") -> List[BoundOperation]:
    """Route every operation of the project's specs (and /ping, /version) on `app`."""
    project_dir = project_root(project)
    if str(project_dir) not in sys.path:
        sys.path.insert(0, str(project_dir))  # so that x-bind-server can import chalicelib
    compiled = compiled or load_compiled(project_dir)
    taken = [op["path"] for api in compiled["apis"] for op in api["operations"]]
    apis = list(compiled["apis"]) + [builtins.builtin_api(taken)]
    builtins.set_service_info(app.app_name, version or _version(compiled),
                              [a["name"] for a in compiled["apis"]])
    operations = bind_operations({"apis": apis})
    _patch_chalice_local()
    register_routes(app, operations, Dispatcher(app, debug=app.debug))
    return operations


def create_app(project: Union[str, Path], *, app_name: Optional[str] = None,
               debug: bool = False, version: str = "") -> Chalice:
    """The Chalice app of a project: `app = create_app(__file__)` in app.py."""
    project_dir = project_root(project)
    app = Chalice(app_name=app_name or read_app_name(project_dir), debug=debug)
    register_apis(app, project_dir, version=version)
    return app


def _version(compiled: Dict[str, Any]) -> str:
    import os

    return os.environ.get("PYM_VERSION") or next(
        (a.get("version", "") for a in compiled["apis"] if a.get("version")), "0.0.0")


def _patch_chalice_local() -> None:
    # Only under `chalice local` and chalice.test (they import chalice.local before app.py).
    if "chalice.local" in sys.modules:
        from .local_compat import patch_greedy_routes

        patch_greedy_routes()
