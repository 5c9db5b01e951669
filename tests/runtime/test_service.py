"""One Service per app: two apps in one process each answer with their own settings, models,
tasks and reporters without switching; the extension points run in order."""
from __future__ import annotations

import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List

import jwt
import pytest
from chalice.test import Client

from pym_lambda import PymError, create_app, generate_token, task_workers
from pym_lambda.runtime.service import Service, current_service
from pym_lambda.tasks import register_task_handlers
from tests.conftest import JsonClient, make_project
from tests.runtime import service_impl
from tests.runtime.test_requests import assert_error

SPEC = """openapi: 3.0.3
info: {{title: {name}, version: '1.0'}}
components:
  securitySchemes:
    bearer: {{type: http, scheme: bearer}}
  schemas:
    {model}:
      type: object
      properties: {{x: {{type: string}}}}
    Who:
      type: object
      properties:
        user_id: {{type: string, nullable: true}}
        service: {{type: string}}
        model: {{type: string}}
    Handle:
      type: object
      properties: {{task_id: {{type: string}}, inline: {{type: boolean}}}}
paths:
  /me:
    get:
      security: [{{bearer: []}}]
      x-bind-server: tests.runtime.service_impl.whoami
      responses:
        '200':
          description: who
          content: {{application/json: {{schema: {{$ref: '#/components/schemas/Who'}}}}}}
  /open:
    get:
      x-bind-server: tests.runtime.service_impl.whoami
      responses:
        '200':
          description: who
          content: {{application/json: {{schema: {{$ref: '#/components/schemas/Who'}}}}}}
  /enqueue:
    post:
      x-bind-server: tests.runtime.service_impl.enqueue
      responses:
        '200':
          description: sent
          content: {{application/json: {{schema: {{$ref: '#/components/schemas/Handle'}}}}}}
  /boom:
    get:
      x-bind-server: tests.runtime.service_impl.boom
      responses:
        '200':
          description: never
          content: {{application/json: {{schema: {{type: object}}}}}}
"""


def build(root: Path, name: str, model: str, secret: str, *, inline: bool) -> Any:
    project = make_project(root / name, {name: SPEC.format(name=name, model=model)},
                           app_name=name)
    (project / "pym-config.yaml").write_text(
        f"name: {name}\njwt:\n  secret: {secret}\n"
        f"tasks:\n  inline: {'true' if inline else 'false'}\n")
    return create_app(project, app_name=name)


@pytest.fixture
def two_apps(tmp_path: Path) -> Any:
    service_impl.SEEN.clear()
    with current_service().use():  # create_app sets the context's service: put it back after
        alpha = build(tmp_path, "alpha", "Alpha", "a" * 40, inline=True)
        beta = build(tmp_path, "beta", "Beta", "b" * 40, inline=False)
        yield alpha, beta


def token(secret: str, user: str) -> Dict[str, str]:
    signed = jwt.encode({"sub": user, "exp": int(time.time()) + 600}, secret,
                        algorithm="HS256")
    return {"Authorization": f"Bearer {signed}"}


def test_two_apps_answer_with_their_own_settings_and_models_alternately(two_apps):
    alpha, beta = two_apps
    with Client(alpha) as a, Client(beta) as b:
        first, second = JsonClient(a), JsonClient(b)
        for _ in range(2):  # alternating: no switching between them
            assert first.get("/me", headers=token("a" * 40, "ann")).json == {
                "user_id": "ann", "service": "alpha", "model": "Alpha"}
            assert_error(first.get("/me", headers=token("b" * 40, "ann")), 401,
                         "TOKEN_INVALID")
            assert second.get("/me", headers=token("b" * 40, "bob")).json == {
                "user_id": "bob", "service": "beta", "model": "Beta"}
            assert_error(second.get("/me", headers=token("a" * 40, "bob")), 401,
                         "TOKEN_INVALID")
            assert first.get("/version").json["name"] == "alpha"
            assert second.get("/version").json["name"] == "beta"


