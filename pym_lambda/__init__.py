"""pym-lambda: OpenAPI/Swagger specs compiled into AWS Chalice routes.

Users import from here (and from pym_lambda.testing). Kept light: nothing heavy is imported
until it is used, since every import is paid at each Lambda cold start.
"""
from __future__ import annotations

import sys
from typing import Any, Mapping

__version__ = "0.1.0"

from .errors import (  # noqa: E402
    BadResponseError,
    ForbiddenError,
    InvalidParameterError,
    MethodNotAllowedError,
    NotFoundError,
    PymError,
    ServerError,
    SpecError,
    SpecErrors,
    UnauthorizedError,
    UnknownPathError,
)

__all__ = [
    "__version__", "PymError", "InvalidParameterError", "UnauthorizedError", "ForbiddenError",
    "NotFoundError", "UnknownPathError", "MethodNotAllowedError", "ServerError",
    "BadResponseError", "SpecError", "SpecErrors", "create_app", "register_apis", "models",
    "find_model", "Model", "current_context", "current_call_id", "current_caller",
    "generate_token", "require_scopes", "load_settings", "Settings", "ConfigError",
    "async_task", "current_task", "RetryLater", "PermanentFailure", "task_workers",
    "report_error", "set_error_reporter",
]

# Name -> the module (under pym_lambda) it is imported from at first access.
_LAZY = {
    "create_app": "runtime.app", "register_apis": "runtime.app", "task_workers": "runtime.app",
    "models": "runtime.models", "find_model": "runtime.models", "Model": "runtime.models",
    "current_context": "context", "current_call_id": "context",
    "current_caller": "auth", "generate_token": "auth", "require_scopes": "auth",
    "load_settings": "config", "Settings": "config", "ConfigError": "config",
    "async_task": "tasks", "current_task": "tasks", "RetryLater": "tasks",
    "PermanentFailure": "tasks",
    "report_error": "reporting", "set_error_reporter": "reporting",
}


def lazy_attribute(package: str, sources: Mapping[str, str], name: str) -> Any:
    """The body of a package's lazy exports (PEP 562 ``__getattr__``): `name` imported from
    the module ``<package>.<sources[name]>`` at its first access, then kept in the package,
    so that importing the package stays cheap (every import is paid at each cold start)."""
    if name not in sources:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{package}.{sources[name]}"), name)
    setattr(sys.modules[package], name, value)  # once: later look-ups don't come here
    return value


def __getattr__(name: str) -> Any:
    # `import pym_lambda` stays cheap for the task worker and the CLI.
    return lazy_attribute(__name__, _LAZY, name)
