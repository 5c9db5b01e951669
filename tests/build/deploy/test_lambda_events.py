"""The artifact check's events and template reading: REST proxy events from the real sample,
API Gateway's resource matching on a SAM template's REST API, SQS records, the functions of
sam.json, and a zip that would unpack outside its task root."""
from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any, Dict

import pytest

from pym_lambda.build.deploy.artifact import ArtifactError, function_specs, queue_urls, unpack
from pym_lambda.build.deploy.lambda_events import (
    API_GATEWAY_SAMPLE,
    GatewayMiss,
    RestApi,
    api_gateway_event,
    sample_event,
    sqs_event,
    sqs_record,
)

INTEGRATION = {"x-amazon-apigateway-integration": {"type": "aws_proxy", "uri": {
    "Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/"
               "functions/${APIHandler.Arn}/invocations"}}}


def template(paths: Dict[str, Any], **api_props: Any) -> Dict[str, Any]:
    body = {"swagger": "2.0", "paths": paths,
            "x-amazon-apigateway-binary-media-types": ["application/octet-stream", "image/*"]}
    return {"Resources": {
        "RestAPI": {"Type": "AWS::Serverless::Api",
                    "Properties": {"StageName": "api", "DefinitionBody": body, **api_props}},
        "APIHandler": {"Type": "AWS::Serverless::Function",
                       "Properties": {"Handler": "app.app", "Runtime": "python3.11"}}}}


def methods(*names: str) -> Dict[str, Any]:
    return {name: INTEGRATION for name in names}


ROUTES = {
    "/": methods("get"),
    "/ping": methods("get"),
    "/v1/books": methods("get", "post"),
    "/v1/books/{book_id}": methods("get", "delete"),
    "/v1/books/latest": methods("get"),
    "/v1/books/{book_id}/loans": methods("post"),
    "/files/{path+}": methods("get"),
    "/{proxy+}": methods("get", "post", "put", "patch", "delete", "head", "options"),
}


@pytest.fixture(scope="module")
def api() -> RestApi:
    return RestApi.from_template(template(ROUTES))


# --- the REST API of the template ------------------------------------------------------------

def test_the_rest_api_is_read_from_the_template(api: RestApi) -> None:
    assert api.logical_id == "RestAPI" and api.stage == "api"
    assert api.function_ids == ("APIHandler",)
    assert api.routes["/v1/books"] == {"GET", "POST"}
    assert "image/*" in api.binary_media_types


@pytest.mark.parametrize(("method", "path", "resource", "params"), [
    ("GET", "/", "/", {}),
    ("GET", "/ping", "/ping", {}),
    ("GET", "/v1/books/", "/v1/books", {}),  # one trailing slash is dropped
    ("GET", "/v1/books/latest", "/v1/books/latest", {}),  # a literal beats {book_id}
    ("GET", "/v1/books/7", "/v1/books/{book_id}", {"book_id": "7"}),
    ("POST", "/v1/books/7/loans", "/v1/books/{book_id}/loans", {"book_id": "7"}),
    ("GET", "/files/a/b/c.txt", "/files/{path+}", {"path": "a/b/c.txt"}),  # greedy
    ("GET", "/v1/nope", "/{proxy+}", {"proxy": "v1/nope"}),  # falls back to the root proxy
    ("GET", "/v1/books/7/reviews", "/{proxy+}", {"proxy": "v1/books/7/reviews"}),
    ("GET", "/v1/books/a%20b", "/v1/books/{book_id}", {"book_id": "a b"}),
])
def test_a_path_reaches_the_resource_api_gateway_would_pick(
        api: RestApi, method: str, path: str, resource: str, params: Dict[str, str]) -> None:
    match = api.match(method, path)
    assert (match.resource, dict(match.path_parameters)) == (resource, params)


def test_a_method_the_resource_lacks_never_reaches_the_function(api: RestApi) -> None:
    with pytest.raises(GatewayMiss, match="no PUT method"):
        api.match("PUT", "/v1/books")
    assert GatewayMiss.status == 403
    assert GatewayMiss.body == {"message": "Missing Authentication Token"}


