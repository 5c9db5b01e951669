"""Chalice's deployer, packager and application graph, driven from Python (see FACTS.md).

`CLIFactory(project_dir, environ=os.environ)`: with a copy of the environment instead, the
stage's variables would not be applied when app.py is imported, and the task queues would be
named for the wrong stage. Callers run inside build.scoped_environ(), which undoes that.
"""
from __future__ import annotations

import contextlib
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, Optional, Tuple

from .build import BuildResult


@dataclass(frozen=True)
class FunctionModel:
    resource_name: str  # Chalice's name: "api_handler" or the handler's function name
    function_name: str  # the Lambda function's name
    handler: str
    runtime: str
    timeout: int
    memory_size: int
    queue: Optional[str] = None  # the SQS queue it consumes (task workers)
    batch_size: int = 0


@dataclass(frozen=True)
class AppGraph:
    role_name: Optional[str]
    functions: Tuple[FunctionModel, ...]
    rest_api_stage: Optional[str]  # None: the app has no routes
    route_count: int  # paths, each with one or more methods
    task_queues: Dict[str, str]  # handler function name -> logical task queue

    @property
    def api_function(self) -> Optional[FunctionModel]:
        return next((f for f in self.functions if f.resource_name == "api_handler"), None)

    @property
    def workers(self) -> Tuple[FunctionModel, ...]:
        return tuple(f for f in self.functions if f.queue)


class LineWriter(io.TextIOBase):
    """A stream that hands each complete line to `emit` (Chalice's UI writes to a stream)."""

    def __init__(self, emit: Callable[[str], None]) -> None:
        self._emit = emit
        self._buffer = ""

    def write(self, text: str) -> int:
        self._buffer += text
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)
            if line.strip():
                self._emit(line.rstrip())
        return len(text)


class ChaliceProject:
    """One project at one stage, as Chalice sees it."""

    def __init__(self, build: BuildResult, emit: Callable[[str], None] = print) -> None:
        from chalice.cli.factory import CLIFactory

        self.build = build
        self.stage = build.stage.stage
        self._emit = emit
        self.factory = CLIFactory(str(build.project_dir), environ=os.environ)
        # Forwarded variables (secrets named by pym-config.yaml) join the stage's on every
        # function: Chalice merges user_provided_params last.
        self.config = self.factory.create_config_obj(
            chalice_stage_name=self.stage,
            user_provided_params={"environment_variables": build.forwarded_values})

    def _config_with_placeholders(self) -> Any:
        """The config for a template written to disk: `${NAME}` for each forwarded value.
        The app is the one already imported (with the real values, which app.py needs)."""
        params: Dict[str, Any] = {"environment_variables": {
            name: f"${{{name}}}" for name in self.build.forwarded}}
        config = self.factory.create_config_obj(chalice_stage_name=self.stage,
                                                user_provided_params=params)
        params["chalice_app"] = self.app  # the factory stored a lazy loader in this dict
        return config

    def ui(self) -> Any:
        """Chalice's UI, on the stdout that _chalice_output() routes to `emit`."""
        from chalice.utils import UI

        return UI(out=sys.stdout, err=sys.stdout, confirm=lambda *a, **k: True)

    @property
    def app(self) -> Any:
        return self.config.chalice_app  # imports app.py once (Chalice caches it)

    def graph(self) -> AppGraph:
        """What Chalice will deploy, computed offline (no AWS call, no packaging)."""
        from chalice.constants import DEFAULT_LAMBDA_MEMORY_SIZE, DEFAULT_LAMBDA_TIMEOUT
        from chalice.deploy import models
        from chalice.deploy.appgraph import ApplicationGraphBuilder, DependencyBuilder

        from ..tasks.worker import HANDLER_QUEUE_ATTR

        application = ApplicationGraphBuilder().build(self.config, self.stage)
        resources = DependencyBuilder().build_dependencies(application)
        queues = {r.lambda_function.resource_name: (str(r.queue), r.batch_size)
                  for r in resources if isinstance(r, models.SQSEventSource)}
        functions = tuple(FunctionModel(
            resource_name=r.resource_name, function_name=r.function_name, handler=r.handler,
            runtime=r.runtime,
            # None until Chalice's build stage injects its defaults
            timeout=r.timeout or DEFAULT_LAMBDA_TIMEOUT,
            memory_size=r.memory_size or DEFAULT_LAMBDA_MEMORY_SIZE,
            queue=queues.get(r.resource_name, (None, 0))[0],
            batch_size=queues.get(r.resource_name, (None, 0))[1])
            for r in resources if isinstance(r, models.LambdaFunction))
        role = next((r.role_name for r in resources if isinstance(r, models.ManagedIAMRole)),
                    None)
        rest = next((r for r in resources if isinstance(r, models.RestAPI)), None)
        module = sys.modules.get("app")
        task_queues = {name: getattr(value, HANDLER_QUEUE_ATTR)
                       for name, value in vars(module).items()
                       if isinstance(getattr(value, HANDLER_QUEUE_ATTR, None), str)
                       } if module else {}
        return AppGraph(role_name=role, functions=functions,
                        rest_api_stage=rest.api_gateway_stage if rest else None,
                        route_count=len(self.app.routes),
                        task_queues=task_queues)

    def deploy(self) -> Dict[str, Any]:
        """Chalice's deployer for the stage: functions, role, event sources, REST API; a new
        API Gateway deployment only when the REST API changed (rest_api_deployments.py)."""
        from .rest_api_deployments import skip_unchanged_deployments

        with self._chalice_output():
            session = self.factory.create_botocore_session()
            deployer = self.factory.create_default_deployer(session, self.config, self.ui())
            deployments = skip_unchanged_deployments(deployer, session)
            values = dict(deployer.deploy(self.config, chalice_stage_name=self.stage))
        for line in deployments.lines:
            self._emit(line)
        return values

    @contextlib.contextmanager
    def _chalice_output(self) -> Iterator[None]:
        """Chalice's packager prints with a UI of its own, made on sys.stdout: route that
        through `emit` too (which itself writes to the real stdout)."""
        real = sys.stdout

        def emit(line: str) -> None:
            redirected, sys.stdout = sys.stdout, real
            try:
                self._emit(f"chalice: {line}")
            finally:
                sys.stdout = redirected

        sys.stdout = LineWriter(emit)
        try:
            yield
        finally:
            sys.stdout = real

    def package(self, out_dir: Path) -> Path:
        """`chalice package`: a SAM template (sam.json) and deployment.zip in `out_dir`,
        with placeholders for the forwarded values (package.py makes them parameters)."""
        config = self._config_with_placeholders()
        with self._chalice_output():
            options = self.factory.create_package_options()
            packager = self.factory.create_app_packager(config, options, "cloudformation",
                                                        "json")
            packager.package_app(config, str(out_dir), self.stage)
        return out_dir / "sam.json"
