"""create_app(): a project's specs -> a Chalice app with every operation routed.

The compiled form is read from `chalicelib/pym_compiled.json` in the Lambda package (see
project_files.py), and compiled from `apis/*.yaml` when the folder is there (local runs,
tests): that development fallback is the runtime's one import of the build side.
"""
from __future__ import annotations

import logging
import os
import sys
from typing import Any, Callable, Dict, List, Optional, Union

from chalice.app import Chalice

from ..cold_start import release_collections
from ..errors import SpecError, SpecErrors
from . import builtins
from .bindings import bind_operation
from .compiled_types import COMPILED_FORMAT, CompiledDocument
from .header_gate import GatedChalice
from .models import service_models
from .operation import ApiRuntime, BoundOperation
from .project_files import has_specs, project_root, read_app_name, read_compiled
from .router import Dispatcher, register_routes
from .service import Service, current_service
from .spec_warnings import compiled_warnings, log_warnings


def load_compiled(project: Union[str, os.PathLike[str]]) -> CompiledDocument:
    """The compiled specs: chalicelib/pym_compiled.json in the Lambda package, where apis/ is
    not shipped; in a project tree with apis/, compiled from it (or its cache reused)."""
    if not has_specs(project):  # the Lambda package
        return read_compiled(project)
    # The development fallback, the runtime's one import of the build side (see
    # DEVELOPMENT_BRIDGE in pym_lambda/build/deploy/vendor.py): a Lambda package has no apis/.
    from pathlib import Path

    from ..build.compiled_form import compile_or_reuse

    return compile_or_reuse(Path(project))


def bind_operations(compiled: CompiledDocument, settings: Optional[Any] = None,
                    prebuilt: Union[Dict[str, Any], Callable[[], Optional[Dict[str, Any]]],
                                    None] = None,
                    service: Optional[Service] = None,
                    warnings: Optional[List[str]] = None,
                    prepare: bool = True) -> List[BoundOperation]:
    """Every operation bound to its function; SpecErrors listing every binding problem. The
    model classes go to `service` (default: the current one), before binding: a module may
    use them at import. Binding warnings are appended to `warnings`. `prepare`: make every
    operation's readers, checks and models now (the build, validate); a cold start leaves each
    to its first call, and `prebuilt` is then what loads the prebuilt checks at the first."""
    from .operation_checks import LazyChecks
    from .security import steps_for

    service = service or current_service()
    problems: List[SpecError] = []
    bound: List[BoundOperation] = []
    limits = getattr(settings, "limits", None)
    checks = LazyChecks(compiled["apis"],
                        prebuilt if callable(prebuilt) else lambda: prebuilt)
    modules: Dict[str, Any] = {}  # each chalicelib.<api> module looked for once
    runtimes: List[ApiRuntime] = []
    for api in compiled["apis"]:
        try:
            runtime = ApiRuntime(api, checks)
        except SpecError as exc:
            problems.append(exc)
            continue
        runtimes.append(runtime)
        if api["name"] != "pym":  # before binding: a module may use models at import
            service_models(service).register(api["name"], runtime.models.classes)
        for op in api["operations"]:
            try:
                func, _target = bind_operation(op, api["file"], warnings, modules)
                steps = steps_for(op, runtime.security_schemes, api["file"],
                                  getattr(settings, "jwt", None))
            except SpecError as exc:
                problems.append(exc)
                continue
            bound.append(BoundOperation(op, runtime, func, steps=steps, limits=limits,
                                        service=service))
    if problems:
        raise SpecErrors(problems)
    if prepare:  # the build: every problem now, not at a first call
        for runtime in runtimes:
            for _ in runtime.models.classes.values():  # each class made
                pass
        for operation in bound:
            operation.prepare()
    return bound


def load_service_settings(project_dir: Union[str, os.PathLike[str]], compiled: CompiledDocument,
                          **options: Any) -> Any:
    """The service's settings (options: load_settings' stage, environ, overrides)."""
    from ..config import CONFIG_FILENAME, load_settings

    has_file = os.path.isfile(os.path.join(project_dir, CONFIG_FILENAME))
    document = None if has_file else compiled.get("config")
    return load_settings(project_dir, document=document, **options)


