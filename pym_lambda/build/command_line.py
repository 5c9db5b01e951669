"""What every `pym-lambda` command shares: `--stage` checked against .chalice/config.json,
`--project-dir`, `--region`, `--debug`, and one `error:` line per problem (the traceback only
with `--debug`). Build-time only."""
from __future__ import annotations

import functools
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import click

CHALICE_CONFIG = ".chalice/config.json"
DEBUG_HINT = " (--debug shows the traceback)"


def project_root(project_dir: Optional[Any]) -> Path:
    return Path(project_dir or ".").resolve()


def known_stages(root: Path) -> Optional[List[str]]:
    """The stages the project defines: .chalice/config.json's (Chalice's implicit 'dev'
    included) and pym-config.yaml's `stages:` sections; None when the folder has no readable
    .chalice/config.json (nothing to check against)."""
    try:
        config = json.loads((root / CHALICE_CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    stages = config.get("stages") if isinstance(config, dict) else None
    names = set(stages if isinstance(stages, dict) else ()) | {"dev"}
    try:
        import yaml

        from ..config import CONFIG_FILENAME

        document = yaml.safe_load((root / CONFIG_FILENAME).read_text(encoding="utf-8"))
        sections = document.get("stages") if isinstance(document, dict) else None
        names |= {str(name) for name in sections} if isinstance(sections, dict) else set()
    except (OSError, ValueError, yaml.YAMLError):
        pass  # the config's own problems are validate's to report
    return sorted(names)


def check_stage(root: Path, stage: Optional[str]) -> None:
    """A stage the project does not define is refused before anything runs: a typo in
    `--stage` would otherwise read another stage's settings, or none."""
    if stage is None:
        return
    stages = known_stages(root)
    if stages is not None and stage not in stages:
        raise click.ClickException(
            f"unknown stage {stage!r}: {CHALICE_CONFIG} and pym-config.yaml define "
            f"{', '.join(stages)}")


def apply_region(region: Optional[str]) -> None:
    """--region: the AWS region of every client this process makes."""
    if region:
        os.environ["AWS_DEFAULT_REGION"] = region


def quiet_aws_loggers() -> None:
    """boto's INFO lines (credentials found...) are not the command's output."""
    for name in ("botocore", "boto3", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)


def problems_as_lines(command: Callable[..., Any],
                      explain: Optional[Callable[[Exception, Dict[str, Any]], bool]] = None
                      ) -> Callable[..., Any]:
    """Any exception the command lets through -> one `error:` line and exit 1; with
    `--debug`, the traceback instead. Click's own errors (usage, ClickException) are left to
    click, which prints them as one line already. explain(exc, kwargs) may print a failure
    its own way (deploy's, with what exists in AWS) and say so by returning True."""
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = kwargs.pop("debug", False)
        try:
            return command(*args, **kwargs)
        except (click.ClickException, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:
            if debug:
                raise
            if explain is None or not explain(exc, kwargs):
                lines = _describe(exc)
                for line in lines[:-1]:
                    click.echo(f"error: {line}", err=True)
                click.echo(f"error: {lines[-1]}{DEBUG_HINT}", err=True)
            sys.exit(1)
    return wrapper


def _describe(exc: Exception) -> List[str]:
    from botocore.exceptions import NoRegionError

    from ..config import ConfigError

    if isinstance(exc, NoRegionError):
        return ["no AWS region: pass --region or set AWS_DEFAULT_REGION"]
    if isinstance(exc, ConfigError):
        return list(exc.problems)  # every problem of the config, one line each
    from .deploy.errors import one_line  # AWS's code and message, one line

    return [one_line(exc)]


debug_option = click.option("--debug", is_flag=True,
                            help="Show the traceback of an unexpected failure.")
region_option = click.option("--region", default=None,
                             help="AWS region (default: the environment's).")
project_option = click.option("--project-dir", type=click.Path(file_okay=False), default=None,
                              help="The service folder (default: the current folder).")
