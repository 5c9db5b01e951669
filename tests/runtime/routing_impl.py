"""Bound by the specs of test_router.py: each returns what it was called with."""
from typing import Any, Dict, Optional


def attestations(org: str, subject_digest: str) -> Dict[str, Any]:
    return {"op": "list", "org": org, "subject_digest": subject_digest}


def delete_attestation(org: str, attestation_id: int) -> Dict[str, Any]:
    return {"op": "delete", "org": org, "attestation_id": attestation_id}


def proxy(namespace: str, path: str, path_query: Optional[str] = None) -> Dict[str, Any]:
    return {"namespace": namespace, "path": path, "path_query": path_query}


def proxy_without_query(namespace: str, path: str) -> Dict[str, Any]:
    return {"namespace": namespace, "path": path}


def item(id: str) -> Dict[str, Any]:
    return {"op": "item", "id": id}


def item_json(id: int) -> Dict[str, Any]:
    return {"op": "item_json", "id": id}


def compare(owner: str, base: str, head: str) -> Dict[str, Any]:
    return {"op": "compare", "owner": owner, "base": base, "head": head}


def generate(model: str) -> Dict[str, Any]:
    return {"op": "generate", "model": model}


def versioned(name: str, version: str) -> Dict[str, Any]:
    return {"op": "versioned", "name": name, "version": version}


def pulls(user: str, model: str) -> Dict[str, Any]:
    return {"op": "pulls", "user": user, "model": model}
