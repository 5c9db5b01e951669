"""The dev stage's inline tasks, as the endpoint sees them: a failing task does not change its
answer (through SQS it would not either); the log says what SQS would do."""
from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from pym_lambda import async_task
from pym_lambda.context import CallContext, enter_context, exit_context
from pym_lambda.runtime.service import current_service
from pym_lambda.tasks import PermanentFailure, RetryLater
from pym_lambda.tasks.task_settings import TaskSettings
from tests.build.test_chalice_reload import chalice_local, new_service, status_and_body
from tests.build.test_cli import free_port, http, kill_groups, wait_for


@async_task(max_attempts=3)
def flaky(kind: str) -> str:
    if kind == "permanent":
        raise PermanentFailure("no such reader")
    if kind == "later":
        raise RetryLater(30)
    if kind == "crash":
        raise ZeroDivisionError("division by zero")
    return "ok"


@pytest.fixture
def inline_tasks():
    with current_service().use() as service:
        service.configure_tasks(TaskSettings(inline=True, backoff_base_seconds=10))
        yield


def in_a_request(kind: str):
    token = enter_context(CallContext("call-1", "op"))
    try:
        return flaky.delay(kind)
    finally:
        exit_context(token)


@pytest.mark.parametrize("kind, told", [
    ("crash", "on SQS it would be retried in 10 s (attempt 2 of 3), dead-lettered after "
              "attempt 3"),
    ("later", "on SQS it would be retried in 30 s (attempt 2 of 3)"),
    ("permanent", "on SQS it would be dead-lettered now"),
])
def test_in_a_request_a_failure_is_logged_with_what_sqs_would_do(inline_tasks, caplog, kind,
                                                                   told):
    with caplog.at_level(logging.ERROR, "pym_lambda.tasks"):
        handle = in_a_request(kind)
    assert handle.inline and handle.result is None and handle.error
    [line] = [r.getMessage() for r in caplog.records]
    assert f"task {flaky.name} {handle.task_id} failed, run inline (attempt 1 of 3)" in line
    assert told in line
    assert in_a_request("fine").result == "ok" and in_a_request("fine").error is None


def test_outside_a_request_the_exception_reaches_the_caller(inline_tasks):
    with pytest.raises(ZeroDivisionError):
        flaky.delay("crash")


def test_a_new_services_endpoint_answers_201_when_its_inline_task_fails(tmp_path: Path) -> None:
    service = new_service(tmp_path)
    tasks = service / "chalicelib" / "tasks.py"
    tasks.write_text(tasks.read_text().replace(
        '    log.info("greeting card for', '    raise ConnectionError("the card printer is off")'
        '\n    log.info("greeting card for'))
    port, lines = free_port(), []  # type: ignore[var-annotated]
    process = chalice_local(service, port, lines)
    url = f"http://127.0.0.1:{port}/v1/greetings"
    try:
        wait_for("chalice local", lambda: status_and_body("GET", url) is not None, 90)
        status, greeting = http("POST", url, {"name": "Ann"})
        assert status == 201 and greeting["message"] == "Hello, Ann!", greeting
        wait_for("the log line", lambda: any("run inline" in line for line in lines), 10)
        output = "".join(lines)
        assert "chalicelib.tasks:send_greeting_card" in output
        assert ("failed, run inline (attempt 1 of 3): ConnectionError: the card printer is off; "
                "on SQS it would be retried") in output
        assert "dead-lettered after attempt 3" in output
    finally:
        kill_groups([process.pid])
        process.wait(timeout=10)
        time.sleep(0.2)
        assert process.stdout is not None
        process.stdout.close()
