"""The shapes AWS hands a Lambda function: the REST proxy event, the SQS event, the context.

One home for them: the WSGI adapter and the local task poller build them at run time; the
test helpers (pym_lambda.testing), the artifact check and the benchmarks build theirs here too.
The reference shapes are the SAM samples in pym_lambda/build/deploy/events/ (a test checks
that these builders give the same keys).
"""
from __future__ import annotations

import base64
import hashlib
import time
import uuid
from typing import Any, Dict, List, Mapping, Optional, Sequence

ACCOUNT = "123456789012"  # the fake account of SAM's samples and moto
REGION = "us-east-1"

MultiValues = Mapping[str, Sequence[str]]


class LambdaContext:
    """The parts of Lambda's context object that handlers read, with a real deadline."""

    def __init__(self, function_name: str = "pym", *, request_id: Optional[str] = None,
                 timeout_ms: int = 60_000, memory_limit_in_mb: int = 128,
                 invoked_function_arn: Optional[str] = None) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = invoked_function_arn or (
            f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name}")
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = request_id or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def rest_proxy_event(method: str, path: str, *, resource: Optional[str] = None,
                     headers: Optional[MultiValues] = None, query: Optional[MultiValues] = None,
                     path_parameters: Optional[Mapping[str, str]] = None,
                     body: Optional[str] = None, is_base64: bool = False, stage: str = "api",
                     request_id: Optional[str] = None, source_ip: str = "127.0.0.1",
                     protocol: str = "HTTP/1.1", context_path: Optional[str] = None,
                     stage_variables: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    """The API Gateway REST proxy event (payload format 1.0) of one request.

    `headers` and `query` map a name to its values, in order (the last one is the single
    value). API Gateway sends null, not {}, for what a request does not have.
    """
    method = method.upper()
    resource = resource or path
    multi_headers = {name: list(values) for name, values in (headers or {}).items()}
    multi_query = {name: list(values) for name, values in (query or {}).items()}
    now = time.time()

    def last(name: str) -> Optional[str]:
        found = [v[-1] for n, v in multi_headers.items() if n.lower() == name and v]
        return found[-1] if found else None

    context: Dict[str, Any] = {
        "resourcePath": resource, "httpMethod": method, "stage": stage,
        "path": context_path if context_path is not None else f"/{stage}{path}",
        "requestId": request_id or str(uuid.uuid4()),
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "requestTimeEpoch": int(now * 1000), "accountId": ACCOUNT, "apiId": "pymlocal",
        "resourceId": "pymlocal", "protocol": protocol,
        "identity": {"sourceIp": source_ip, "userAgent": last("user-agent")},
    }
    host = last("host")
    if host:
        context["domainName"] = host
    return {
        "resource": resource, "path": path, "httpMethod": method,
        "headers": {name: values[-1] for name, values in multi_headers.items() if values}
        or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items() if v} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": dict(stage_variables) if stage_variables else None,
        "requestContext": context,
        "body": body, "isBase64Encoded": is_base64,
    }


def queue_arn(queue_name: str, region: str = REGION) -> str:
    """The ARN of a physical SQS queue name, in the fake account."""
    return f"arn:aws:sqs:{region}:{ACCOUNT}:{queue_name}"


def sqs_record(body: str, *, queue_arn: str, message_id: Optional[str] = None,
               receipt_handle: Optional[str] = None,
               attributes: Optional[Mapping[str, str]] = None,
               message_attributes: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    """One record as Lambda's SQS poller delivers it, each with its own message id."""
    now = str(int(time.time() * 1000))
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": receipt_handle or f"pym-receipt-{uuid.uuid4().hex}",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": now,
                       "SenderId": ACCOUNT, "ApproximateFirstReceiveTimestamp": now,
                       **(attributes or {})},
        "messageAttributes": dict(message_attributes or {}),
        "md5OfBody": hashlib.md5(body.encode("utf-8"), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": _arn_region(queue_arn),
    }


def _arn_region(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 and parts[3] else REGION


def string_attributes(values: Mapping[str, str]) -> Dict[str, Any]:
    """String message attributes as the event carries them."""
    return {name: {"dataType": "String", "stringValue": value,
                   "stringListValues": [], "binaryListValues": []}
            for name, value in values.items()}


def sqs_record_from_message(message: Mapping[str, Any], queue_arn: str) -> Dict[str, Any]:
    """The record Lambda's poller builds from one message of boto3's receive_message (asked
    with MessageSystemAttributeNames=["All"] and MessageAttributeNames=["All"])."""
    record = sqs_record(message["Body"], queue_arn=queue_arn, message_id=message["MessageId"],
                        receipt_handle=message["ReceiptHandle"],
                        attributes=message.get("Attributes"),
                        message_attributes=_event_attributes(message.get("MessageAttributes")
                                                             or {}))
    if "MD5OfBody" in message:
        record["md5OfBody"] = message["MD5OfBody"]
    return record


def _event_attributes(attributes: Mapping[str, Any]) -> Dict[str, Any]:
    """SQS API attribute shape (StringValue, DataType) -> the event's (stringValue, dataType)."""
    converted: Dict[str, Any] = {}
    for name, value in attributes.items():
        item: Dict[str, Any] = {"dataType": value.get("DataType", "String"),
                                "stringListValues": [], "binaryListValues": []}
        if "StringValue" in value:
            item["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            item["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode("ascii")
        converted[name] = item
    return converted


def sqs_event(records: Sequence[Dict[str, Any]]) -> Dict[str, List[Dict[str, Any]]]:
    return {"Records": list(records)}