def register_apis(app: Chalice, project: Union[str, os.PathLike[str]],
                  compiled: Optional[CompiledDocument] = None,
                  version: str = "") -> List[BoundOperation]:
    """Route every operation of the project's specs (and /ping, /version) on `app`."""
    from ..config import ConfigError
    from ..logs import configure_logging
    from .bindings import import_target
    from .cors import CorsPolicy

    project_dir = project_root(project)
    if project_dir not in sys.path:
        sys.path.insert(0, project_dir)  # so that x-bind-server can import chalicelib
    compiled = compiled or load_compiled(project_dir)
    settings = load_service_settings(project_dir, compiled)
    configure_logging(settings.log_level)
    served = [api for api in compiled["apis"] if not api.get("bind_client")]
    taken = [op["path"] for api in served for op in api["operations"]]
    jwt = settings.jwt
    verifies_tokens = any((jwt.secret, jwt.public_key, jwt.public_key_file, jwt.jwks_url,
                           jwt.jwks_file))
    apis = served + [builtins.builtin_api(taken, with_auth=verifies_tokens)]
    service_version = version or _version(compiled, settings)
    # The app's Service holds what used to be process-wide (see runtime/service.py). It is
    # also made the service of the calling context, so that code run outside a request after
    # create_app (a script, a test calling generate_token()) sees this app, as before.
    service = Service(settings.name or app.app_name, settings)
    app.pym_service = service  # type: ignore[attr-defined]
    # The old spelling of app.pym_service.settings: docs/configuration.md showed it for secrets.
    app.pym_settings = settings  # type: ignore[attr-defined]
    service.set_as_default()
    service.info.update(name=settings.name or app.app_name, version=service_version,
                        apis=[a["name"] for a in served], stage=settings.stage)
    if settings.raw:
        from ..config.pymacaron import is_pymacaron_config

        if is_pymacaron_config(settings.raw):  # /version carries PyMacaron's `container`
            service.info["container"] = service_version
    if settings.error_reporter:
        try:
            service.reporters.append(import_target(settings.error_reporter))
        except ImportError as exc:
            raise ConfigError(f"pym-config.yaml: error_reporter: {exc}") from None
    configure_tasks_from(settings, app.app_name, service)
    if settings.metrics.enabled:
        from ..metrics import Metrics

        service.metrics = Metrics.from_settings(settings, service.name)
    if settings.clients or len(served) < len(compiled["apis"]):
        from ..clients.registry import load_clients, service_clients

        # Bounded below API Gateway's 29 s, retries included (see clients/transport.py).
        service_clients(service).replace(
            load_clients(compiled, settings.clients, total_timeout=25.0,
                         client_tokens=settings.client_tokens))
    from .operation_checks import PREBUILT_FILE, load_prebuilt

    fingerprint = compiled.get("fingerprint")
    warnings = compiled_warnings(compiled)
    operations = bind_operations(
        {"format": COMPILED_FORMAT, "apis": apis}, settings,
        lambda: load_prebuilt(os.path.join(project_dir, "chalicelib", PREBUILT_FILE),
                              fingerprint),
        service, warnings, prepare=False)
    app.pym_operations = operations  # type: ignore[attr-defined]  # tests, diagnostics
    app.pym_project_dir = project_dir  # type: ignore[attr-defined]  # task_workers()
    if warnings:
        log_warnings(warnings, logging.getLogger("pym_lambda"))
    if any(op.steps for op in operations):  # key handling imported for protected APIs only
        from ..auth.keys import check_settings

        check_settings(settings.jwt)  # a protected API with no usable key fails now
    _patch_chalice_local()
    setattr(app, "pym_max_headers", settings.limits.max_headers)  # GatedChalice reads it
    dispatcher = Dispatcher(app, debug=app.debug, cors=CorsPolicy.from_settings(settings.cors),
                            max_header_bytes=settings.limits.max_header_bytes, service=service)
    if settings.tracing.enabled:
        from ..tracing.install import install, make_tracer

        service.tracer = make_tracer(settings, service.name)
        install(service.tracer, dispatcher, operations, service.clients is not None)
    register_routes(app, operations, dispatcher)
    if settings.docs.enabled:  # off (production stages): nothing of pym_lambda.docs imported
        from ..docs import register_docs  # after the specs' routes: a spec's own /doc wins
        register_docs(app, project_dir, compiled, settings)
    return operations


def configure_tasks_from(settings: Any, app_name: str, service: Optional[Service] = None
                         ) -> None:
    """Hand the `tasks:` section to the service's task settings; per-queue URL overrides still
    come from PYM_TASK_QUEUE_URL_<QUEUE> variables (see pym_lambda.tasks.task_settings)."""
    from ..tasks.task_settings import TaskSettings, queue_env_key

    base = TaskSettings.from_env()
    tasks = settings.tasks
    (service or current_service()).configure_tasks(base._replace(
        app_name=base.app_name or app_name, stage=settings.stage, inline=tasks.inline,
        queue_names={**{queue_env_key(k): v for k, v in tasks.queues.items()},
                     **base.queue_names},
        lambda_timeout_seconds=tasks.lambda_timeout_seconds,
        backoff_base_seconds=tasks.backoff_base_seconds,  # file < PYM_TASKS_* (and alias)
        backoff_max_seconds=tasks.backoff_max_seconds,
        partial_batch_responses=tasks.partial_batch_responses,
        max_message_bytes=tasks.max_message_bytes,
        max_receive_count=tasks.max_receive_count))


