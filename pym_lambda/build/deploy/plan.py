"""Step 2 of a deploy: what must exist, as plain frozen steps. Printing them is `--dry-run`.

Computed offline (no AWS call), so a plan says what the stage will consist of, not how it
differs from what exists: the apply step reports that (created / updated / unchanged).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple, Union

from ...tasks.task_settings import TaskSettings
from ..tasks.queues import VISIBILITY_PER_LAMBDA_TIMEOUT, QueueDefinition, queue_definitions
from .alarms import AlarmDefinition, planned_alarms
from .build import BuildResult
from .chalice_project import AppGraph, FunctionModel
from .errors import DeployError
from .idempotency_table import TableDefinition


@dataclass(frozen=True)
class SyncState:
    """The deployments bucket: packages, version history and Chalice's deployed state."""
    bucket: Optional[str]  # None: <app>-pym-deployments-<account>, known once AWS is reached
    app_name: str = "<app>"

    def describe(self) -> str:
        where = self.bucket or f"{self.app_name}-pym-deployments-<account>"
        return f"deployed state and version history in s3://{where} (created if missing)"


@dataclass(frozen=True)
class EnsureQueues:
    definitions: Tuple[QueueDefinition, ...]

    def describe(self) -> str:
        if not self.definitions:
            return "task queues: none (no @async_task)"
        return "; ".join(
            f"queue {d.name} (visibility {d.visibility_timeout} s, to DLQ {d.dlq_name} after "
            f"{d.max_receive_count} receives)" for d in self.definitions)


@dataclass(frozen=True)
class EnsureTable:
    """The idempotency table (idempotency_table.py), when something is idempotent."""
    definition: TableDefinition

    def describe(self) -> str:
        return self.definition.describe()


@dataclass(frozen=True)
class ChaliceDeploy:
    functions: Tuple[FunctionModel, ...]
    rest_api_stage: Optional[str]
    route_count: int
    forwarded: Tuple[str, ...]
    # Each function's permissions, one line each (permissions.summary), by resource name.
    permissions: Tuple[Tuple[str, str], ...] = ()
    notes: Tuple[str, ...] = ()

    def describe(self) -> str:
        parts = [f"function {f.function_name} ({f.handler}, {f.runtime}, {f.timeout} s, "
                 f"{f.memory_size} MB"
                 + (f", SQS {f.queue}" if f.queue else "") + ")" for f in self.functions]
        if self.rest_api_stage:
            parts.append(f"REST API, stage {self.rest_api_stage!r}, {self.route_count} paths")
        if self.forwarded:
            parts.append("variables forwarded from this environment: "
                         + ", ".join(self.forwarded))
        lines = ["Chalice deploys: " + "; ".join(parts)]
        allowed = dict(self.permissions)
        for f in self.functions:
            if f.role_name:
                lines.append(f"IAM role {f.role_name} for {f.function_name}: "
                             + allowed.get(f.resource_name, "(none)"))
            elif f.role_arn:
                lines.append(f"{f.function_name} runs as your role {f.role_arn}, which must "
                             "allow: " + allowed.get(f.resource_name, "(none)"))
        return "\n".join(lines + [f"note: {n}" for n in self.notes])


@dataclass(frozen=True)
class EnablePartialBatch:
    function_name: str
    queue_name: str

    def describe(self) -> str:
        return (f"FunctionResponseTypes=[ReportBatchItemFailures] on {self.function_name}'s "
                f"mapping from {self.queue_name}, one mapping only")


@dataclass(frozen=True)
class EnsureAlarms:
    """The stage's CloudWatch alarms (alarms.py): created or updated, the others deleted."""
    alarms: Tuple[AlarmDefinition, ...]
    topic: Optional[str] = None

    def describe(self) -> str:
        told = f"notifying {self.topic}" if self.topic else "with no action (no alarms.sns_topic)"
        return "\n".join([f"CloudWatch alarms, {told}:"]
                         + [f"  {alarm.describe()}" for alarm in self.alarms])


@dataclass(frozen=True)
class RecordVersion:
    def describe(self) -> str:
        return "store the deployment package and record the version (for rollback)"


