"""`pym-lambda package --stage S --out DIR`: the stage as infrastructure as code.

Chalice's CloudFormation (SAM) output, `sam.json` and `deployment.zip`, completed with what
Chalice leaves out and `deploy` adds: each task queue and its DLQ (redrive policy, visibility
timeout; kept when the stack is deleted, as `delete` keeps them), the SQS events reading those
queues (so CloudFormation creates them first) with FunctionResponseTypes
[ReportBatchItemFailures], and with `alarms.enabled` the stage's CloudWatch alarms (alarms.py).
Variables forwarded from the environment (secrets) become NoEcho
parameters: their values are never written to the template.

Deploy it with `aws cloudformation package` then `aws cloudformation deploy --capabilities
CAPABILITY_IAM --parameter-overrides JwtSecret=...`.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Tuple

from ..tasks.queues import QueueDefinition
from .aws_access import resolve_region
from .chalice_project import FunctionModel
from .errors import DeployError, one_line
from .permissions import Arns, cloudformation
from .prepare import DeployOptions, Prepared, prepared

if TYPE_CHECKING:
    from .artifact_check import PackageCheck
    from .package_zip import Finished


def logical_id(*parts: str) -> str:
    """CloudFormation logical id: ("TaskQueue", "emails-high") -> TaskQueueEmailsHigh,
    JWT_SECRET -> JwtSecret."""
    words = [w for p in parts for w in re.split(r"[^A-Za-z0-9]+", p) if w]
    return "".join(w.capitalize() if w.isupper() else w[:1].upper() + w[1:] for w in words)


def queue_resources(definitions: Sequence[QueueDefinition]) -> Dict[str, Dict[str, Any]]:
    resources: Dict[str, Dict[str, Any]] = {}
    for d in definitions:
        queue_id, dlq_id = logical_id("TaskQueue", d.queue), logical_id("TaskQueue", d.queue, "Dlq")
        retain = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
        resources[dlq_id] = {"Type": "AWS::SQS::Queue", **retain, "Properties": {
            "QueueName": d.dlq_name, "MessageRetentionPeriod": d.dlq_retention_seconds,
            "MaximumMessageSize": d.maximum_message_size}}
        resources[queue_id] = {"Type": "AWS::SQS::Queue", **retain, "Properties": {
            "QueueName": d.name, "VisibilityTimeout": d.visibility_timeout,
            "MessageRetentionPeriod": d.message_retention_seconds,
            "MaximumMessageSize": d.maximum_message_size,
            "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
                              "maxReceiveCount": d.max_receive_count}}}
    return resources


def merge_queues(template: Dict[str, Any], definitions: Sequence[QueueDefinition]) -> int:
    """Add the queues; point each SQS event at its queue's ARN, with partial batch responses.
    Returns how many events were completed."""
    resources = template.setdefault("Resources", {})
    resources.update(queue_resources(definitions))
    by_name = {d.name: logical_id("TaskQueue", d.queue) for d in definitions}
    completed = 0
    for resource in list(resources.values()):
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event in (resource["Properties"].get("Events") or {}).values():
            if event.get("Type") != "SQS":
                continue
            queue = event["Properties"]["Queue"]
            text = json.dumps(queue)
            name = next((n for n in by_name if text.endswith(f':{n}"}}')), None)
            if name is None:
                raise DeployError("package", f"an SQS event reads {text}, no task queue")
            event["Properties"]["Queue"] = {"Fn::GetAtt": [by_name[name], "Arn"]}
            event["Properties"]["FunctionResponseTypes"] = ["ReportBatchItemFailures"]
            completed += 1
    return completed


def merge_alarms(template: Dict[str, Any], ready: Prepared) -> int:
    """The stage's alarms (`alarms.enabled`, alarms.py) as deploy makes them; how many."""
    from .alarms import planned_alarms

    planned = planned_alarms(ready.build, ready.graph, ready.definitions)
    if planned is None:
        return 0
    alarms, topic = planned
    template.setdefault("Resources", {}).update(
        {logical_id("Alarm", alarm.name): {"Type": "AWS::CloudWatch::Alarm",
                                           "Properties": alarm.properties(topic)}
         for alarm in alarms})
    return len(alarms)


