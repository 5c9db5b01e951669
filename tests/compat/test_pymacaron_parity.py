"""PyMacaron parity: its own specs load unchanged and serve, with their decorators, x-parent,
x-persist and crash endpoints; crash reports reach the configured reporter."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from chalice.test import Client

from pym_lambda import create_app, generate_token, models
from pym_lambda.reporting import set_error_reporter
from tests.conftest import JsonClient
from tests.runtime.test_requests import assert_error

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SECRET = "pymacaron-parity-secret-0123456789abcdef"
REPORTS = []


def reporter(report):
    REPORTS.append(report)


@pytest.fixture(scope="module")
def hello_app(tmp_path_factory):
    """PyMacaron's helloworld service, built once; its secret and sys.path entry stay."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("JWT_SECRET", SECRET)
        monkeypatch.syspath_prepend(str(FIXTURES / "pymacaron_service"))
        project = tmp_path_factory.mktemp("helloworld")
        (project / "apis").mkdir()
        for name in ("helloworld", "ping", "crash"):
            shutil.copy(FIXTURES / "external" / "pymacaron" / f"{name}.yaml",
                        project / "apis" / f"{name}.yaml")
        (project / "pym-config.yaml").write_text(
            "name: helloworld\njwt: {secret: {env: JWT_SECRET}}\n"
            "error_reporter: tests.compat.test_pymacaron_parity.reporter\n")
        try:
            yield create_app(project, app_name="helloworld")
        finally:
            sys.modules.pop("helloworld.api", None)


@pytest.fixture
def hello(hello_app):
    REPORTS.clear()
    reporters = list(hello_app.pym_service.reporters)  # a test may replace them
    try:
        with hello_app.pym_service.use(), Client(hello_app) as client:
            yield JsonClient(client)
    finally:
        hello_app.pym_service.reporters[:] = reporters


def auth(user="ann"):
    return {"Authorization": f"Bearer {generate_token(user)}"}


def test_helloworld_endpoints_serve_under_their_base_path(hello):
    assert hello.get("/v1/hello").json == {"message": "hello world!"}
    assert_error(hello.get("/v1/hello/with/auth"), 401, "AUTHORIZATION_HEADER_MISSING")
    assert hello.get("/v1/hello/with/auth", headers=auth("ann")).json == {"message": "hello ann!"}


def test_x_parent_gives_the_model_its_custom_methods(hello):
    reply = hello.post("/v1/hello/with/inheritance", {"question": "anybody here?"},
                       headers=auth())
    assert reply.json == {"message": "a polite question: anybody here?"}


def test_pymacaron_builtin_bindings_ping_and_version(hello):
    assert hello.get("/v1/ping").json == {}
    version = hello.get("/v1/version").json
    assert version["name"] == "helloworld" and set(version["apis"]) == {"crash", "helloworld",
                                                                         "ping"}
    assert_error(hello.get("/v1/auth/version"), 401, "AUTHORIZATION_HEADER_MISSING")
    assert hello.get("/v1/auth/version", headers=auth()).status == 200


def test_crash_endpoints_and_the_reporter(hello):
    crash = hello.get("/v1/die")
    assert_error(crash, 500, "SERVER_ERROR")
    report = REPORTS[-1]
    assert report["error_id"] == crash.json["error_id"] and report["status"] == 500
    assert "crashing on purpose" in report["traceback"]
    assert report["request"]["method"] == "GET" and report["request"]["path"].endswith("/v1/die")
    assert report["service"]["name"] == "helloworld"
    assert_error(hello.get("/v1/crash/pymacaronexception"), 500, "PYMACARON_EXCEPTION")
    assert_error(hello.get("/v1/crash/returnerrorinstance"), 401, "NON_FATAL_CUSTOM_ERROR")
    count = len(REPORTS)
    assert hello.get("/v1/crash/reporterror", headers=auth("zoe")).json == {"ok": "ok"}
    assert len(REPORTS) == count + 1 and REPORTS[-1]["code"] == "REPORTED_ERROR"


def test_a_broken_reporter_never_changes_the_answer(hello):
    def broken(report):
        raise RuntimeError("reporter down")

    set_error_reporter(broken)
    assert_error(hello.get("/v1/die"), 500, "SERVER_ERROR")


def test_x_persist_attaches_load_and_save(tmp_path):
    from pym_lambda.runtime.models import ModelFactory

    sys.path.insert(0, str(FIXTURES / "pymacaron_service"))
    try:
        from pym_lambda.runtime.operation import model_extensions

        defs = {"Question": {"type": "object", "x-persist": "helloworld.models.QuestionStore",
                             "properties": {"question": {"type": "string"}}}}
        question_cls = ModelFactory("t", defs, *model_extensions(defs, "x.yaml")).classes[
            "Question"]
        question_cls(question="why?").save_to_db()
        assert question_cls.load_from_db(-1) == "why?"
    finally:
        sys.path.remove(str(FIXTURES / "pymacaron_service"))


def test_model_api_as_pymacaron_had_it(hello):
    hello_cls = models.helloworld.Hello
    greeting = hello_cls(message="hi")
    assert greeting.to_json() == {"message": "hi"}
    assert hello_cls.from_json({"message": "hi"}) == greeting
    assert hello_cls.from_json({"message": "hi"}) != hello_cls(message="ho")
