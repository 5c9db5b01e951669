"""`deploy --target beanstalk`: the same app as a Docker container on Elastic Beanstalk.

The source bundle is the project with infra/beanstalk's deployment files lifted to its root,
where Beanstalk's Docker platform looks for them (Dockerfile, Dockerrun.aws.json,
.dockerignore, .platform/), plus what the Dockerfile copies: app.py, apis/, chalicelib/ (with
the compiled form), .chalice/config.json, pym-config.yaml, the pym_lambda package and
infra/beanstalk/. The zip is deterministic (sorted, fixed timestamps): its SHA-256 names the
application version, so an unchanged project is an unchanged version and a second deploy
changes nothing.

The environment `<app>-<stage>` gets the stage's variables (and the forwarded ones) as
environment properties, since Chalice's only reach Lambda; PYM_TASK_WORKER=1 when the app has
task queues, so the container also runs the SQS worker. It runs with the instance profile
`<app>-<stage>-beanstalk-ec2` and the service role `<app>-beanstalk-service` (beanstalk_iam.py:
created or updated before the environment, or the user's own). Then: wait (bounded) for Ready
and Green, and GET /ping on its CNAME.
"""
from __future__ import annotations

import hashlib
import io
import time
import zipfile
from functools import partial
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..tasks.queues import QueueDefinition, ensure_queues
from . import beanstalk_iam as iam_roles
from .aws_access import AwsTarget, ClientFactory
from .beanstalk_iam import BeanstalkRoles
from .build import StageConfig
from .errors import DeployError, StepRunner
from .inventory import existing_queues
from .permissions import Arns, partition_of
from .plan import (
    BeanstalkStep,
    DeployPlan,
    EnsureQueues,
    EnsureTable,
    Step,
    SyncState,
    Verify,
    task_queue_definitions,
)
from .prepare import DeployOptions, Emit, Prepared
from .state import DeploymentStore, History, default_bucket

