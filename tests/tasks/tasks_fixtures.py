"""Helpers of the task tests: moto SQS in process, queues, hand-built SQS events."""
from __future__ import annotations

import contextlib
import json
from typing import Any, Dict, Iterator, List, Optional

import pytest
from chalice import Chalice
from moto import mock_aws

from pym_lambda import aws_events
from pym_lambda.auth import set_settings
from pym_lambda.aws import aws_client, reset_aws_clients
from pym_lambda.build.tasks.queues import ensure_queues, queue_definitions
from pym_lambda.config import JwtSettings
from pym_lambda.runtime.service import Service
from pym_lambda.tasks import configure_tasks, register_task_handlers
from pym_lambda.tasks.envelope import set_caller_factory, set_model_resolver

from . import sample_tasks

APP_NAME = "pymtest"
STAGE = "test"
REGION = "us-east-1"
JWT_SECRET = "task-tests-secret-" + "k" * 32
QUEUE_ARN = f"arn:aws:sqs:{REGION}:123456789012:{APP_NAME}-{STAGE}-default"


@contextlib.contextmanager
def moto_sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Fake credentials, no endpoint override (mock_aws would not intercept), moto SQS."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS", "AWS_PROFILE",
                 "PYM_TASKS_INLINE", "PYM_TASKS_PARTIAL_BATCH_RESPONSES",
                 "PYM_TASK_BACKOFF_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("PYM_APP_NAME", APP_NAME)
    monkeypatch.setenv("PYM_STAGE", STAGE)
    # a bare service (no app): every imported task, whatever app another test created
    bare = Service().use()
    bare.__enter__()
    set_settings(JwtSettings(secret=JWT_SECRET))  # the key task callers are signed with
    configure_tasks(None)
    reset_aws_clients()
    set_model_resolver(sample_tasks.find_fake_model)
    sample_tasks.RUNS.clear()
    sample_tasks.FAULT_RUNS.clear()
    sample_tasks.SWITCH["broken"] = False
    try:
        with mock_aws():
            yield aws_client("sqs")
    finally:
        configure_tasks(None)
        reset_aws_clients()
        set_model_resolver(None)
        set_caller_factory(None)
        bare.__exit__(None, None, None)


def create_queues(sqs: Any, queues: List[str]) -> Dict[str, Any]:
    """The queues and DLQs, with VisibilityTimeout 0 so that failures come back at once."""
    definitions = queue_definitions(queues, visibility_timeout=0)
    ensure_queues(definitions, sqs)
    return {d.queue: d for d in definitions}


def build_app(queues: Optional[List[str]] = None) -> Any:
    """A Chalice app with the task handlers, as app.py would make it."""
    app = Chalice(app_name=APP_NAME)
    return app, register_task_handlers(app, queues=queues)


def sqs_record(body: Any, *, message_id: Optional[str] = None, receive_count: int = 1,
               queue_arn: str = QUEUE_ARN) -> Dict[str, Any]:
    """A record as Lambda delivers it, with its own message id (unlike chalice's helper)."""
    return aws_events.sqs_record(body if isinstance(body, str) else json.dumps(body),
                                 queue_arn=queue_arn, message_id=message_id,
                                 attributes={"ApproximateReceiveCount": str(receive_count)})


def FakeLambdaContext(remaining_ms: int = 60_000) -> aws_events.LambdaContext:  # noqa: N802
    return aws_events.LambdaContext("pym_task_worker_default", timeout_ms=remaining_ms)


def drain(sqs: Any, url: str) -> List[Dict[str, Any]]:
    """Every message of a queue, removed."""
    messages: List[Dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60,
                                    MessageAttributeNames=["All"],
                                    MessageSystemAttributeNames=["All"]).get("Messages", [])
        if not batch:
            return messages
        messages.extend(batch)
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])


def depth(sqs: Any, url: str) -> Dict[str, int]:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return {"visible": int(attributes["ApproximateNumberOfMessages"]),
            "in_flight": int(attributes["ApproximateNumberOfMessagesNotVisible"])}
