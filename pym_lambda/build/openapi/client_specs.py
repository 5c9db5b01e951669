"""Client specs: the specs of services this one calls, compiled with their client markers.

`compile_client_specs` compiles each spec on its own (client specs are never routed here);
`mark_clients` adds the markers of spec files to an already compiled form. The markers
themselves (x-bind-client, x-decorate-request, the spec's server origin) are read by
client_markers.py.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, List, Tuple

from ...errors import SpecError, SpecErrors
from ...runtime.compiled_types import COMPILED_FORMAT, CompiledApi, CompiledDocument
from .client_markers import add_client_markers
from .compiler import compile_specs
from .loader import load_spec


def mark_clients(compiled: CompiledDocument, spec_files: Iterable[Path]) -> CompiledDocument:
    """Add the client extensions of each spec file to the compiled api of the same name."""
    by_name = {api["name"]: api for api in compiled["apis"]}
    for path in spec_files:
        api = by_name.get(Path(path).stem)
        if api is not None:
            add_client_markers(api, load_spec(Path(path), api.get("file", "")).doc)
    return compiled


def compile_client_specs(files: List[Tuple[Path, str]]) -> CompiledDocument:
    """Compile client specs (path, display name) with their markers; SpecErrors on problems.

    Each spec is compiled on its own: client specs are never routed here, so two of them
    may well both declare ``GET /ping``.
    """
    apis: List[CompiledApi] = []
    problems: List[SpecError] = []
    for path, display in files:
        try:
            compiled = compile_specs([(path, display)])
            mark_clients(compiled, [path])
        except SpecErrors as exc:
            problems.extend(exc.errors)
            continue
        except SpecError as exc:
            problems.append(exc)
            continue
        apis.extend(compiled["apis"])
    if problems:
        raise SpecErrors(problems)
    return {"format": COMPILED_FORMAT, "apis": apis}