def test_a_path_no_resource_matches_never_reaches_the_function() -> None:
    narrow = RestApi.from_template(template({"/ping": methods("get")}))
    with pytest.raises(GatewayMiss, match="no resource"):
        narrow.match("GET", "/pong")


def test_any_method_covers_every_method() -> None:
    anything = RestApi.from_template(template({"/x": {"x-amazon-apigateway-any-method": {}}}))
    assert anything.match("DELETE", "/x").resource == "/x"


def test_a_template_without_a_rest_api_is_refused() -> None:
    with pytest.raises(ValueError, match="no AWS::Serverless::Api"):
        RestApi.from_template({"Resources": {}})


# --- REST proxy events ----------------------------------------------------------------------

def test_the_event_is_the_real_sample_filled_for_the_request(api: RestApi) -> None:
    sample = sample_event(API_GATEWAY_SAMPLE)
    event = api_gateway_event(api, "get", "/v1/books/7", headers={"Accept": "application/json"})
    assert set(event) == set(sample)  # no key the sample lacks, none left out
    assert set(event["requestContext"]) == set(sample["requestContext"])
    assert (event["httpMethod"], event["path"], event["resource"]) == (
        "GET", "/v1/books/7", "/v1/books/{book_id}")
    assert event["pathParameters"] == {"book_id": "7"}
    context = event["requestContext"]
    assert context["resourcePath"] == "/v1/books/{book_id}" and context["httpMethod"] == "GET"
    assert context["path"] == "/api/v1/books/7" and context["stage"] == "api"
    assert event["body"] is None and event["isBase64Encoded"] is False
    assert event["stageVariables"] is None  # the sample's {"baz": "qux"} is not this API's


def test_no_query_string_gives_null_parameters_as_api_gateway_sends(api: RestApi) -> None:
    event = api_gateway_event(api, "GET", "/v1/books")
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None


def test_repeated_query_parameters_keep_every_value_and_the_last_one(api: RestApi) -> None:
    event = api_gateway_event(api, "GET", "/v1/books?tag=a&limit=2&tag=b%20c&empty=")
    assert event["path"] == "/v1/books"
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b c"], "limit": ["2"],
                                                        "empty": [""]}
    assert event["queryStringParameters"] == {"tag": "b c", "limit": "2", "empty": ""}


def test_headers_hold_the_last_value_multi_value_headers_all_of_them(api: RestApi) -> None:
    event = api_gateway_event(api, "GET", "/ping", headers=[
        ("X-Branch", "north"), ("x-branch", "south"), ("User-Agent", "tester/1")])
    assert event["multiValueHeaders"]["X-Branch"] == ["north", "south"]
    assert event["headers"]["X-Branch"] == "south"
    assert event["requestContext"]["identity"]["userAgent"] == "tester/1"
    # the edge's own headers come from the sample; the sample's browser headers do not
    assert event["headers"]["Host"].endswith(".execute-api.us-east-1.amazonaws.com")
    assert "X-Amz-Cf-Id" in event["headers"] and "Accept-Language" not in event["headers"]
    assert set(event["headers"]) == set(event["multiValueHeaders"])


def test_a_client_cannot_set_the_gateway_headers_but_extends_forwarded_for(
        api: RestApi) -> None:
    sample = sample_event(API_GATEWAY_SAMPLE)["headers"]
    event = api_gateway_event(api, "GET", "/ping", headers={
        "Host": "evil.example", "X-Forwarded-For": "10.0.0.1"})
    assert event["headers"]["Host"] == sample["Host"]
    assert event["headers"]["X-Forwarded-For"] == f"10.0.0.1, {sample['X-Forwarded-For']}"


def test_a_json_body_is_text_with_its_content_type(api: RestApi) -> None:
    event = api_gateway_event(api, "POST", "/v1/books", json_body={"title": "Dune"})
    assert json.loads(event["body"]) == {"title": "Dune"} and not event["isBase64Encoded"]
    assert event["headers"]["Content-Type"] == "application/json"


