"""pym-lambda: OpenAPI/Swagger specs compiled into AWS Chalice routes.

Users import from here (and from pym_lambda.testing). Kept light: nothing heavy is imported
until it is used, since every import is paid at each Lambda cold start.
"""
from __future__ import annotations

from typing import Any

from . import cold_start as _cold_start

# First, before anything else is imported (cold_start.py says why).
_cold_start.hold_collections()
_cold_start.install_bundle(__file__)

from .errors import (  # noqa: E402
    BadResponseError,
    ForbiddenError,
    InvalidParameterError,
    MethodNotAllowedError,
    NotFoundError,
    PymError,
    PymLambdaError,
    ServerError,
    SpecError,
    SpecErrors,
    UnauthorizedError,
    UnknownPathError,
)
from .lazy_exports import lazy_attribute  # noqa: E402
from .version import __version__  # noqa: E402

__all__ = [
    "__version__", "PymLambdaError", "PymError", "InvalidParameterError", "UnauthorizedError",
    "ForbiddenError", "NotFoundError", "UnknownPathError", "MethodNotAllowedError", "ServerError",
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


def __getattr__(name: str) -> Any:
    # `import pym_lambda` stays cheap for the task worker and the CLI.
    return lazy_attribute(__name__, _LAZY, name)
