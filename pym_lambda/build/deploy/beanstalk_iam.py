"""The IAM of a Beanstalk stage: the instance profile its EC2 instances run as (and so the
container, through the instance metadata), and the service role Beanstalk itself uses.

- Instance profile `<app>-<stage>-beanstalk-ec2`, holding the role of the same name, trusted by
  ec2.amazonaws.com: AWS's managed AWSElasticBeanstalkWebTier (bundle and logs in the
  elasticbeanstalk-* buckets, CloudWatch Logs, X-Ray, enhanced health statistics: all that a
  single-container Docker environment whose image is built on the instance needs), plus an
  inline policy, `pym-lambda-container`, with `permissions.container_statements()`: the SQS
  rights of the web app and of the task worker on the stage's queue and DLQ ARNs only, and
  the stage's secrets and app.py's own calls (the same StageAccess the functions' roles get).
- Service role `<app>-beanstalk-service`, one per application (its stages share it), trusted by
  elasticbeanstalk.amazonaws.com: AWSElasticBeanstalkEnhancedHealth and
  AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy.

Either can be an existing one instead (`--instance-profile`, `--service-role`, or
`beanstalk_instance_profile` / `beanstalk_service_role` in .chalice/config.json, per stage or
at the top level): those are used as they are, never changed or deleted.

What deploy creates carries the tag `pym-lambda` (`<app>/<stage>`, or `<app>` for the service
role); `delete` removes only roles with that tag. Redeploying writes nothing when the roles
already match (the inline policy is compared, then put only when it differs).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ..tasks.queues import QueueDefinition
from .inventory import delete_role
from .permissions import Arns, StageAccess, container_statements, document, summary

TAG = "pym-lambda"
INLINE_POLICY = "pym-lambda-container"
INSTANCE_POLICIES = ("AWSElasticBeanstalkWebTier",)
SERVICE_POLICIES = ("service-role/AWSElasticBeanstalkEnhancedHealth",
                    "AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy")
CONFIG_KEYS = {"instance_profile": "beanstalk_instance_profile",
               "service_role": "beanstalk_service_role"}
CHALICE_CONFIG = Path(".chalice") / "config.json"
MAX_NAME = 64  # IAM role and instance profile names


def trust_policy(service: str, external_id: Optional[str] = None) -> Dict[str, Any]:
    statement: Dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": service},
                                 "Action": "sts:AssumeRole"}
    if external_id:  # what Beanstalk's own console role has: only Beanstalk's calls
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
    return {"Version": "2012-10-17", "Statement": [statement]}


INSTANCE_TRUST = trust_policy("ec2.amazonaws.com")
SERVICE_TRUST = trust_policy("elasticbeanstalk.amazonaws.com", "elasticbeanstalk")


def _iam_name(text: str) -> str:
    name = "".join(c if c.isalnum() or c in "+=,.@_-" else "-" for c in text)
    return name[:MAX_NAME]


def instance_profile_name(app_name: str, stage: str) -> str:
    return _iam_name(f"{app_name}-{stage}-beanstalk-ec2")


def service_role_name(app_name: str) -> str:
    return _iam_name(f"{app_name}-beanstalk-service")


def managed_policy_arn(partition: str, name: str) -> str:
    return f"arn:{partition}:iam::aws:policy/{name}"


@dataclass(frozen=True)
class BeanstalkRoles:
    """The names the environment is given, and which of them deploy manages."""
    instance_profile: str
    service_role: str
    own_profile: bool = True  # False: the user's, used as is
    own_service_role: bool = True
    profile_source: str = ""  # where a user-supplied name comes from (for the plan)
    service_role_source: str = ""
    app_name: str = ""
    stage: str = ""

    @property
    def profile_tag(self) -> str:
        return f"{self.app_name}/{self.stage}"

    @property
    def service_tag(self) -> str:
        return self.app_name


def configured_names(project_dir: Path, stage: str) -> Dict[str, str]:
    """`beanstalk_instance_profile` / `beanstalk_service_role` from .chalice/config.json (the
    stage's value first, then the top level's), as {"instance_profile": ..., ...}."""
    try:
        config = json.loads((project_dir / CHALICE_CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    section = (config.get("stages") or {}).get(stage) or {}
    found = {}
    for field, key in CONFIG_KEYS.items():
        value = section.get(key) or config.get(key)
        if value:
            found[field] = str(value)
    return found


def beanstalk_roles(project_dir: Path, app_name: str, stage: str,
                    instance_profile: Optional[str] = None,
                    service_role: Optional[str] = None) -> BeanstalkRoles:
    """The command line's names win over .chalice/config.json's; without either, deploy's."""
    configured = configured_names(project_dir, stage)

    def pick(field: str, given: Optional[str]) -> Tuple[Optional[str], str]:
        if given:
            return given, f"--{field.replace('_', '-')}"
        if field in configured:
            return configured[field], f"{CHALICE_CONFIG.as_posix()} {CONFIG_KEYS[field]}"
        return None, ""

    profile, profile_source = pick("instance_profile", instance_profile)
    role, role_source = pick("service_role", service_role)
    return BeanstalkRoles(
        instance_profile=profile or instance_profile_name(app_name, stage),
        service_role=role or service_role_name(app_name),
        own_profile=profile is None, own_service_role=role is None,
        profile_source=profile_source, service_role_source=role_source,
        app_name=app_name, stage=stage)