def parameterise(template: Dict[str, Any], forwarded: Sequence[str]) -> None:
    """Forwarded variables as NoEcho parameters, referenced by every function."""
    if not forwarded:
        return
    parameters = template.setdefault("Parameters", {})
    for name in forwarded:
        parameters[logical_id(name)] = {
            "Type": "String", "NoEcho": True,
            "Description": f"{name} for the functions (read by pym-config.yaml)"}
    for resource in template.get("Resources", {}).values():
        variables = (resource.get("Properties", {}).get("Environment") or {}).get("Variables")
        if resource.get("Type") == "AWS::Serverless::Function" and variables is not None:
            for name in forwarded:
                variables[name] = {"Ref": logical_id(name)}


def complete_roles(template: Dict[str, Any], functions: Sequence[FunctionModel]) -> int:
    """The roles' policies were written with CloudFormation placeholders for the account,
    region and partition (permissions.Arns.cloudformation): wrap them in Fn::Sub. The
    functions get the names deploy gives them, which their log permissions name."""
    names = {f.handler: f.function_name for f in functions}
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function":
            properties = resource["Properties"]
            properties.setdefault("FunctionName", names[properties["Handler"]])
    roles = 0
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") != "AWS::IAM::Role":
            continue
        for policy in resource.get("Properties", {}).get("Policies", []):
            policy["PolicyDocument"] = cloudformation(policy["PolicyDocument"])
        roles += 1
    return roles


def set_queue_urls(template: Dict[str, Any], definitions: Sequence[QueueDefinition]) -> None:
    """Each queue's URL (a queue's Ref) in every function's variables, as deploy sets them:
    the runtime makes no GetQueueUrl call."""
    from ...tasks.task_settings import queue_env_key

    urls: Dict[str, Any] = {}
    for d in definitions:
        key = queue_env_key(d.queue)
        urls[f"PYM_TASK_QUEUE_URL_{key}"] = {"Ref": logical_id("TaskQueue", d.queue)}
        urls[f"PYM_TASK_DLQ_URL_{key}"] = {"Ref": logical_id("TaskQueue", d.queue, "Dlq")}
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function" and urls:
            environment = resource["Properties"].setdefault("Environment", {})
            environment.setdefault("Variables", {}).update(urls)


def set_runtime(template: Dict[str, Any], runtime: str) -> None:
    """Chalice writes the Python running it (python3.11 under 3.11) as every function's
    runtime; --runtime names another one, e.g. when that one is deprecated by AWS. Only
    right when the package has no compiled dependencies, or they were built for it."""
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource["Properties"]["Runtime"] = runtime


def build_package(ready: Prepared, out_dir: Path, runtime: Optional[str] = None,
                  echo: Callable[[str], None] = print,
                  notice: Optional[Callable[[str], None]] = None) -> Tuple[Path, Path]:
    """sam.json and deployment.zip in `out_dir`: the one way the Lambda package is built.
    `deploy` builds it so too (Chalice's deployer then reuses the zip it cached, which is
    replaced by the finished one). `notice` gets the line saying what the zip ships (bytecode,
    or why none), shown even when `echo` is silenced."""
    definitions = ready.definitions
    out_dir.mkdir(parents=True, exist_ok=True)
    ready.project.write_policies(ready.access, Arns.cloudformation(), definitions)
    # The slow part (pip for requirements.txt, then the zip): said before, not after.
    (notice or echo)("package: chalice package (the app, chalicelib/, requirements.txt's "
                     "wheels for Lambda)...")
    sam = _chalice_package(ready, out_dir)
    if _stale_cache(ready):
        sam = _chalice_package(ready, out_dir)  # Chalice's own zip, made again
    target = runtime or ready.project.config.lambda_python_version
    finished = finish_package(ready, out_dir / "deployment.zip", target)
    (notice or echo)(f"package: {finished.describe()}")
    template = json.loads(sam.read_text(encoding="utf-8"))
    events = merge_queues(template, definitions)
    alarms = merge_alarms(template, ready)
    roles = complete_roles(template, ready.graph.functions)
    if ready.table is not None:  # kept when the stack is deleted, as the queues are
        template["Resources"][logical_id("IdempotencyTable")] = ready.table.cloudformation()
    set_queue_urls(template, definitions)
    parameterise(template, ready.build.forwarded)
    if runtime:
        set_runtime(template, runtime)
    sam.write_text(json.dumps(template, indent=2) + "\n", encoding="utf-8")
    forwarded = ready.build.forwarded
    echo(f"{len(definitions)} task queue(s) with DLQs, {events} SQS event(s) with partial "
         f"batch responses, {roles} IAM role(s)"
         + (f", idempotency table {ready.table.name}" if ready.table else "")
         + (f", {alarms} CloudWatch alarm(s)" if alarms else "")
         + (f", parameters {', '.join(forwarded)}" if forwarded else ""))
    return sam, out_dir / "deployment.zip"


