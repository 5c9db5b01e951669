"""The IAM permissions of a deployed stage, least privilege: which function may do what, on
which of the stage's ARNs.

Chalice's generated policy reads app.py only, so it never sees the SQS calls of the framework
(vendored) and grants the task worker ReceiveMessage on "*". Instead every function gets a role
of its own, with:

- its own log group (CreateLogGroup, CreateLogStream, PutLogEvents);
- the API function: SendMessage to the stage's task queues (a request's `.delay()`);
- a task worker: what its event source mapping does on its queue (ReceiveMessage,
  DeleteMessage, GetQueueAttributes), ChangeMessageVisibility there (RetryLater, backoff),
  SendMessage to its dead-letter queue (a task that used its attempts) and to the stage's
  task queues (a task may `.delay()` another);
- every function: read the secrets pym-config.yaml references (SSM parameters, Secrets
  Manager secrets), and what Chalice would grant for app.py's own AWS calls, VPC or X-Ray;
- every function, when a task or operation is idempotent: GetItem, PutItem, UpdateItem and
  DeleteItem on the stage's idempotency table (idempotency_table.py), nothing else;
- the Beanstalk container, which runs the web app and every worker in one process: all of
  the API's and the workers' rights.

GetQueueUrl comes with each queue right: the functions get their queues' URLs from the
environment deploy sets, and fall back on GetQueueUrl without them.

The statements are plain data built from an `Arns` maker: real ARNs for `deploy`, CloudFormation
placeholders (`${AWS::AccountId}`, wrapped in Fn::Sub by `cloudformation()`) for `package`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..tasks.queues import QueueDefinition

SEND = ["sqs:SendMessage", "sqs:GetQueueUrl", "sqs:GetQueueAttributes"]
CONSUME = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
           "sqs:GetQueueAttributes", "sqs:GetQueueUrl"]
LOGS_GROUP = ["logs:CreateLogGroup"]
LOGS_STREAM = ["logs:CreateLogStream", "logs:PutLogEvents"]


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


@dataclass(frozen=True)
class Arns:
    """ARNs of one account and region (or CloudFormation's placeholders for them)."""
    region: str
    account: str
    partition: str = ""

    @classmethod
    def cloudformation(cls) -> Arns:
        return cls("${AWS::Region}", "${AWS::AccountId}", "${AWS::Partition}")

    def _arn(self, service: str, resource: str) -> str:
        partition = self.partition or partition_of(self.region)
        return f"arn:{partition}:{service}:{self.region}:{self.account}:{resource}"

    def queue(self, name: str) -> str:
        return self._arn("sqs", name)

    def table(self, name: str) -> str:
        return self._arn("dynamodb", f"table/{name}")

    def log_group(self, function_name: str) -> str:
        return self._arn("logs", f"log-group:/aws/lambda/{function_name}:*")

    def ssm_parameter(self, name: str) -> str:
        return self._arn("ssm", "parameter/" + name.lstrip("/"))

    def secret(self, name: str) -> str:
        if name.startswith("arn:"):
            return name
        # Secrets Manager appends 6 random characters to a secret's name in its ARN.
        return self._arn("secretsmanager", f"secret:{name}-??????")


@dataclass(frozen=True)
class SecretRef:
    """A secret pym-config.yaml reads at run time: ("ssm", "/app/prod/jwt") or
    ("secretsmanager", "app/prod/jwt")."""
    service: str
    name: str
    kms_key: Optional[str] = None  # a customer managed key encrypting it, if any


@dataclass(frozen=True)
class StageAccess:
    """What a stage's functions use: its task queues, secrets and user statements."""
    queues: Tuple[QueueDefinition, ...] = ()
    secrets: Tuple[SecretRef, ...] = ()
    tables: Tuple[str, ...] = ()  # the idempotency table, when something is idempotent
    # Chalice's statements for app.py's own AWS calls (its policy analyser), VPC and X-Ray.
    extra: Tuple[Dict[str, Any], ...] = field(default_factory=tuple)


def _statement(sid: str, actions: Sequence[str], resources: Sequence[str]) -> Dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(set(actions)),
            "Resource": list(resources) if len(resources) != 1 else resources[0]}


def _logs(arns: Arns, function_name: str) -> List[Dict[str, Any]]:
    group = arns.log_group(function_name)
    return [_statement("Logs", LOGS_GROUP + LOGS_STREAM, [group])]