def container_policy(access: StageAccess, arns: Arns) -> List[Dict[str, Any]]:
    """The inline policy's statements: the container's rights on the stage's queues (and
    secrets, and app.py's own calls)."""
    return container_statements(access, arns)


def stage_access(queues: Sequence[QueueDefinition], access: Optional[StageAccess] = None
                 ) -> StageAccess:
    """The stage's access with the Beanstalk plan's queues (the same names as the functions',
    whose visibility follows the worker Lambdas' timeouts)."""
    base = access or StageAccess()
    return StageAccess(queues=tuple(queues), secrets=base.secrets, tables=base.tables,
                       extra=base.extra)


def describe_profile(roles: BeanstalkRoles, access: StageAccess) -> str:
    """The plan's line (no AWS call: the queue names stand for their ARNs)."""
    rights = summary(container_policy(access, Arns("<region>", "<account>")))
    if not roles.own_profile:
        return (f"instance profile {roles.instance_profile} (yours, from "
                f"{roles.profile_source}: used as is"
                + (f"; it must let the container {rights})" if rights else ")"))
    inline = (f"inline policy {INLINE_POLICY}: {rights}" if rights
              else "no inline policy (nothing to grant)")
    return (f"instance profile {roles.instance_profile}: create or update its role (trusted by "
            f"ec2.amazonaws.com): {', '.join(INSTANCE_POLICIES)}; {inline}")


def describe_service_role(roles: BeanstalkRoles) -> str:
    if not roles.own_service_role:
        return (f"service role {roles.service_role} (yours, from {roles.service_role_source}: "
                "used as is)")
    return (f"service role {roles.service_role}: create or update (trusted by "
            f"elasticbeanstalk.amazonaws.com, shared by the app's stages): "
            + ", ".join(p.rsplit("/", 1)[-1] for p in SERVICE_POLICIES))


# --- apply --------------------------------------------------------------------------------

def _error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def _missing(exc: BaseException) -> bool:
    return _error_code(exc) in ("NoSuchEntity", "NoSuchEntityException")


def _as_dict(policy: Any) -> Any:
    """IAM returns policy documents URL-decoded by boto3 (a dict), or as text."""
    if isinstance(policy, str):
        from urllib.parse import unquote

        return json.loads(unquote(policy))
    return policy


def _tags(value: str) -> List[Dict[str, str]]:
    return [{"Key": TAG, "Value": value}]