def test_outside_requests_the_last_created_app_is_the_calling_contexts(two_apps):
    alpha, beta = two_apps
    assert current_service() is beta.pym_service
    assert jwt.decode(generate_token("u"), "b" * 40, algorithms=["HS256"])["sub"] == "u"
    with alpha.pym_service.use():
        assert jwt.decode(generate_token("u"), "a" * 40, algorithms=["HS256"])["sub"] == "u"
    assert current_service() is beta.pym_service


def test_a_task_is_delivered_to_each_app_with_its_own_service(two_apps):
    alpha, beta = two_apps
    handlers = {app.app_name: register_task_handlers(app, queues=["svc"])["pym_task_worker_svc"]
                for app in (alpha, beta)}
    body = {"v": 1, "task": "tests.runtime.service_impl:note", "task_id": "t-1",
            "args": ["test"], "kwargs": {}, "call_id": None, "caller": None, "attempt": 1,
            "created_at": ""}
    for name in ("beta", "alpha", "beta"):
        record = {"messageId": str(uuid.uuid4()), "receiptHandle": "r", "body": json.dumps(body),
                  "attributes": {"ApproximateReceiveCount": "1"}}
        assert handlers[name]({"Records": [record]}, None) == {"batchItemFailures": []}
    assert [(s["service"], s["app_name"], s["model"], s["queue"])
            for s in service_impl.SEEN] == [
        ("beta", "beta", "Beta", "svc"), ("alpha", "alpha", "Alpha", "svc"),
        ("beta", "beta", "Beta", "svc")]


def test_each_app_has_its_own_task_settings(two_apps):
    alpha, beta = two_apps
    with Client(alpha) as a:
        reply = JsonClient(a).post("/enqueue", {})
    assert reply.status == 200 and reply.json["inline"] is True  # alpha runs tasks inline
    assert service_impl.SEEN[-1]["service"] == "alpha"
    assert alpha.pym_service.task_settings.inline is True
    assert beta.pym_service.task_settings.inline is False


def test_task_workers_finds_the_tasks_of_chalicelib_without_a_registry(tmp_path, monkeypatch):
    project = make_project(tmp_path, {"gamma": SPEC.format(name="gamma", model="Gamma")},
                           app_name="gamma")
    (project / "pym-config.yaml").write_text(f"name: gamma\njwt:\n  secret: {'g' * 40}\n")
    package = project / "chalicelib"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "jobs.py").write_text(
        "from pym_lambda import async_task\n\n@async_task(queue='jobs')\ndef job():\n"
        "    return 1\n")
    monkeypatch.syspath_prepend(str(project))
    # this project's chalicelib, not the example's; the example's put back after (or none, so
    # that a later `import app` finds the example's own again)
    saved = {name: module for name, module in sys.modules.items()
             if name == "chalicelib" or name.startswith("chalicelib.")}
    for name in saved:
        del sys.modules[name]
    try:
        with current_service().use():
            app = create_app(project, app_name="gamma")
            handlers = task_workers(app)
    finally:
        for name in [n for n in sys.modules if n == "chalicelib" or n.startswith("chalicelib.")]:
            del sys.modules[name]
        sys.modules.update(saved)
    assert list(handlers) == ["pym_task_worker_jobs"]
    assert list(app.pym_service.tasks) == ["chalicelib.jobs:job"]


# --- extension points ------------------------------------------------------------------------

def test_before_and_after_steps_run_in_order_after_auth(two_apps):
    alpha, _ = two_apps
    service: Service = alpha.pym_service
    calls: List[str] = []

    @service.before
    def first(request, operation):
        calls.append(f"first {operation.path} {request.method}")

    service.before_steps.append(lambda request, operation: calls.append("second"))

    @service.after
    def stamp(request, operation, result):
        calls.append("after")
        return {**result, "service": result["service"] + "+after"}

    with Client(alpha) as a:
        client = JsonClient(a)
        assert_error(client.get("/me"), 401, "AUTHORIZATION_HEADER_MISSING")
        assert calls == []  # auth is the first step: refused before the service's steps
        reply = client.get("/open")
    assert calls == ["first /open GET", "second", "after"]
    assert reply.json["service"] == "alpha+after"


