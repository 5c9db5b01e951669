"""`pym-lambda validate`'s checks: every problem of every kind in one run, then what would
break only on AWS (shipping.py) as warnings, and the project code the package ships from
outside chalicelib/ as notes.

Each kind is checked on its own, so none hides another: the config (pym-config.yaml for the
stage), the specs (each problem; the operations that compiled go on), the bindings of the
operations that compiled (every x-bind-server, imported), and the spec warnings.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Optional

from .shipping import code_notes, project_code, source_warnings
from .stage_environment import stage_environment


@dataclass
class Report:
    errors: List[str] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    specs: int = 0
    operations: int = 0
    clients: List[str] = field(default_factory=list)


def validate_project(root: Path, stage: str) -> Report:
    from ..config import ConfigError
    from ..errors import SpecError, SpecErrors
    from ..runtime.app import bind_operations, load_service_settings
    from ..runtime.spec_warnings import compiled_warnings
    from .compiled_form import compile_project

    report = Report()
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    spec_errors: List[SpecError] = []
    compiled = compile_project(root, errors=spec_errors)
    settings: Optional[Any] = None
    try:
        settings = load_service_settings(root, compiled, stage=stage,
                                         environ=stage_environment(root, stage))
    except ConfigError as exc:
        report.errors += exc.problems  # every problem of the file, one line each
    report.errors += [str(e) for e in spec_errors]
    report.errors += unbuilt_binding_errors(spec_errors)
    report.warnings += compiled_warnings(compiled)  # duplicates, unroutable keys, renamed...
    served = [a for a in compiled["apis"] if not a.get("bind_client")]
    report.clients = [a["name"] for a in compiled["apis"] if a.get("bind_client")]
    report.specs = len(served)
    try:
        operations = bind_operations({"format": compiled["format"], "apis": served}, settings,
                                     warnings=report.warnings)
    except SpecErrors as exc:
        report.errors += [str(e) for e in exc.errors]
        operations = []
    for op in operations:  # those unserved were just named, with why
        if getattr(op.func, "__name__", "") == "not_implemented" and not op.op.get("unserved"):
            report.warnings.append(
                f"{op.api.file}: {op.method} {op.path}: operation {op.id} is bound to no "
                "function (served as 501 NOT_IMPLEMENTED)")
    report.operations = len(operations)
    code = project_code(root, binding_targets(compiled))
    report.warnings += source_warnings(root, code)
    report.notes += code_notes(root, code)
    return report


def unbuilt_binding_errors(spec_errors: List[Any]) -> List[str]:
    """The x-bind-server of each operation that did not compile, imported all the same: a
    broken $ref must not hide that its function is missing too."""
    from ..runtime.bindings import import_target

    problems = []
    for error in spec_errors:
        target = getattr(error, "bind", None)
        if not isinstance(target, str) or not target:
            continue
        where = str(error)[:-len(error.message)]  # "file: METHOD path: operation id: "
        try:
            import_target(target)
        except ImportError as exc:
            problems.append(f"{where}x-bind-server {target!r} cannot be bound: {exc}")
        except Exception as exc:  # the user's module raised while importing
            problems.append(f"{where}x-bind-server {target!r}: importing it raised "
                            f"{type(exc).__name__}: {exc}")
    return problems


def binding_targets(compiled: Any) -> List[str]:
    """Every x-bind-server of the served apis, and PyMacaron's x-parent and x-persist of
    their schemas ("module.name"): the code the runtime imports by name."""
    served = [api for api in compiled["apis"] if not api.get("bind_client")]
    return [op["bind"] for api in served for op in api.get("operations", [])
            if isinstance(op.get("bind"), str)] + [
        schema[key] for api in served for schema in (api.get("definitions") or {}).values()
        if isinstance(schema, dict) for key in ("x-parent", "x-persist")
        if isinstance(schema.get(key), str)]

