"""The stage's idempotency table (pym_lambda/tasks/idempotency.py), made when something is
idempotent: an `@async_task(idempotent=True)` or an operation marked `x-idempotent: true`.

One string key, `id`; pay per request (an idle stage costs nothing); DynamoDB's TTL on
`expiration`, so that records older than their expiry are removed for free. `deploy` creates it
(EnsureTable) and `package` adds it to the template; both keep it when the stage is deleted,
as they keep the queues (`delete --include-queues` removes it too). Each function's role may
GetItem/PutItem/UpdateItem/DeleteItem on it and nothing else (permissions.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional

from ...tasks.idempotency import EXPIRY_ATTRIBUTE, KEY_ATTRIBUTE, table_name
from ..tasks.settling import Budget, Sleep

ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
           "dynamodb:DeleteItem"]
ACTIVE_WAIT_SECONDS = 120.0
ACTIVE_STEP_SECONDS = 2.0


@dataclass(frozen=True)
class TableDefinition:
    name: str
    key: str = KEY_ATTRIBUTE
    ttl_attribute: str = EXPIRY_ATTRIBUTE

    def describe(self) -> str:
        return (f"idempotency table {self.name} (DynamoDB, pay per request, TTL on "
                f"{self.ttl_attribute})")

    def create_arguments(self) -> Dict[str, Any]:
        return {"TableName": self.name, "BillingMode": "PAY_PER_REQUEST",
                "KeySchema": [{"AttributeName": self.key, "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": self.key, "AttributeType": "S"}]}

    def cloudformation(self) -> Dict[str, Any]:
        """The AWS::DynamoDB::Table resource of `package`'s template."""
        arguments = self.create_arguments()
        return {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Retain", "Properties": {
                    **arguments, "TimeToLiveSpecification": {
                        "AttributeName": self.ttl_attribute, "Enabled": True}}}


def idempotent_things(app: Any, compiled: Mapping[str, Any]) -> List[str]:
    """What in the loaded app is idempotent: task names and operation ids."""
    service = getattr(app, "pym_service", None)
    tasks = getattr(service, "tasks", None) or {}
    found = [name for name, task in tasks.items() if getattr(task, "idempotent", False)]
    found += [op["id"] for api in compiled.get("apis") or () if not api.get("bind_client")
              for op in api.get("operations") or () if op.get("idempotent")]
    return found


def table_definition(idempotent: Iterable[str], app_name: str, stage: str,
                     override: Optional[str] = None) -> Optional[TableDefinition]:
    """The table, or None when nothing is idempotent."""
    if not list(idempotent):
        return None
    return TableDefinition(table_name(app_name, stage, override))


def ensure_table(definition: TableDefinition, dynamodb: Any, *,
                 sleep: Optional[Sleep] = None) -> str:
    """Make the table exist, active, with its TTL on: "created" or "unchanged"."""
    client_errors = dynamodb.exceptions
    action = "unchanged"
    try:
        dynamodb.describe_table(TableName=definition.name)
    except client_errors.ResourceNotFoundException:
        dynamodb.create_table(**definition.create_arguments())
        action = "created"
    budget = Budget(ACTIVE_WAIT_SECONDS, ACTIVE_STEP_SECONDS, sleep)
    while dynamodb.describe_table(TableName=definition.name)["Table"].get(
            "TableStatus") != "ACTIVE":
        if budget.exhausted:
            raise TimeoutError(f"table {definition.name} not ACTIVE after "
                               f"{budget.waited:g} s")
        budget.wait(f"table {definition.name} is being created")
    ttl = dynamodb.describe_time_to_live(TableName=definition.name).get(
        "TimeToLiveDescription", {})
    if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        dynamodb.update_time_to_live(TableName=definition.name, TimeToLiveSpecification={
            "Enabled": True, "AttributeName": definition.ttl_attribute})
        action = "created" if action == "created" else "updated (TTL enabled)"
    return action


def delete_or_keep(config: Any, dynamodb: Any, include: bool, echo: Callable[[str], None],
                   guarded: Callable[[str, Callable[[], Any]], Any]) -> None:
    """`delete`: the stage's table deleted with --include-queues, else said to be kept. The
    name is derived (app.py is not imported): the stage's PYM_IDEMPOTENCY_TABLE, else
    `<app>-<stage>-idempotency`."""
    name = table_name(config.app_name, config.stage,
                      (config.environment_variables or {}).get("PYM_IDEMPOTENCY_TABLE"))
    if not guarded("delete idempotency table", partial(table_exists, dynamodb, name)):
        return
    if not include:
        echo(f"kept idempotency table {name} (--include-queues deletes it)")
    elif guarded("delete idempotency table", partial(delete_table, name, dynamodb)):
        echo(f"deleted idempotency table {name}")


def table_exists(dynamodb: Any, name: str) -> bool:
    try:
        dynamodb.describe_table(TableName=name)
    except dynamodb.exceptions.ResourceNotFoundException:
        return False
    return True


def delete_table(definition_name: str, dynamodb: Any) -> bool:
    """Delete the table if it exists; whether it did."""
    try:
        dynamodb.delete_table(TableName=definition_name)
    except dynamodb.exceptions.ResourceNotFoundException:
        return False
    return True
