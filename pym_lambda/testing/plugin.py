"""The pytest plugin of pym-lambda, registered by the `pytest11` entry point.

Fixtures (all optional; nothing happens unless a test asks for one):

- ``pym_project``: the service under test (`--pym-project`, ini `pym_project`, else rootdir).
- ``pym_app``: its Chalice app, imported once per session with the stage's environment.
- ``pym_client``: the service's client with JSON helpers: in-process through
  `chalice.test.Client`, or over HTTP when `--pym-url` / ``PYM_TEST_URL`` is given.
- ``pym_token``: ``pym_token(user, **claims)`` signs a JWT with the stage's key.
- ``pym_aws``: moto in-process, fake credentials, ``AWS_ENDPOINT_URL`` unset.
- ``pym_tasks``: task queues in moto; ``pym_tasks.drain()`` runs what was enqueued.
- ``pym_events``: SQS and API Gateway events with distinct ids, Lambda contexts.

This module imports neither chalice, boto3 nor moto: every pytest run pays for a plugin.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import pytest

from ..config.environment import runtime_environment

URL_VARIABLE = "PYM_TEST_URL"
ACCEPTANCE_MARKER = ("acceptance: a black-box test of the service; `pym-lambda test --url URL` "
                     "runs these against a live URL")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pym-lambda")
    group.addoption("--pym-project", default=None, metavar="DIR",
                    help="The service folder under test (default: the pym_project ini "
                         "option, else the rootdir).")
    group.addoption("--pym-url", default=None, metavar="URL",
                    help=f"Send pym_client's requests to this URL (env {URL_VARIABLE}) "
                         "instead of calling the app in-process.")
    group.addoption("--pym-stage", default=None, metavar="STAGE",
                    help="The stage whose environment and keys are used (default: the "
                         "pym_stage ini option, else PYM_STAGE, else dev).")
    parser.addini("pym_project", "The service folder under test, relative to the rootdir.")
    parser.addini("pym_stage", "The stage whose environment and keys tests use.")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", ACCEPTANCE_MARKER)
    if (_project_path(config) / "app.py").is_file():
        # Before any test module imports app.py: create_app() adapts Chalice's local gateway
        # (multi-segment catch-all routes, hence UNKNOWN_PATH errors) only when chalice.local
        # is already imported.
        import chalice.local  # noqa: F401


def _test_url(config: pytest.Config) -> Optional[str]:
    return config.getoption("--pym-url") or runtime_environment().test_url


def _project_path(config: pytest.Config) -> Path:
    chosen = config.getoption("--pym-project") or config.getini("pym_project")
    root = Path(config.rootpath)
    return (root / chosen).resolve() if chosen else root.resolve()


def _stage(config: pytest.Config) -> str:
    return str(config.getoption("--pym-stage") or config.getini("pym_stage")
               or runtime_environment().stage or "dev")


def pytest_report_header(config: pytest.Config) -> str:
    url = _test_url(config)
    where = f"against {url}" if url else "in-process"
    return f"pym-lambda: {_project_path(config)} (stage {_stage(config)}), {where}"


def _needs_in_process(config: pytest.Config, fixture: str) -> None:
    url = _test_url(config)
    if url:
        pytest.skip(f"{fixture} needs the app in-process; this run tests {url}")


@pytest.fixture(scope="session")
def pym_project(pytestconfig: pytest.Config) -> Any:
    """The service under test: `.root`, `.stage`, `.settings()`, `.token(user)`."""
    from .project import ServiceProject

    return ServiceProject(_project_path(pytestconfig), stage=_stage(pytestconfig))


@pytest.fixture(scope="session")
def pym_app_module(pym_project: Any, pytestconfig: pytest.Config) -> Any:
    """The service's app.py module (its task handlers are exported there)."""
    _needs_in_process(pytestconfig, "pym_app")
    import chalice.local  # noqa: F401 - see pytest_configure

    from .project import ProjectError

    try:
        return pym_project.import_app_module()
    except ProjectError as exc:
        raise pytest.UsageError(str(exc)) from None


