"""Step 3 of `deploy --target lambda`: apply the plan, step by step, through Chalice's deployer.

Each step is idempotent, and Chalice's state is reconciled with AWS before its deployer runs
(reconcile.py), so running a deploy again after any failure completes it without duplicates.
A failing step is reported with what exists at that point (DeployError.existing).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable, Dict, List, Optional, Sequence

from ..tasks.queues import (
    QueueChange,
    QueueDefinition,
    enable_partial_batch_responses,
    ensure_queues,
)
from .aws_access import AwsTarget, ClientFactory
from .errors import DeployError, StepRunner
from .inventory import StageInventory, function_arn, function_mappings, stage_inventory
from .plan import (
    ChaliceDeploy,
    DeployPlan,
    EnablePartialBatch,
    EnsureAlarms,
    EnsureQueues,
    EnsureTable,
    RecordVersion,
    Step,
    SyncState,
    Verify,
)
from .prepare import Emit, Prepared
from .reconcile import read_state, reconcile, reconcile_mappings
from .state import (
    DeploymentStore,
    VersionRecord,
    default_bucket,
    deployed_file,
    find_package,
    sha_hex,
)
from .verify import verify_service


@dataclass
class LambdaOutcome:
    bucket_url: str = ""
    api_url: Optional[str] = None
    queue_changes: List[QueueChange] = field(default_factory=list)
    version: Optional[VersionRecord] = None
    new_version: bool = False
    verified: List[str] = field(default_factory=list)
    inventory: Optional[StageInventory] = None

    def summary_lines(self) -> List[str]:
        lines = [f"API URL: {self.api_url or '(no routes)'}"]
        inventory = self.inventory or StageInventory()
        lines += [f"function: {f.name} ({f.handler}, role {f.role_name})"
                  for f in inventory.functions]
        lines += [f"{'DLQ' if q.name.endswith('-dlq') else 'queue'}: {q.name} ({q.url})"
                  for q in inventory.queues]
        if self.version:
            state = "new" if self.new_version else "unchanged"
            lines.append(f"version: {self.version.version} ({state}; package "
                         f"{sha_hex(self.version.code_sha256)[:12]}), history in "
                         f"{self.bucket_url}")
        return lines


def store_for(prepared: Prepared, aws: AwsTarget, clients: ClientFactory) -> DeploymentStore:
    bucket = prepared.options.state_bucket or default_bucket(prepared.app_name, aws.account_id)
    return DeploymentStore(clients("s3"), bucket, aws.region, prepared.stage)


def queue_names(prepared: Prepared) -> List[str]:
    return [n for d in prepared.definitions for n in (d.name, d.dlq_name)]


def current_inventory(prepared: Prepared, aws: AwsTarget,
                      clients: ClientFactory) -> StageInventory:
    state = read_state(deployed_file(prepared.build.project_dir, prepared.stage))
    rest: Dict[str, Any] = next(
        (r for r in state["resources"] if r.get("name") == "rest_api"), {})
    return stage_inventory(clients, prepared.app_name, prepared.stage, aws.region,
                           queue_names=queue_names(prepared),
                           api_stage=prepared.build.stage.api_gateway_stage,
                           role_names=prepared.graph.role_names,
                           rest_api_id=rest.get("rest_api_id"))


class LambdaDeployment(StepRunner):
    def __init__(self, prepared: Prepared, plan: DeployPlan, aws: AwsTarget,
                 clients: ClientFactory, emit: Emit,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.prepared = prepared
        self.plan = plan
        self.aws = aws
        self.clients = clients
        self.emit = emit
        self.sleep = sleep  # of the waits for AWS to settle (tasks/settling.py); tests pass a fake
        self.store = store_for(prepared, aws, clients)
        self.state_path = deployed_file(prepared.build.project_dir, prepared.stage)
        self.outcome = LambdaOutcome(bucket_url=self.store.url())

    def apply(self) -> LambdaOutcome:
        for step in self.plan.steps:
            if not isinstance(step, Verify):
                self.guarded(_step_name(step), partial(self._apply, step))
        self.outcome.inventory = self.guarded("summary", lambda: current_inventory(
            self.prepared, self.aws, self.clients))
        return self.outcome

    def verify(self, deadline_seconds: float = 60.0) -> List[str]:
        step = self.plan.step(Verify)
        if not isinstance(step, Verify) or step.skipped or not self.outcome.api_url:
            return []
        self.outcome.verified = self.guarded("verify", lambda: verify_service(
            str(self.outcome.api_url), step.paths, deadline_seconds=deadline_seconds))
        return self.outcome.verified

    def existing_lines(self) -> List[str]:
        return current_inventory(self.prepared, self.aws, self.clients).lines()

    def _apply(self, step: Step) -> None:
        if isinstance(step, SyncState):
            created = self.store.ensure_bucket()
            status = self.store.download_state(self.state_path)
            self.emit(f"state: {self.store.url('deployed.json')}: {status}"
                      + (f" (bucket {self.store.bucket} created)" if created else ""))
        elif isinstance(step, EnsureQueues):
            changes = ensure_queues(step.definitions, self.clients("sqs"),
                                    progress=lambda line: self.emit(f"queues: {line}"),
                                    sleep=self.sleep)
            self.outcome.queue_changes = changes
            self.emit("queues: " + (", ".join(f"{c.name} {c.action}" for c in changes)
                                    or "none"))
        elif isinstance(step, EnsureTable):
            from .idempotency_table import ensure_table

            action = ensure_table(step.definition, self.clients("dynamodb"), sleep=self.sleep)
            self.emit(f"table: {step.definition.name} {action}")
        elif isinstance(step, ChaliceDeploy):
            self._chalice_deploy()
        elif isinstance(step, EnablePartialBatch):
            self._partial_batch(step)
        elif isinstance(step, EnsureAlarms):
            from .alarms import ensure_alarms

            for line in ensure_alarms(self.clients("cloudwatch"), self.prepared.app_name,
                                      self.prepared.stage, step.alarms, step.topic):
                self.emit(f"alarms: {line}")
        elif isinstance(step, RecordVersion):
            self._record_version()

    def _chalice_deploy(self) -> None:
        for message in reconcile(self.clients, self.prepared.graph, self.state_path,
                                 self.prepared.app_name, self.aws.region):
            self.emit(f"reconcile: {message}")
        from .permissions import Arns

        project = self.prepared.project
        project.set_queue_urls(queue_url_variables(self.prepared.definitions,
                                                   self.outcome.queue_changes))
        written = project.write_policies(self.prepared.access,
                                         Arns(self.aws.region, self.aws.account_id),
                                         self.prepared.definitions)
        self.emit(f"roles: a policy for each of {', '.join(written) or 'no function'}")
        self.emit("chalice deploy: the functions, their roles and the REST API...")  # the long one
        try:
            values = project.deploy()
        finally:  # also after a failure: the reconciled state is worth keeping
            self.store.upload_state(self.state_path)
        rest: Dict[str, Any] = next(
            (r for r in values.get("resources", []) if r.get("name") == "rest_api"), {})
        self.outcome.api_url = rest.get("rest_api_url")

    def _partial_batch(self, step: EnablePartialBatch) -> None:
        lam = self.clients("lambda")
        # By name and by ARN: AWS matches either, moto only the form a mapping was made with.
        keys = dict.fromkeys([step.function_name, function_arn(lam, step.function_name)])
        updated = sum(enable_partial_batch_responses(
            lam, key, sleep=self.sleep,
            progress=lambda line: self.emit(f"partial batch responses: {line}"))
            for key in keys if key)
        data = read_state(self.state_path)
        for message in reconcile_mappings(lam, self.prepared.graph, data):
            self.emit(f"reconcile: {message}")
        mappings = [m for m in function_mappings(lam, step.function_name)
                    if m.queue_name == step.queue_name]
        if len(mappings) != 1 or "ReportBatchItemFailures" not in mappings[0].response_types:
            raise DeployError("partial batch responses", f"{step.function_name} has "
                              f"{len(mappings)} mapping(s) from {step.queue_name}, expected one "
                              "with ReportBatchItemFailures")
        self.emit(f"partial batch responses: {step.function_name} <- {step.queue_name}: "
                  + ("set" if updated else "already set"))

    def _record_version(self) -> None:
        api = self.prepared.graph.api_function or self.prepared.graph.functions[0]
        config = self.clients("lambda").get_function(FunctionName=api.function_name)[
            "Configuration"]
        sha = config["CodeSha256"]
        package = find_package(self.prepared.build.project_dir, sha)
        if package is None:
            self.emit(f"version: package {sha[:12]}… not found in .chalice/deployments: "
                      "not stored (rollback to this version will not be possible)")
            return
        key = self.store.store_package(package, sha)
        history = self.store.history()
        new = history.record(sha, key, [f.function_name for f in self.prepared.graph.functions],
                             queue_names(self.prepared))
        if new:
            self.store.save_history(history)
        self.outcome.version, self.outcome.new_version = history.current_record, new
        self.emit(f"version: {history.current} " + ("recorded" if new else "unchanged")
                  + f" ({self.store.url(key)})")


def _step_name(step: Any) -> str:
    return {SyncState: "state", EnsureQueues: "queues", EnsureTable: "idempotency table",
            ChaliceDeploy: "chalice deploy",
            EnablePartialBatch: "partial batch responses", EnsureAlarms: "alarms",
            RecordVersion: "record version"}.get(type(step), type(step).__name__)


def make_plan(prepared: Prepared) -> DeployPlan:
    from .permissions import Arns, summary
    from .plan import lambda_plan

    statements = prepared.project.statements(prepared.access, Arns.cloudformation(),
                                             prepared.definitions)
    return lambda_plan(prepared.build, prepared.graph, prepared.definitions,
                       permissions=[(name, summary(s)) for name, s in statements.items()],
                       bucket=prepared.options.state_bucket,
                       skip_verify=prepared.options.skip_verify, table=prepared.table)


def queue_url_variables(definitions: Sequence[QueueDefinition],
                        changes: Sequence[QueueChange]) -> Dict[str, str]:
    """PYM_TASK_QUEUE_URL_<Q> and PYM_TASK_DLQ_URL_<Q> for every function: with them the
    runtime sends and dead-letters without a GetQueueUrl call (pym_lambda.tasks.task_settings)."""
    from ...tasks.task_settings import queue_env_key

    urls = {c.name: c.url for c in changes if c.url}
    variables: Dict[str, str] = {}
    for d in definitions:
        key = queue_env_key(d.queue)
        if d.name in urls:
            variables[f"PYM_TASK_QUEUE_URL_{key}"] = str(urls[d.name])
        if d.dlq_name in urls:
            variables[f"PYM_TASK_DLQ_URL_{key}"] = str(urls[d.dlq_name])
    return variables


Deployment = LambdaDeployment
