"""Lambda events for tests, each record and request with its own id (built by
pym_lambda.aws_events, the one home of these shapes).

`chalice.test.Client().events.generate_sqs_event` gives every record the same messageId,
which hides bugs in per-record failure reporting; these builders never repeat an id.
"""
from __future__ import annotations

import json as jsonlib
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union
from urllib.parse import parse_qsl

from .. import aws_events

REGION, ACCOUNT, queue_arn = aws_events.REGION, aws_events.ACCOUNT, aws_events.queue_arn

DEFAULT_QUEUE_ARN = queue_arn("pym-test-queue")
_NO_BODY = object()

Body = Union[str, Mapping[str, Any], Sequence[Any]]


def sqs_record(body: Body, *, queue_arn: str = DEFAULT_QUEUE_ARN,
               message_id: Optional[str] = None, receive_count: int = 1,
               message_attributes: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    """One record as Lambda delivers it from SQS; `body` may be text or JSON-able data."""
    return aws_events.sqs_record(
        body if isinstance(body, str) else jsonlib.dumps(body), queue_arn=queue_arn,
        message_id=message_id, attributes={"ApproximateReceiveCount": str(receive_count)},
        message_attributes=aws_events.string_attributes(message_attributes or {}))


def sqs_event(*bodies: Body, queue_arn: str = DEFAULT_QUEUE_ARN,
              receive_count: int = 1) -> Dict[str, Any]:
    """An SQS event with one record per body, each with a distinct messageId."""
    return aws_events.sqs_event([sqs_record(b, queue_arn=queue_arn, receive_count=receive_count)
                                 for b in bodies])


def task_message(task: Any, *args: Any, **kwargs: Any) -> str:
    """The SQS body `task.delay(*args, **kwargs)` would send (the versioned task envelope)."""
    from ..context import current_context
    from ..tasks.envelope import encode_envelope, new_envelope

    return encode_envelope(new_envelope(task.name, args, kwargs, current_context()))


def _route(app: Any, path: str) -> Tuple[str, Dict[str, str]]:
    from ..route_matching import RouteMatcher, path_segments

    match = RouteMatcher(list(app.routes)).match(path_segments(path))
    if match is None:
        raise ValueError(f"api_gateway_event: no route of the app matches {path!r}")
    return match.template, match.path_params


def api_gateway_event(method: str, path: str, *, json: Any = _NO_BODY,
                      body: Optional[str] = None, headers: Optional[Mapping[str, str]] = None,
                      query: Optional[Mapping[str, Union[str, Sequence[str]]]] = None,
                      app: Any = None, resource: Optional[str] = None,
                      path_parameters: Optional[Mapping[str, str]] = None,
                      stage: str = "api") -> Dict[str, Any]:
    """An API Gateway REST (proxy, v1) event, for `app(event, context)`.

    Chalice dispatches on the route template (`resource`, e.g. ``/v1/books/{book_id}``): give
    it, or give `app` to find it (and the path parameters) from the app's routes.
    """
    path, _, query_text = path.partition("?")
    multi: Dict[str, List[str]] = {}
    for key, value in parse_qsl(query_text, keep_blank_values=True):
        multi.setdefault(key, []).append(value)
    for key, values in (query or {}).items():
        multi.setdefault(key, []).extend([values] if isinstance(values, str) else list(values))
    sent = dict(headers or {})
    if json is not _NO_BODY:
        body = jsonlib.dumps(json)
        sent.setdefault("Content-Type", "application/json")
    sent.setdefault("User-Agent", "pym-lambda-test")
    captured: Dict[str, str] = dict(path_parameters or {})
    if resource is None and app is not None:
        resource, found = _route(app, path)
        captured = {**found, **captured}
    return aws_events.rest_proxy_event(
        method, path, resource=resource, headers={k: [v] for k, v in sent.items()},
        query=multi, path_parameters=captured, body=body, stage=stage)


def lambda_context(function_name: str = "pym-test", timeout_seconds: int = 60) -> Any:
    """A context object with what handlers read (remaining time, request id, names)."""
    return aws_events.LambdaContext(function_name, timeout_ms=timeout_seconds * 1000)


class EventBuilder:
    """What the `pym_events` fixture gives: the builders above, knowing the app's queues and
    routes (the app is imported only when a builder needs it)."""

    def __init__(self, app_loader: Optional[Callable[[], Any]] = None) -> None:
        self._app_loader = app_loader

    def _queue_arn(self, queue: str) -> str:
        from ..tasks.errors import TaskError
        from ..tasks.naming import physical_queue_name

        if self._app_loader is not None:
            self._app_loader()  # the app names its queues when it is imported
        try:
            return queue_arn(physical_queue_name(queue))
        except TaskError:
            return DEFAULT_QUEUE_ARN

    def sqs(self, *bodies: Body, queue: str = "default", receive_count: int = 1
            ) -> Dict[str, Any]:
        """An SQS event for the app's task queue `queue`, one record per body."""
        return sqs_event(*bodies, queue_arn=self._queue_arn(queue), receive_count=receive_count)

    def task(self, task: Any, *args: Any, **kwargs: Any) -> Dict[str, Any]:
        """An SQS event carrying one call of an @async_task, on its queue."""
        return sqs_event(task_message(task, *args, **kwargs),
                         queue_arn=self._queue_arn(task.queue))

    def api_gateway(self, method: str, path: str, **kwargs: Any) -> Dict[str, Any]:
        """An API Gateway event for one of the app's routes (see `api_gateway_event`)."""
        if self._app_loader is not None and "resource" not in kwargs:
            kwargs.setdefault("app", self._app_loader())
        return api_gateway_event(method, path, **kwargs)

    def context(self, function_name: str = "pym-test", timeout_seconds: int = 60) -> Any:
        return lambda_context(function_name, timeout_seconds)
