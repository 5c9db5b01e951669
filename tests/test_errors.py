"""One error tree: every framework error under PymLambdaError; PymError(headers=) and Chalice's
own view errors answered in the one JSON shape, on Lambda (chalice.test) and over WSGI."""
from __future__ import annotations

import io
import json
import logging
from typing import Any, Dict, Tuple

import chalice
import pytest
from chalice.test import Client

from pym_lambda import PymError, PymLambdaError, create_app
from pym_lambda.wsgi import make_wsgi_app
from tests.conftest import JsonClient, make_project
from tests.runtime.test_requests import assert_error

SPEC = """
openapi: 3.0.3
info: {title: errors, version: '1'}
paths:
  /fail/{kind}:
    get:
      x-bind-server: tests.test_errors.fail
      parameters:
        - {name: kind, in: path, required: true, schema: {type: string}}
      responses:
        '200':
          description: never
          content: {application/json: {schema: {type: object}}}
"""

CHALICE_ERRORS = {
    "bad-request": (chalice.BadRequestError, 400, "BAD_REQUEST"),
    "unauthorized": (chalice.UnauthorizedError, 401, "UNAUTHORIZED"),
    "forbidden": (chalice.ForbiddenError, 403, "FORBIDDEN"),
    "not-found": (chalice.NotFoundError, 404, "NOT_FOUND"),
    "conflict": (chalice.ConflictError, 409, "CONFLICT"),
    "unprocessable": (chalice.UnprocessableEntityError, 422, "UNPROCESSABLE_ENTITY"),
    "too-many": (chalice.TooManyRequestsError, 429, "TOO_MANY_REQUESTS"),
}


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("__str__ raises")


def fail(kind: str) -> Any:
    if kind == "unprintable":
        raise Unprintable()
    if kind == "unserialisable":  # the error handler itself cannot serialise the answer
        raise PymError("odd", status=400, user_message=object())  # type: ignore[arg-type]
    if kind == "unprintable-description":
        raise PymError(Unprintable(), status=500)  # type: ignore[arg-type]
    if kind == "throttled":
        raise PymError("slow down", status=429, code="THROTTLED",
                       headers={"Retry-After": "5"})
    if kind == "chalice-500":
        raise chalice.ChaliceViewError("the database password is hunter2")
    error_class = CHALICE_ERRORS[kind][0]
    raise error_class(f"chalice says {kind}")


@pytest.fixture
def project(tmp_path: Any) -> Any:
    return make_project(tmp_path, {"errors": SPEC})


@pytest.fixture
def on_lambda(project: Any) -> Any:
    with Client(create_app(project)) as client:
        yield JsonClient(client)


def wsgi_get(app: Any, path: str) -> Tuple[int, Dict[str, str], Dict[str, Any]]:
    captured: Dict[str, Any] = {}

    def start_response(status: str, headers: Any) -> None:
        captured["status"], captured["headers"] = int(status.split()[0]), dict(headers)

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "",
               "SERVER_NAME": "test", "SERVER_PORT": "80", "wsgi.input": io.BytesIO(b""),
               "wsgi.url_scheme": "http", "SERVER_PROTOCOL": "HTTP/1.1"}
    body = b"".join(app(environ, start_response))
    return captured["status"], captured["headers"], json.loads(body)


def test_every_framework_error_has_one_root_and_keeps_its_old_bases() -> None:
    from pym_lambda.auth.errors import TokenExpiredError
    from pym_lambda.build.deploy.errors import DeployError
    from pym_lambda.build.scaffold.generator import ScaffoldError
    from pym_lambda.clients.errors import ClientRequestError, UpstreamTimeout
    from pym_lambda.config import ConfigError
    from pym_lambda.errors import SpecError, SpecErrors
    from pym_lambda.tasks.errors import (
        PermanentFailure,
        RetryLater,
        TaskDefinitionError,
        TaskError,
    )
    from pym_lambda.testing.project import ProjectError

    for cls in (PymError, TokenExpiredError, UpstreamTimeout, SpecError, SpecErrors,
                ConfigError, TaskError, RetryLater, PermanentFailure, ClientRequestError,
                DeployError, ScaffoldError, ProjectError):
        assert issubclass(cls, PymLambdaError), cls
    assert issubclass(ClientRequestError, ValueError)
    assert issubclass(TaskDefinitionError, ValueError)


