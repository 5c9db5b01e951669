"""The pym-lambda command. Build-time only: never imported by the Lambda runtime."""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import List, NoReturn, Optional

import click

from ..errors import SpecErrors
from ..version import __version__
from .command_line import (
    apply_region,
    check_stage,
    debug_option,
    problems_as_lines,
    project_option,
    project_root,
    region_option,
)
from .stage_environment import stage_environment


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pym-lambda")
def main() -> None:
    """pym-lambda: OpenAPI/Swagger specs compiled into AWS Chalice routes."""


def _project(project_dir: Optional[str], stage: Optional[str] = None,
             region: Optional[str] = None) -> Path:
    root = project_root(project_dir)
    check_stage(root, stage)
    apply_region(region)
    return root


def _fail(errors: List[str]) -> NoReturn:
    for error in errors:
        click.echo(f"error: {error}", err=True)
    click.echo(f"{len(errors)} problem(s) found", err=True)
    sys.exit(1)


@main.command()
@click.option("--stage", default="dev", show_default=True,
              help="Whose config to check (its environment from .chalice/config.json).")
@project_option
@region_option
@debug_option
@problems_as_lines
def validate(stage: str, project_dir: Optional[str], region: Optional[str]) -> None:
    """Check every spec in apis/, the config and every binding, and what would break only on
    AWS; print every problem (error:) and warning, exit 1 if there is an error."""
    from .validation import validate_project

    root = _project(project_dir, stage, region)
    started = time.perf_counter()
    report = validate_project(root, stage)
    for note in report.notes:
        click.echo(f"info: {note}")
    for warning in report.warnings:
        click.echo(f"warning: {warning}")
    if report.errors:
        _fail(report.errors)
    clients = report.clients
    click.echo(f"ok: {report.specs} spec(s), {report.operations} operation(s)"
               + (f", {len(clients)} client spec(s) ({', '.join(clients)})" if clients else "")
               + f" in {(time.perf_counter() - started) * 1000:.0f} ms")


@main.command()
@project_option
@region_option
@debug_option
@problems_as_lines
def build(project_dir: Optional[str], region: Optional[str]) -> None:
    """Compile apis/ (and pym-config.yaml) into chalicelib/pym_compiled.json, which the Lambda
    package serves from. No AWS call: --region is taken as every command takes it."""
    from ..config import ConfigError
    from ..runtime.project_files import COMPILED_FILE
    from .compiled_form import compile_project, specs_fingerprint, write_compiled

    root = _project(project_dir, region=region)
    try:
        compiled = compile_project(root)
    except SpecErrors as exc:
        _fail([str(e) for e in exc.errors])
    except ConfigError as exc:
        _fail(list(exc.problems))
    compiled["fingerprint"] = specs_fingerprint(root / "apis")
    target = root / "chalicelib" / COMPILED_FILE
    target.parent.mkdir(exist_ok=True)
    if not write_compiled(target, compiled):
        _fail([f"cannot write {target}"])
    click.echo(f"wrote {target.relative_to(root)} ({target.stat().st_size} bytes)")


@main.command()
@click.argument("user_id")
@click.option("--stage", default="dev", show_default=True,
              help="Whose settings sign the token (its environment from .chalice/config.json).")
@click.option("--expires-in", type=int, default=None, help="Lifetime in seconds.")
@click.option("--claim", "claims", multiple=True, metavar="KEY=VALUE",
              help="An extra claim (repeatable), e.g. --claim scope=admin.")
@project_option
@region_option
@debug_option
@problems_as_lines
def token(user_id: str, stage: str, expires_in: Optional[int], claims: List[str],
          project_dir: Optional[str], region: Optional[str]) -> None:
    """Print a JWT for USER_ID signed with the service's key (for curl and tests)."""
    from ..auth import generate_token
    from ..config import ConfigError, load_settings
    from ..secret_store import SecretUnavailableError

    root = _project(project_dir, stage, region)
    data = {}
    for claim in claims:
        key, sep, value = claim.partition("=")
        if not sep:
            _fail([f"--claim {claim!r}: expected KEY=VALUE"])
        data[key] = value
    try:
        settings = load_settings(root, stage=stage, environ=stage_environment(root, stage))
        click.echo(generate_token(user_id, data=data or None, expires_in=expires_in,
                                  settings=settings))
    except ConfigError as exc:
        _fail(list(exc.problems))
    except (RuntimeError, ValueError, SecretUnavailableError) as exc:
        _fail([str(exc)])  # a key read from SSM: names the parameter and AWS's error


def _add_commands() -> None:
    # Each family of commands lives with its code; imported here, never by the runtime.
    from .acceptance_runner import acceptance_test
    from .deploy.cli import COMMANDS as deploy_commands
    from .local_service import local
    from .scaffold import new
    from .stage_commands import COMMANDS as stage_commands
    from .tasks.cli import tasks, worker

    for command in (tasks, worker, new, local, acceptance_test, *deploy_commands,
                    *stage_commands):
        main.add_command(command)


_add_commands()

if __name__ == "__main__":  # pragma: no cover
    main()