INFRA = Path("infra") / "beanstalk"
AT_BUNDLE_ROOT = ("Dockerfile", "Dockerrun.aws.json", ".dockerignore", ".platform")
PROJECT_ENTRIES = ("app.py", "pym-config.yaml", "apis", "chalicelib", ".chalice/config.json")
# infra/beanstalk's documentation and the image check: for people, not for the instance.
NOT_BUNDLED = {"README.md", "image_check.py", "image-check.json"}
SKIPPED = {"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".hypothesis"}
HISTORY = "beanstalk-history.json"
ENVIRONMENT = "aws:elasticbeanstalk:application:environment"
POLL_SECONDS = 10.0
# A just-created instance profile or role can be refused by CreateEnvironment for some
# seconds (IAM is eventually consistent): retried this many times, this far apart.
IAM_RETRY_ATTEMPTS = 12
IAM_RETRY_SECONDS = 5.0


def environment_name(app_name: str, stage: str) -> str:
    name = "".join(c if c.isalnum() else "-" for c in f"{app_name}-{stage}").strip("-")
    return name[:40].rstrip("-").ljust(4, "0")  # Beanstalk: 4 to 40 characters


def version_label(stage: str, bundle_sha: str) -> str:
    return f"{stage}-{bundle_sha[:16]}"


def _walk(path: Path) -> List[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file()
                  and not SKIPPED.intersection(p.relative_to(path).parts)
                  and p.suffix != ".pyc")


def bundle_files(project_dir: Path) -> Dict[str, Path]:
    """Bundle path -> file, for the source bundle (see the module doc)."""
    import pym_lambda

    infra = project_dir / INFRA
    if not (infra / "Dockerfile").is_file():
        raise DeployError("build", f"no {INFRA}/Dockerfile in {project_dir}: the Beanstalk "
                                   "target builds its image from it")
    files: Dict[str, Path] = {}
    for path in _walk(infra):
        relative = path.relative_to(infra)
        if relative.as_posix() in NOT_BUNDLED:
            continue
        files[(INFRA / relative).as_posix()] = path
        if relative.parts[0] in AT_BUNDLE_ROOT:
            files[relative.as_posix()] = path
    for entry in PROJECT_ENTRIES:
        for path in _walk(project_dir / entry) if (project_dir / entry).exists() else []:
            files[path.relative_to(project_dir).as_posix()] = path
    framework = Path(pym_lambda.__file__).parent
    for path in _walk(framework):
        files[(Path("pym_lambda") / path.relative_to(framework)).as_posix()] = path
    return files


def stage_roles(prepared: Prepared) -> BeanstalkRoles:
    options = prepared.options
    return iam_roles.beanstalk_roles(prepared.build.project_dir, prepared.app_name,
                                     prepared.stage, options.instance_profile,
                                     options.service_role)


def build_bundle(files: Dict[str, Path]) -> bytes:
    """A deterministic zip: same files, same bytes, same SHA-256."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(info, files[name].read_bytes())
    return buffer.getvalue()


def make_plan(prepared: Prepared) -> DeployPlan:
    options = prepared.options
    files = bundle_files(prepared.build.project_dir)
    sha = hashlib.sha256(build_bundle(files)).hexdigest()
    label = version_label(prepared.stage, sha)
    env = environment_name(prepared.app_name, prepared.stage)
    definitions = task_queue_definitions(prepared.graph, prepared.task_settings, ())
    variables = sorted(set(prepared.build.function_environment) | {"AWS_DEFAULT_REGION"}
                       | ({"PYM_TASK_WORKER"} if definitions else set()))
    roles = stage_roles(prepared)
    steps: List[Step] = [
        SyncState(options.state_bucket, prepared.app_name),
        EnsureQueues(definitions),
        *([EnsureTable(prepared.table)] if prepared.table is not None else []),
        BeanstalkStep("instance-profile", iam_roles.describe_profile(
            roles, iam_roles.stage_access(definitions, prepared.access)), roles.instance_profile),
        BeanstalkStep("service-role", iam_roles.describe_service_role(roles),
                      roles.service_role),
        BeanstalkStep("bundle", f"source bundle: {len(files)} files, Dockerfile and "
                                f"Dockerrun.aws.json at its root (sha256 {sha[:16]})", sha),
        BeanstalkStep("upload", f"upload it to the deployments bucket as beanstalk/{label}.zip",
                      label),
        BeanstalkStep("version", f"application {prepared.app_name}, version {label}", label),
        BeanstalkStep("environment", f"environment {env}: create or update (variables: "
                                     f"{', '.join(variables)}; health check /ping; instance "
                                     f"profile {roles.instance_profile}, service role "
                                     f"{roles.service_role})", env),
        BeanstalkStep("wait", f"wait for Ready and Green (at most {options.wait_timeout:g} s)"),
        Verify(paths=("/ping",), skipped=options.skip_verify),
    ]
    return DeployPlan("beanstalk", prepared.app_name, prepared.stage, prepared.build,
                      tuple(steps))


class BeanstalkDeployment(StepRunner):
    def __init__(self, prepared: Prepared, plan: DeployPlan, aws: AwsTarget,
                 clients: ClientFactory, emit: Emit, sleep: Callable[[float], None] = time.sleep,
                 poll_seconds: float = POLL_SECONDS) -> None:
        self.prepared, self.plan, self.aws, self.clients, self.emit = (
            prepared, plan, aws, clients, emit)
        self.sleep, self.poll_seconds = sleep, poll_seconds
        bucket = prepared.options.state_bucket or default_bucket(prepared.app_name,
                                                                 aws.account_id)
        self.store = DeploymentStore(clients("s3"), bucket, aws.region, prepared.stage)
        self.eb = clients("elasticbeanstalk")
        self.values = {s.action: s.value for s in plan.steps if isinstance(s, BeanstalkStep)}
        self.env_name = self.values["environment"]
        self.label = self.values["version"]
        self.bundle_key = f"beanstalk/{self.label}.zip"
        self.roles = stage_roles(prepared)
        queues_step = plan.step(EnsureQueues)
        self.definitions: Tuple[QueueDefinition, ...] = (
            queues_step.definitions if isinstance(queues_step, EnsureQueues) else ())
        self.queues: List[str] = []
        self.cname = ""
        self.new_version = False
        self.iam_created = False  # a role or profile made now: Beanstalk may not see it yet

    def apply(self) -> BeanstalkDeployment:
        for step in self.plan.steps:
            if not isinstance(step, Verify):
                name = step.action if isinstance(step, BeanstalkStep) else type(step).__name__
                self.guarded(name, partial(self._apply, step))
        return self

    def existing_lines(self) -> List[str]:
        env = self._environment()
        lines = [f"environment {self.env_name}: {env['Status']}, health {env.get('Health')}, "
                 f"version {env.get('VersionLabel')}" if env else
                 f"no environment {self.env_name}"]
        lines += iam_roles.existing_lines(self.clients("iam"), self.roles)
        return lines + [f"queue {q.name}" for q in existing_queues(self.clients("sqs"),
                                                                    self.queues)]

    def _apply(self, step: Step) -> None:
        if isinstance(step, SyncState):
            self.store.ensure_bucket()
        elif isinstance(step, EnsureQueues):
            changes = ensure_queues(step.definitions, self.clients("sqs"),
                                    progress=lambda line: self.emit(f"queues: {line}"),
                                    sleep=self.sleep)
            self.queues = [c.name for c in changes]
            self.emit("queues: " + (", ".join(f"{c.name} {c.action}" for c in changes)
                                    or "none"))
        elif isinstance(step, EnsureTable):
            from .idempotency_table import ensure_table

            action = ensure_table(step.definition, self.clients("dynamodb"), sleep=self.sleep)
            self.emit(f"table: {step.definition.name} {action}")
        elif isinstance(step, BeanstalkStep) and step.action == "instance-profile":
            statements = iam_roles.container_policy(
                iam_roles.stage_access(self.definitions, self.prepared.access),
                Arns(self.aws.region, self.aws.account_id))
            self.iam_created |= iam_roles.ensure_instance_profile(
                self.clients("iam"), self.roles, statements, partition_of(self.aws.region),
                self.emit)
        elif isinstance(step, BeanstalkStep) and step.action == "service-role":
            self.iam_created |= iam_roles.ensure_service_role(
                self.clients("iam"), self.roles, partition_of(self.aws.region), self.emit)
        elif isinstance(step, BeanstalkStep) and step.action == "upload":
            data = build_bundle(bundle_files(self.prepared.build.project_dir))
            if hashlib.sha256(data).hexdigest() != self.values["bundle"]:
                raise DeployError("upload", "the project changed since the plan was made")
            if not self.store.exists(self.bundle_key):
                self.store.put(self.bundle_key, data)
            self.emit(f"bundle: {self.store.url(self.bundle_key)}")
        elif isinstance(step, BeanstalkStep) and step.action == "version":
            self._create_version()
        elif isinstance(step, BeanstalkStep) and step.action == "environment":
            self._deploy_environment()
        elif isinstance(step, BeanstalkStep) and step.action == "wait":
            self.cname = wait_until_healthy(self.eb, self.prepared.app_name, self.env_name,
                                            self.prepared.options.wait_timeout, self.sleep,
                                            self.poll_seconds, self.emit)
            self.emit(f"environment {self.env_name}: Ready, Green ({self.cname})")

    def _create_version(self) -> None:
        app = self.prepared.app_name
        found = self.eb.describe_applications(ApplicationNames=[app]).get("Applications", [])
        if app not in [a.get("ApplicationName") for a in found]:
            self.eb.create_application(ApplicationName=app)
            self.emit(f"application {app} created")
        try:
            self.eb.create_application_version(
                ApplicationName=app, VersionLabel=self.label, Process=True,
                SourceBundle={"S3Bucket": self.store.bucket,
                              "S3Key": self.store.prefix + self.bundle_key})
            self.emit(f"version {self.label} created")
        except Exception as exc:
            if "already exists" not in str(exc):
                raise
            self.emit(f"version {self.label} exists")

    def _environment(self) -> Optional[Dict[str, Any]]:
        found = self.eb.describe_environments(
            ApplicationName=self.prepared.app_name, EnvironmentNames=[self.env_name],
            IncludeDeleted=False).get("Environments", [])
        live = [e for e in found if e.get("Status") not in ("Terminated", "Terminating")]
        return live[0] if live else None

    def _propagating(self, call: Callable[[], Any]) -> Any:
        """`call`, retried while Beanstalk does not see the IAM created by this deploy."""
        if not self.iam_created:
            return call()
        return iam_roles.retry_while_propagating(call, self.sleep, IAM_RETRY_ATTEMPTS,
                                                 IAM_RETRY_SECONDS, self.emit)

    def _deploy_environment(self) -> None:
        settings = option_settings(self.prepared, self.aws, bool(self.queues), self.roles)
        env = self._environment()
        if env is None:
            stack = self.prepared.options.solution_stack or docker_stack(self.eb)
            self._propagating(lambda: self.eb.create_environment(
                ApplicationName=self.prepared.app_name, EnvironmentName=self.env_name,
                VersionLabel=self.label, OptionSettings=settings, SolutionStackName=stack,
                Tags=[{"Key": "pym-stage", "Value": self.prepared.stage}]))
            self.emit(f"environment {self.env_name} created")
        elif env.get("VersionLabel") == self.label:
            self.emit(f"environment {self.env_name} already runs {self.label}")
        else:
            self._propagating(lambda: self.eb.update_environment(
                ApplicationName=self.prepared.app_name, EnvironmentName=self.env_name,
                VersionLabel=self.label, OptionSettings=settings))
            self.emit(f"environment {self.env_name} updated to {self.label}")
        history = self.store.history(HISTORY)
        self.new_version = history.record(self.values["bundle"], self.bundle_key,
                                          [self.env_name], self.queues)
        if self.new_version:
            self.store.save_history(history, HISTORY)

    def verify(self, deadline_seconds: float = 60.0) -> List[str]:
        from .verify import verify_service

        step = self.plan.step(Verify)
        if not isinstance(step, Verify) or step.skipped:
            return []
        return self.guarded("verify", lambda: verify_service(
            f"http://{self.cname}", step.paths, deadline_seconds=deadline_seconds))

    def summary_lines(self) -> List[str]:
        return [f"environment: {self.env_name} (http://{self.cname})",
                f"version: {self.label} ({'new' if self.new_version else 'unchanged'})",
                f"instance profile: {self.roles.instance_profile}",
                f"service role: {self.roles.service_role}"] + [
                f"{'DLQ' if q.endswith('-dlq') else 'queue'}: {q}" for q in self.queues]


def option_settings(prepared: Prepared, aws: AwsTarget, has_queues: bool,
                    roles: Optional[BeanstalkRoles] = None) -> List[Dict[str, str]]:
    variables = {**prepared.build.function_environment, "AWS_DEFAULT_REGION": aws.region}
    if has_queues:
        variables["PYM_TASK_WORKER"] = "1"
    settings = [{"Namespace": ENVIRONMENT, "OptionName": k, "Value": v}
                for k, v in sorted(variables.items())]
    roles = roles or stage_roles(prepared)
    settings += [
        {"Namespace": "aws:autoscaling:launchconfiguration", "OptionName": "IamInstanceProfile",
         "Value": roles.instance_profile},
        {"Namespace": "aws:elasticbeanstalk:environment", "OptionName": "ServiceRole",
         "Value": roles.service_role}]
    return settings + [
        {"Namespace": "aws:elasticbeanstalk:application",
         "OptionName": "Application Healthcheck URL", "Value": "/ping"},
        {"Namespace": "aws:elasticbeanstalk:environment:process:default",
         "OptionName": "HealthCheckPath", "Value": "/ping"}]


def docker_stack(eb: Any) -> str:
    """The newest single-container Docker platform (Amazon Linux 2023 preferred)."""
    stacks = eb.list_available_solution_stacks().get("SolutionStacks", [])
    docker = [s for s in stacks if s.endswith("running Docker") and "Multi" not in s]
    newest = sorted(docker, key=lambda s: ("Amazon Linux 2023" in s, s), reverse=True)
    if not newest:
        raise DeployError("environment", "no Docker solution stack offered in this region: "
                                         "pass --solution-stack")
    return str(newest[0])


def wait_until_healthy(eb: Any, app_name: str, env_name: str, timeout: float,
                       sleep: Callable[[float], None], poll_seconds: float,
                       progress: Optional[Callable[[str], None]] = None) -> str:
    """Poll until Status Ready and Health Green; the environment's CNAME. `progress` gets a
    line at each change of status or health: the wait can last minutes."""
    started = time.monotonic()
    deadline = started + timeout
    shown = None
    while True:
        found = eb.describe_environments(ApplicationName=app_name, EnvironmentNames=[env_name],
                                         IncludeDeleted=False).get("Environments", [])
        env = found[0] if found else {}
        if env.get("Status") == "Ready" and env.get("Health") == "Green":
            return str(env.get("CNAME") or env.get("EndpointURL") or "")
        state = (env.get("Status"), env.get("Health"))
        if progress is not None and state != shown:
            shown = state
            progress(f"environment {env_name}: status {state[0]}, health {state[1]} after "
                     f"{time.monotonic() - started:.0f} s (waiting up to {timeout:g} s)")
        if time.monotonic() >= deadline:
            raise DeployError("wait", f"environment {env_name} not healthy after {timeout:g} s: "
                                      f"status {env.get('Status')}, health {env.get('Health')}")
        sleep(poll_seconds)


Deployment = BeanstalkDeployment


def live_environments(eb: Any, app_name: str) -> List[Dict[str, Any]]:
    found = eb.describe_environments(ApplicationName=app_name, IncludeDeleted=False)
    return [e for e in found.get("Environments", [])
            if e.get("Status") not in ("Terminated", "Terminating")]


def wait_until_terminated(eb: Any, app_name: str, env_name: str, timeout: float,
                          sleep: Callable[[float], None], poll_seconds: float) -> None:
    """Beanstalk terminates with the service role: the roles go only once it is done."""
    deadline = time.monotonic() + timeout
    while True:
        found = eb.describe_environments(ApplicationName=app_name, EnvironmentNames=[env_name],
                                         IncludeDeleted=True).get("Environments", [])
        status = [e.get("Status") for e in found]
        if not status or all(s == "Terminated" for s in status):
            return
        if time.monotonic() >= deadline:
            raise DeployError("terminate", f"environment {env_name} still {status[0]} after "
                                           f"{timeout:g} s: its IAM roles are kept; run "
                                           "`pym-lambda delete` again once it is terminated")
        sleep(poll_seconds)


def delete_environment(config: StageConfig, aws: AwsTarget, clients: ClientFactory,
                       echo: Callable[[str], None], *, include_queues: bool,
                       state_bucket: Optional[str] = None,
                       project_dir: Optional[Path] = None, wait_timeout: float = 900.0,
                       sleep: Callable[[float], None] = time.sleep,
                       poll_seconds: float = POLL_SECONDS) -> None:
    """Terminate the environment, wait for it, then delete the instance profile and service
    role deploy created (never the user's; the service role only once no environment of the
    app is left) and, with include_queues, the queues."""
    env_name = environment_name(config.app_name, config.stage)
    eb = clients("elasticbeanstalk")
    iam = clients("iam")
    roles = iam_roles.beanstalk_roles(project_dir or Path("."), config.app_name, config.stage)
    runner = StepRunner()
    live = runner.guarded("terminate", lambda: live_environments(eb, config.app_name))
    if any(e.get("EnvironmentName") == env_name for e in live):
        runner.guarded("terminate", lambda: eb.terminate_environment(
            EnvironmentName=env_name, TerminateResources=True))
        echo(f"environment {env_name}: terminating")
        runner.guarded("terminate", lambda: wait_until_terminated(
            eb, config.app_name, env_name, wait_timeout, sleep, poll_seconds))
        echo(f"environment {env_name}: terminated")
    else:
        echo(f"no environment {env_name}")
    runner.guarded("delete IAM", lambda: iam_roles.delete_instance_profile(iam, roles, echo))
    others = [str(e.get("EnvironmentName")) for e in live
              if e.get("EnvironmentName") != env_name]
    runner.guarded("delete IAM", lambda: iam_roles.delete_service_role(iam, roles, others,
                                                                        echo))
    store = DeploymentStore(clients("s3"), state_bucket or default_bucket(
        config.app_name, aws.account_id), aws.region, config.stage)
    current = runner.guarded("history", lambda: _history(store)).current_record
    queues = existing_queues(clients("sqs"), current.queues if current else [])
    if include_queues:
        for queue in queues:
            runner.guarded("delete queues", partial(clients("sqs").delete_queue,
                                                    QueueUrl=queue.url))
            echo(f"deleted queue {queue.name}")
    elif queues:
        echo("kept queues (--include-queues deletes them): " + ", ".join(q.name for q in queues))
    from .idempotency_table import delete_or_keep

    delete_or_keep(config, clients("dynamodb"), include_queues, echo, runner.guarded)


def _history(store: DeploymentStore) -> History:
    try:
        return store.history(HISTORY)
    except Exception:
        return History()  # no bucket: nothing recorded


def rollback_environment(config: StageConfig, aws: AwsTarget, clients: ClientFactory,
                         store: DeploymentStore, options: DeployOptions,
                         to_version: Optional[int], confirm: Callable[[str], None],
                         echo: Callable[[str], None]) -> None:
    history = store.history(HISTORY)
    target = history.rollback_target(to_version)
    label = version_label(config.stage, target.code_sha256)
    env_name = environment_name(config.app_name, config.stage)
    confirm(f"Switch environment {env_name} back to version {target.version} ({label})?")
    eb = clients("elasticbeanstalk")
    runner = StepRunner()
    runner.guarded("rollback", lambda: eb.update_environment(
        ApplicationName=config.app_name, EnvironmentName=env_name, VersionLabel=label))
    cname = runner.guarded("wait", lambda: wait_until_healthy(
        eb, config.app_name, env_name, options.wait_timeout, time.sleep, POLL_SECONDS))
    history.rolled_back_to(target)
    store.save_history(history, HISTORY)
    echo(f"environment {env_name} runs version {target.version} ({label})")
    if not options.skip_verify:
        from .verify import verify_service

        for line in runner.guarded("verify", lambda: verify_service(f"http://{cname}",
                                                                     ("/ping",))):
            echo(line)