def test_pym_error_headers_reach_the_response_on_lambda(on_lambda: Any) -> None:
    reply = on_lambda.get("/fail/throttled")
    assert_error(reply, 429, "THROTTLED", "slow down")
    assert reply.headers["Retry-After"] == "5"
    assert reply.headers["Content-Type"] == "application/json"


def test_pym_error_headers_default_to_none_and_are_per_instance() -> None:
    assert PymError("x").headers == {}
    one = PymError("x", headers={"A": "1"})
    assert one.headers == {"A": "1"} and PymError("y").headers == {}


@pytest.mark.parametrize("kind", sorted(CHALICE_ERRORS))
def test_chalice_view_errors_keep_their_status_on_lambda(on_lambda: Any, kind: str) -> None:
    _, status, code = CHALICE_ERRORS[kind]
    assert_error(on_lambda.get(f"/fail/{kind}"), status, code, f"chalice says {kind}")


def test_chalice_view_error_500_stays_opaque(on_lambda: Any, caplog: Any) -> None:
    with caplog.at_level(logging.ERROR, logger="pym_lambda"):
        reply = on_lambda.get("/fail/chalice-500")
    assert_error(reply, 500, "SERVER_ERROR")
    assert "hunter2" not in reply.body.decode()
    assert any("hunter2" in r.getMessage() for r in caplog.records)  # the log has it


def test_headers_and_chalice_errors_over_wsgi(project: Any) -> None:
    app = make_wsgi_app(create_app(project))
    status, headers, body = wsgi_get(app, "/fail/throttled")
    assert (status, body["error"], headers["Retry-After"]) == (429, "THROTTLED", "5")
    for kind in ("not-found", "conflict", "too-many"):
        _, expected_status, expected_code = CHALICE_ERRORS[kind]
        status, _, body = wsgi_get(app, f"/fail/{kind}")
        assert (status, body["status"], body["error"]) == (
            expected_status, expected_status, expected_code)
        assert set(body) == {"status", "error", "error_description", "error_id"}


@pytest.mark.parametrize("kind", ["unprintable", "unserialisable", "unprintable-description"])
def test_the_error_path_cannot_fail(on_lambda: Any, caplog: Any, kind: str) -> None:
    from pym_lambda import set_error_reporter

    reports = []
    set_error_reporter(reports.append)
    with caplog.at_level(logging.INFO, logger="pym_lambda"):
        reply = on_lambda.get(f"/fail/{kind}")
    # Each was Chalice's generic 500 (no error_id) or a traceback: now the framework's opaque
    # 500, an error_id, and a log line naming it.
    assert_error(reply, 500, "SERVER_ERROR", "the server failed to handle this request")
    error_id = reply.json["error_id"]
    assert any(error_id in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)


def test_describe_never_raises() -> None:
    from pym_lambda.errors import describe

    assert describe(ValueError("x")) == "x"
    assert describe(Unprintable()) == "<unprintable Unprintable>"


def test_a_report_is_built_whatever_the_request(on_lambda: Any) -> None:
    from pym_lambda import reporting

    class Broken:
        def to_original_event(self) -> Any:
            raise ValueError("no event")

        query_params = None

    from pym_lambda.context import CallContext, enter_context, exit_context

    token = enter_context(CallContext("c-1", request=Broken(), method="GET", path="/x"))
    try:
        report = reporting.build_report("id-1", 500, "SERVER_ERROR", Unprintable(),  # type: ignore
                                        True, Unprintable())
    finally:
        exit_context(token)
    assert report["request"] == {"unavailable": "ValueError: no event"}
    assert report["title"] == "<unprintable Unprintable>"
    assert "Unprintable" in report["traceback"]
