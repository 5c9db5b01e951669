"""PyMacaron's spec extensions in both dialects: x-bind-server, x-decorate-server (custom and
requires_auth), x-parent and x-persist on the same helloworld service."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from chalice.test import Client

from pym_lambda import create_app, generate_token, models
from tests.conftest import JsonClient
from tests.runtime.test_requests import assert_error

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pymacaron_service"


@pytest.fixture(scope="module", params=["swagger", "openapi"])
def hello_app(request, tmp_path_factory):
    """The helloworld service, built once per dialect; its secret and sys.path entry stay."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("JWT_SECRET", "pymacaron-extensions-secret-0123456789abcdef")
        monkeypatch.syspath_prepend(str(FIXTURES))
        project = tmp_path_factory.mktemp("hello")
        (project / "apis").mkdir()
        shutil.copy(FIXTURES / f"helloworld.{request.param}.yaml", project / "apis" / "hello.yaml")
        (project / "pym-config.yaml").write_text("name: hello\njwt: {secret: {env: JWT_SECRET}}\n")
        try:
            yield create_app(project, app_name="hello")
        finally:
            sys.modules.pop("helloworld.api", None)


@pytest.fixture
def hello(hello_app):
    # its service is the current one outside requests (generate_token(), models)
    with hello_app.pym_service.use(), Client(hello_app) as client:
        yield JsonClient(client)


def test_custom_decorator_wraps_the_bound_function(hello):
    assert hello.get("/v1/shout").json == {"message": "HELLO WORLD!"}
    assert hello.get("/v1/hello").json == {"message": "hello world!"}


def test_requires_auth_decorator(hello):
    assert_error(hello.get("/v1/hello/with/auth"), 401, "AUTHORIZATION_HEADER_MISSING")
    token = generate_token("ann")
    reply = hello.get("/v1/hello/with/auth", headers={"Authorization": f"Bearer {token}"})
    assert reply.json == {"message": "hello ann!"}


def test_x_parent_and_x_persist(hello):
    token = generate_token("ann")
    reply = hello.post("/v1/hello/with/inheritance", {"question": "why?"},
                       headers={"Authorization": f"Bearer {token}"})
    assert reply.json == {"message": "a polite question: why?"}  # Question.is_polite()
    question = models.hello.Question(question="who?")
    question.save_to_db()
    assert models.hello.Question.load_from_db(-1) == "who?"
    assert isinstance(question, sys.modules["helloworld.models"].Question)