@pytest.mark.parametrize(("content_type", "body", "encoded"), [
    ("image/png", b"\x89PNG\r\n", True),  # a binary media type of the API (image/*)
    ("application/octet-stream", b"abc", True),
    ("text/plain", b"\xff\xfe not utf-8", True),  # kept intact, as base64
    ("text/plain", "déjà vu".encode(), False),
])
def test_a_body_is_base64_encoded_as_api_gateway_decides(
        api: RestApi, content_type: str, body: bytes, encoded: bool) -> None:
    event = api_gateway_event(api, "POST", "/v1/books", body=body,
                              headers={"Content-Type": content_type})
    assert event["isBase64Encoded"] is encoded
    sent = base64.b64decode(event["body"]) if encoded else event["body"].encode()
    assert sent == body


def test_base64_can_be_forced_as_an_api_with_broader_binary_types_would(api: RestApi) -> None:
    event = api_gateway_event(api, "POST", "/v1/books", json_body={"a": 1}, base64_body=True)
    assert event["isBase64Encoded"] is True
    assert json.loads(base64.b64decode(event["body"])) == {"a": 1}


def test_every_request_gets_its_own_request_id(api: RestApi) -> None:
    ids = {api_gateway_event(api, "GET", "/ping")["requestContext"]["requestId"]
           for _ in range(5)}
    assert len(ids) == 5


# --- SQS ----------------------------------------------------------------------------------

ARN = "arn:aws:sqs:eu-west-1:123456789012:jobs"


def test_an_sqs_record_is_the_sample_record_filled() -> None:
    record = sqs_record("hello", queue_arn=ARN)
    assert set(record) == set(sample_event("sqs-receive-message.json")["Records"][0])
    assert record["body"] == "hello" and record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == ARN and record["awsRegion"] == "eu-west-1"
    assert record["md5OfBody"] == hashlib.md5(b"hello", usedforsecurity=False).hexdigest()
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert sqs_record("x", queue_arn=ARN)["messageId"] != record["messageId"]


def test_messages_taken_from_a_queue_become_the_records_lambda_delivers() -> None:
    messages = [{
        "MessageId": "m-1", "ReceiptHandle": "r-1", "Body": '{"n": 1}', "MD5OfBody": "x",
        "Attributes": {"ApproximateReceiveCount": "3", "SentTimestamp": "1700000000000",
                       "SenderId": "AIDA", "ApproximateFirstReceiveTimestamp": "1700000000001"},
        "MessageAttributes": {"kind": {"StringValue": "loan", "DataType": "String"},
                              "raw": {"BinaryValue": b"\x00\x01", "DataType": "Binary"}}},
        {"MessageId": "m-2", "ReceiptHandle": "r-2", "Body": "two"}]
    event = sqs_event(messages, ARN)
    first, second = event["Records"]
    assert (first["messageId"], first["receiptHandle"], first["body"]) == ("m-1", "r-1",
                                                                          '{"n": 1}')
    assert first["attributes"]["ApproximateReceiveCount"] == "3"
    assert first["attributes"]["SenderId"] == "AIDA"
    assert first["messageAttributes"]["kind"] == {
        "stringValue": "loan", "stringListValues": [], "binaryListValues": [],
        "dataType": "String"}
    assert first["messageAttributes"]["raw"]["binaryValue"] == "AAE="
    assert second["messageId"] == "m-2" and second["messageAttributes"] == {}


# --- the functions of sam.json ------------------------------------------------------------

