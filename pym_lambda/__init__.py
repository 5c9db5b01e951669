"""pym-lambda: OpenAPI/Swagger specs compiled into AWS Chalice routes.

Users import from here (and from pym_lambda.testing). Kept light: nothing heavy is imported
until it is used, since every import is paid at each Lambda cold start.
"""
from __future__ import annotations

from typing import Any

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

_LAZY = {
    "create_app": ("pym_lambda.runtime.app", "create_app"),
    "register_apis": ("pym_lambda.runtime.app", "register_apis"),
    "models": ("pym_lambda.runtime.models", "models"),
    "find_model": ("pym_lambda.runtime.models", "find_model"),
    "Model": ("pym_lambda.runtime.models", "Model"),
    "current_context": ("pym_lambda.context", "current_context"),
    "current_call_id": ("pym_lambda.context", "current_call_id"),
    "current_caller": ("pym_lambda.auth", "current_caller"),
    "generate_token": ("pym_lambda.auth", "generate_token"),
    "require_scopes": ("pym_lambda.auth", "require_scopes"),
    "load_settings": ("pym_lambda.config", "load_settings"),
    "Settings": ("pym_lambda.config", "Settings"),
    "ConfigError": ("pym_lambda.config", "ConfigError"),
    "async_task": ("pym_lambda.tasks", "async_task"),
    "current_task": ("pym_lambda.tasks", "current_task"),
    "RetryLater": ("pym_lambda.tasks", "RetryLater"),
    "PermanentFailure": ("pym_lambda.tasks", "PermanentFailure"),
    "task_workers": ("pym_lambda.runtime.app", "task_workers"),
    "report_error": ("pym_lambda.reporting", "report_error"),
    "set_error_reporter": ("pym_lambda.reporting", "set_error_reporter"),
}


def __getattr__(name: str) -> Any:
    # Lazy exports (PEP 562): `import pym_lambda` stays cheap for the task worker and CLI.
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'pym_lambda' has no attribute {name!r}")
