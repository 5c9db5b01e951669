"""`pym-lambda url`, `logs` and `invoke`: Chalice's commands of the same names, on the state
deploy records (Chalice's `deployed.json`, kept in the deployments bucket, `.chalice/deployed/`
as its cache), plus `invoke --task` to send a task to its queue. Build-time only."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Dict, Optional, Tuple, Type

import click

from .command_line import (
    check_stage,
    debug_option,
    project_option,
    project_root,
    quiet_aws_loggers,
    region_option,
)
from .deploy.cli import report_errors
from .deploy.errors import DeployError

API_HANDLER = "api_handler"  # Chalice's name for the REST API's function


def _stage_options(func: Any) -> Any:
    for option in reversed([
        click.option("--stage", default="dev", show_default=True,
                     help="The deployed stage, as in .chalice/config.json."),
        project_option, region_option,
        click.option("--state-bucket", envvar="PYM_STATE_BUCKET", default=None,
                     help="S3 bucket deploy keeps the state in [default: "
                          "<app>-pym-deployments-<account>; env PYM_STATE_BUCKET]."),
        debug_option,
    ]):
        func = option(func)
    return func


def deployed_resources(root: Path, stage: str, region: Optional[str],
                       state_bucket: Optional[str], step: str) -> Tuple[Dict[str, Any], Any]:
    """{resource name: its values} of the stage as deploy recorded it, and the AWS target.
    The bucket's copy first (what any clone deployed), refreshing the local cache; the local
    file when the bucket cannot be read, said on stderr."""
    from .deploy.aws_access import check_access
    from .deploy.build import read_stage_config
    from .deploy.errors import one_line
    from .deploy.state import DeploymentStore, default_bucket, deployed_file

    config = read_stage_config(root, stage)
    quiet_aws_loggers()
    aws = check_access(region, step=step)
    from ..aws import aws_client

    bucket = state_bucket or default_bucket(config.app_name, aws.account_id)
    local = deployed_file(root, stage)
    try:
        DeploymentStore(aws_client("s3", aws.region), bucket, aws.region, stage
                        ).download_state(local)
    except Exception as exc:  # no bucket, no rights: the cache may still say where things are
        if not local.is_file():
            raise DeployError(step, f"cannot read the deployed state of stage {stage} from "
                                    f"s3://{bucket} ({one_line(exc)})") from None
        click.echo(f"note: s3://{bucket} unreadable ({one_line(exc)}): using {local}", err=True)
    try:
        data = json.loads(local.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise DeployError(step, f"stage {stage} of {config.app_name} is not deployed: "
                                f"`pym-lambda deploy --stage {stage}` first") from None
    resources = {str(r.get("name")): r for r in data.get("resources", [])
                 if isinstance(r, dict)}
    return resources, aws


def _function_arn(resources: Dict[str, Any], name: str, stage: str, step: str) -> str:
    found = resources.get(name, {})
    if found.get("resource_type") != "lambda_function":
        names = sorted(n for n, r in resources.items()
                       if r.get("resource_type") == "lambda_function")
        raise DeployError(step, f"no function {name!r} in stage {stage}; deployed: "
                                + (", ".join(names) or "none"))
    return str(found["lambda_arn"])


@click.command()
@_stage_options
@report_errors
def url(stage: str, project_dir: Optional[str], region: Optional[str],
        state_bucket: Optional[str]) -> None:
    """Print the deployed REST API's URL."""
    root = project_root(project_dir)
    check_stage(root, stage)
    resources, _ = deployed_resources(root, stage, region, state_bucket, "url")
    rest = resources.get("rest_api", {})
    if not rest.get("rest_api_url"):
        raise DeployError("url", f"no REST API recorded for stage {stage}")
    click.echo(rest["rest_api_url"])


@click.command()
@click.option("-n", "--name", default=API_HANDLER, show_default=True,
              help="The function: api_handler (the REST API), pym_task_worker_<queue>, or "
                   "another of the app's.")
@click.option("-s", "--since", default=None,
              help="From this time on: ISO 8601, or relative (5m, 2h, 1d); with --follow, "
                   "10 minutes ago by default.")
@click.option("-f", "--follow", is_flag=True, help="Keep polling for new lines (Ctrl-C stops).")
@click.option("--num-entries", type=int, default=None, help="Show at most this many lines.")
@click.option("--include-lambda-messages", is_flag=True,
              help="Also Lambda's own START/END/REPORT lines.")