CHALICE_ZIPS = "chalice"  # under .chalice/deployments/: Chalice's own zips, as it made them


def _chalice_package(ready: Prepared, out_dir: Path) -> Path:
    try:
        return ready.project.package(out_dir)
    except Exception as exc:
        raise DeployError("package", f"chalice package: {one_line(exc)}") from None


def _stale_cache(ready: Prepared) -> bool:
    """Is Chalice's cached zip a finished one without Chalice's own kept beside it (finished
    before the originals were kept)? Then both are removed: finishing starts from Chalice's."""
    from .package_zip import is_finished

    cached = ready.project.cached_package()
    if cached is None or not cached.is_file() or not is_finished(cached):
        return False
    original = cached.parent / CHALICE_ZIPS / cached.name
    if original.is_file() and not is_finished(original):
        return False
    cached.unlink()
    original.unlink(missing_ok=True)
    return True


def finish_package(ready: Prepared, package: Path, runtime: str) -> Finished:
    """Chalice's zip finished (package_zip.py): slimmed, with bytecode for `runtime`. The copy
    Chalice cached is replaced too when it is this zip and `runtime` is the one Chalice's
    deployer gives the functions: `deploy` then ships the finished zip. Chalice's own zip is
    kept beside it (deployments/chalice/<name>) and every build finishes that one, so what a
    build ships never depends on an earlier build's finishing (another pym-lambda's rules)."""
    from .package_zip import finish

    cached = ready.project.cached_package()
    same = (cached is not None and cached.is_file()
            and cached.read_bytes() == package.read_bytes())
    if same and cached is not None:
        original = cached.parent / CHALICE_ZIPS / cached.name
        if original.is_file():
            shutil.copyfile(original, package)
        else:
            original.parent.mkdir(exist_ok=True)
            shutil.copyfile(cached, original)
    finished = finish(package, runtime, docs_enabled=ready.build.docs_enabled)
    if same and cached is not None and runtime == ready.project.config.lambda_python_version:
        shutil.copyfile(package, cached)
    return finished


def check_built_package(ready: Prepared, sam: Path, package: Path,
                        echo: Callable[[str], None] = print) -> PackageCheck:
    """Run the package as the Lambda runtime would (artifact_check.py): a package that would
    fail on AWS fails the build here, naming what is wrong. No AWS call is made."""
    from .artifact_check import check_package

    echo("package: running it as Lambda would (unzipped, each function imported)...")
    parameters = {logical_id(name): value for name, value in ready.build.forwarded_values.items()}
    check = check_package(package, sam, parameters=parameters,
                          region=resolve_region(ready.options.region))
    size = (f"{check.package_bytes / 1e6:.1f} MB zipped, {check.unpacked_bytes / 1e6:.1f} MB "
            "unpacked")
    if check.skipped:
        echo(f"warning: package ({size}) not run here: {check.skipped}")
        return check
    check.raise_for_problems()
    ran = ", ".join(f"{f.logical_id} {f.checked} (import {f.import_ms or 0:.0f} ms, "
                    f"{f.modules - len(f.compiled_from_source)} of {f.modules} modules from "
                    "bytecode)" for f in check.functions)
    echo(f"package ({size}) runs as Lambda's python{check.python} would run it: {ran}")
    return check


def run_package(options: DeployOptions, out_dir: Path, runtime: Optional[str] = None,
                echo: Callable[[str], None] = print, check: bool = True) -> List[Path]:
    resolve_region(options.region)  # Chalice's packager needs one (for ARNs), no credentials
    echo(f"build: stage {options.stage}: compiling apis/, loading app.py...")
    with prepared(options, echo) as ready:
        if ready.build.project_code.paths:
            echo(f"build: {ready.build.project_code.describe()}")
        for warning in ready.build.warnings:  # what would break only on AWS
            echo(f"warning: {warning}")
        sam, package = build_package(ready, out_dir, runtime, echo)
        if check:
            check_built_package(ready, sam, package, echo)
        return [sam, package]