@dataclass(frozen=True)
class Verify:
    paths: Tuple[str, ...] = ("/ping", "/version")
    skipped: bool = False

    def describe(self) -> str:
        paths = " and ".join(f"GET {p}" for p in self.paths)
        return f"verify: {paths}" + (" (skipped: --skip-verify)" if self.skipped else "")


@dataclass(frozen=True)
class BeanstalkStep:
    """A step of the Beanstalk target (beanstalk_target.py applies them)."""
    action: str  # "bundle", "upload", "version", "environment", "wait"
    detail: str
    value: str = ""  # the bundle's sha256, the version label, the environment name...

    def describe(self) -> str:
        return self.detail


Step = Union[SyncState, EnsureQueues, EnsureTable, ChaliceDeploy, EnablePartialBatch,
             EnsureAlarms,
             RecordVersion, Verify, BeanstalkStep]


@dataclass(frozen=True)
class DeployPlan:
    target: str
    app_name: str
    stage: str
    build: BuildResult
    steps: Tuple[Step, ...]

    def lines(self) -> List[str]:
        head = (f"plan for {self.app_name} stage {self.stage} ({self.target}): "
                f"{self.build.spec_count} spec(s), {self.build.operation_count} operation(s)")
        lines = [head]
        for number, step in enumerate(self.steps, 1):
            first, *rest = step.describe().split("\n")
            lines += [f"  {number}. {first}"] + [f"     {line}" for line in rest]
        return lines

    def step(self, kind: type) -> Optional[Step]:
        return next((s for s in self.steps if isinstance(s, kind)), None)


def task_queue_definitions(graph: AppGraph, settings: TaskSettings,
                           workers: Sequence[FunctionModel]) -> Tuple[QueueDefinition, ...]:
    """Each task queue with its DLQ. Visibility is 6x the longer of the worker's deployed
    timeout and tasks.lambda_timeout_seconds, so a slow batch never reappears mid-run."""
    queues = sorted(set(graph.task_queues.values()))
    if not queues:
        return ()
    longest = max([settings.lambda_timeout_seconds] + [w.timeout for w in workers])
    definitions = tuple(queue_definitions(
        queues, settings=settings, visibility_timeout=VISIBILITY_PER_LAMBDA_TIMEOUT * longest))
    names = {d.name for d in definitions}
    for worker in workers:
        if worker.queue not in names:
            raise DeployError("plan", f"function {worker.function_name} consumes SQS queue "
                                      f"{worker.queue}, which is no task queue of this stage "
                                      f"({', '.join(sorted(names))})")
    return definitions


def lambda_plan(build: BuildResult, graph: AppGraph, definitions: Sequence[QueueDefinition],
                permissions: Sequence[Tuple[str, str]] = (), bucket: Optional[str] = None,
                skip_verify: bool = False, table: Optional[TableDefinition] = None
                ) -> DeployPlan:
    steps: List[Step] = [
        SyncState(bucket, build.stage.app_name),
        EnsureQueues(tuple(definitions)),
        *([EnsureTable(table)] if table is not None else []),
        ChaliceDeploy(functions=graph.functions, rest_api_stage=graph.rest_api_stage,
                      route_count=graph.route_count, forwarded=build.forwarded,
                      permissions=tuple(permissions), notes=graph.notes),
    ]
    steps += [EnablePartialBatch(w.function_name, str(w.queue)) for w in graph.workers]
    alarms = alarms_step(build, graph, definitions)
    if alarms is not None:
        steps.append(alarms)
    steps += [RecordVersion(), Verify(skipped=skip_verify or graph.rest_api_stage is None)]
    return DeployPlan("lambda", build.stage.app_name, build.stage.stage, build, tuple(steps))


def alarms_step(build: BuildResult, graph: AppGraph,
                definitions: Sequence[QueueDefinition]) -> Optional[EnsureAlarms]:
    """The alarms of a stage whose pym-config.yaml says `alarms.enabled`, else None."""
    planned = planned_alarms(build, graph, definitions)
    return None if planned is None else EnsureAlarms(*planned)