def ensure_role(iam: Any, name: str, trust: Dict[str, Any], policies: Sequence[str],
                partition: str, tag: str, description: str, emit: Callable[[str], None]
                ) -> bool:
    """The role, its trust policy and managed policies; True when it was created now."""
    try:
        role = iam.get_role(RoleName=name)["Role"]
    except Exception as exc:
        if not _missing(exc):
            raise
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust),
                        Description=description, Tags=_tags(tag))
        emit(f"IAM role {name} created")
        created = True
    else:
        created = False
        if _as_dict(role.get("AssumeRolePolicyDocument")) != trust:
            iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust))
            emit(f"IAM role {name}: trust policy updated")
    attached = {p["PolicyArn"] for p in iam.list_attached_role_policies(
        RoleName=name).get("AttachedPolicies", [])}
    for policy in policies:
        arn = managed_policy_arn(partition, policy)
        if arn not in attached:
            iam.attach_role_policy(RoleName=name, PolicyArn=arn)
            emit(f"IAM role {name}: {policy.rsplit('/', 1)[-1]} attached")
    return created


def ensure_inline_policy(iam: Any, role: str, statements: Sequence[Dict[str, Any]],
                         emit: Callable[[str], None]) -> None:
    """Put the inline policy only when it differs; remove it when there is nothing to grant."""
    try:
        current = _as_dict(iam.get_role_policy(RoleName=role, PolicyName=INLINE_POLICY)
                           ["PolicyDocument"])
    except Exception as exc:
        if not _missing(exc):
            raise
        current = None
    wanted = document(statements) if statements else None
    if current == wanted:
        return
    if wanted is None:
        iam.delete_role_policy(RoleName=role, PolicyName=INLINE_POLICY)
        emit(f"IAM role {role}: inline policy {INLINE_POLICY} removed (nothing to grant)")
        return
    iam.put_role_policy(RoleName=role, PolicyName=INLINE_POLICY,
                        PolicyDocument=json.dumps(wanted))
    emit(f"IAM role {role}: inline policy {INLINE_POLICY} "
         + ("updated" if current else "written") + f" ({summary(statements)})")


def ensure_instance_profile(iam: Any, roles: BeanstalkRoles,
                            statements: Sequence[Dict[str, Any]], partition: str,
                            emit: Callable[[str], None]) -> bool:
    """The instance profile and its role (deploy's own only); True when anything was created
    now (Beanstalk may not see it for some seconds)."""
    name = roles.instance_profile
    if not roles.own_profile:
        iam.get_instance_profile(InstanceProfileName=name)  # a clear error if it is missing
        emit(f"instance profile {name}: yours, used as is")
        return False
    created = ensure_role(iam, name, INSTANCE_TRUST, INSTANCE_POLICIES, partition,
                          roles.profile_tag, "pym-lambda: the EC2 instances (and container) of "
                          f"the Beanstalk environment {roles.app_name}-{roles.stage}", emit)
    ensure_inline_policy(iam, name, statements, emit)
    try:
        profile = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
    except Exception as exc:
        if not _missing(exc):
            raise
        iam.create_instance_profile(InstanceProfileName=name, Tags=_tags(roles.profile_tag))
        emit(f"instance profile {name} created")
        profile, created = {"Roles": []}, True
    held = [r["RoleName"] for r in profile.get("Roles", [])]
    if held != [name]:
        for other in held:  # a profile holds one role at most
            iam.remove_role_from_instance_profile(InstanceProfileName=name, RoleName=other)
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
        emit(f"instance profile {name}: role {name} added")
        created = True
    if not created:
        emit(f"instance profile {name}: unchanged")
    return created


