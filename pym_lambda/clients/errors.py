"""What a client call can raise.

Two families, kept apart on purpose:

- ``ClientRequestError`` (a ValueError): this service built a call its target's spec forbids.
  It is raised before anything is sent and is a bug here, so it is not a PymError: if it
  escapes an endpoint it becomes an opaque 500, never a 4xx blaming this service's caller.
- ``RemoteError`` and ``UpstreamError`` (PymErrors): the other service answered with an error,
  or did not answer properly. Raised out of an endpoint they become the one JSON error shape:
  a RemoteError keeps the remote status and code, so the error travels up the call chain
  unchanged; the ``UPSTREAM_*`` errors are 502/504.
"""
from __future__ import annotations

from typing import Any, Optional

from ..errors import PymError, PymLambdaError, SpecError


class ClientConfigError(SpecError):
    """A client that cannot be built (no base URL, a decorator that does not import...).

    Raised when the clients are loaded, at start-up, never at the first call.
    """


class ClientRequestError(PymLambdaError, ValueError):
    """A parameter or body this service tried to send breaks the target's spec."""

    def __init__(self, message: str, *, operation: str = "", field: str = "") -> None:
        self.operation = operation
        self.field = field
        super().__init__(f"{operation}: {message}" if operation else message)


class RemoteError(PymError):
    """The remote service answered with an error: its status, code and description kept.

    ``remote_error_id`` is the remote's ``error_id``: the key to its logs. ``body`` is the
    remote's error document (or the declared error model when it was not in the error shape).
    """

    def __init__(self, description: str = "", *, status: int, code: str,
                 remote_error_id: Optional[str] = None, operation: str = "",
                 body: Any = None, user_message: Optional[str] = None) -> None:
        super().__init__(description, status=status, code=code, user_message=user_message)
        self.remote_error_id = remote_error_id
        self.operation = operation
        self.body = body

    @classmethod
    def from_status(cls, status: int, operation: str, body: Any) -> RemoteError:
        """A declared error status whose body is not in the error shape."""
        from http import HTTPStatus  # an enum of ~60 members: built only when needed

        try:
            code = HTTPStatus(status).name
        except ValueError:
            code = "REMOTE_ERROR"
        return cls(f"{operation} answered {status}", status=status, code=code,
                   operation=operation, body=body)


class UpstreamError(PymError):
    """The remote service could not be used: base of the UPSTREAM_* errors (502)."""

    status = 502
    code = "UPSTREAM_ERROR"

    def __init__(self, description: str = "", *, operation: str = "") -> None:
        super().__init__(description)
        self.operation = operation


class UpstreamTimeout(UpstreamError):
    status = 504
    code = "UPSTREAM_TIMEOUT"


class UpstreamUnreachable(UpstreamError):
    status = 502
    code = "UPSTREAM_UNREACHABLE"


class UpstreamBadResponse(UpstreamError):
    status = 502
    code = "UPSTREAM_BAD_RESPONSE"


def is_error_shape(data: Any) -> bool:
    """The one error shape: {"status", "error", "error_description", "error_id"}."""
    return (isinstance(data, dict) and isinstance(data.get("error"), str)
            and isinstance(data.get("status"), int) and not isinstance(data["status"], bool)
            and ("error_description" in data or "error_id" in data))


def remote_error(status: int, data: dict[str, Any], operation: str) -> RemoteError:
    description = data.get("error_description")
    user_message = data.get("user_message")
    error_id = data.get("error_id")
    return RemoteError(str(description) if description is not None else "",
                       status=status, code=data["error"], operation=operation,
                       remote_error_id=str(error_id) if error_id is not None else None,
                       user_message=user_message if isinstance(user_message, str) else None,
                       body=data)
