"""Each function's IAM role and timeout, as settings Chalice understands.

Chalice creates one role per function when a function's `autogen_policy` is false and its
`iam_policy_file` names the policy. deploy and package set both, for every function whose role
Chalice manages, in the `stages.<stage>.lambda_functions` section of the config Chalice is
given (a copy: .chalice/config.json is not changed). The policy files are written in a
temporary folder, just before Chalice reads them, with the statements of permissions.py plus:

- what Chalice would have granted for app.py's own AWS calls (its source analyser), and for
  VPC access and X-Ray when the stage configures them;
- the user's own statements: the function's `iam_policy_file`, else `.chalice/policy-<stage>.json`,
  when the project has one.

A function given a role (`manage_iam_role: false` and `iam_role_arn`) is left alone: the plan
says what that role must allow.

The API function's timeout is held to API Gateway's 29 s: a longer one keeps a Lambda busy
after API Gateway has answered 504.
"""
from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ..tasks.queues import QueueDefinition
from .errors import DeployError
from .permissions import Arns, StageAccess, api_statements, policy_text, worker_statements

API_HANDLER = "api_handler"  # Chalice's resource name for the REST API's function
API_GATEWAY_TIMEOUT = 29  # seconds: API Gateway's integration timeout for REST APIs


@dataclass(frozen=True)
class FunctionSettings:
    """What deploy sets for one function in Chalice's config (None: left as configured)."""
    resource_name: str
    policy_file: Optional[Path]  # None: the role is the user's (manage_iam_role: false)
    timeout: Optional[int] = None


def api_timeout(configured: Optional[int]) -> Tuple[int, Optional[str]]:
    """The API function's timeout, and a note when the configured one was longer."""
    if configured is None:
        return API_GATEWAY_TIMEOUT, None  # not Chalice's default of 60 s
    if configured <= API_GATEWAY_TIMEOUT:
        return configured, None
    return API_GATEWAY_TIMEOUT, (
        f"API function timeout {API_GATEWAY_TIMEOUT} s, not the configured {configured} s: "
        f"API Gateway answers 504 after {API_GATEWAY_TIMEOUT} s (the other functions keep it)")


def with_function_settings(disk: Mapping[str, Any], stage: str,
                           settings: Sequence[FunctionSettings]) -> Dict[str, Any]:
    """A copy of .chalice/config.json's content with `settings` in the stage's
    lambda_functions section, which Chalice reads before anything else for a function."""
    config = copy.deepcopy(dict(disk))
    section = config.setdefault("stages", {}).setdefault(stage, {})
    functions = section.setdefault("lambda_functions", {})
    for item in settings:
        entry = functions.setdefault(item.resource_name, {})
        if item.policy_file is not None:
            entry["autogen_policy"] = False
            entry["iam_policy_file"] = str(item.policy_file)  # absolute: Chalice joins it as is
        if item.timeout is not None:
            entry["lambda_timeout"] = item.timeout
    return config


def with_xray(disk: Mapping[str, Any], stage: str) -> Dict[str, Any]:
    """A copy of .chalice/config.json's content with X-Ray on for the stage."""
    config = copy.deepcopy(dict(disk))
    config.setdefault("stages", {}).setdefault(stage, {})["xray"] = True
    return config


def user_policy_file(project_dir: Path, stage: str, disk: Mapping[str, Any],
                     resource_name: str) -> Optional[Path]:
    """The policy file the user gave this function, if any (Chalice's lookup order)."""
    stage_section = (disk.get("stages") or {}).get(stage) or {}
    for section in (((stage_section.get("lambda_functions") or {}).get(resource_name) or {}),
                    stage_section,
                    ((disk.get("lambda_functions") or {}).get(resource_name) or {}), disk):
        if section.get("iam_policy_file"):
            return project_dir / ".chalice" / str(section["iam_policy_file"])
    default = project_dir / ".chalice" / f"policy-{stage}.json"
    return default if default.is_file() else None


def read_statements(path: Path) -> List[Dict[str, Any]]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DeployError("build", f"cannot read the IAM policy file {path}: {exc}") from None
    except ValueError as exc:
        raise DeployError("build", f"{path} is not valid JSON: {exc}") from None
    statements = document.get("Statement") if isinstance(document, dict) else None
    if not isinstance(statements, list):
        raise DeployError("build", f"{path}: no Statement list (an IAM policy document)")
    return [s if isinstance(s, dict) else {} for s in statements]


def app_statements(project_dir: Path, config: Any) -> List[Dict[str, Any]]:
    """What Chalice's own policy would grant besides logs: app.py's AWS calls, VPC, X-Ray."""
    from chalice.constants import VPC_ATTACH_POLICY, XRAY_POLICY
    from chalice.policy import policy_from_source_code

    source = (project_dir / "app.py").read_text(encoding="utf-8")
    statements = list(policy_from_source_code(source).get("Statement") or [])
    if config.subnet_ids and config.security_group_ids:
        statements.append(copy.deepcopy(VPC_ATTACH_POLICY))
    if config.xray_enabled:
        statements.append(copy.deepcopy(XRAY_POLICY))
    return statements


def function_statements(access: StageAccess, arns: Arns, function_name: str,
                        queue: Optional[QueueDefinition]) -> List[Dict[str, Any]]:
    if queue is not None:
        return worker_statements(access, arns, function_name, queue)
    return api_statements(access, arns, function_name)


def write_policy(path: Path, statements: Sequence[Dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(policy_text(statements), encoding="utf-8")
    os.replace(tmp, path)
