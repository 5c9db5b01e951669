"""The Service: everything one app holds at run time, and how code finds the current one.

One Service per app (``create_app`` makes it, ``app.pym_service`` holds it): its settings, JWT
settings, task settings and task table, model classes, typed clients, error reporters and
service info, the envelope's model resolver and caller factory, and the ordered extension
points (before steps, after steps, reporters).

Code finds its Service the way Flask finds ``current_app``: the dispatcher puts the app's
Service on the request's CallContext, the task worker on each record's, so two apps in one
process each see their own. Outside a request or task (a script, a test calling
``generate_token()``), ``current_service()`` reads a ContextVar that ``create_app`` sets in the
context that called it; where none was set, a bare Service (environment defaults, no app) is
made for that context on first use.
"""
from __future__ import annotations

import contextlib
import contextvars
import threading
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Optional, TypeVar

from ..context import current_context

if TYPE_CHECKING:
    from ..clients.registry import Clients
    from ..tasks.decorator import AsyncTask
    from ..tasks.task_settings import TaskSettings
    from .models import ModelRegistry
    from .operation import BoundOperation

    # before(request, operation) -> None: may raise a PymError to refuse the call.
    BeforeStep = Callable[[Any, BoundOperation], None]
    # after(request, operation, result) -> result: sees (and may replace) what the
    # operation's function returned, before it is checked against the spec and serialised.
    # (Type-only: at run time a string in them would cost a ForwardRef's compile.)
    AfterStep = Callable[[Any, BoundOperation, Any], Any]
Reporter = Callable[[Dict[str, Any]], None]
F = TypeVar("F", bound=Callable[..., Any])


class Service:
    """What one app holds (see the module docstring). Lists are public and ordered: append,
    insert or remove to change what runs, in that order."""

    def __init__(self, name: str = "", settings: Any = None) -> None:
        self.name = name
        self.settings = settings  # pym_lambda.config.Settings, or None without an app
        self.jwt = getattr(settings, "jwt", None)  # JwtSettings used by generate_token()/auth
        # service info: /version and the "service" of error reports
        self.info: Dict[str, Any] = {"name": name, "version": "", "apis": [], "stage": ""}
        self.before_steps: List[BeforeStep] = []
        self.after_steps: List[AfterStep] = []
        self.reporters: List[Reporter] = []
        # tasks: their settings (None: read from the environment on first use), the table
        # of resolved @async_task functions by name, and the queue URLs found for them
        # (each made on first use by the module that owns its type, which imports this one:
        # tasks.task_settings, runtime.models, clients.registry)
        self.task_settings: Optional[TaskSettings] = None
        self.tasks: Dict[str, AsyncTask[..., Any]] = {}
        self.queue_url_cache: Dict[Any, str] = {}
        self.lock = threading.Lock()
        self.model_resolver: Optional[Callable[[str, Optional[str]], Any]] = None
        self.caller_factory: Optional[Callable[[Dict[str, Any]], Any]] = None
        self.models: Optional[ModelRegistry] = None
        self.clients: Optional[Clients] = None
        # pym_lambda.metrics.Metrics when `metrics.enabled`, else None (nothing imported)
        self.metrics: Optional[Any] = None
        # pym_lambda.tracing.spans.Tracer when `tracing.enabled`, else None (nothing imported)
        self.tracer: Optional[Any] = None

    # --- extension points, as decorators --------------------------------------------------
    def before(self, step: F) -> F:
        """``@service.before``: ``step(request, operation)`` runs before every operation, after
        the auth step; it may raise a PymError to refuse the call."""
        self.before_steps.append(step)
        return step

    def after(self, step: F) -> F:
        """``@service.after``: ``step(request, operation, result)`` returns the result to
        send (the function's return value, before its check and serialisation)."""
        self.after_steps.append(step)
        return step

    def reporter(self, func: F) -> F:
        """``@service.reporter``: ``func(report)`` is told about every 5xx and report_error()."""
        self.reporters.append(func)
        return func

    def configure_tasks(self, settings: Optional[TaskSettings]) -> None:
        """Use these task settings from now on (None: the environment's, read on first use by
        tasks.task_settings); forget the queue URLs found with the old ones."""
        with self.lock:
            self.task_settings = settings
            self.queue_url_cache.clear()

    # --- making it current outside a request -----------------------------------------------
    def set_as_default(self) -> contextvars.Token[Optional[Service]]:
        """Make this the service of the calling context outside requests and tasks (what
        create_app does); returns the token for ``deactivate``."""
        return _default.set(self)

    @contextlib.contextmanager
    def use(self) -> Iterator[Service]:
        """``with app.pym_service.use():`` this service is the calling context's for the block
        (a script or test working with one of several apps outside a request)."""
        token = _default.set(self)
        try:
            yield self
        finally:
            _default.reset(token)

    def __repr__(self) -> str:
        return f"<Service {self.name!r}>"


# The service of the calling context outside requests and tasks (create_app sets it).
_default: contextvars.ContextVar[Optional[Service]] = contextvars.ContextVar(
    "pym_lambda_service", default=None)


def current_service() -> Service:
    """The service of the request or task being handled; else the calling context's (set by
    create_app); else a bare one, made for this context."""
    ctx = current_context()
    if ctx is not None and ctx.service is not None:
        return ctx.service  # type: ignore[no-any-return]
    service = _default.get()
    if service is None:
        service = Service()
        _default.set(service)
    return service


def deactivate(token: contextvars.Token[Optional[Service]]) -> None:
    """Put back the calling context's service from before ``set_as_default()``."""
    _default.reset(token)

