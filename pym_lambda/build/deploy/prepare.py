"""Steps 1 and 2 of every command, shared by the targets: build, then load the app as Chalice
does, offline. Everything runs inside `prepared()`, which scopes the process changes (the
stage's environment, the project's `app` module) to the command.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional, Tuple

from ...tasks.task_settings import TaskSettings
from ..tasks.queues import QueueDefinition
from .build import BuildResult, build_project, project_imports, read_stage_config, scoped_environ
from .chalice_project import AppGraph, ChaliceProject
from .errors import DeployError, one_line
from .idempotency_table import TableDefinition
from .permissions import StageAccess

Emit = Callable[[str], None]


@dataclass(frozen=True)
class DeployOptions:
    project_dir: Path
    stage: str
    target: str = "lambda"  # or "beanstalk"
    dry_run: bool = False
    skip_verify: bool = False
    state_bucket: Optional[str] = None
    region: Optional[str] = None
    wait_timeout: float = 900.0  # Beanstalk: seconds to wait for a healthy environment
    solution_stack: Optional[str] = None  # Beanstalk: default, the newest Docker platform
    instance_profile: Optional[str] = None  # Beanstalk: the user's own, instead of deploy's
    service_role: Optional[str] = None  # Beanstalk: the user's own, instead of deploy's


@dataclass(frozen=True)
class Prepared:
    options: DeployOptions
    build: BuildResult
    project: ChaliceProject
    graph: AppGraph
    task_settings: TaskSettings
    definitions: Tuple[QueueDefinition, ...] = ()  # the stage's task queues and DLQs
    access: StageAccess = StageAccess()  # what the functions' roles allow (permissions.py)
    table: Optional[TableDefinition] = None  # the idempotency table, if anything is idempotent

    @property
    def app_name(self) -> str:
        return self.build.stage.app_name

    @property
    def stage(self) -> str:
        return self.build.stage.stage


@contextlib.contextmanager
def prepared(options: DeployOptions, emit: Emit) -> Iterator[Prepared]:
    """Build the project and load its app for the stage, with no AWS call."""
    from ...tasks.task_settings import get_task_settings
    from .plan import task_queue_definitions

    root = options.project_dir.resolve()
    stage_config = read_stage_config(root, options.stage)  # an unknown stage fails first
    environ = dict(stage_config.environment_variables)
    # Chalice's own clients read the region from the environment, and boto3 only from
    # AWS_DEFAULT_REGION: a region given as AWS_REGION alone (Lambda's, most CIs') is copied
    region = options.region or (None if os.environ.get("AWS_DEFAULT_REGION")
                                else os.environ.get("AWS_REGION"))
    if region:
        environ.update(AWS_REGION=region, AWS_DEFAULT_REGION=region)
    with project_imports(root), scoped_environ(environ), \
            tempfile.TemporaryDirectory(prefix="pym-policies-") as policies:
        build = build_project(root, options.stage)
        with scoped_environ(dict(build.function_environment)):
            try:
                project = ChaliceProject(build, Path(policies), emit)
                graph = project.graph()
                extra = tuple(project.app_statements())
            except DeployError:
                raise
            except Exception as exc:  # app.py itself failed to import or to register
                raise DeployError("build", f"app.py: {one_line(exc)}") from None
            settings = get_task_settings()
            definitions = task_queue_definitions(graph, settings, graph.workers)
            table = stage_table(project, build)
            access = StageAccess(queues=definitions, secrets=build.secrets, extra=extra,
                                 tables=(table.name,) if table else ())
            yield Prepared(options, build, project, graph, settings, definitions, access,
                           table)


def stage_table(project: ChaliceProject, build: BuildResult) -> Optional[TableDefinition]:
    """The idempotency table, when a loaded task or a compiled operation is idempotent."""
    import json

    from .idempotency_table import idempotent_things, table_definition

    compiled = json.loads(build.compiled_file.read_text(encoding="utf-8"))
    override = build.function_environment.get("PYM_IDEMPOTENCY_TABLE")
    return table_definition(idempotent_things(project.app, compiled), build.stage.app_name,
                            build.stage.stage, override)
