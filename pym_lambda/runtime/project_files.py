"""What the runtime reads of a project's folder: where it is, the app's name, the compiled form.

In the Lambda package the compiled form is `chalicelib/pym_compiled.json`, written by the build
(pym_lambda.build.compiled_form): `apis/` is not shipped (Chalice packages only app.py,
chalicelib/ and vendor/), so that file is all there is, and YAML is never parsed at a cold
start.

What runs at a cold start uses os.path, not pathlib: importing pathlib costs ~3 ms there.
"""
from __future__ import annotations

import json
import os
from typing import Optional, Union, cast

from ..config.environment import runtime_environment
from ..errors import SpecError, SpecErrors
from .compiled_types import CompiledDocument, format_problem
from .stored_schemas import restore

COMPILED_FILE = "pym_compiled.json"  # under chalicelib/
APIS_DIR = "apis"


def project_root(project: Union[str, os.PathLike[str]]) -> str:
    path = os.path.realpath(project)
    return os.path.dirname(path) if os.path.isfile(path) else path


def has_specs(project: Union[str, os.PathLike[str]]) -> bool:
    """True in a project tree (local runs, tests), False in a Lambda package."""
    return os.path.isdir(os.path.join(project, APIS_DIR))


def read_compiled(project: Union[str, os.PathLike[str]]) -> CompiledDocument:
    """chalicelib/pym_compiled.json as the build wrote it; SpecErrors when it is missing or
    written by a pym-lambda of another compiled format."""
    path = os.path.join(project, "chalicelib", COMPILED_FILE)
    try:
        with open(path, encoding="utf-8") as f:
            document = json.loads(f.read())
    except FileNotFoundError:
        raise SpecErrors([SpecError(f"no {APIS_DIR}/ folder and no chalicelib/{COMPILED_FILE} "
                                    f"in {project}")]) from None
    except ValueError:
        document = None  # not JSON: format_problem says it is no compiled form
    problem = format_problem(document)
    if problem:
        raise SpecErrors([SpecError(
            f"{problem}: rebuild it (`pym-lambda build`, `package` or `deploy`), or delete it "
            f"beside apis/ to have it compiled again", spec_file=path)])
    restore(document, os.path.dirname(path))  # the named schemas, read at first use
    return cast(CompiledDocument, document)


def read_app_name(project_dir: Union[str, os.PathLike[str]],
                  compiled: Optional[CompiledDocument] = None) -> str:
    """The app's name: PYM_APP_NAME (deploy sets it on every function), else
    .chalice/config.json's app_name, else the one the build wrote into the compiled form (the
    Lambda package has no .chalice/), else the folder's name. Task queues are named after it."""
    name = runtime_environment().app_name
    if not name:
        try:
            with open(os.path.join(project_dir, ".chalice", "config.json"),
                      encoding="utf-8") as f:
                name = json.loads(f.read()).get("app_name")
        except (OSError, ValueError):
            name = None
    return str(name or (compiled.get("app_name") if compiled else None)
               or os.path.basename(os.path.realpath(project_dir)))
