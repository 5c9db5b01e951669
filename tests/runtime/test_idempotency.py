"""`x-idempotent: true` operations (pym_lambda/runtime/idempotency.py) through the app, with
the stage's table on moto in process (made by deploy's own ensure_table)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Iterator, List

import pytest
from chalice.test import Client

from pym_lambda import create_app
from pym_lambda.aws import aws_client
from pym_lambda.build.deploy.idempotency_table import TableDefinition, ensure_table
from pym_lambda.testing.aws import in_process_aws
from tests.conftest import JsonClient, make_project

from . import idempotency_impl as impl

IMPL = impl.__name__
SPEC = f"""openapi: 3.0.3
info: {{title: orders, version: '1'}}
paths:
  /orders:
    post:
      operationId: createOrder
      x-bind-server: {IMPL}.create_order
      x-idempotent: true
      requestBody:
        required: true
        content:
          application/json:
            schema: {{type: object, required: [item], properties: {{item: {{type: string}}}}}}
      responses:
        '201': {{description: made, content: {{application/json: {{schema: {{type: object}}}}}}}}
    get:
      operationId: listOrders
      x-bind-server: {IMPL}.list_orders
      responses:
        '200': {{description: all, content: {{application/json: {{schema: {{type: array}}}}}}}}
"""
TABLE = "orders-test-idempotency"


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[JsonClient]:
    monkeypatch.setenv("PYM_APP_NAME", "orders")
    monkeypatch.setenv("PYM_STAGE", "test")
    impl.CALLS.clear()
    app = create_app(make_project(tmp_path, {"orders": SPEC}), app_name="orders")
    with in_process_aws():
        ensure_table(TableDefinition(TABLE), aws_client("dynamodb"))
        with app.pym_service.use(), Client(app) as client:
            yield JsonClient(client)


def order(api: JsonClient, item: str, key: str = "key-1", **headers: str) -> Any:
    return api.post("/orders", {"item": item}, headers={"Idempotency-Key": key, **headers})


def test_a_repeat_replays_the_first_response(api: JsonClient) -> None:
    first = order(api, "tea")
    assert first.status == 201 and first.json == {"id": 1, "item": "tea"}
    again = order(api, "tea")
    assert (again.status, again.json) == (201, {"id": 1, "item": "tea"})
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert impl.CALLS == [{"item": "tea"}]
    assert order(api, "tea", key="key-2").json == {"id": 2, "item": "tea"}  # a new key runs


def test_without_the_header_it_runs_each_time(api: JsonClient) -> None:
    api.post("/orders", {"item": "tea"})
    api.post("/orders", {"item": "tea"})
    assert len(impl.CALLS) == 2
    assert aws_client("dynamodb").scan(TableName=TABLE)["Items"] == []


def test_the_same_key_with_another_body_is_a_422_naming_the_header(api: JsonClient) -> None:
    order(api, "tea")
    reused = order(api, "coffee")
    assert reused.status == 422
    assert reused.json["error"] == "IDEMPOTENCY_KEY_REUSED"
    assert "Idempotency-Key" in reused.json["error_description"]
    assert reused.json["problems"][0]["field"] == "header 'Idempotency-Key'"
    assert impl.CALLS == [{"item": "tea"}]


def test_a_repeat_while_the_first_runs_is_a_409(api: JsonClient) -> None:
    seen = []
    impl.DURING["call"] = lambda: seen.append(order(api, "tea"))
    first = order(api, "tea")
    assert first.status == 201
    [concurrent] = seen
    assert concurrent.status == 409
    assert concurrent.json["error"] == "IDEMPOTENCY_KEY_IN_USE"
    assert 1 <= int(concurrent.headers["Retry-After"]) <= 30
    assert impl.CALLS == [{"item": "tea"}]
    assert order(api, "tea").headers["Idempotent-Replayed"] == "true"


def test_errors_are_not_stored_a_retry_runs_again(api: JsonClient) -> None:
    assert order(api, "none-left").status == 409
    assert order(api, "none-left").status == 409
    assert order(api, "crash", key="k-crash").status == 500
    assert order(api, "crash", key="k-crash").status == 500
    assert len(impl.CALLS) == 4
    assert aws_client("dynamodb").scan(TableName=TABLE)["Items"] == []


def test_keys_are_scoped_by_caller(api: JsonClient) -> None:
    alice = order(api, "tea", Authorization="Bearer alice")
    bob = order(api, "tea", Authorization="Bearer bob")
    assert (alice.json["id"], bob.json["id"]) == (1, 2)
    assert "Idempotent-Replayed" not in bob.headers
    carol = order(api, "tea", key="k-cookie", Cookie="token=carol")
    dave = order(api, "tea", key="k-cookie", Cookie="token=dave")
    assert (carol.json["id"], dave.json["id"]) == (3, 4)
    assert order(api, "tea", key="k-cookie", Cookie="token=dave").json["id"] == 4


def test_the_in_progress_deadline_is_the_end_of_the_lambda_invocation(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Called as Lambda calls it: a keyed request holds its key until its invocation ends
    (at most API Gateway's 30 s), so a repeat after a Lambda that timed out runs at once."""
    import time

    from pym_lambda.aws_events import LambdaContext, rest_proxy_event

    monkeypatch.setenv("PYM_APP_NAME", "orders")
    monkeypatch.setenv("PYM_STAGE", "test")
    impl.CALLS.clear()
    app = create_app(make_project(tmp_path, {"orders": SPEC}), app_name="orders")

    def post(key: str, timeout_ms: int) -> Any:
        event = rest_proxy_event("POST", "/orders", body='{"item": "tea"}', headers={
            "Content-Type": ["application/json"], "Idempotency-Key": [key]})
        return app(event, LambdaContext("orders", timeout_ms=timeout_ms))

    def deadline() -> float:  # of the one record in progress
        [item] = [i for i in aws_client("dynamodb").scan(TableName=TABLE)["Items"]
                  if i["status"]["S"] == "INPROGRESS"]
        return int(item["deadline"]["N"]) / 1000

    seen: List[Any] = []
    with in_process_aws():
        ensure_table(TableDefinition(TABLE), aws_client("dynamodb"))
        with app.pym_service.use():
            for key, timeout_ms, bound in (("k-1", 5_000, 5), ("k-2", 900_000, 30)):
                impl.DURING["call"] = lambda: seen.append(deadline())
                before = time.time()
                assert post(key, timeout_ms)["statusCode"] == 201
                assert before + bound - 1 <= seen.pop() <= time.time() + bound

            def repeat_after_the_timeout() -> None:
                while time.time() <= deadline():
                    time.sleep(0.05)
                seen.append(post("k-3", 5_000))

            impl.DURING["call"] = repeat_after_the_timeout
            assert post("k-3", 300)["statusCode"] == 201
    [repeat] = seen
    assert repeat["statusCode"] == 201  # ran: not 409 IDEMPOTENCY_KEY_IN_USE for 30 s
    assert "Idempotent-Replayed" not in repeat["headers"]
    assert len(impl.CALLS) == 4


