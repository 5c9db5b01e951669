"""A service made by `pym-lambda new`, packaged and run as AWS runs it: the same path a new
user takes (`new`, then `package --stage prod`), driven by real REST proxy and SQS events."""
from __future__ import annotations

import json
import subprocess
from typing import Any, Iterator, Tuple

import pytest

from pym_lambda.build.deploy.artifact_check import check_package
from pym_lambda.build.deploy.lambda_events import api_gateway_event, sqs_event
from pym_lambda.build.deploy.lambda_process import LambdaProcess

from .deploy_fixtures import REGION
from .lambda_package import (
    Built,
    Runtime,
    build,
    clean_environ,
    moto_queues,
    open_runtime,
    pym_lambda_command,
    start,
)

NAME = "tea-shop"
SECRET = "a-new-service-prod-secret-0123456789abcdef"
PARAMETERS = {"JwtSecret": SECRET}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    base = tmp_path_factory.mktemp("new-service")
    made = subprocess.run([*pym_lambda_command(), "new", NAME, "--dir", str(base)],
                          env=clean_environ(), capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stdout + made.stderr
    return build(base / NAME, base / "out", "prod", JWT_SECRET=SECRET)


@pytest.fixture(scope="module")
def runtime(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    return open_runtime(built, tmp_path_factory.mktemp("lambda"), PARAMETERS)


@pytest.fixture(scope="module")
def aws() -> Iterator[Tuple[str, Any]]:
    with moto_queues(f"{NAME}-prod-default", f"{NAME}-prod-default-dlq") as aws:
        yield aws


def answer(process: LambdaProcess, runtime: Runtime, method: str, path: str,
           **kwargs: Any) -> Tuple[int, Any, str]:
    result = process.invoke(api_gateway_event(runtime.api, method, path, **kwargs))
    kind = result["headers"].get("Content-Type", "")
    body = json.loads(result["body"]) if kind.startswith("application/json") else result["body"]
    return result["statusCode"], body, kind


def test_the_new_services_package_passes_the_check(built: Built) -> None:
    result = check_package(built.zip, built.sam, parameters=PARAMETERS)
    assert result.passed, result.problems or result.skipped
    assert set(result.checks_passed) == {"APIHandler: GET /ping -> 200",
                                         "PymTaskWorkerDefault: empty SQS batch -> no error"}


def test_a_greeting_sends_a_card_through_sqs_to_the_worker(runtime: Runtime,
                                                           aws: Tuple[str, Any]) -> None:
    url, sqs = aws
    with start(runtime, "APIHandler", url) as api:
        assert api.init_error is None, api.init_error
        status, greeting, _ = answer(api, runtime, "POST", "/v1/greetings",
                                     json_body={"name": "Ann"})
        assert status == 201 and greeting["message"] == "Hello, Ann!", greeting
        status, error, _ = answer(api, runtime, "POST", "/v1/greetings", json_body={})
        assert status == 400 and "'name'" in error["error_description"]
        # the docs page is on in this service's prod stage: its assets and the converted
        # spec (pyyaml, from requirements.txt) are in the package
        status, page, kind = answer(api, runtime, "GET", "/doc")
        assert status == 200 and kind.startswith("text/html") and "<html" in page.lower()
        status, spec, _ = answer(api, runtime, "GET", f"/doc/{NAME}.json")
        assert status == 200 and "/greetings" in spec["paths"]
    queue = sqs.get_queue_url(QueueName=f"{NAME}-prod-default")["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10,
                                   AttributeNames=["All"], WaitTimeSeconds=1)["Messages"]
    assert len(messages) == 1 and "send_greeting_card" in messages[0]["Body"]
    with start(runtime, "PymTaskWorkerDefault", url) as worker:
        assert worker.init_error is None, worker.init_error
        result = worker.invoke(sqs_event(
            messages, f"arn:aws:sqs:{REGION}:123456789012:{NAME}-prod-default"))
    assert result == {"batchItemFailures": []}, worker.logs
    assert "Traceback" not in worker.logs