def test_a_before_step_refuses_with_the_one_error_shape(two_apps):
    alpha, _ = two_apps

    class Closed(PymError):
        status = 503
        code = "CLOSED"

    def closed(request, operation):
        raise Closed("closed for maintenance")

    alpha.pym_service.before_steps.insert(0, closed)
    with Client(alpha) as a:
        assert_error(JsonClient(a).get("/open"), 503, "CLOSED")


def test_reporters_all_run_in_order_and_a_failing_one_changes_nothing(two_apps, caplog):
    alpha, _ = two_apps
    seen: List[str] = []

    def broken(report):
        seen.append("broken")
        raise ValueError("reporter down")

    alpha.pym_service.reporters[:] = [broken]
    alpha.pym_service.reporter(lambda report: seen.append(report["code"]))
    with Client(alpha) as a:
        reply = JsonClient(a).get("/boom")
    assert_error(reply, 500, "SERVER_ERROR")
    assert seen == ["broken", "SERVER_ERROR"]
    assert "error reporter failed" in caplog.text


def test_set_error_reporter_sets_the_current_services_list(two_apps):
    from pym_lambda import report_error, set_error_reporter

    alpha, beta = two_apps
    got: List[str] = []
    with alpha.pym_service.use():
        set_error_reporter(lambda report: got.append(report["service"]["name"]))
        assert len(alpha.pym_service.reporters) == 1 and beta.pym_service.reporters == []
        report_error("noted")
    assert got == ["alpha"]


def test_chalice_http_middleware_wraps_a_pym_lambda_app(two_apps):
    alpha, _ = two_apps
    seen: List[str] = []

    @alpha.middleware("http")
    def timing(event, get_response):
        seen.append(event.path)
        response = get_response(event)
        response.headers["X-Middleware"] = "yes"
        return response

    with Client(alpha) as a:
        reply = a.http.get("/open")
    assert reply.status_code == 200 and reply.headers["X-Middleware"] == "yes"
    assert json.loads(reply.body)["service"] == "alpha" and seen == ["/open"]


# --- no app state at module level --------------------------------------------------------------

def module_globals_snapshot() -> Dict[str, Any]:
    """Every runtime module's dict/list/set globals, and the instance dicts of its pym_lambda
    objects (`models`, `clients`...), copied: allowed caches aside."""
    import copy
    import importlib
    import types

    from tests.test_no_module_state import ALLOWED, runtime_sources

    snapshot: Dict[str, Any] = {}
    for module_name, _tree in runtime_sources():
        if module_name.startswith(("pym_lambda.wsgi", "pym_lambda.compat")):
            continue  # importing them builds or adapts apps of their own
        module = importlib.import_module(module_name)
        for name, value in vars(module).items():
            key = f"{module_name}:{name}"
            if key in ALLOWED or name.startswith("__") or isinstance(value, (type, types.ModuleType,
                                                    types.FunctionType)):
                continue
            if isinstance(value, (dict, list, set)):
                snapshot[key] = repr(copy.copy(value))
            elif type(value).__module__.startswith("pym_lambda") and hasattr(value, "__dict__"):
                snapshot[key] = repr(vars(value))
    return snapshot


def test_creating_and_serving_two_apps_changes_no_module_global(tmp_path):
    before = module_globals_snapshot()
    with current_service().use():
        alpha = build(tmp_path, "alpha", "Alpha", "a" * 40, inline=True)
        beta = build(tmp_path, "beta", "Beta", "b" * 40, inline=False)
        for app, secret in ((alpha, "a" * 40), (beta, "b" * 40)):
            with Client(app) as client:
                assert JsonClient(client).get("/me", headers=token(secret, "u")).status == 200
        with Client(alpha) as client:
            assert JsonClient(client).post("/enqueue", {}).status == 200
    after = module_globals_snapshot()
    assert len(before) > 20
    assert {k: v for k, v in after.items() if before.get(k) != v} == {}