def _secrets(arns: Arns, secrets: Sequence[SecretRef]) -> List[Dict[str, Any]]:
    statements = []
    ssm = [arns.ssm_parameter(s.name) for s in secrets if s.service == "ssm"]
    if ssm:
        statements.append(_statement("ReadParameters", ["ssm:GetParameter"], ssm))
    managed = [arns.secret(s.name) for s in secrets if s.service == "secretsmanager"]
    if managed:
        statements.append(_statement("ReadSecrets", ["secretsmanager:GetSecretValue"],
                                     managed))
    keys = sorted({s.kms_key for s in secrets if s.kms_key})
    if keys:
        statements.append(_statement("DecryptSecrets", ["kms:Decrypt"], keys))
    return statements


def _tables(arns: Arns, tables: Sequence[str]) -> List[Dict[str, Any]]:
    if not tables:
        return []
    from .idempotency_table import ACTIONS

    return [_statement("IdempotencyRecords", ACTIONS, [arns.table(t) for t in tables])]


def _send_tasks(arns: Arns, queues: Sequence[QueueDefinition]) -> List[Dict[str, Any]]:
    if not queues:
        return []
    return [_statement("SendTasks", SEND, [arns.queue(q.name) for q in queues])]


def api_statements(access: StageAccess, arns: Arns, function_name: str
                   ) -> List[Dict[str, Any]]:
    return (_logs(arns, function_name) + _send_tasks(arns, access.queues)
            + _secrets(arns, access.secrets) + _tables(arns, access.tables)
            + list(access.extra))


def worker_statements(access: StageAccess, arns: Arns, function_name: str,
                      queue: QueueDefinition) -> List[Dict[str, Any]]:
    return (_logs(arns, function_name)
            + [_statement("ConsumeTasks", CONSUME, [arns.queue(queue.name)]),
               _statement("DeadLetterTasks", SEND, [arns.queue(queue.dlq_name)])]
            + _send_tasks(arns, access.queues) + _secrets(arns, access.secrets)
            + _tables(arns, access.tables) + list(access.extra))


def container_statements(access: StageAccess, arns: Arns) -> List[Dict[str, Any]]:
    """The Beanstalk container's (its log files are shipped by the platform, not by us)."""
    statements: List[Dict[str, Any]] = []
    if access.queues:
        statements += [
            _statement("ConsumeTasks", CONSUME, [arns.queue(q.name) for q in access.queues]),
            _statement("SendTasks", SEND, [arns.queue(n) for q in access.queues
                                           for n in (q.name, q.dlq_name)])]
    return (statements + _secrets(arns, access.secrets) + _tables(arns, access.tables)
            + list(access.extra))


def document(statements: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def cloudformation(value: Any) -> Any:
    """A policy built with Arns.cloudformation(), its placeholders wrapped in Fn::Sub."""
    if isinstance(value, str) and "${AWS::" in value:
        return {"Fn::Sub": value}
    if isinstance(value, list):
        return [cloudformation(v) for v in value]
    if isinstance(value, dict):
        return {k: cloudformation(v) for k, v in value.items()}
    return value


_SUMMARY = {"Logs": "write its logs", "SendTasks": "send to", "ConsumeTasks": "consume",
            "DeadLetterTasks": "dead-letter to", "ReadParameters": "read SSM",
            "ReadSecrets": "read secret", "DecryptSecrets": "decrypt with",
            "IdempotencyRecords": "read and write records of"}


def _short(resource: Any) -> str:
    text = resource.get("Fn::Sub", "") if isinstance(resource, dict) else str(resource)
    if ":sqs:" in text:
        return text.rsplit(":", 1)[-1]
    if ":parameter/" in text:
        return "/" + text.split(":parameter/", 1)[1]
    if ":dynamodb:" in text:
        return text.rsplit("table/", 1)[-1]
    if ":secret:" in text:
        return text.split(":secret:", 1)[1].removesuffix("-??????")
    return text


def summary(statements: Sequence[Dict[str, Any]]) -> str:
    """One line for the plan: 'write its logs; send to shop-prod-default; read SSM /x'."""
    parts = []
    for s in statements:
        resources = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
        names = ", ".join(_short(r) for r in resources)
        if s.get("Sid") == "Logs":
            parts.append(_SUMMARY["Logs"])
        elif s.get("Sid") in _SUMMARY:
            parts.append(f"{_SUMMARY[s['Sid']]} {names}")
        else:
            actions = s.get("Action") or s.get("NotAction") or []
            actions = actions if isinstance(actions, list) else [actions]
            parts.append(f"{', '.join(actions)} on {names}")
    return "; ".join(parts)


def policy_text(statements: Sequence[Dict[str, Any]]) -> str:
    return json.dumps(document(statements), indent=2) + "\n"
