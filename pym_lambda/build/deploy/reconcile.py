"""Make Chalice's deployed state match what exists, before its deployer runs.

A failed `chalice deploy` records nothing, and a state file can be lost or stale. Chalice finds
functions and roles by name, but event source mappings and the REST API only through the
recorded state: without a record it creates them again, and the stage ends up with two
mappings on one queue (or two REST APIs). So, before each run (and before a delete):

- each task worker's mappings from its queue are listed; one is kept (the recorded one, else
  the first), recorded, and any other deleted;
- an unrecorded REST API whose integrations call the stage's API function is recorded.
"""
from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any, Dict, List, Optional

from ..tasks.settling import call_while_settling
from .chalice_project import AppGraph
from .inventory import MappingInfo, find_rest_api, function_arn, function_mappings

EMPTY_STATE: Dict[str, Any] = {"resources": [], "schema_version": "2.0", "backend": "api"}


def read_state(path: Path) -> Dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return json.loads(json.dumps(EMPTY_STATE))
    data.setdefault("resources", [])
    return dict(data)


def write_state(path: Path, data: Dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def recorded(data: Dict[str, Any], name: str) -> Optional[Dict[str, Any]]:
    return next((r for r in data["resources"] if r.get("name") == name), None)


def _set(data: Dict[str, Any], record: Dict[str, Any]) -> None:
    data["resources"] = [r for r in data["resources"] if r.get("name") != record["name"]]
    data["resources"].append(record)


def _keep(mappings: List[MappingInfo], recorded_uuid: Optional[str]) -> MappingInfo:
    for mapping in mappings:
        if mapping.uuid == recorded_uuid:
            return mapping
    with_failures = [m for m in mappings if "ReportBatchItemFailures" in m.response_types]
    return (with_failures or mappings)[0]


def reconcile_mappings(lam: Any, graph: AppGraph, data: Dict[str, Any]) -> List[str]:
    """One mapping per worker and queue, recorded in `data`; what was done, as messages."""
    done: List[str] = []
    for worker in graph.workers:
        name = f"{worker.resource_name}-sqs-event-source"
        mappings = [m for m in function_mappings(lam, worker.function_name)
                    if m.queue_name == worker.queue]
        if not mappings:
            continue
        record = recorded(data, name) or {}
        keep = _keep(mappings, record.get("event_uuid"))
        for extra in mappings:
            if extra.uuid != keep.uuid:
                call_while_settling(partial(lam.delete_event_source_mapping, UUID=extra.uuid),
                                    what=f"delete event source mapping {extra.uuid}")
                done.append(f"deleted duplicate mapping {extra.uuid} ({worker.queue} -> "
                            f"{worker.function_name})")
        if record.get("event_uuid") != keep.uuid:
            _set(data, {"name": name, "resource_type": "sqs_event",
                        "queue_arn": keep.queue_arn, "event_uuid": keep.uuid,
                        "queue": worker.queue, "lambda_arn": keep.function_arn})
            done.append(f"adopted unrecorded mapping {keep.uuid} ({worker.queue} -> "
                        f"{worker.function_name})")
    return done


def reconcile_rest_api(lam: Any, apigw: Any, graph: AppGraph, data: Dict[str, Any],
                       app_name: str, region: str) -> List[str]:
    api = graph.api_function
    if api is None or graph.rest_api_stage is None:
        return []
    record = recorded(data, "rest_api") or {}
    arn = function_arn(lam, api.function_name)
    if arn is None:
        return []  # no API function yet: no REST API can call it
    found = find_rest_api(apigw, app_name, arn, region, graph.rest_api_stage,
                          known_id=record.get("rest_api_id"))
    if found is None or found.id == record.get("rest_api_id"):
        return []
    _set(data, {"name": "rest_api", "resource_type": "rest_api", "rest_api_id": found.id,
                "rest_api_url": found.url})
    return [f"adopted unrecorded REST API {found.id}"]


def reconcile(clients: Any, graph: AppGraph, state_path: Path, app_name: str,
              region: str) -> List[str]:
    """Reconcile the state file at `state_path` with AWS; rewritten only if it changed."""
    data = read_state(state_path)
    done = reconcile_mappings(clients("lambda"), graph, data)
    done += reconcile_rest_api(clients("lambda"), clients("apigateway"), graph, data, app_name,
                               region)
    if any(m.startswith("adopted") for m in done):
        write_state(state_path, data)
    return done
