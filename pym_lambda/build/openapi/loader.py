"""Read spec files: YAML/JSON text, dialect detection, local `$ref` lookup.

Plain data in, plain data out: no Chalice, no AWS, no validation libraries.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List

from ...errors import SpecError

SWAGGER2 = "swagger2"
OAS30 = "oas30"
OAS31 = "oas31"

SPEC_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class RawSpec:
    name: str  # the file stem: the api's name, e.g. "petstore"
    file: str  # path as given, used in every error message
    dialect: str  # SWAGGER2, OAS30 or OAS31
    doc: Dict[str, Any]


def find_spec_files(apis_dir: Path) -> List[Path]:
    if not apis_dir.is_dir():
        return []
    return sorted(p for p in apis_dir.iterdir()
                  if p.suffix in SPEC_SUFFIXES and p.is_file() and not p.name.startswith("."))


def _yaml_load(text: str, file: str) -> Any:
    import yaml  # only at build/compile time, never on a precompiled cold start

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(f"not valid YAML{where}: {problem}", spec_file=file) from None


def load_spec(path: Path, display_name: str = "") -> RawSpec:
    file = display_name or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot be read: {exc}", spec_file=file) from None
    if path.suffix == ".json":
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise SpecError(f"not valid JSON: {exc}", spec_file=file) from None
    else:
        doc = _yaml_load(text, file)
    if not isinstance(doc, dict):
        raise SpecError("the document must be a mapping (swagger: '2.0' or openapi: 3.x)",
                        spec_file=file)
    return RawSpec(name=path.stem, file=file, dialect=detect_dialect(doc, file), doc=doc)


def detect_dialect(doc: Dict[str, Any], file: str) -> str:
    if "swagger" in doc:
        if str(doc["swagger"]) != "2.0":
            raise SpecError(f"unsupported swagger version {doc['swagger']!r} (only '2.0')",
                            spec_file=file)
        return SWAGGER2
    version = str(doc.get("openapi", ""))
    if re.match(r"^3\.0(\.\d+)?$", version):
        return OAS30
    if re.match(r"^3\.1(\.\d+)?$", version):
        return OAS31
    if version:
        raise SpecError(f"unsupported openapi version {version!r} (3.0.x or 3.1.x)", spec_file=file)
    raise SpecError("neither 'swagger: \"2.0\"' nor 'openapi: 3.x' at the top", spec_file=file)


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def escape_pointer_token(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def pointer_tokens(ref: str) -> List[str]:
    """'#/components/schemas/Pet' -> ['components', 'schemas', 'Pet']."""
    if not ref.startswith("#"):
        raise KeyError(ref)
    fragment = ref[1:]
    if fragment in ("", "/"):
        return []
    if not fragment.startswith("/"):
        raise KeyError(ref)
    from urllib.parse import unquote

    return [_unescape(unquote(t)) for t in fragment[1:].split("/")]


def resolve_pointer(doc: Any, ref: str) -> Any:
    """Follow a local JSON pointer; KeyError when it leads nowhere."""
    node = doc
    for token in pointer_tokens(ref):
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise KeyError(ref)
    return node


def is_local_ref(ref: Any) -> bool:
    return isinstance(ref, str) and ref.startswith("#")
