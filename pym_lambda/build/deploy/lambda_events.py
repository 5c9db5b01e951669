"""API Gateway REST proxy and SQS events for the artifact check, as AWS sends them.

Each event starts from a real sample (`events/`, printed by `sam local generate-event`) and is
filled as API Gateway or Lambda's SQS poller would fill it for one request or message. The
route a path reaches comes from the REST API definition in sam.json, matched as API Gateway
matches resources (a literal segment beats `{param}`, which beats a greedy `{proxy+}`); a path
or method the API does not define never reaches the function: GatewayMiss, API Gateway's 403.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Sequence, Tuple, Union
from urllib.parse import parse_qsl, unquote

from ...wsgi.events import is_binary_type
from ...wsgi.routes import RouteMatcher, path_segments

SAMPLES = Path(__file__).with_name("events")
API_GATEWAY_SAMPLE = "apigateway-aws-proxy.json"
SQS_SAMPLE = "sqs-receive-message.json"
_ANY = "ANY"  # x-amazon-apigateway-any-method
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
# Headers API Gateway and its CloudFront edge set themselves: the sample's values are kept, a
# client's are not (X-Forwarded-For is the exception: the client's list is extended).
_EDGE_HEADERS = re.compile(r"^(host|via|x-amz-cf-id|x-forwarded-(for|port|proto)|cloudfront-.*)$",
                           re.IGNORECASE)
_NO_BODY: Any = object()

Headers = Union[Mapping[str, str], Sequence[Tuple[str, str]]]


def sample_event(name: str) -> Dict[str, Any]:
    """A fresh copy of a stored sample (`events/<name>`)."""
    return dict(json.loads((SAMPLES / name).read_text(encoding="utf-8")))


class GatewayMiss(Exception):
    """API Gateway answers by itself: the function is not invoked."""
    status = 403
    body = {"message": "Missing Authentication Token"}


@dataclass(frozen=True)
class RouteMatch:
    resource: str
    path_parameters: Mapping[str, str]


@dataclass(frozen=True)
class RestApi:
    """The REST API of a SAM template: its stage, routes and binary media types."""
    logical_id: str
    stage: str
    routes: Mapping[str, FrozenSet[str]]  # resource template -> methods (upper case, or ANY)
    binary_media_types: Tuple[str, ...] = ()
    function_ids: Tuple[str, ...] = ()  # the functions its integrations invoke
    stage_variables: Optional[Mapping[str, str]] = None

    @classmethod
    def from_template(cls, template: Mapping[str, Any]) -> RestApi:
        """The template's AWS::Serverless::Api with an inline DefinitionBody (Chalice's)."""
        found = [(name, resource.get("Properties") or {})
                 for name, resource in (template.get("Resources") or {}).items()
                 if resource.get("Type") == "AWS::Serverless::Api"
                 and "DefinitionBody" in (resource.get("Properties") or {})]
        if not found:
            raise ValueError("the template has no AWS::Serverless::Api with a DefinitionBody")
        logical_id, props = found[0]
        body = props["DefinitionBody"]
        routes = {path: frozenset(_ANY if m == "x-amazon-apigateway-any-method" else m.upper()
                                  for m in ops if m in _METHODS
                                  or m == "x-amazon-apigateway-any-method")
                  for path, ops in (body.get("paths") or {}).items()}
        functions = sorted(set(re.findall(r"\$\{([A-Za-z0-9]+)\.Arn\}",
                                          json.dumps(body.get("paths") or {}))))
        variables = props.get("Variables")
        return cls(logical_id=logical_id, stage=str(props.get("StageName") or "api"),
                   routes=routes,
                   binary_media_types=tuple(body.get("x-amazon-apigateway-binary-media-types")
                                            or props.get("BinaryMediaTypes") or ()),
                   function_ids=tuple(functions),
                   stage_variables=dict(variables) if isinstance(variables, Mapping) else None)

    def match(self, method: str, path: str) -> RouteMatch:
        """The resource (route template) `method path` reaches, or GatewayMiss."""
        found = RouteMatcher(self.routes).match(
            [unquote(s) for s in path_segments(path.split("?", 1)[0])])
        if found is None:
            raise GatewayMiss(f"no resource of {self.logical_id} matches {path}")
        methods = self.routes[found.template]
        if method.upper() not in methods and _ANY not in methods:
            raise GatewayMiss(f"{found.template} has no {method.upper()} method")
        return RouteMatch(found.template, found.path_params)


def _header_lists(pairs: List[Tuple[str, str]]) -> Dict[str, List[str]]:
    """Values by name, a name spelled as first seen, repeated headers in order."""
    spelled: Dict[str, str] = {}
    lists: Dict[str, List[str]] = {}
    for name, value in pairs:
        key = spelled.setdefault(name.lower(), name)
        lists.setdefault(key, []).append(value)
    return lists


def _request_headers(sample: Mapping[str, Any], sent: Headers) -> Dict[str, List[str]]:
    edge = [(n, v) for n, v in (sample.get("headers") or {}).items() if _EDGE_HEADERS.match(n)]
    client = list(sent.items()) if isinstance(sent, Mapping) else list(sent)
    forwarded = [v for n, v in client if n.lower() == "x-forwarded-for"]
    pairs = [(n, v) for n, v in client if not _EDGE_HEADERS.match(n)]
    if forwarded:
        edge = [(n, ", ".join(forwarded + [v]) if n.lower() == "x-forwarded-for" else v)
                for n, v in edge]
    return _header_lists(edge + pairs)


def api_gateway_event(api: RestApi, method: str, path: str, *,
                      headers: Headers = (), json_body: Any = _NO_BODY,
                      body: Union[str, bytes, None] = None, base64_body: Optional[bool] = None,
                      request_id: Optional[str] = None) -> Dict[str, Any]:
    """The REST proxy event (payload 1.0) API Gateway sends for `method path[?query]`.

    `json_body` is sent as application/json; `body` as given. The body travels base64-encoded
    (isBase64Encoded) when its Content-Type is one of the API's binary media types, when it
    is not UTF-8, or when `base64_body` is True (an API whose binary types cover it).
    """
    method = method.upper()
    route = api.match(method, path)
    raw_path, _, query_text = path.partition("?")
    sent = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    if json_body is not _NO_BODY:
        body = json.dumps(json_body)
        if not any(n.lower() == "content-type" for n, _ in sent):
            sent.append(("Content-Type", "application/json"))
    event = sample_event(API_GATEWAY_SAMPLE)
    multi = _request_headers(event, sent)
    content_type = next((v[-1] for n, v in multi.items() if n.lower() == "content-type"), "")
    event_body, encoded = _encode_body(body, content_type, api.binary_media_types, base64_body)
    query: Dict[str, List[str]] = {}
    for name, value in parse_qsl(query_text, keep_blank_values=True):
        query.setdefault(name, []).append(value)
    user_agent = next((v[-1] for n, v in multi.items() if n.lower() == "user-agent"), None)
    now = time.time()
    event.update({
        "resource": route.resource, "path": raw_path, "httpMethod": method,
        "headers": {name: values[-1] for name, values in multi.items()} or None,
        "multiValueHeaders": multi or None,
        # API Gateway sends null, not {}, when there are none
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": dict(route.path_parameters) or None,
        "stageVariables": dict(api.stage_variables) if api.stage_variables else None,
        "body": event_body, "isBase64Encoded": encoded})
    context = event["requestContext"]
    context.update({
        "resourcePath": route.resource, "httpMethod": method, "stage": api.stage,
        "path": f"/{api.stage}{raw_path}",  # the default endpoint's path has the stage
        "requestId": request_id or str(uuid.uuid4()),
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "requestTimeEpoch": int(now * 1000)})
    context["identity"] = {**context.get("identity", {}), "userAgent": user_agent}
    return event


def _encode_body(body: Union[str, bytes, None], content_type: str,
                 binary_types: Sequence[str], force: Optional[bool]) -> Tuple[Optional[str], bool]:
    if body is None:
        return None, False
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    if force is None:
        force = is_binary_type(content_type, binary_types)
    if not force:
        try:
            return raw.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(raw).decode("ascii"), True


# --- SQS -----------------------------------------------------------------------------------------

def sqs_record(body: str, *, queue_arn: str, message_id: Optional[str] = None,
               receipt_handle: Optional[str] = None,
               attributes: Optional[Mapping[str, str]] = None,
               message_attributes: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    """One record as Lambda's SQS poller delivers it (the sample's, filled)."""
    [record] = sample_event(SQS_SAMPLE)["Records"][:1]
    now = str(int(time.time() * 1000))
    record.update({
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": receipt_handle or f"pym-artifact-{uuid.uuid4().hex}",
        "body": body,
        "attributes": {**record["attributes"], "SentTimestamp": now,
                       "ApproximateFirstReceiveTimestamp": now, "ApproximateReceiveCount": "1",
                       **(attributes or {})},
        "messageAttributes": dict(message_attributes or {}),
        "md5OfBody": hashlib.md5(body.encode("utf-8"), usedforsecurity=False).hexdigest(),
        "eventSourceARN": queue_arn, "awsRegion": queue_arn.split(":")[3]})
    return record


def _message_attributes(attributes: Mapping[str, Any]) -> Dict[str, Any]:
    """SQS API attribute shape (StringValue, DataType) -> the event's (stringValue, dataType)."""
    converted: Dict[str, Any] = {}
    for name, value in attributes.items():
        item: Dict[str, Any] = {"stringListValues": [], "binaryListValues": [],
                                "dataType": value.get("DataType", "String")}
        if "StringValue" in value:
            item["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            item["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode("ascii")
        converted[name] = item
    return converted


def sqs_event(messages: Sequence[Mapping[str, Any]], queue_arn: str) -> Dict[str, Any]:
    """The event for messages taken from a queue (boto3 receive_message's "Messages", asked
    with AttributeNames=["All"] and MessageAttributeNames=["All"])."""
    return {"Records": [sqs_record(
        m["Body"], queue_arn=queue_arn, message_id=m["MessageId"],
        receipt_handle=m["ReceiptHandle"], attributes=m.get("Attributes"),
        message_attributes=_message_attributes(m.get("MessageAttributes") or {}))
        for m in messages]}
