"""The pytest plugin: its fixtures used by small test files run with pytester, against a service
made by `pym-lambda new`; its clients and assertions used directly."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
from requests.structures import CaseInsensitiveDict

from pym_lambda.build.scaffold import create_service
from pym_lambda.testing import (
    PymHttpClient,
    Reply,
    api_gateway_event,
    assert_error,
    assert_json,
    assert_status,
    sqs_event,
)

pytest_plugins = ["pytester"]

# Other plugins of this venv are blocked: they take seconds to import and are not under test.
INI = """[pytest]
pym_project = svc
addopts = -p no:cacheprovider --strict-markers -p no:schemathesis -p no:hypothesispytest -p no:anyio
filterwarnings =
    error
    ignore::DeprecationWarning:botocore.*
    ignore::DeprecationWarning:moto.*
"""

FLAKY_TASK = '''
from pym_lambda import async_task


@async_task(queue="default", max_attempts=2)
def always_fails(n: int) -> None:
    raise RuntimeError(f"broken {n}")
'''


@pytest.fixture
def service(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """pytester's folder holding the service `svc` (with a task that always fails) and an ini
    naming it; the environment the example app's tests set is removed."""
    for name in ("JWT_SECRET", "PYM_STAGE", "PYM_TEST_URL", "PYM_TEST_TOKEN", "PYM_APP_NAME",
                 "PYM_TASKS_INLINE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    create_service("svc", pytester.path)
    (pytester.path / "svc" / "chalicelib" / "flaky.py").write_text(FLAKY_TASK)
    pytester.makeini(INI)
    return pytester


def run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    test_file = pytester.makepyfile(test_inner=source)
    return pytester.runpytest_subprocess(str(test_file), *args, timeout=300)


def test_client_token_and_assertions_in_process(service):
    result = run(service, '''
import jwt
import pytest

from pym_lambda.testing import assert_error, assert_json


def test_client_posts_json_and_reads_errors(pym_client):
    assert not pym_client.is_remote
    greeting = assert_json(pym_client.post("/v1/greetings", json={"name": "Ann"}), 201)
    assert greeting["message"] == "Hello, Ann!"
    assert_error(pym_client.post("/v1/greetings", json={}), 400, "INVALID_PARAMETER")
    assert_error(pym_client.post("/v1/greetings", body="{oops",
                                 headers={"Content-Type": "application/json"}), 400)
    assert_error(pym_client.get("/no/such/path"), 404, "UNKNOWN_PATH")
    assert_error(pym_client.put("/v1/greetings", json={}), 405, "METHOD_NOT_ALLOWED")


def test_token_is_signed_with_the_stage_key(pym_client, pym_token, pym_project):
    token = pym_token("alice", scope="admin")
    secret = pym_project.stage_variables()["JWT_SECRET"]
    claims = jwt.decode(token, secret, algorithms=["HS256"], issuer="svc")
    assert claims["sub"] == "alice" and claims["scope"] == "admin"
    assert_error(pym_client.get("/auth/version"), 401, "AUTHORIZATION_HEADER_MISSING")
    assert assert_json(pym_client.get("/auth/version", token=token))["name"] == "svc"


@pytest.fixture
def another_app(tmp_path):
    """Another app made in the same process: it installs its own (empty) JWT settings."""
    from pym_lambda import create_app

    (tmp_path / "apis").mkdir()
    (tmp_path / "apis" / "other.yaml").write_text(
        "openapi: 3.0.3\\ninfo: {title: o, version: '1'}\\npaths:\\n  /o:\\n    get:\\n"
        "      responses: {'200': {description: ok}}\\n")
    return create_app(tmp_path, app_name="other")


def test_the_service_settings_are_back_for_each_test(pym_app, another_app, pym_client,
                                                      pym_token, caplog):
    caplog.set_level("INFO", logger="chalicelib.tasks")
    assert_json(pym_client.get("/auth/version", token=pym_token("bob")))
    # the dev stage's inline tasks, not the other app's task settings
    assert_json(pym_client.post("/v1/greetings", json={"name": "Di"}), 201)
    assert "greeting card for Di sent" in caplog.text
''')
    result.assert_outcomes(passed=3)
    assert any("pym-lambda: " in line and "in-process" in line for line in result.outlines)


def test_tasks_are_drained_through_the_worker_handler(service):
    result = run(service, '''
def test_a_task_enqueued_by_a_request_runs_once(pym_client, pym_tasks):
    pym_client.post("/v1/greetings", json={"name": "Ann"})
    pym_client.post("/v1/greetings", json={"name": "Bob"})
    assert pym_tasks.pending() == {"default": 2}
    result = pym_tasks.drain()
    assert result.tasks() == ["chalicelib.tasks:send_greeting_card"] * 2
    assert sorted(run.args[0] for run in result.ran) == ["Ann", "Bob"]
    assert len({run.message_id for run in result.ran}) == 2
    assert (result.failed, result.dead_lettered) == ([], [])
    assert pym_tasks.drain().runs == [] and pym_tasks.pending() == {"default": 0}


def test_failures_are_retried_then_dead_lettered(pym_tasks):
    from chalicelib.flaky import always_fails

    always_fails.send(7)
    first = pym_tasks.drain()
    assert [(r.outcome, r.attempt) for r in first.runs] == [("failed", 1)]
    assert first.failed[0].error == "RuntimeError: broken 7"
    second = pym_tasks.drain()  # the failure is visible again: retried, last attempt
    assert [(r.outcome, r.attempt) for r in second.runs] == [("dead_lettered", 2)]
    assert "broken 7" in second.dead_lettered[0].error
    assert pym_tasks.drain().runs == []


def test_without_pym_tasks_the_dev_stage_runs_tasks_inline(pym_client, caplog):
    caplog.set_level("INFO", logger="chalicelib.tasks")
    pym_client.post("/v1/greetings", json={"name": "Cy"})
    assert "greeting card for Cy sent" in caplog.text
''')
    result.assert_outcomes(passed=3)


ONCE_TASK = '''
from pym_lambda import async_task

RUNS = []


@async_task(queue="default", idempotent=True)
def count_once(n: int) -> None:
    RUNS.append(n)
'''


def test_an_idempotent_task_delivered_twice_runs_once(service):
    (service.path / "svc" / "chalicelib" / "once.py").write_text(ONCE_TASK)
    result = run(service, '''
def test_the_duplicate_is_skipped(pym_tasks, pym_aws):
    from chalicelib.once import RUNS, count_once

    count_once.send(5)
    sqs = pym_aws.client("sqs")
    [url] = [u for u in sqs.list_queues()["QueueUrls"] if u.endswith("-default")]
    [message] = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"]
    sqs.send_message(QueueUrl=url, MessageBody=message["Body"])  # SQS delivers it twice
    result = pym_tasks.drain()
    assert [r.outcome for r in result.runs] == ["succeeded", "succeeded"]
    assert RUNS == [5]
''')
    result.assert_outcomes(passed=1)


def test_aws_and_event_builders(service):
    result = run(service, '''
import json
import os

os.environ["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"  # as under `pym-lambda local`


def test_aws_is_moto_in_process(pym_aws):
    assert "AWS_ENDPOINT_URL" not in os.environ
    assert os.environ["AWS_DEFAULT_REGION"] == "us-east-1"
    s3 = pym_aws.client("s3")
    s3.create_bucket(Bucket="pym-test-bucket")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["pym-test-bucket"]


def test_the_environment_is_restored_after():
    assert os.environ["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9"


def test_events_reach_the_real_handlers(pym_app, pym_app_module, pym_events):
    from chalicelib.tasks import send_greeting_card

    event = pym_events.sqs("a", {"b": 1}, "c")
    assert len({r["messageId"] for r in event["Records"]}) == 3
    assert event["Records"][1]["body"] == '{"b": 1}'
    assert event["Records"][0]["eventSourceARN"].endswith(":svc-dev-default")
    task_event = pym_events.task(send_greeting_card, "Bo")
    assert pym_app_module.pym_task_worker_default(task_event, pym_events.context()) == {
        "batchItemFailures": []}
    request = pym_events.api_gateway("POST", "/v1/greetings", json={"name": "Al"})
    assert request["resource"] == "/v1/greetings"
    response = pym_app(request, pym_events.context())
    assert response["statusCode"] == 201
    assert json.loads(response["body"])["message"] == "Hello, Al!"
    ping = pym_app(pym_events.api_gateway("GET", "/ping"), pym_events.context())
    assert (ping["statusCode"], json.loads(ping["body"])) == (200, {})
''')
    result.assert_outcomes(passed=3)


class _Echo(BaseHTTPRequestHandler):
    """Answers every request with what it received, as JSON."""

    seen: List[Dict[str, Any]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        received = {"method": self.command, "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": self.rfile.read(length).decode() if length else None}
        _Echo.seen.append(received)
        status = 200 if self.path.split("?")[0] in ("/ping", "/echo") else 404
        payload = json.dumps({} if self.path == "/ping" else received).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def echo_url() -> Iterator[str]:
    _Echo.seen.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def given_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYM_TEST_TOKEN", "given-token")


def test_pym_url_sends_pym_client_over_http_and_skips_in_process_fixtures(service, echo_url,
                                                                          given_token):
    result = run(service, '''
from pym_lambda.testing import assert_json


def test_over_http(pym_client):
    assert pym_client.is_remote
    assert assert_json(pym_client.get("/ping")) == {}


def test_tasks_need_the_app_in_process(pym_tasks):
    raise AssertionError("not run against a URL")


def test_pym_token_without_user_is_the_token_given(pym_token):
    assert pym_token() == "given-token"
''', "--pym-url", echo_url, "-rs")
    result.assert_outcomes(passed=2, skipped=1)
    result.stdout.fnmatch_lines([f"*pym-lambda: *against {echo_url}*",
                                 "*pym_app needs the app in-process*"])
    assert [r["path"] for r in _Echo.seen] == ["/ping"]


def test_project_option_marker_and_missing_project(service):
    (service.path / "other").mkdir()
    result = run(service, '''
import pytest

pytestmark = pytest.mark.acceptance


def test_ping(pym_client):
    assert pym_client.get("/ping").json == {}
''', "--pym-project", "svc", "-m", "acceptance")
    result.assert_outcomes(passed=1)
    missing = run(service, '''
def test_needs_the_app(pym_client):
    pass
''', "--pym-project", "other")
    assert missing.ret != 0
    missing.stdout.fnmatch_lines(["*no app.py in*other*--pym-project*"])


# --- the clients and assertions, without pytester ---------------------------------------------

def test_http_client_sends_json_params_headers_and_token(echo_url):
    client = PymHttpClient(echo_url + "/", headers={"X-Default": "d"})
    reply = client.post("echo", json={"a": [1, 2]}, params={"tag": ["x", "y"], "n": 1},
                        headers={"X-Extra": "e"}, token="t0k")
    seen = assert_json(reply)
    assert seen["method"] == "POST" and seen["path"] == "/echo?tag=x&tag=y&n=1"
    assert json.loads(seen["body"]) == {"a": [1, 2]}
    headers = seen["headers"]
    assert headers["content-type"] == "application/json" and headers["x-extra"] == "e"
    assert headers["authorization"] == "Bearer t0k" and headers["x-default"] == "d"
    assert reply.headers["content-type"] == "application/json"  # any case
    assert assert_json(client.request("DELETE", "/echo", json=None))["body"] == "null"
    assert client.get("/nothing").status == 404
    with pytest.raises(ValueError, match="not an http"):
        PymHttpClient("localhost:8000")


def _reply(status: int, body: Any, content_type: str = "application/json") -> Reply:
    text = body if isinstance(body, str) else json.dumps(body)
    return Reply(status, CaseInsensitiveDict({"Content-Type": content_type}), text, "GET", "/x")


def test_assertions_name_what_was_expected_and_show_the_body():
    error = {"status": 404, "error": "NOT_FOUND", "error_description": "no x", "error_id": "e1"}
    assert assert_error(_reply(404, error), 404, "NOT_FOUND") == error
    assert assert_json(_reply(200, [1])) == [1]
    assert assert_status(_reply(204, ""), 204).status == 204
    with pytest.raises(AssertionError, match=r"expected status 200; GET /x answered 404 .*no x"):
        assert_json(_reply(404, error))
    with pytest.raises(AssertionError, match="expected error GONE, got NOT_FOUND"):
        assert_error(_reply(404, error), 404, "GONE")
    with pytest.raises(AssertionError, match="not pym-lambda's error shape"):
        assert_error(_reply(403, {"message": "Missing Authentication Token"}), 403)
    with pytest.raises(AssertionError, match="expected a JSON content type"):
        assert_json(_reply(200, "<html>", "text/html"))
    with pytest.raises(AssertionError, match="the body is not JSON"):
        assert_json(_reply(200, "{oops"))


def test_event_builders_never_repeat_an_id():
    records = sqs_event(*["x"] * 20, receive_count=3)["Records"]
    assert len({r["messageId"] for r in records}) == 20
    assert len({r["receiptHandle"] for r in records}) == 20
    assert records[0]["attributes"]["ApproximateReceiveCount"] == "3"
    first = api_gateway_event("GET", "/v1/books/7?tags=a&tags=b", resource="/v1/books/{id}",
                              path_parameters={"id": "7"}, query={"limit": "5"})
    second = api_gateway_event("GET", "/v1/books/7", resource="/v1/books/{id}")
    assert first["requestContext"]["requestId"] != second["requestContext"]["requestId"]
    assert first["multiValueQueryStringParameters"] == {"tags": ["a", "b"], "limit": ["5"]}
    assert first["queryStringParameters"] == {"tags": "b", "limit": "5"}
    assert first["pathParameters"] == {"id": "7"} and first["path"] == "/v1/books/7"


def test_the_plugin_module_imports_nothing_heavy():
    import subprocess
    import sys

    code = ("import sys, pym_lambda.testing.plugin; "
            "print(sorted(m for m in ('chalice', 'boto3', 'moto', 'requests') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60, cwd=Path(__file__).parent)
    assert out.stdout.strip() == "[]"