def ensure_service_role(iam: Any, roles: BeanstalkRoles, partition: str,
                        emit: Callable[[str], None]) -> bool:
    name = roles.service_role
    if not roles.own_service_role:
        iam.get_role(RoleName=name)  # a clear error if it is missing
        emit(f"service role {name}: yours, used as is")
        return False
    created = ensure_role(iam, name, SERVICE_TRUST, SERVICE_POLICIES, partition,
                          roles.service_tag, "pym-lambda: Elastic Beanstalk's service role for "
                          f"the application {roles.app_name}", emit)
    if not created:
        emit(f"service role {name}: unchanged")
    return created


def is_propagation_error(exc: BaseException) -> bool:
    """Beanstalk refusing a role or instance profile IAM has not propagated to it yet."""
    message = str(getattr(exc, "response", {}).get("Error", {}).get("Message", "") or exc)
    return (_error_code(exc) in ("InvalidParameterValue", "InsufficientPrivilegesException")
            and ("instance profile" in message.lower() or "role" in message.lower()))


def retry_while_propagating(call: Callable[[], Any], sleep: Callable[[float], None],
                            attempts: int, delay: float, emit: Callable[[str], None]) -> Any:
    """`call`, retried (at most `attempts` times in all) while Beanstalk does not see a
    just-created role or instance profile yet."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except Exception as exc:
            if attempt == attempts or not is_propagation_error(exc):
                raise
            emit(f"IAM not propagated yet (attempt {attempt}/{attempts}), retrying in "
                 f"{delay:g} s")
            sleep(delay)
    raise AssertionError("unreachable")


# --- delete -------------------------------------------------------------------------------

def _tag_of(iam: Any, role: str) -> Optional[str]:
    try:
        tags = iam.list_role_tags(RoleName=role).get("Tags", [])
    except Exception as exc:
        if _missing(exc):
            return None
        raise
    return next((t["Value"] for t in tags if t.get("Key") == TAG), "")


def delete_instance_profile(iam: Any, roles: BeanstalkRoles,
                            emit: Callable[[str], None]) -> None:
    """The profile and its role, if deploy made them (tagged for this stage)."""
    if not roles.own_profile:
        emit(f"kept instance profile {roles.instance_profile} (yours)")
        return
    name = roles.instance_profile
    tag = _tag_of(iam, name)
    if tag is None:
        return  # nothing was created
    if tag != roles.profile_tag:
        emit(f"kept IAM role {name}: not tagged {TAG}={roles.profile_tag} (not made by deploy)")
        return
    try:
        profile = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
    except Exception as exc:
        if not _missing(exc):
            raise
    else:
        for held in profile.get("Roles", []):
            iam.remove_role_from_instance_profile(InstanceProfileName=name,
                                                  RoleName=held["RoleName"])
        iam.delete_instance_profile(InstanceProfileName=name)
        emit(f"deleted instance profile {name}")
    delete_role(iam, name)
    emit(f"deleted IAM role {name}")


def delete_service_role(iam: Any, roles: BeanstalkRoles, users: Sequence[str],
                        emit: Callable[[str], None]) -> None:
    """The app's service role, if deploy made it and no other environment uses it."""
    name = roles.service_role
    if not roles.own_service_role:
        emit(f"kept service role {name} (yours)")
        return
    tag = _tag_of(iam, name)
    if tag is None:
        return
    if tag != roles.service_tag:
        emit(f"kept service role {name}: not tagged {TAG}={roles.service_tag} "
             "(not made by deploy)")
    elif users:
        emit(f"kept service role {name}: environment(s) {', '.join(users)} of "
             f"{roles.app_name} still use it")
    else:
        delete_role(iam, name)
        emit(f"deleted service role {name}")


def existing_lines(iam: Any, roles: BeanstalkRoles) -> List[str]:
    """What exists of the stage's IAM (reported when a deploy step fails)."""
    lines = []
    for kind, name in (("instance profile role", roles.instance_profile),
                       ("service role", roles.service_role)):
        if _tag_of(iam, name) is not None:
            lines.append(f"{kind} {name}")
    return lines
