"""API Gateway REST proxy and SQS events for the artifact check, as AWS sends them.

Each event starts from a real sample (`events/`, printed by `sam local generate-event`) and is
filled as API Gateway or Lambda's SQS poller would fill it for one request or message. The
route a path reaches comes from the REST API definition in sam.json, matched as API Gateway
matches resources (a literal segment beats `{param}`, which beats a greedy `{proxy+}`); a path
or method the API does not define never reaches the function: GatewayMiss, API Gateway's 403.
"""
from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Sequence, Tuple, Union
from urllib.parse import parse_qsl, unquote

from ... import aws_events
from ...aws_events import rest_proxy_event
from ...route_matching import RouteMatcher, path_segments
from ...wsgi.events import is_binary_type

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
    sample = sample_event(API_GATEWAY_SAMPLE)
    multi = _request_headers(sample, sent)
    content_type = next((v[-1] for n, v in multi.items() if n.lower() == "content-type"), "")
    event_body, encoded = _encode_body(body, content_type, api.binary_media_types, base64_body)
    query: Dict[str, List[str]] = {}
    for name, value in parse_qsl(query_text, keep_blank_values=True):
        query.setdefault(name, []).append(value)
    event = rest_proxy_event(
        method, raw_path, resource=route.resource, headers=multi, query=query,
        path_parameters=route.path_parameters, body=event_body, is_base64=encoded,
        stage=api.stage, request_id=request_id, stage_variables=api.stage_variables)
    # What API Gateway adds that the builder leaves out: the sample's ids and identity.
    built = event["requestContext"]
    event["requestContext"] = {**sample["requestContext"], **built, "identity": {
        **sample["requestContext"].get("identity", {}),
        "userAgent": built["identity"]["userAgent"]}}
    for key in ("accountId", "apiId", "resourceId"):
        event["requestContext"][key] = sample["requestContext"][key]
    event["requestContext"].pop("domainName", None)
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
    """One record as Lambda's SQS poller delivers it (the sample's keys, filled)."""
    return aws_events.sqs_record(body, queue_arn=queue_arn, message_id=message_id,
                                 receipt_handle=receipt_handle, attributes=attributes,
                                 message_attributes=message_attributes)


def sqs_event(messages: Sequence[Mapping[str, Any]], queue_arn: str) -> Dict[str, Any]:
    """The event for messages taken from a queue (boto3 receive_message's "Messages", asked
    with AttributeNames=["All"] and MessageAttributeNames=["All"])."""
    return aws_events.sqs_event([aws_events.sqs_record_from_message(m, queue_arn)
                                 for m in messages])