@pytest.mark.parametrize("key", ["", " leading-space", "x" * 256, "caf\u00e9"])
def test_a_malformed_key_is_a_400_naming_the_header(api: JsonClient, key: str) -> None:
    reply = order(api, "tea", key=key)
    assert reply.status == 400
    assert reply.json["problems"][0]["field"] == "header 'Idempotency-Key'"
    assert impl.CALLS == []


def test_an_unmarked_operation_ignores_the_header(api: JsonClient) -> None:
    api.get("/orders", headers={"Idempotency-Key": "k"})
    assert aws_client("dynamodb").scan(TableName=TABLE)["Items"] == []


@pytest.mark.parametrize("marked", [False, True])
def test_what_a_cold_start_imports(tmp_path: Path, marked: bool) -> None:
    """Nothing of idempotency without a marked operation; with one, its two small modules
    and still no boto3 (its client is made at the first keyed request)."""
    import subprocess

    text = SPEC if marked else SPEC.replace("      x-idempotent: true\n", "")
    project = make_project(tmp_path, {"orders": text})
    code = ("import sys; from pym_lambda import create_app; "
            f"create_app({str(project)!r}, app_name='orders'); "
            "print(sorted(m for m in sys.modules if m.startswith('pym_lambda') and "
            "'idempotency' in m or m.split('.')[0] in ('boto3', 'botocore')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=str(Path(__file__).resolve().parents[2]), timeout=120)
    assert out.returncode == 0, out.stderr
    expected = ["pym_lambda.runtime.idempotency", "pym_lambda.tasks.idempotency"]
    assert out.stdout.strip() == str(expected if marked else [])


def test_pym_lambda_local_makes_the_table_in_its_moto(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    from pym_lambda.build.local_service import create_idempotency_table

    monkeypatch.delenv("PYM_IDEMPOTENCY_TABLE", raising=False)
    for marked in (False, True):
        text = SPEC if marked else SPEC.replace("      x-idempotent: true\n", "")
        project = make_project(tmp_path / str(marked), {"orders": text})
        module = types.SimpleNamespace(app=create_app(project, app_name="orders"))
        with in_process_aws():
            assert create_idempotency_table(module, project, "dev") == (
                "orders-dev-idempotency" if marked else None)
            assert aws_client("dynamodb").list_tables()["TableNames"] == (
                ["orders-dev-idempotency"] if marked else [])


def test_a_marker_that_is_not_a_boolean_is_a_warning(tmp_path: Path) -> None:
    from pym_lambda.build.openapi.compiler import compile_apis_dir

    project = make_project(tmp_path, {"orders": SPEC.replace("x-idempotent: true",
                                                             "x-idempotent: 'yes'")})
    [api] = compile_apis_dir(project / "apis", project)["apis"]
    [create] = [op for op in api["operations"] if op["id"] == "createOrder"]
    assert "idempotent" not in create
    assert create["warnings"] == [
        "x-idempotent is 'yes', not true or false: ignored (the operation is not idempotent)"]