@pytest.fixture(scope="session")
def _pym_app_globals(pym_app_module: Any) -> Any:
    from .project import AppGlobals

    return AppGlobals.capture()  # right after the import: the app's own


@pytest.fixture
def _pym_app_installed(_pym_app_globals: Any, pym_app_module: Any) -> Iterator[None]:
    """The app's service current for the test outside requests (requests always run in it):
    generate_token(), configure_tasks() and pym_lambda.models then mean this app's."""
    from .project import AppGlobals

    service = getattr(getattr(pym_app_module, "app", None), "pym_service", None)
    if service is not None:
        with service.use():
            yield
        return
    before = AppGlobals.capture()  # an app not made by create_app: its globals, as captured
    _pym_app_globals.apply()
    yield
    before.apply()


@pytest.fixture(scope="session")
def pym_app(pym_app_module: Any) -> Any:
    """The service's Chalice app, imported once per session."""
    return pym_app_module.app


@pytest.fixture
def pym_client(pym_project: Any, pytestconfig: pytest.Config, request: pytest.FixtureRequest
               ) -> Any:
    """The service's client: PymHttpClient(--pym-url) if given, else PymTestClient(app)."""
    from .clients import PymHttpClient, PymTestClient

    url = _test_url(pytestconfig)
    if url:
        return PymHttpClient(url)
    app = request.getfixturevalue("pym_app")
    request.getfixturevalue("_pym_app_installed")
    return PymTestClient(app, project_dir=str(pym_project.root), stage=pym_project.stage)


@pytest.fixture
def pym_token(pym_project: Any) -> Callable[..., str]:
    """``pym_token(user_id=None, *, expires_in=None, **claims)``: a JWT for that user signed
    with the stage's key (no user: the PYM_TEST_TOKEN of `pym-lambda test --token-user`)."""
    return pym_project.token  # type: ignore[no-any-return]


@pytest.fixture
def pym_aws() -> Iterator[Any]:
    """moto in-process for the test; ``pym_aws.client("s3")`` is a moto-backed client."""
    from .aws import in_process_aws

    with in_process_aws() as aws:
        yield aws


@pytest.fixture
def pym_tasks(pym_app_module: Any, _pym_app_installed: None, pym_aws: Any) -> Iterator[Any]:
    """The app's task queues in moto, tasks sent there (not run inline) during the test;
    ``pym_tasks.drain()`` runs them through the app's worker handlers."""
    from ..build.tasks.queues import ensure_queues, queue_definitions
    from ..tasks import configure_tasks, get_task_settings
    from ..tasks.poller import find_task_handlers
    from .tasks import TaskDrainer

    try:
        handlers = find_task_handlers(pym_app_module)
    except ValueError as exc:
        raise pytest.UsageError(f"pym_tasks: {exc}") from None
    before = get_task_settings()
    configure_tasks(before._replace(inline=False))
    try:
        sqs = pym_aws.client("sqs")
        ensure_queues(queue_definitions(sorted(handlers)), sqs)
        from ..build.local_service import create_idempotency_table  # idempotent tasks' table

        create_idempotency_table(pym_app_module, Path(pym_app_module.__file__).parent,
                                 before.stage)
        yield TaskDrainer(handlers, sqs)
    finally:
        configure_tasks(before)


@pytest.fixture
def pym_events(pym_project: Any, pytestconfig: pytest.Config) -> Any:
    """Event builders (see pym_lambda.testing.events) that know the app's routes and queues:
    ``pym_events.sqs(body, ...)``, ``.task(fn, *args)``, ``.api_gateway("GET", "/path")``,
    ``.context()``."""
    from .events import EventBuilder

    if _test_url(pytestconfig):
        return EventBuilder(None)
    return EventBuilder(lambda: pym_project.import_app_module().app)
