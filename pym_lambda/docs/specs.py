"""The text of each API's spec, for GET /doc/<api>.yaml and /doc/<api>.json.

Read from `apis/` when it is there (local runs, tests); the Lambda package has no `apis/`
(Chalice ships only app.py, chalicelib/ and vendor/), so the build copies the files into
`chalicelib/pym_apis/` whenever it writes the compiled form
(pym_lambda.build.compiled_form.publish_specs), and they are read from there.
Nothing is read at import (cold starts stay cheap): the first request reads, later ones hit
the in-memory cache.
"""
from __future__ import annotations

import json
import os
import re
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

from ..runtime.compiled_types import CompiledApi, CompiledDocument

PUBLISHED_DIR = "pym_apis"  # under chalicelib/
YAML_TYPE = "application/yaml"  # RFC 9512
JSON_TYPE = "application/json"
FORMATS = {"yaml": YAML_TYPE, "json": JSON_TYPE}


class SpecTexts:
    """Spec file name per API; texts read on first use and kept, converted on demand."""

    def __init__(self, project_dir: Union[str, os.PathLike[str]], files: Dict[str, str],
                 without_base: Iterable[str] = ()) -> None:
        self.project_dir = os.fspath(project_dir)  # os.path: no pathlib import at cold start
        self.files = dict(files)  # api name -> file name ("library.yaml")
        # APIs served without their base path (serve_base_path: false): their text says so,
        # so that the page's requests go where the routes are.
        self.without_base = frozenset(without_base)
        self._cache: Dict[Tuple[str, str], str] = {}

    @classmethod
    def from_compiled(cls, project_dir: Union[str, os.PathLike[str]], compiled: CompiledDocument
                      ) -> SpecTexts:
        apis = served_apis(compiled)
        return cls(project_dir, {api["name"]: os.path.basename(api["file"]) for api in apis},
                   [api["name"] for api in apis if api.get("base_path_dropped")])

    def names(self) -> List[str]:
        return list(self.files)

    def source_format(self, api: str) -> str:
        return "json" if self.files[api].endswith(".json") else "yaml"

    def text(self, api: str, fmt: str) -> Optional[str]:
        """The spec of `api` as `fmt` ("yaml" or "json"); None when the file cannot be found."""
        if api not in self.files or fmt not in FORMATS:
            return None
        key = (api, fmt)
        if key not in self._cache:
            original = self._read(self.files[api])
            if original is None:
                return None
            if api in self.without_base:
                self._cache[key] = _without_base_path(original, self.source_format(api), fmt)
            else:
                self._cache[key] = original if fmt == self.source_format(api) else _convert(
                    original, fmt)
        return self._cache[key]

    def _read(self, file_name: str) -> Optional[str]:
        apis_dir = os.path.join(self.project_dir, "apis")
        folder = apis_dir if os.path.isdir(apis_dir) else os.path.join(
            self.project_dir, "chalicelib", PUBLISHED_DIR)
        try:
            with open(os.path.join(folder, file_name), encoding="utf-8") as f:
                return f.read()
        except (OSError, UnicodeDecodeError):
            return None


def served_apis(compiled: CompiledDocument) -> List[CompiledApi]:
    """The APIs this service serves: not the specs of other services it calls through a client
    (root `x-bind-client`), which are no part of its docs."""
    return [api for api in compiled["apis"] if not api.get("bind_client")]


def _convert(text: str, fmt: str) -> str:
    import yaml  # only when a converted copy is asked for, once per API and format

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    if fmt == "json":
        # default=str: YAML reads an unquoted 2024-01-31 as a date, JSON has no such type.
        return json.dumps(yaml.load(text, Loader=loader), indent=2, ensure_ascii=False,
                          default=str) + "\n"
    return str(yaml.safe_dump(json.loads(text), sort_keys=False, allow_unicode=True))


def _without_base_path(text: str, source: str, fmt: str) -> str:
    """The spec as `fmt`, its basePath (Swagger 2.0) or its servers' paths (OpenAPI 3) made
    "/", as the routes are."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    doc: Any = yaml.load(text, Loader=loader) if source == "yaml" else json.loads(text)
    if isinstance(doc, dict):
        if "basePath" in doc:
            doc["basePath"] = "/"
        for server in doc.get("servers") or []:
            if isinstance(server, dict) and isinstance(server.get("url"), str):
                server["url"] = re.sub(r"^((?:[a-zA-Z][a-zA-Z0-9+.-]*:)?//[^/]*)?.*$", r"\1/",
                                       server["url"])
    if fmt == "json":
        return json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n"
    return str(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
