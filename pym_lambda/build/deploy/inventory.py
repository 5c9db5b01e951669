"""What exists in AWS for a stage, found by name and Chalice's tags, not by recorded state:
reported after a failure, shown in the summary, and used to adopt or delete what a failed
deploy left unrecorded.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from ..tasks.queues import is_sqs_arn
from .aws_access import ClientFactory


@dataclass(frozen=True)
class FunctionInfo:
    name: str
    arn: str
    handler: str
    code_sha256: str
    role_name: str = ""  # of its execution role


@dataclass(frozen=True)
class MappingInfo:
    uuid: str
    function_arn: str
    queue_arn: str
    response_types: Tuple[str, ...] = ()

    @property
    def queue_name(self) -> str:
        return self.queue_arn.rsplit(":", 1)[-1]

    @property
    def function_name(self) -> str:
        return self.function_arn.rsplit(":", 1)[-1]


@dataclass(frozen=True)
class RestApiInfo:
    id: str
    url: str
    stages: Tuple[str, ...] = ()


@dataclass(frozen=True)
class QueueInfo:
    name: str
    url: str
    attributes: Dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StageInventory:
    functions: Tuple[FunctionInfo, ...] = ()
    mappings: Tuple[MappingInfo, ...] = ()
    rest_api: Optional[RestApiInfo] = None
    roles: Tuple[str, ...] = ()
    queues: Tuple[QueueInfo, ...] = ()

    def lines(self) -> List[str]:
        out = [f"function {f.name} ({f.handler})" for f in self.functions]
        out += [f"event source mapping {m.uuid}: {m.queue_name} -> {m.function_name}"
                + (" (ReportBatchItemFailures)" if "ReportBatchItemFailures"
                   in m.response_types else "") for m in self.mappings]
        if self.rest_api:
            out.append(f"REST API {self.rest_api.id} ({self.rest_api.url})")
        out += [f"IAM role {role}" for role in self.roles]
        out += [f"queue {q.name}" for q in self.queues]
        return out or ["nothing"]


def _chalice_tag(app_name: str, stage: str) -> str:
    return f":stage={stage}:app={app_name}"


def stage_functions(lam: Any, app_name: str, stage: str) -> List[FunctionInfo]:
    """The stage's functions: named `<app>-<stage>[-<name>]` and tagged so by Chalice."""
    prefix = f"{app_name}-{stage}"
    found: List[FunctionInfo] = []
    for page in lam.get_paginator("list_functions").paginate():
        for fn in page.get("Functions", []):
            name = fn["FunctionName"]
            if name != prefix and not name.startswith(prefix + "-"):
                continue
            tags = lam.list_tags(Resource=fn["FunctionArn"]).get("Tags", {})
            if not str(tags.get("aws-chalice", "")).endswith(_chalice_tag(app_name, stage)):
                continue  # another stage whose name extends this one ("prod-eu")
            found.append(FunctionInfo(name, fn["FunctionArn"], fn.get("Handler", ""),
                                      fn.get("CodeSha256", ""),
                                      str(fn.get("Role", "")).rsplit("/", 1)[-1]))
    return sorted(found, key=lambda f: f.name)


def function_arn(lam: Any, function_name: str) -> Optional[str]:
    try:
        return str(lam.get_function(FunctionName=function_name)["Configuration"]["FunctionArn"])
    except Exception as exc:
        if "ResourceNotFound" in type(exc).__name__:
            return None
        raise


def function_mappings(lam: Any, function_name: str) -> List[MappingInfo]:
    """The function's SQS mappings. Listed by name and by ARN: AWS matches either, moto only
    the form the mapping was created with (Chalice uses the ARN)."""
    arn = function_arn(lam, function_name)
    if arn is None:
        return []
    found: Dict[str, MappingInfo] = {}
    for key in (function_name, arn):
        for page in lam.get_paginator("list_event_source_mappings").paginate(FunctionName=key):
            for m in page.get("EventSourceMappings", []):
                if is_sqs_arn(m.get("EventSourceArn")):
                    found[m["UUID"]] = MappingInfo(
                        m["UUID"], m["FunctionArn"], m["EventSourceArn"],
                        tuple(m.get("FunctionResponseTypes") or ()))
    return list(found.values())