@_stage_options
@report_errors
def logs(name: str, since: Optional[str], follow: bool, num_entries: Optional[int],
         include_lambda_messages: bool, stage: str, project_dir: Optional[str],
         region: Optional[str], state_bucket: Optional[str]) -> None:
    """Print a deployed function's CloudWatch log lines, as `chalice logs` does."""
    import botocore.session
    from chalice.awsclient import TypedAWSClient
    from chalice.logs import (
        FollowLogEventGenerator,
        LogEventGenerator,
        LogRetrieveOptions,
        LogRetriever,
        display_logs,
    )

    root = project_root(project_dir)
    check_stage(root, stage)
    resources, aws = deployed_resources(root, stage, region, state_bucket, "logs")
    arn = _function_arn(resources, name, stage, "logs")
    session = botocore.session.get_session()
    session.set_config_variable("region", aws.region)
    client = TypedAWSClient(session)
    generator = FollowLogEventGenerator(client) if follow else LogEventGenerator(client)
    retriever = LogRetriever.create_from_lambda_arn(generator, arn)
    try:
        options = LogRetrieveOptions.create(follow=follow, since=since, max_entries=num_entries,
                                            include_lambda_messages=include_lambda_messages)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    try:
        display_logs(retriever, sys.stdout, options)
    except Exception as exc:
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        if code == "ResourceNotFoundException":  # no log group: it never ran
            click.echo(f"no log lines yet: {arn.split(':')[6]} has not run", err=True)
            return
        raise


@click.command()
@click.option("-n", "--name", default=API_HANDLER, show_default=True,
              help="The function to invoke; its event is read from stdin.")
@click.option("--task", default=None, metavar="NAME",
              help="Send this @async_task (its function name, or module:function) to its "
                   "queue instead, as .delay() would; the stage's worker runs it.")
@click.option("--args", "args_json", default="[]", show_default=True, metavar="JSON",
              help="--task: the positional arguments, a JSON list.")
@click.option("--kwargs", "kwargs_json", default="{}", show_default=True, metavar="JSON",
              help="--task: the keyword arguments, a JSON object.")
@click.option("--app", "app_module", default="app", show_default=True,
              help="--task: the module defining the app and importing the tasks.")
@_stage_options
@report_errors
def invoke(name: str, task: Optional[str], args_json: str, kwargs_json: str, app_module: str,
           stage: str, project_dir: Optional[str], region: Optional[str],
           state_bucket: Optional[str]) -> None:
    """Invoke a deployed function with the event read from stdin and print its answer, as
    `chalice invoke` does; or, with --task, send a task to its queue."""
    root = project_root(project_dir)
    check_stage(root, stage)
    if task is not None:
        _send_task(root, stage, region, task, args_json, kwargs_json, app_module)
        return
    resources, aws = deployed_resources(root, stage, region, state_bucket, "invoke")
    arn = _function_arn(resources, name, stage, "invoke")
    payload = bytes(sys.stdin.buffer.read())
    answer = _invoke(arn, payload, aws.region)
    click.echo(answer["payload"])
    if answer["error"]:
        raise DeployError("invoke", f"{name} failed ({answer['error']}): its answer is above")


def _invoke(arn: str, payload: bytes, region: str) -> Dict[str, Any]:
    import boto3
    from botocore.config import Config

    # No retry: a timed-out or failed invocation must not run the function twice. Wait as
    # long as the function may run.
    lam = boto3.client("lambda", region_name=region,
                       config=Config(retries={"max_attempts": 0}, read_timeout=910))
    response = lam.invoke(FunctionName=arn, InvocationType="RequestResponse",
                          Payload=payload or b"{}")
    body = response["Payload"].read().decode("utf-8", "replace")
    return {"payload": body, "error": response.get("FunctionError")}


def _send_task(root: Path, stage: str, region: Optional[str], task_name: str, args_json: str,
               kwargs_json: str, app_module: str) -> None:
    from ..tasks.decorator import registered_tasks
    from ..tasks.sender import send_task
    from .tasks.cli import _prepare

    args = _json_argument(args_json, "--args", list)
    kwargs = _json_argument(kwargs_json, "--kwargs", dict)
    _prepare(stage, app_module, (), str(root), region)
    tasks = registered_tasks()
    found = [t for t in tasks if task_name in (t.name, t.name.rpartition(":")[2])]
    if len(found) != 1:
        known = ", ".join(sorted(t.name for t in tasks)) or "none"
        what = "is ambiguous" if found else "is not a task of the app"
        raise click.ClickException(f"--task {task_name!r} {what}; its tasks: {known}")
    handle = send_task(found[0], args, kwargs)  # the queue, even where the stage runs inline
    click.echo(f"sent {handle.task} to queue {handle.queue}: task id {handle.task_id}, "
               f"message {handle.message_id}")


def _json_argument(text: str, option: str, kind: Type[Any]) -> Any:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint=option) from None
    if not isinstance(value, kind):
        raise click.BadParameter(f"expected a JSON {'list' if kind is list else 'object'}",
                                 param_hint=option)
    return value


COMMANDS = (url, logs, invoke)
