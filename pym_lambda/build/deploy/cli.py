"""`pym-lambda deploy|delete|rollback|package`: click commands, attached to the main group.

Every failure is one `error:` line naming the step and the cause (plus what exists in AWS at
that point, for a half-done deploy) and exit status 1; `--debug` shows the traceback instead.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import click

from ..command_line import problems_as_lines
from .errors import DeployError
from .prepare import DeployOptions

STEPS = ("build", "plan", "apply", "verify", "summary")


class Progress:
    """[n/5] step titles, and indented details under them."""

    def __init__(self, echo: Callable[[str], None] = click.echo) -> None:
        self.echo = echo
        self.number = 0

    def step(self, title: str, detail: str = "") -> None:
        self.number += 1
        self.echo(f"[{self.number}/{len(STEPS)}] {title}" + (f": {detail}" if detail else ""))

    def detail(self, line: str) -> None:
        self.echo(f"      {line}")


def report_errors(command: Callable[..., None]) -> Callable[..., None]:
    """DeployError -> its step and cause, what exists, exit 1; any other exception -> one
    error line (build/command_line.py); --debug shows the traceback instead."""
    def explain(exc: Exception, kwargs: Dict[str, Any]) -> bool:
        if not isinstance(exc, DeployError):
            return False
        _print_failure(exc, kwargs.get("stage"), command.__name__)
        return True

    return problems_as_lines(command, explain)


def _print_failure(exc: DeployError, stage: Optional[str], command: str) -> None:
    problems = getattr(exc, "problems", (exc,))  # precheck.DeployProblems: one line each
    for problem in problems:
        click.echo(f"error: {problem.step}: {problem.message}", err=True)
    if exc.existing and exc.existing != ("nothing",):
        click.echo(f"what exists now for stage {stage}:", err=True)
        for line in exc.existing:
            click.echo(f"  - {line}", err=True)
        if command == "deploy" and exc.step != "verify":
            click.echo(f"the stage is partly deployed: fix the cause and run "
                       f"`pym-lambda deploy --stage {stage}` again to complete it", err=True)
    for problem in problems:
        if problem.hint:
            click.echo(f"hint: {problem.hint}", err=True)


def _common(func: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed([
        click.option("--stage", required=True, help="The stage, as in .chalice/config.json."),
        click.option("--project-dir", type=click.Path(file_okay=False), default=".",
                     show_default=True, help="The service folder."),
        click.option("--region", default=None, help="AWS region (default: the environment's)."),
        click.option("--state-bucket", envvar="PYM_STATE_BUCKET", default=None,
                     help="S3 bucket for state, packages and history "
                          "[default: <app>-pym-deployments-<account>; env PYM_STATE_BUCKET]."),
        click.option("--debug", is_flag=True, help="Show tracebacks."),
    ]):
        func = option(func)
    return func


target_option = click.option("--target", type=click.Choice(["lambda", "beanstalk"]),
                             default="lambda", show_default=True,
                             help="Lambda + API Gateway (Chalice), or Elastic Beanstalk (Docker).")
yes_option = click.option("--yes", "-y", "assume_yes", is_flag=True,
                          help="Do not ask for confirmation.")


def confirm(question: str, assume_yes: bool) -> None:
    if not assume_yes:
        click.confirm(question, abort=True)


@click.command()
@_common
@target_option
@yes_option
@click.option("--dry-run", is_flag=True, help="Build and print the plan; no AWS call.")
@click.option("--skip-verify", is_flag=True,
              help="Do not call /ping and /version (rehearsals on a local moto server).")
@click.option("--wait-timeout", type=float, default=900, show_default=True,
              help="Beanstalk: seconds to wait for a healthy environment.")
@click.option("--solution-stack", default=None,
              help="Beanstalk: platform for a new environment (default: the newest Docker one).")
@click.option("--instance-profile", default=None, metavar="NAME",
              help="Beanstalk: an existing instance profile for the instances, used as is "
                   "[default: <app>-<stage>-beanstalk-ec2, created with the container's SQS "
                   "rights; or beanstalk_instance_profile in .chalice/config.json].")
@click.option("--service-role", default=None, metavar="NAME",
              help="Beanstalk: an existing service role, used as is [default: "
                   "<app>-beanstalk-service, created; or beanstalk_service_role in "
                   ".chalice/config.json].")
@click.option("--acceptance", is_flag=True,
              help="After /ping, run the service's acceptance tests (tests/acceptance/) "
                   "against the deployed URL, as pymdeploy did.")
@report_errors
def deploy(stage: str, project_dir: str, region: Optional[str], state_bucket: Optional[str],
           target: str, assume_yes: bool, dry_run: bool, skip_verify: bool,
           wait_timeout: float, solution_stack: Optional[str], instance_profile: Optional[str],
           service_role: Optional[str], acceptance: bool) -> None:
    """Build, plan, apply, verify and summarise a deployment of the stage."""
    options = DeployOptions(Path(project_dir), stage, target=target, dry_run=dry_run,
                            skip_verify=skip_verify, state_bucket=state_bucket, region=region,
                            wait_timeout=wait_timeout, solution_stack=solution_stack,
                            instance_profile=instance_profile, service_role=service_role)
    run_deploy(options, assume_yes=assume_yes, acceptance=acceptance)


def run_acceptance(options: DeployOptions, outcome: Any, emit: Callable[[str], None]) -> None:
    """The acceptance tests against the deployed URL; a failure fails the verify step."""
    from ..acceptance_runner import run_acceptance_tests

    url = getattr(outcome, "api_url", None) or getattr(outcome, "url", None)
    if not url:
        raise DeployError("verify", "no deployed URL to run the acceptance tests against")
    emit(f"acceptance tests against {url}")
    code = run_acceptance_tests(options.project_dir, url=str(url), stage=options.stage)
    if code != 0:
        raise DeployError("verify", f"the acceptance tests failed (pytest exit code {code})")
    emit("acceptance tests passed")


def run_deploy(options: DeployOptions, *, assume_yes: bool = False, clients: Any = None,
               echo: Callable[[str], None] = click.echo, acceptance: bool = False) -> None:
    """The deploy command's work; `clients` (service -> client) is for tests."""
    from .aws_access import check_access, client_factory
    from .precheck import precheck
    from .prepare import prepared

    precheck(options)  # what needs no build fails before it (the package takes ~30 s)
    progress = Progress(echo)
    progress.step("build", f"stage {options.stage} of {options.project_dir.resolve()}")
    with prepared(options, progress.detail) as ready:
        build = ready.build
        progress.detail(f"{build.spec_count} spec(s), {build.operation_count} operation(s); "
                        f"{build.compiled_file.relative_to(build.project_dir)} "
                        + ("written" if build.compiled_changed else "up to date"))
        progress.detail(build.framework.describe())
        if build.project_code.paths:
            progress.detail(build.project_code.describe())
        for warning in build.warnings:
            progress.detail(f"warning: {warning}")
        if options.target == "lambda":
            check_lambda_package(ready, progress.detail)
        target = _target_module(options.target)
        plan = target.make_plan(ready)
        progress.step("plan")
        for line in plan.lines():
            progress.detail(line)
        if options.dry_run:
            echo("dry run: stopped before any AWS call")
            return
        aws = check_access(options.region, clients)
        clients = clients or client_factory(aws.region)
        where = f"account {aws.account_id}, {aws.region}" + (
            f", endpoint {aws.endpoint_url}" if aws.endpoint_url else "")
        confirm(f"Deploy {ready.app_name} stage {ready.stage} to {options.target} ({where})?",
                assume_yes)
        progress.step("apply", where)
        deployment = target.Deployment(ready, plan, aws, clients, progress.detail)
        outcome = deployment.apply()
        progress.step("verify", "skipped" if options.skip_verify else "")
        for line in deployment.verify():
            progress.detail(line)
        if acceptance:
            run_acceptance(options, outcome, progress.detail)
        progress.step("summary")
        for line in outcome.summary_lines():
            progress.detail(line)