def test_function_specs_resolve_parameters_and_leave_other_intrinsics_to_the_caller() -> None:
    sam = {
        "Parameters": {"JwtSecret": {"Type": "String", "NoEcho": True},
                       "Level": {"Type": "String", "Default": "INFO"}},
        "Globals": {"Function": {"Runtime": "python3.12",
                                 "Environment": {"Variables": {"SHARED": "yes"}}}},
        "Resources": {
            "Api": {"Type": "AWS::Serverless::Function", "Properties": {
                "Handler": "app.app", "Timeout": 30, "MemorySize": 512,
                "Environment": {"Variables": {
                    "PYM_STAGE": "prod", "JWT_SECRET": {"Ref": "JwtSecret"},
                    "LOG": {"Ref": "Level"}, "REGION": {"Ref": "AWS::Region"},
                    "QUEUE_URL": {"Ref": "TaskQueue"}, "DEBUG": False, "WORKERS": 2,
                    "DLQ_ARN": {"Fn::GetAtt": ["Dlq", "Arn"]}}}}},
            "Worker": {"Type": "AWS::Serverless::Function", "Properties": {
                "Handler": "app.worker", "Runtime": "python3.11", "FunctionName": "w",
                "Events": {"Q": {"Type": "SQS", "Properties": {}}}}},
            "TaskQueue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "jobs"}}}}
    api, worker = function_specs(sam, {"JwtSecret": "s3cret"}, region="eu-west-1",
                                 stack_name="st")
    assert (api.logical_id, api.handler, api.runtime, api.timeout, api.memory) == (
        "Api", "app.app", "python3.12", 30, 512)
    assert dict(api.environment) == {"SHARED": "yes", "PYM_STAGE": "prod",
                                     "JWT_SECRET": "s3cret", "LOG": "INFO",
                                     "REGION": "eu-west-1", "DEBUG": "false", "WORKERS": "2"}
    assert dict(api.unresolved) == {"QUEUE_URL": {"Ref": "TaskQueue"},
                                    "DLQ_ARN": {"Fn::GetAtt": ["Dlq", "Arn"]}}
    assert api.function_name == "st-Api" and not api.is_sqs_worker
    assert (worker.runtime, worker.timeout, worker.memory) == ("python3.11", 3, 128)
    assert worker.function_name == "w" and worker.is_sqs_worker
    missing_secret = function_specs(sam)[0]
    assert missing_secret.unresolved["JWT_SECRET"] == {"Ref": "JwtSecret"}
    with_queue = function_specs(sam, {"JwtSecret": "s", **queue_urls(sam, "http://127.0.0.1:5")})
    assert with_queue[0].environment["QUEUE_URL"] == "http://127.0.0.1:5/123456789012/jobs"
    assert dict(with_queue[0].unresolved) == {"DLQ_ARN": {"Fn::GetAtt": ["Dlq", "Arn"]}}


def test_a_queues_ref_is_its_url_at_the_endpoint_or_at_sqs() -> None:
    sam = {"Resources": {
        "TaskQueue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "app-prod-q"}},
        "Unnamed": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "Other": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "b"}}}}
    assert queue_urls(sam, "http://127.0.0.1:5000/") == {
        "TaskQueue": "http://127.0.0.1:5000/123456789012/app-prod-q"}
    assert queue_urls(sam, region="eu-west-1") == {
        "TaskQueue": "https://sqs.eu-west-1.amazonaws.com/123456789012/app-prod-q"}


# --- unpacking -----------------------------------------------------------------------------

def make_zip(path: Path, members: Dict[str, bytes]) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    path.write_bytes(buffer.getvalue())
    return path


def test_unpack_extracts_into_var_task(tmp_path: Path) -> None:
    package = make_zip(tmp_path / "p.zip", {"app.py": b"x = 1\n", "lib/mod.py": b""})
    root = unpack(package, tmp_path / "sandbox")
    assert root == (tmp_path / "sandbox" / "var" / "task").resolve()
    assert (root / "app.py").read_text() == "x = 1\n" and (root / "lib" / "mod.py").is_file()


@pytest.mark.parametrize("name", ["../evil.py", "lib/../../evil.py", "/etc/evil.py"])
def test_unpack_refuses_a_member_outside_the_task_root(tmp_path: Path, name: str) -> None:
    package = make_zip(tmp_path / "p.zip", {"app.py": b"", name: b"boom"})
    with pytest.raises(ArtifactError, match="unsafe member"):
        unpack(package, tmp_path / "sandbox")
    assert not (tmp_path / "evil.py").exists() and not (tmp_path / "sandbox" / "evil.py").exists()


def test_unpack_refuses_a_symbolic_link(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        link = zipfile.ZipInfo("lib")
        link.external_attr = (0o120777 << 16)
        archive.writestr(link, "/etc")
    (tmp_path / "p.zip").write_bytes(buffer.getvalue())
    with pytest.raises(ArtifactError, match="unsafe member 'lib'"):
        unpack(tmp_path / "p.zip", tmp_path / "sandbox")
