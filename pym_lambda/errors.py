"""The error tree and the one JSON shape every error takes.

Every error pym-lambda raises derives from :class:`PymLambdaError`; the families under it::

    PymLambdaError
    ├── PymError             a request error answered to the client (status, code, headers)
    │   └── ... (InvalidParameterError, NotFoundError, auth errors, UpstreamError, ...)
    ├── SpecError, SpecErrors    a spec or binding that cannot be served (at load)
    ├── ConfigError          a configuration that cannot be used (at start-up)
    ├── TaskError, RetryLater, PermanentFailure   the task system (pym_lambda.tasks.errors)
    ├── ClientRequestError   a client call that cannot be built (pym_lambda.clients.errors)
    └── DeployError, ArtifactError, ScaffoldError, ...   the build side (pym_lambda.build)

Chalice's own ``ChaliceViewError`` family (``chalice.NotFoundError``...) raised by a bound
function is answered with its ``STATUS_CODE`` in the same shape (:func:`from_chalice_error`).

Status and code live on the exception class (as Chalice's ChaliceViewError family does), so
a service declares its own errors in two lines::

    class UserNotFound(PymError):
        status = 404

4xx errors are precise (they name the field and the rule); 5xx errors are opaque: the client
gets an error_id, the details go to the logs under that id.
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from .identifiers import split_camel


def _code_from_class_name(name: str) -> str:
    # UserNotFound -> USER_NOT_FOUND, the convention PyMacaron's error codes followed.
    return split_camel(name).upper()


class PymLambdaError(Exception):
    """The root of every error pym-lambda raises: ``except PymLambdaError`` catches them all."""


class PymError(PymLambdaError):
    """Base of every error pym-lambda turns into a JSON response.

    Subclasses set ``status`` (HTTP status) and optionally ``code``; without a code the class
    name in UPPER_SNAKE_CASE is used. ``headers`` are added to the error response
    (``PymError("slow down", status=429, headers={"Retry-After": "5"})``). ``problems``
    lists every problem of a request ({"field", "rule", "message"}), beside the description.
    """

    status: int = 500
    code: str = "SERVER_ERROR"
    headers: Mapping[str, str] = {}  # never mutated: an instance gets its own copy
    problems: Optional[List[Dict[str, str]]] = None  # also for subclasses skipping __init__

    def __init__(self, description: str = "", *, status: Optional[int] = None,
                 code: Optional[str] = None, user_message: Optional[str] = None,
                 headers: Optional[Mapping[str, str]] = None,
                 problems: Optional[List[Dict[str, str]]] = None) -> None:
        super().__init__(description)
        self.description = description
        self.problems = problems
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        self.user_message = user_message
        if headers:
            self.headers = {str(k): str(v) for k, v in headers.items()}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "code" not in cls.__dict__:
            cls.code = _code_from_class_name(cls.__name__)



class InvalidParameterError(PymError):
    status = 400
    code = "INVALID_PARAMETER"


class UnauthorizedError(PymError):
    status = 401
    code = "UNAUTHORIZED"


class ForbiddenError(PymError):
    status = 403
    code = "FORBIDDEN"


class NotFoundError(PymError):
    status = 404
    code = "NOT_FOUND"


class UnknownPathError(PymError):
    status = 404
    code = "UNKNOWN_PATH"


class MethodNotAllowedError(PymError):
    status = 405
    code = "METHOD_NOT_ALLOWED"


class PayloadTooLargeError(PymError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"


class HeadersTooLargeError(PymError):
    status = 431
    code = "REQUEST_HEADERS_TOO_LARGE"


class UnsupportedMediaTypeError(PymError):
    status = 415
    code = "UNSUPPORTED_MEDIA_TYPE"


class ServerError(PymError):
    status = 500
    code = "SERVER_ERROR"


class BadResponseError(PymError):
    """The bound function returned something its spec forbids."""

    status = 500
    code = "BAD_RESPONSE"


class NotImplementedYetError(PymError):
    """An operation in the spec that no function is bound to."""

    status = 501
    code = "NOT_IMPLEMENTED"


class SpecError(PymLambdaError):
    """A spec or binding that cannot be served; raised at load, never at request time.

    The message names the spec file, the path and the operation, so that the developer can go
    straight to the line.
    """

    def __init__(self, message: str, *, spec_file: str = "", path: str = "",
                 method: str = "", operation: str = "") -> None:
        where = [p for p in (spec_file, " ".join(x for x in (method.upper(), path) if x),
                             f"operation {operation}" if operation else "") if p]
        self.message = message
        self.spec_file = spec_file
        self.path = path
        self.method = method
        self.operation = operation
        self.bind: Any = None  # the operation's x-bind-server, when it did not compile
        super().__init__(f"{': '.join(where)}: {message}" if where else message)


class SpecErrors(PymLambdaError):
    """Every problem found in the specs, reported at once."""

    def __init__(self, errors: list[SpecError]) -> None:
        self.errors = errors
        lines = "\n".join(f"  - {e}" for e in errors)
        super().__init__(f"{len(errors)} problem(s) in the API specs:\n{lines}")


def from_chalice_error(exc: Exception) -> PymError:
    """A Chalice ``ChaliceViewError`` (``chalice.NotFoundError``, ``BadRequestError``...) as the
    PymError of the same status: NotFoundError -> 404 NOT_FOUND, TooManyRequestsError -> 429
    TOO_MANY_REQUESTS. Duck-typed on ``STATUS_CODE`` so this module never imports chalice."""
    status = int(getattr(exc, "STATUS_CODE", 500))
    if status >= 500:
        code = "SERVER_ERROR"  # opaque, as any 5xx: the message goes to the log only
    else:
        code = _code_from_class_name(type(exc).__name__).removesuffix("_ERROR")
    return PymError(describe(exc), status=status, code=code)


def describe(value: Any) -> str:
    """str(value), never raising: the error path must not fail on an exception (or any value)
    whose __str__ raises."""
    try:
        return str(value)
    except Exception:
        try:
            return f"<unprintable {type(value).__name__}>"
        except Exception:
            return "<unprintable>"


def new_error_id() -> str:
    from .context import new_call_id  # the same random UUID, without importing uuid

    return new_call_id()


def error_body(status: int, code: str, description: str, error_id: Optional[str] = None,
               user_message: Optional[str] = None,
               problems: Optional[List[Dict[str, str]]] = None) -> Dict[str, Any]:
    """The one JSON shape of every error: status, error, error_description, error_id (and
    problems, when a request had several: each names its field and rule)."""
    body: Dict[str, Any] = {
        "status": status,
        "error": code,
        "error_description": description,
    }
    if problems:
        body["problems"] = problems
    body["error_id"] = error_id or new_error_id()
    if user_message:
        body["user_message"] = user_message
    return body