def check_lambda_package(ready: Any, emit: Callable[[str], None]) -> None:
    """Build the Lambda package as `package` does and run it as Lambda would, before any AWS
    call: Chalice's deployer then ships that very zip (it reuses the one it cached)."""
    import tempfile

    from .aws_access import resolve_region
    from .package import build_package, check_built_package

    resolve_region(ready.options.region)  # Chalice's packager needs one (for ARNs)
    with tempfile.TemporaryDirectory(prefix="pym-package-") as out:
        sam, package = build_package(ready, Path(out), echo=lambda line: None, notice=emit)
        check_built_package(ready, sam, package, emit)


def _target_module(name: str) -> Any:
    from . import beanstalk_target, lambda_target

    return beanstalk_target if name == "beanstalk" else lambda_target


@click.command()
@_common
@target_option
@yes_option
@click.option("--include-queues", is_flag=True,
              help="Also delete the task queues and DLQs (and the messages they hold), and "
                   "the idempotency table.")
@report_errors
def delete(stage: str, project_dir: str, region: Optional[str], state_bucket: Optional[str],
           target: str, assume_yes: bool, include_queues: bool) -> None:
    """Delete what deploy created for the stage (queues kept unless --include-queues)."""
    from .teardown import run_delete

    run_delete(DeployOptions(Path(project_dir), stage, target=target, state_bucket=state_bucket,
                             region=region), include_queues=include_queues,
               confirm=lambda q: confirm(q, assume_yes))


@click.command()
@_common
@target_option
@yes_option
@click.option("--to", "to_version", type=int, default=None,
              help="The version to go back to (default: the one before the current).")
@click.option("--skip-verify", is_flag=True, help="Do not call /ping afterwards.")
@report_errors
def rollback(stage: str, project_dir: str, region: Optional[str], state_bucket: Optional[str],
             target: str, assume_yes: bool, to_version: Optional[int],
             skip_verify: bool) -> None:
    """Redeploy the previous version's package (kept in the deployments bucket)."""
    from .rollback import run_rollback

    run_rollback(DeployOptions(Path(project_dir), stage, target=target,
                               state_bucket=state_bucket, region=region,
                               skip_verify=skip_verify),
                 to_version=to_version, confirm=lambda q: confirm(q, assume_yes))


@click.command()
@_common
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True,
              help="Folder for sam.json and deployment.zip.")
@click.option("--runtime", default=None, metavar="pythonX.Y",
              help="The functions' runtime (default: this Python's, as Chalice does).")
@report_errors
def package(stage: str, project_dir: str, region: Optional[str], state_bucket: Optional[str],
            out_dir: str, runtime: Optional[str]) -> None:
    """Write the stage as CloudFormation (SAM): Chalice's template plus the task queues, DLQs
    and partial batch responses."""
    from .package import run_package

    files: List[Path] = run_package(DeployOptions(Path(project_dir), stage, region=region),
                                    Path(out_dir), runtime=runtime, echo=click.echo)
    for path in files:
        click.echo(f"wrote {path}")


COMMANDS = (deploy, delete, rollback, package)