def find_rest_api(apigw: Any, app_name: str, api_function_arn: str, region: str,
                  api_stage: str, known_id: Optional[str] = None) -> Optional[RestApiInfo]:
    """The REST API whose integrations call the stage's API function. Chalice names every
    stage's REST API after the app, so the name alone can't tell prod's from dev's."""
    candidates: List[str] = []
    if known_id:
        candidates.append(known_id)
    for page in apigw.get_paginator("get_rest_apis").paginate():
        candidates += [a["id"] for a in page.get("items", []) if a.get("name") == app_name]
    for api_id in dict.fromkeys(candidates):
        if _calls_function(apigw, api_id, api_function_arn):
            stages = tuple(s["stageName"] for s in
                           apigw.get_stages(restApiId=api_id).get("item", []))
            url = f"https://{api_id}.execute-api.{region}.amazonaws.com/{api_stage}/"
            return RestApiInfo(api_id, url, stages)
    return None


def _calls_function(apigw: Any, api_id: str, function_arn: str) -> bool:
    try:
        resources = apigw.get_resources(restApiId=api_id, limit=500).get("items", [])
    except Exception:
        return False  # deleted meanwhile, or not ours to read
    for resource in resources:
        for method in resource.get("resourceMethods") or {}:
            try:
                uri = apigw.get_integration(restApiId=api_id, resourceId=resource["id"],
                                            httpMethod=method).get("uri", "")
            except Exception:
                continue
            return f"functions/{function_arn}/invocations" in uri
    return False


def existing_queues(sqs: Any, names: Iterable[str]) -> List[QueueInfo]:
    from ...tasks.naming import is_missing_queue_error

    found: List[QueueInfo] = []
    for name in names:
        try:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except Exception as exc:
            if is_missing_queue_error(exc):
                continue
            raise
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
        found.append(QueueInfo(name, url, dict(attributes.get("Attributes", {}))))
    return found


def stage_roles(functions: Sequence[FunctionInfo], app_name: str, stage: str,
                known: Sequence[str] = ()) -> List[str]:
    prefix = f"{app_name}-{stage}"
    mine = [f.role_name for f in functions
            if f.role_name == prefix or f.role_name.startswith(prefix + "-")]
    return list(dict.fromkeys([*known, *mine]))


def delete_role(iam: Any, name: str) -> None:
    """A role and its policies, inline and attached (IAM refuses to delete it before)."""
    for policy in iam.list_role_policies(RoleName=name).get("PolicyNames", []):
        iam.delete_role_policy(RoleName=name, PolicyName=policy)
    for attached in iam.list_attached_role_policies(RoleName=name).get("AttachedPolicies", []):
        iam.detach_role_policy(RoleName=name, PolicyArn=attached["PolicyArn"])
    iam.delete_role(RoleName=name)


def role_exists(iam: Any, role_name: Optional[str]) -> bool:
    if not role_name:
        return False
    try:
        iam.get_role(RoleName=role_name)
        return True
    except Exception:
        return False


def stage_inventory(clients: ClientFactory, app_name: str, stage: str, region: str, *,
                    queue_names: Sequence[str] = (), api_stage: str = "api",
                    role_names: Sequence[str] = (),
                    rest_api_id: Optional[str] = None) -> StageInventory:
    """`role_names`: roles deploy manages or once managed (recorded, planned); the roles
    Chalice made for the stage's functions (named <app>-<stage>...) are found too."""
    lam = clients("lambda")
    functions = stage_functions(lam, app_name, stage)
    mappings = [m for f in functions for m in function_mappings(lam, f.name)]
    api_function = next((f for f in functions if f.name == f"{app_name}-{stage}"), None)
    rest_api = find_rest_api(clients("apigateway"), app_name, api_function.arn, region,
                             api_stage, rest_api_id) if api_function else None
    return StageInventory(
        functions=tuple(functions), mappings=tuple(mappings), rest_api=rest_api,
        roles=tuple(r for r in stage_roles(functions, app_name, stage, role_names)
                    if role_exists(clients("iam"), r)),
        queues=tuple(existing_queues(clients("sqs"), queue_names)))
