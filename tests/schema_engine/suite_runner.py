"""Runs the JSON Schema Test Suite's cases through SchemaEngine: the remotes served from a dict
(no network), the meta-schemas from the jsonschema-specifications package when installed."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

from pym_lambda.schema_engine import SchemaEngine

REMOTE = "http://localhost:1234/"
DIALECTS = {"draft4": "oas30", "draft2020-12": "oas31"}


def remotes(folder: Path) -> Dict[str, Any]:
    """Every remote document by the URL the suite gives it, plus the meta-schemas."""
    documents: Dict[str, Any] = {}
    root = folder / "remotes"
    for path in sorted(root.rglob("*.json")):
        documents[REMOTE + path.relative_to(root).as_posix()] = json.loads(path.read_text())
    try:
        from jsonschema_specifications import REGISTRY
    except ImportError:
        return documents
    for uri in REGISTRY:
        documents[uri.rstrip("#")] = REGISTRY.contents(uri)
    return documents


def cases(folder: Path, draft: str) -> Iterator[Tuple[str, Dict[str, Any]]]:
    """(file name, case) of every required test file of a draft."""
    for path in sorted((folder / "tests" / draft).glob("*.json")):
        for case in json.loads(path.read_text()):
            yield path.name, case


def failures(case: Dict[str, Any], dialect: str, documents: Dict[str, Any]) -> List[str]:
    """The descriptions of the case's tests the engine answers wrongly."""
    engine = SchemaEngine(case["schema"], {}, dialect, "request", documents=documents)
    wrong = []
    for test in case["tests"]:
        if engine.is_valid(test["data"]) != test["valid"]:
            wrong.append(test["description"])
        elif bool(engine.problems(test["data"])) == test["valid"]:
            wrong.append(test["description"] + " (problems() disagrees with is_valid())")
    return wrong