def task_workers(app: Chalice, project: Union[str, os.PathLike[str], None] = None
                 ) -> Dict[str, Any]:
    """One SQS handler per task queue, for app.py to export: `globals().update(task_workers(app))`
    (Chalice deploys an SQS handler as `app.<function name>`). Every module of chalicelib/ is
    imported first, so that each @async_task is known whoever imports it; the packages outside
    chalicelib/ that operations are bound to (PyMacaron's layout) give their tasks too."""
    import importlib

    from ..tasks import register_task_handlers

    try:
        package = importlib.import_module("chalicelib")
    except ModuleNotFoundError:
        package = None
    modules = [importlib.import_module(f"chalicelib.{name}")
               for name in _submodules(getattr(package, "__path__", []))]
    modules += _bound_packages(getattr(app, "pym_operations", ()),
                               getattr(app, "pym_project_dir", ""))
    from ..tasks.decorator import discover_tasks

    # The app's task table: the @async_task functions of chalicelib (no global registry).
    service = getattr(app, "pym_service", None) or current_service()
    service.tasks.update(discover_tasks(modules))
    return register_task_handlers(app, discover=False)


def _bound_packages(operations: Any, project_dir: str) -> List[Any]:
    """The modules imported so far of the service's own packages outside chalicelib/ that
    operations are bound to (a PyMacaron service's `helloworld/`, with its @asynctask
    functions): their tasks are the app's too. Only files of the project (on Lambda, the task
    root, where the build copies them); none for a service whose code is chalicelib."""
    tops = {getattr(op.func, "__module__", None) or "" for op in operations}
    tops = {name.split(".", 1)[0] for name in tops} - {"", "chalicelib", "app", "pym_lambda"}
    if not tops or not project_dir:
        return []
    inside = os.path.join(os.path.realpath(project_dir), "")
    return [module for name, module in list(sys.modules.items())
            if name.split(".", 1)[0] in tops
            and os.path.realpath(getattr(module, "__file__", None) or "/").startswith(inside)]


def _submodules(folders: List[str]) -> List[str]:
    # What pkgutil.iter_modules() lists for the source files a Lambda package has, without
    # importing pkgutil at each cold start.
    names: List[str] = []
    for folder in folders:
        for entry in sorted(os.listdir(folder)):
            name = entry[:-3] if entry.endswith(".py") else entry
            if not name.isidentifier() or name == "__init__" or name in names:
                continue
            if entry.endswith(".py") or os.path.isfile(os.path.join(folder, entry, "__init__.py")):
                names.append(name)
    return names


def create_app(project: Union[str, os.PathLike[str]], *, app_name: Optional[str] = None,
               debug: bool = False, version: str = "") -> Chalice:
    """The Chalice app of a project: `app = create_app(__file__)` in app.py."""
    project_dir = project_root(project)
    if project_dir not in sys.path:
        sys.path.insert(0, project_dir)  # so that x-bind-server can import chalicelib
    try:
        compiled = load_compiled(project_dir)
        app = GatedChalice(app_name=app_name or read_app_name(project_dir, compiled),
                           debug=debug)
        register_apis(app, project_dir, compiled=compiled, version=version)
    except Exception as exc:
        from .startup_errors import exit_if_reportable  # only when it cannot start

        exit_if_reportable(exc)  # one line per problem under `chalice local`
        raise
    finally:
        release_collections()  # held since `import pym_lambda` on Lambda (cold_start.py)
    return app


def _version(compiled: CompiledDocument, settings: Any) -> str:
    from ..config.loader import env_value  # PYM_VERSION: the `version` key's variable

    from_env = env_value(("version",))
    if from_env:
        return str(from_env)
    if settings.config_file or compiled.get("config"):
        if settings.version != "0.0.0":
            return str(settings.version)
    return next(
        (a.get("version", "") for a in compiled["apis"] if a.get("version")), "0.0.0")


def _patch_chalice_local() -> None:
    # Only under `chalice local` and chalice.test (they import chalice.local before app.py).
    if "chalice.local" in sys.modules:
        from .local_compat import patch_greedy_routes

        patch_greedy_routes()
