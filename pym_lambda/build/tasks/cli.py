"""`pym-lambda tasks list|dlq|redrive` and `pym-lambda worker` (click; build-time only).

Each command imports the app module first (default ``app``, the Chalice app.py of the current
directory): that registers its @async_task functions, hence the task queues, and exports the
worker handlers. ``--queue`` names queues explicitly instead.
"""
from __future__ import annotations

import functools
import importlib
import json
import logging
import os
import sys
import types
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable, List, Optional, Tuple

import click

from ...tasks.decorator import task_queues
from ...tasks.errors import TaskError
from ...tasks.task_settings import configure_tasks, get_task_settings
from ...tasks.worker import HANDLER_QUEUE_ATTR
from ..command_line import (
    apply_region,
    check_stage,
    debug_option,
    problems_as_lines,
    project_option,
    project_root,
    quiet_aws_loggers,
    region_option,
)
from ..stage_environment import stage_environment
from .admin import peek_dead_letters, queue_depth, redrive_dead_letters


def _import_app(app_module: str, root: Optional[Path] = None) -> types.ModuleType:
    where = str(root or os.getcwd())
    if where not in sys.path:
        sys.path.insert(0, where)
    return importlib.import_module(app_module)


def _service_environment(project_dir: Optional[str], stage: Optional[str],
                         region: Optional[str]) -> Path:
    """The checks and environment every command that imports the app needs: a known stage,
    its variables from .chalice/config.json (as `chalice local --stage` sets them: variables
    already set win), the region, boto's INFO lines silenced."""
    root = project_root(project_dir)
    check_stage(root, stage)  # as typed; PYM_STAGE is the environment's own business
    name = stage or os.environ.get("PYM_STAGE") or "dev"
    apply_region(region)
    for key, value in stage_environment(root, name).items():
        os.environ.setdefault(key, value)
    quiet_aws_loggers()
    return root


def _exported_queues(module: Optional[types.ModuleType]) -> List[str]:
    """The queues of the handlers the app exports (what is deployed), if any."""
    if module is None:
        return []
    return sorted({getattr(v, HANDLER_QUEUE_ATTR) for v in vars(module).values()
                   if isinstance(getattr(v, HANDLER_QUEUE_ATTR, None), str)})


def _prepare(stage: Optional[str], app_module: str, queues: Tuple[str, ...],
             project_dir: Optional[str] = None, region: Optional[str] = None
             ) -> Tuple[Optional[types.ModuleType], List[str]]:
    root = _service_environment(project_dir, stage, region)
    if stage:  # before importing the app: it names its queues for the stage
        configure_tasks(get_task_settings()._replace(stage=stage))
    module = None
    try:
        module = _import_app(app_module, root)
    except ImportError as exc:
        if not queues:
            raise click.ClickException(f"cannot import the app module {app_module!r} to find "
                                       f"the task queues ({exc}); use --app or --queue") from exc
    names = list(queues) or _exported_queues(module) or task_queues()
    if not names:
        raise click.ClickException(f"no @async_task in {app_module!r}: nothing to do")
    return module, names


def _task_errors_as_messages(func: Callable[..., Any]) -> Callable[..., Any]:
    # A missing queue or app name is the user's to fix: a message, not a traceback.
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except TaskError as exc:
            raise click.ClickException(str(exc)) from exc
    return wrapper


def _local_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """--local: the queues of the `pym-lambda local` running in the project (its moto)."""
    @functools.wraps(func)
    def wrapper(*args: Any, local: bool = False, **kwargs: Any) -> Any:
        if local:
            from ..local_aws import use_local_endpoint  # noqa: PLC0415

            running = use_local_endpoint(project_root(kwargs.get("project_dir")))
            if not kwargs.get("stage"):
                kwargs["stage"] = running["stage"]
        return func(*args, **kwargs)
    return click.option("--local", is_flag=True,
                        help="Use the queues of the `pym-lambda local` running here.")(wrapper)


def _common_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = _task_errors_as_messages(func)
    func = _local_option(func)
    func = problems_as_lines(func)
    func = debug_option(region_option(project_option(func)))
    func = click.option("--queue", "queues", multiple=True,
                        help="Logical task queue (repeatable); default: all of the app's.")(func)
    func = click.option("--app", "app_module", default="app", show_default=True,
                        help="Module defining the Chalice app and importing the tasks.")(func)
    return click.option("--stage", default=None,
                        help="Stage whose queues to use (default: PYM_STAGE, else dev).")(func)


def _for_each_queue(names: List[str], action: Callable[[str], None]) -> None:
    """Run the action on every queue; a queue that fails is reported and the others still
    run; exit 1 at the end if any failed."""
    failed = False
    for name in names:
        try:
            action(name)
        except TaskError as exc:
            click.echo(f"{name}: {exc}", err=True)
            failed = True
    if failed:
        raise SystemExit(1)


@click.group("tasks")
def tasks() -> None:
    """Async tasks on SQS: queue depths, dead letters, redrive."""


