"""`pym-lambda delete --stage S`: remove what deploy created for the stage.

Driven by what exists (inventory.py) and the recorded state, without importing app.py, so a
stage can be deleted from a checkout whose specs no longer compile, and resources a failed
deploy left unrecorded are found too. Task queues hold messages, and the idempotency table
what ran: they are deleted only with --include-queues. Its CloudWatch alarms (alarms.py) go,
found by name and mark. The stage's objects in the deployments bucket (state, history,
packages) go with it, except the names of the queues kept, for a later `delete
--include-queues`; the bucket stays (other stages use it).
"""
from __future__ import annotations

import json
from functools import partial
from typing import Any, Callable, Dict, List, Optional, Sequence

import click

from ..tasks.settling import call_while_settling
from .alarms import delete_alarms, existing_alarms
from .aws_access import ClientFactory, check_access, client_factory
from .build import StageConfig, read_stage_config
from .errors import StepRunner
from .inventory import StageInventory, delete_role, existing_queues, stage_inventory
from .prepare import DeployOptions
from .reconcile import EMPTY_STATE, read_state, write_state
from .state import DeploymentStore, default_bucket, deployed_file

KEPT_QUEUES = "kept-queues.json"
HANDLED_TYPES = {"lambda_function", "sqs_event", "rest_api", "iam_role"}


class StageTeardown(StepRunner):
    def __init__(self, config: StageConfig, region: str, clients: ClientFactory,
                 state: Dict[str, Any], echo: Callable[[str], None],
                 recorded_queues: Sequence[str] = ()) -> None:
        self.config = config
        self.region = region
        self.clients = clients
        self.state = state
        self.echo = echo
        rest: Dict[str, Any] = next(
            (r for r in state["resources"] if r.get("name") == "rest_api"), {})
        self.rest_api_id: Optional[str] = rest.get("rest_api_id")
        # The recorded roles, and the shared role of deploys before per-function roles.
        roles = [r["role_name"] for r in state["resources"] if r.get("resource_type") == "iam_role"]
        legacy = [f"{config.app_name}-{config.stage}"] if config.manage_iam_role else []
        self.role_names = roles + legacy
        self.queue_names = self._task_queues(recorded_queues)

    def _task_queues(self, recorded: Sequence[str]) -> List[str]:
        """The queues the stage's mappings read (recorded or existing), then their DLQs."""
        names = list(recorded) + [r["queue"] for r in self.state["resources"]
                                  if r.get("resource_type") == "sqs_event" and r.get("queue")]
        names += [m.queue_name for m in self.inventory().mappings]
        names = list(dict.fromkeys(names))
        for queue in existing_queues(self.clients("sqs"), names):
            policy = queue.attributes.get("RedrivePolicy")
            if policy:
                names.append(json.loads(policy)["deadLetterTargetArn"].rsplit(":", 1)[-1])
        return list(dict.fromkeys(names))

    def inventory(self, queue_names: Optional[List[str]] = None) -> StageInventory:
        return stage_inventory(self.clients, self.config.app_name, self.config.stage,
                               self.region, queue_names=queue_names or [],
                               api_stage=self.config.api_gateway_stage,
                               role_names=self.role_names, rest_api_id=self.rest_api_id)

    def existing_lines(self) -> List[str]:
        try:
            alarms = self.alarm_names()
        except Exception:  # what exists is told after a failure: the rest still is
            alarms = []
        return self.inventory(self.queue_names).lines() + [
            f"CloudWatch alarm {name}" for name in alarms]

    def alarm_names(self) -> List[str]:
        """The stage's alarms (alarms.py), whatever pym-config.yaml says today."""
        return existing_alarms(self.clients("cloudwatch"), self.config.app_name,
                               self.config.stage)

    def delete(self, include_queues: bool) -> None:
        inventory = self.inventory(self.queue_names)
        lam = self.clients("lambda")
        for mapping in inventory.mappings:
            # Just updated by a deploy, a mapping is Updating for seconds: retried meanwhile.
            self.guarded("delete mappings", partial(
                call_while_settling, partial(lam.delete_event_source_mapping, UUID=mapping.uuid),
                what=f"delete event source mapping {mapping.uuid}", progress=self.echo))
            self.echo(f"deleted event source mapping {mapping.uuid} ({mapping.queue_name})")
        for function in inventory.functions:
            self.guarded("delete functions", partial(lam.delete_function,
                                                     FunctionName=function.name))
            self.echo(f"deleted function {function.name}")
        if inventory.rest_api:
            api_id = inventory.rest_api.id
            self.guarded("delete REST API", lambda: self.clients("apigateway").delete_rest_api(
                restApiId=api_id))
            self.echo(f"deleted REST API {api_id}")
        for role in inventory.roles:
            self.guarded("delete IAM role", partial(delete_role, self.clients("iam"), role))
            self.echo(f"deleted IAM role {role}")
        alarms = self.guarded("delete alarms", self.alarm_names)
        if alarms:
            self.guarded("delete alarms", partial(delete_alarms, self.clients("cloudwatch"),
                                                  alarms))
            self.echo(f"deleted CloudWatch alarm(s) {', '.join(alarms)}")
        for other in self.state["resources"]:
            if other.get("resource_type") not in HANDLED_TYPES:
                self.echo(f"warning: not deleted: {other.get('resource_type')} "
                          f"{other.get('name')} (use `chalice delete --stage "
                          f"{self.config.stage}`)")
        if include_queues:
            sqs = self.clients("sqs")
            for queue in inventory.queues:
                self.guarded("delete queues", partial(sqs.delete_queue, QueueUrl=queue.url))
                self.echo(f"deleted queue {queue.name}")
        elif inventory.queues:
            self.echo("kept queues (--include-queues deletes them): "
                      + ", ".join(q.name for q in inventory.queues))
        from .idempotency_table import delete_or_keep

        delete_or_keep(self.config, self.clients("dynamodb"), include_queues, self.echo,
                       self.guarded)


