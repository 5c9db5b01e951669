"""What `deploy` checks before its build: everything that needs no package and no AWS call.

The build (the package, run as Lambda would) takes tens of seconds: a forgotten credential,
an unknown stage, a missing app.py, a plain secret in a production stage or an alarm period
CloudWatch refuses is reported first, one line each, all together when they are independent.
"""
from __future__ import annotations

import os
from typing import Callable, List, Optional, Sequence, TypeVar

from .build import (
    STEP,
    StageConfig,
    check_compile_cache,
    check_project_files,
    read_stage_config,
)
from .errors import DeployError
from .prepare import DeployOptions

T = TypeVar("T")


class DeployProblems(DeployError):
    """Several independent problems found at once; the CLI prints one `error:` line each."""

    def __init__(self, problems: Sequence[DeployError]) -> None:
        self.problems = tuple(problems)
        super().__init__(problems[0].step, "; ".join(p.message for p in problems))


def precheck(options: DeployOptions) -> None:
    """Raise the problems found without a build (one DeployError, or DeployProblems)."""
    from .aws_access import check_credentials, resolve_region

    problems: List[DeployError] = []

    def attempt(check: Callable[[], T]) -> Optional[T]:
        try:
            return check()
        except DeployError as exc:
            problems.append(exc)
            return None

    root = options.project_dir.resolve()
    stage = attempt(lambda: read_stage_config(root, options.stage))
    if stage is not None:
        attempt(lambda: check_project_files(root))
        attempt(lambda: check_stage_settings(options, stage))
    attempt(check_compile_cache)
    # Lambda's packager needs the region even for --dry-run; credentials only for AWS calls.
    if options.target == "lambda" or not options.dry_run:
        attempt(lambda: resolve_region(options.region))
    if not options.dry_run:
        attempt(check_credentials)
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise DeployProblems(problems)


def check_stage_settings(options: DeployOptions, stage: StageConfig) -> None:
    """pym-config.yaml for the stage: its variables set, no plain secret in a production
    stage, the alarms' period one CloudWatch takes (as the build checks them again)."""
    from ...config import CONFIG_FILENAME, ConfigError, load_settings, read_config_file
    from .alarms import check_period
    from .build import function_environment

    root = options.project_dir.resolve()
    path = root / CONFIG_FILENAME
    try:
        document = read_config_file(path) if path.is_file() else {}
        variables, _ = function_environment(stage, document, os.environ)
        settings = load_settings(root, stage=stage.stage, environ={**os.environ, **variables})
    except ConfigError as exc:
        raise DeployError(STEP, f"pym-config.yaml: {exc}") from None
    if settings.alarms.enabled:
        check_period(settings.alarms.period_seconds)
