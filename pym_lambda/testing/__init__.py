"""Testing a pym-lambda service: clients, assertions, events, task draining, a pytest plugin.

    from pym_lambda.testing import assert_error, assert_json

    def test_get_book(pym_client):                 # in-process, or --pym-url / PYM_TEST_URL
        book = assert_json(pym_client.post("/v1/books", json={...}), 201)
        assert_json(pym_client.get(f"/v1/books/{book['id']}"))
        assert_error(pym_client.get("/v1/books/abc"), 400, "INVALID_PARAMETER")

The fixtures (pym_client, pym_token, pym_aws, pym_tasks, pym_events, pym_app, pym_project) come
from the plugin `pym_lambda.testing.plugin`, which pytest loads by entry point. Exports are
lazy: importing this package imports neither chalice, requests nor moto.
"""
from __future__ import annotations

from typing import Any

from ..lazy_exports import lazy_attribute

__all__ = [
    "DrainResult", "EventBuilder", "InProcessAws", "JsonClient", "PymHttpClient",
    "PymTestClient", "Reply", "ServiceProject", "TaskDrainer", "TaskRun", "api_gateway_event",
    "assert_error", "assert_json", "assert_status", "in_process_aws", "lambda_context",
    "queue_arn", "sqs_event", "sqs_record", "task_message",
]

_LAZY = {
    "JsonClient": "clients", "PymHttpClient": "clients", "PymTestClient": "clients",
    "Reply": "clients",
    "assert_error": "assertions", "assert_json": "assertions", "assert_status": "assertions",
    "EventBuilder": "events", "api_gateway_event": "events", "lambda_context": "events",
    "queue_arn": "events", "sqs_event": "events", "sqs_record": "events",
    "task_message": "events",
    "InProcessAws": "aws", "in_process_aws": "aws",
    "ServiceProject": "project",
    "DrainResult": "tasks", "TaskDrainer": "tasks", "TaskRun": "tasks",
}


def __getattr__(name: str) -> Any:
    return lazy_attribute(__name__, _LAZY, name)