def run_delete(options: DeployOptions, *, include_queues: bool,
               confirm: Callable[[str], None], clients: Optional[ClientFactory] = None,
               echo: Callable[[str], None] = click.echo, **beanstalk_waits: Any) -> None:
    """`beanstalk_waits` (sleep, poll_seconds): how the Beanstalk target waits for its
    environment to terminate (tests)."""
    root = options.project_dir.resolve()
    config = read_stage_config(root, options.stage)
    aws = check_access(options.region, clients, step="delete")
    clients = clients or client_factory(aws.region)
    if options.target == "beanstalk":
        from .beanstalk_target import delete_environment

        confirm(f"Terminate the Beanstalk environment of {config.app_name} stage "
                f"{config.stage} ({aws.region}), then delete the IAM roles deploy made for "
                "it?")
        delete_environment(config, aws, clients, echo, include_queues=include_queues,
                           state_bucket=options.state_bucket, project_dir=root,
                           wait_timeout=options.wait_timeout, **beanstalk_waits)
        return
    bucket = options.state_bucket or default_bucket(config.app_name, aws.account_id)
    store = DeploymentStore(clients("s3"), bucket, aws.region, config.stage)
    local = deployed_file(root, config.stage)
    bucket_exists = _bucket_exists(clients("s3"), bucket)
    recorded: List[str] = []
    if bucket_exists:
        store.download_state(local)
        current = store.history().current_record
        recorded = (current.queues if current else []) + _kept_queues(store)
    teardown = StageTeardown(config, aws.region, clients, read_state(local), echo, recorded)
    found = teardown.guarded("delete", lambda: teardown.inventory(teardown.queue_names))
    echo(f"stage {config.stage} of {config.app_name} ({aws.account_id}, {aws.region}):")
    alarms = teardown.guarded("delete", teardown.alarm_names)
    for line in found.lines() + [f"CloudWatch alarm {name}" for name in alarms]:
        echo(f"  - {line}")
    confirm(f"Delete these (queues {'included' if include_queues else 'kept'})?")
    teardown.delete(include_queues)
    write_state(local, json.loads(json.dumps(EMPTY_STATE)))
    if bucket_exists:
        removed = teardown.guarded("delete state", partial(store.delete_stage,
                                                           keep=(KEPT_QUEUES,)))
        echo(f"deleted {removed} object(s) under {store.url()}")
        # The kept queues stay findable by a later `delete --include-queues`.
        kept = [] if include_queues else [q.name for q in found.queues]
        store.put(KEPT_QUEUES, json.dumps(kept).encode())
    echo(f"stage {config.stage} deleted")


def _kept_queues(store: DeploymentStore) -> List[str]:
    try:
        return list(json.loads(store.get(KEPT_QUEUES) or b"[]"))
    except ValueError:
        return []


def _bucket_exists(s3: Any, bucket: str) -> bool:
    try:
        s3.head_bucket(Bucket=bucket)
        return True
    except Exception:
        return False
