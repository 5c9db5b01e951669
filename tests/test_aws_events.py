"""The one home of Lambda's event shapes: its builders give the keys of SAM's samples."""
from __future__ import annotations

import time

from pym_lambda import aws_events
from pym_lambda.build.deploy.lambda_events import API_GATEWAY_SAMPLE, SQS_SAMPLE, sample_event


def test_the_rest_proxy_event_has_the_keys_of_the_sample() -> None:
    sample = sample_event(API_GATEWAY_SAMPLE)
    event = aws_events.rest_proxy_event(
        "get", "/v1/books/7", resource="/v1/books/{id}", headers={"Accept": ["a/b"]},
        query={"tag": ["x", "y"]}, path_parameters={"id": "7"})
    assert set(event) == set(sample)
    assert set(sample["requestContext"]) <= set(event["requestContext"])
    assert event["httpMethod"] == event["requestContext"]["httpMethod"] == "GET"
    assert event["queryStringParameters"] == {"tag": "y"}
    assert event["requestContext"]["path"] == "/api/v1/books/7"
    empty = aws_events.rest_proxy_event("GET", "/ping")
    assert empty["headers"] is empty["queryStringParameters"] is empty["pathParameters"] is None


def test_an_sqs_record_has_the_keys_of_the_sample() -> None:
    [sample] = sample_event(SQS_SAMPLE)["Records"][:1]
    record = aws_events.sqs_record("hi", queue_arn=aws_events.queue_arn("q", "eu-west-1"))
    assert set(record) == set(sample)
    assert set(sample["attributes"]) <= set(record["attributes"])
    assert record["awsRegion"] == "eu-west-1"
    from_message = aws_events.sqs_record_from_message(
        {"MessageId": "m", "ReceiptHandle": "r", "Body": "b"}, "not-an-arn")
    assert set(from_message) == set(sample) and from_message["awsRegion"] == "us-east-1"


def test_the_context_counts_down_from_its_timeout() -> None:
    context = aws_events.LambdaContext("f", timeout_ms=200)
    assert 150 < context.get_remaining_time_in_millis() <= 200
    time.sleep(0.05)
    assert context.get_remaining_time_in_millis() <= 160
    assert context.aws_request_id != aws_events.LambdaContext("f").aws_request_id
    assert context.invoked_function_arn.endswith(":function:f")


def test_the_old_wsgi_context_name_still_builds_one() -> None:
    from pym_lambda.aws_events import LambdaContext
    from pym_lambda.wsgi import WsgiLambdaContext

    context = WsgiLambdaContext("books", "req-1", 2_000)
    assert isinstance(context, LambdaContext) and context.aws_request_id == "req-1"
    assert 0 < context.get_remaining_time_in_millis() <= 2_000
