"""Chalice's deployer, packager and application graph, driven from Python (see FACTS.md).

`CLIFactory(project_dir, environ=os.environ)`: with a copy of the environment instead, the
stage's variables would not be applied when app.py is imported, and the task queues would be
named for the wrong stage. Callers run inside build.scoped_environ(), which undoes that.
"""
from __future__ import annotations

import contextlib
import functools
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import (
    Any,
    Callable,
    Dict,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    cast,
)

from ..tasks.queues import QueueDefinition
from .build import BuildResult
from .permissions import Arns, StageAccess
from .roles import (
    API_HANDLER,
    FunctionSettings,
    api_timeout,
    app_statements,
    function_statements,
    read_statements,
    user_policy_file,
    with_function_settings,
    with_xray,
    write_policy,
)


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
    role_name: Optional[str] = None  # the role Chalice manages for it
    role_arn: Optional[str] = None  # or the user's own (manage_iam_role: false)


@dataclass(frozen=True)
class AppGraph:
    functions: Tuple[FunctionModel, ...]
    rest_api_stage: Optional[str]  # None: the app has no routes
    route_count: int  # paths, each with one or more methods
    task_queues: Dict[str, str]  # handler function name -> logical task queue
    notes: Tuple[str, ...] = ()  # what deploy set differently from the config (timeouts)

    @property
    def api_function(self) -> Optional[FunctionModel]:
        return next((f for f in self.functions if f.resource_name == API_HANDLER), None)

    @property
    def workers(self) -> Tuple[FunctionModel, ...]:
        return tuple(f for f in self.functions if f.queue)

    @property
    def role_names(self) -> Tuple[str, ...]:
        return tuple(dict.fromkeys(f.role_name for f in self.functions if f.role_name))


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
    """One project at one stage, as Chalice sees it, with the per-function settings deploy
    adds (roles.py): a role and policy per function, the API function's timeout, and the
    variables the runtime reads (build.added_values, then the queue URLs at apply time)."""

    def __init__(self, build: BuildResult, policy_dir: Path,
                 emit: Callable[[str], None] = print) -> None:
        from chalice.cli.factory import CLIFactory

        self.build = build
        self.stage = build.stage.stage
        self._emit = emit
        self.factory = CLIFactory(str(build.project_dir), environ=os.environ)
        self.policy_dir = policy_dir  # the roles' policy files, written before Chalice runs
        self.environment: Dict[str, str] = dict(build.added_values)
        self._app: Any = None
        self.user_disk = self.factory.load_project_config()  # .chalice/config.json as is
        # tracing.enabled is Chalice's `xray`: Lambda's active tracing (TracingConfig Active),
        # X-Ray on the API Gateway stage, and xray:PutTraceSegments in the roles (roles.py)
        source = with_xray(self.user_disk, self.stage) if build.tracing else self.user_disk
        plain = self._config(source)
        self._app = plain.chalice_app  # imports app.py once (the stage's variables are set)
        self.settings, self.notes = self._function_settings(plain)
        self.disk = with_function_settings(source, self.stage, self.settings)
        self.config = self._config(self.disk)

    def _config(self, disk: Dict[str, Any], environment: Optional[Dict[str, str]] = None
                ) -> Any:
        """Chalice's Config for the stage, as its factory makes it, from `disk` (the project's
        config.json content, with deploy's per-function settings). `environment` joins every
        function's variables last (Chalice merges user-provided parameters over the file's)."""
        from chalice.config import Config
        from chalice.constants import DEFAULT_APIGATEWAY_STAGE_NAME, DEFAULT_ENDPOINT_TYPE

        params: Dict[str, Any] = {"environment_variables": dict(
            self.environment if environment is None else environment)}
        config = Config(chalice_stage=self.stage, user_provided_params=params,
                        config_from_disk=disk, default_params={
                            "project_dir": str(self.build.project_dir),
                            "api_gateway_stage": DEFAULT_APIGATEWAY_STAGE_NAME,
                            "api_gateway_endpoint_type": DEFAULT_ENDPOINT_TYPE,
                            "autogen_policy": True})
        params["chalice_app"] = self._app if self._app is not None else functools.partial(
            self.factory.load_chalice_app, config.environment_variables)
        return config

    def _resources(self, config: Any) -> List[Any]:
        from chalice.deploy.appgraph import ApplicationGraphBuilder, DependencyBuilder

        application = ApplicationGraphBuilder().build(config, self.stage)
        return list(DependencyBuilder().build_dependencies(application))

    def _function_settings(self, config: Any) -> Tuple[Tuple[FunctionSettings, ...],
                                                        Tuple[str, ...]]:
        from chalice.deploy import models

        settings: List[FunctionSettings] = []
        notes: List[str] = []
        for resource in self._resources(config):
            if not isinstance(resource, models.LambdaFunction):
                continue
            managed = isinstance(resource.role, models.ManagedIAMRole)
            timeout = None
            if resource.resource_name == API_HANDLER:
                timeout, note = api_timeout(resource.timeout)
                notes += [note] if note else []
            policy = self.policy_dir / f"{resource.resource_name}.json" if managed else None
            settings.append(FunctionSettings(resource.resource_name, policy, timeout))
        return tuple(settings), tuple(notes)

    def set_queue_urls(self, urls: Mapping[str, str]) -> None:
        """The queues' URLs into every function's variables (PYM_TASK_QUEUE_URL_<Q>...): the
        runtime then makes no GetQueueUrl call."""
        self.environment.update(urls)
        self.config = self._config(self.disk)

    def statements(self, access: StageAccess, arns: Arns,
                   definitions: Sequence[QueueDefinition]) -> Dict[str, List[Dict[str, Any]]]:
        """What each function's role must allow, by resource name (roles.py)."""
        by_queue = {d.name: d for d in definitions}
        found: Dict[str, List[Dict[str, Any]]] = {}
        for function in self.graph().functions:
            statements = function_statements(access, arns, function.function_name,
                                             by_queue.get(function.queue or ""))
            mine = user_policy_file(self.build.project_dir, self.stage, self.user_disk,
                                    function.resource_name)
            found[function.resource_name] = statements + (read_statements(mine) if mine
                                                           else [])
        return found

    def write_policies(self, access: StageAccess, arns: Arns,
                       definitions: Sequence[QueueDefinition]) -> List[str]:
        """The policy file of each role Chalice manages; the resource names written."""
        files = {s.resource_name: s.policy_file for s in self.settings if s.policy_file}
        written = []
        for name, statements in self.statements(access, arns, definitions).items():
            if name in files:
                write_policy(files[name], statements)
                written.append(name)
        return written

    def app_statements(self) -> List[Dict[str, Any]]:
        return app_statements(self.build.project_dir, self.config)

    def ui(self) -> Any:
        """Chalice's UI, on the stdout that _chalice_output() routes to `emit`."""
        from chalice.utils import UI

        return UI(out=sys.stdout, err=sys.stdout, confirm=lambda *a, **k: True)

    @property
    def app(self) -> Any:
        return self._app

    def graph(self) -> AppGraph:
        """What Chalice will deploy, computed offline (no AWS call, no packaging)."""
        from chalice.constants import DEFAULT_LAMBDA_MEMORY_SIZE, DEFAULT_LAMBDA_TIMEOUT
        from chalice.deploy import models

        from ...tasks.worker import HANDLER_QUEUE_ATTR

        resources = self._resources(self.config)
        queues = {r.lambda_function.resource_name: (str(r.queue), r.batch_size)
                  for r in resources if isinstance(r, models.SQSEventSource)}
        functions = tuple(FunctionModel(
            resource_name=r.resource_name, function_name=r.function_name, handler=r.handler,
            runtime=r.runtime,
            # None until Chalice's build stage injects its defaults
            timeout=r.timeout or DEFAULT_LAMBDA_TIMEOUT,
            memory_size=r.memory_size or DEFAULT_LAMBDA_MEMORY_SIZE,
            queue=queues.get(r.resource_name, (None, 0))[0],
            batch_size=queues.get(r.resource_name, (None, 0))[1],
            role_name=getattr(r.role, "role_name", None),
            role_arn=getattr(r.role, "role_arn", None))
            for r in resources if isinstance(r, models.LambdaFunction))
        rest = next((r for r in resources if isinstance(r, models.RestAPI)), None)
        module = sys.modules.get("app")
        task_queues = {name: getattr(value, HANDLER_QUEUE_ATTR)
                       for name, value in vars(module).items()
                       if isinstance(getattr(value, HANDLER_QUEUE_ATTR, None), str)
                       } if module else {}
        return AppGraph(functions=functions,
                        rest_api_stage=rest.api_gateway_stage if rest else None,
                        route_count=len(self.app.routes), task_queues=task_queues,
                        notes=self.notes)

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

    def cached_package(self) -> Optional[Path]:
        """The zip Chalice caches under .chalice/deployments/ and its deployer reuses while
        the project is unchanged (named by a hash of app.py, chalicelib/, vendor/ and
        requirements.txt), or None with an automatic layer (two zips: not finished here)."""
        from chalice.deploy.packager import LambdaDeploymentPackager
        from chalice.utils import UI, OSUtils

        if self.config.automatic_layer:
            return None
        packager = LambdaDeploymentPackager(osutils=OSUtils(), dependency_builder=cast(Any, None),
                                            ui=UI(), architecture=self.config.lambda_architecture)
        return Path(packager.deployment_package_filename(str(self.build.project_dir),
                                                         self.config.lambda_python_version))

    def package(self, out_dir: Path) -> Path:
        """`chalice package`: a SAM template (sam.json) and deployment.zip in `out_dir`,
        with `${NAME}` placeholders for the forwarded values (package.py makes them
        parameters: their values are never written)."""
        placeholders = {**self.environment,
                        **{name: f"${{{name}}}" for name in self.build.forwarded}}
        config = self._config(self.disk, placeholders)
        with self._chalice_output():
            options = self.factory.create_package_options()
            packager = self.factory.create_app_packager(config, options, "cloudformation",
                                                        "json")
            packager.package_app(config, str(out_dir), self.stage)
        return out_dir / "sam.json"