@tasks.command("list")
@_common_options
def list_queues(stage: Optional[str], app_module: str, queues: Tuple[str, ...],
                project_dir: Optional[str], region: Optional[str]) -> None:
    """Each task queue with its depth (visible, in flight, delayed) and its DLQ depth."""
    _, names = _prepare(stage, app_module, queues, project_dir, region)
    depths = [(name, queue_depth(name)) for name in names]  # an AWS error before the table
    click.echo(f"{'queue':<20} {'visible':>8} {'in flight':>10} {'delayed':>8} {'dlq':>6}  name")
    for name, depth in depths:
        if depth.url is None:
            click.echo(f"{name:<20} {'-':>8} {'-':>10} {'-':>8} {'-':>6}  (missing)")
            continue
        dlq = str(depth.dead_letters) if depth.dlq_url else "-"
        click.echo(f"{name:<20} {depth.visible:>8} {depth.in_flight:>10} {depth.delayed:>8} "
                   f"{dlq:>6}  {depth.url.rsplit('/', 1)[-1]}")


@tasks.command("dlq")
@_common_options
@click.option("--limit", default=10, show_default=True, help="Messages to show per queue.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per message.")
@click.option("--wait-seconds", default=1, show_default=True, hidden=True)
def show_dead_letters(stage: Optional[str], app_module: str, queues: Tuple[str, ...],
                      limit: int, as_json: bool, wait_seconds: int,
                      project_dir: Optional[str], region: Optional[str]) -> None:
    """Show dead-lettered messages; they stay in the DLQ."""
    def show(name: str) -> None:
        letters = peek_dead_letters(name, limit=limit, wait_seconds=wait_seconds)
        if as_json:
            for letter in letters:
                click.echo(json.dumps(dict(asdict(letter), queue=name)))
            return
        click.echo(f"{name}: {len(letters)} message(s) shown")
        for letter in letters:
            why = letter.reason or "redrive policy"
            click.echo(f"  {letter.message_id}  {letter.task or '(unreadable)'}  "
                       f"task_id={letter.task_id}  created={letter.created_at}  [{why}] "
                       f"{letter.error or ''}".rstrip())

    _for_each_queue(_prepare(stage, app_module, queues, project_dir, region)[1], show)


@tasks.command("redrive")
@_common_options
@click.option("--limit", type=int, default=None, help="Move at most this many per queue.")
@click.option("--wait-seconds", default=1, show_default=True, hidden=True)
def redrive(stage: Optional[str], app_module: str, queues: Tuple[str, ...],
            limit: Optional[int], wait_seconds: int, project_dir: Optional[str],
            region: Optional[str]) -> None:
    """Move dead-lettered messages back to their task queue."""
    def move(name: str) -> None:
        moved = redrive_dead_letters(name, limit=limit, wait_seconds=wait_seconds)
        click.echo(f"{name}: moved {moved} message(s) from the DLQ back to the queue")

    _for_each_queue(_prepare(stage, app_module, queues, project_dir, region)[1], move)


@click.command("worker")
@click.option("--stage", default=None, help="Stage whose queues to poll.")
@click.option("--app", "app_module", default="app", show_default=True,
              help="Module exporting the task handlers (register_task_handlers).")
@click.option("--max-messages", type=int, default=None, help="Stop after this many messages.")
@click.option("--idle-exit", type=float, default=None,
              help="Stop after this many seconds without a message.")
@click.option("--wait-seconds", default=5, show_default=True, help="Long poll duration.")
@project_option
@region_option
@debug_option
@problems_as_lines
def worker(stage: Optional[str], app_module: str, max_messages: Optional[int],
           idle_exit: Optional[float], wait_seconds: int, project_dir: Optional[str],
           region: Optional[str]) -> None:
    """Run the task handlers locally against SQS (or a moto server, via AWS_ENDPOINT_URL)."""
    from ...tasks.poller import run_local_worker  # noqa: PLC0415

    root = _service_environment(project_dir, stage, region)
    if stage:
        configure_tasks(get_task_settings()._replace(stage=stage))
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    quiet_aws_loggers()  # basicConfig set the root to INFO
    try:
        module = _import_app(app_module, root)
    except ImportError as exc:
        raise click.ClickException(f"cannot import the app module {app_module!r}: {exc}") from exc
    try:
        _say_what_is_polled(module)
        stats = run_local_worker(module, max_messages=max_messages, idle_exit=idle_exit,
                                 wait_seconds=wait_seconds)
    except (ValueError, TaskError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"worker stopped: {stats.received} received, {stats.deleted} done, "
               f"{stats.failed} failed in {stats.batches} batch(es)")


def _say_what_is_polled(module: types.ModuleType) -> None:
    """One line before the first poll: a worker that waits for messages is not silent."""
    from ...tasks.naming import physical_queue_name  # noqa: PLC0415
    from ...tasks.poller import find_task_handlers  # noqa: PLC0415

    settings = get_task_settings()
    queues = ", ".join(f"{queue} ({physical_queue_name(queue, settings)})"
                       for queue in sorted(find_task_handlers(module)))
    where = os.environ.get("AWS_ENDPOINT_URL") or (
        f"AWS {os.environ.get('AWS_DEFAULT_REGION') or os.environ.get('AWS_REGION') or ''}"
        .rstrip())
    click.echo(f"worker: stage {settings.stage}: polling {queues} on {where}; Ctrl-C stops")
