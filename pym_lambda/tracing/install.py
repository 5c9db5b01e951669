"""Where spans start and end, hooked from outside the code they time (nothing there changes when
tracing is off): the dispatcher's `dispatch` (a request), each operation's steps, function and
call (auth, validation, function, response), the worker's records (a task run, joined to the
request that sent it through SQS's AWSTraceHeader) and every boto3 client's calls."""
from __future__ import annotations

import functools
import os
import time
from typing import Any, Callable, Dict, List, Optional

from ..context import CALL_ID_HEADER
from .export import MemoryExporter, UdpExporter
from .spans import Current, Span, Tracer, current_span, safe_name

EXPORTERS = ("xray", "memory")
_TRACE_HEADER = "X-Amzn-Trace-Id"


def make_tracer(settings: Any, service_name: str) -> Tracer:
    kind = settings.tracing.exporter
    return Tracer(service_name, MemoryExporter() if kind == "memory" else UdpExporter())


def install(tracer: Tracer, dispatcher: Any, operations: List[Any], clients: bool) -> None:
    """Trace the dispatcher's requests, the operations' steps, every boto3 client and, when the
    service has `clients`, their calls."""
    dispatcher.dispatch = _traced_dispatch(tracer, dispatcher.dispatch)
    for op in operations:
        _instrument(op)
    from ..aws import add_client_hook

    add_client_hook(hook_client)
    if not clients:
        return
    from ..clients.transport import Transport

    if not hasattr(Transport.perform, "pym_traced"):  # clients are made at their first call
        Transport.perform = _traced_perform(Transport.perform)  # type: ignore[method-assign]


def _traced_dispatch(tracer: Tracer, dispatch: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(dispatch)
    def traced(request: Any, run: Callable[..., Any]) -> Any:
        headers = getattr(request, "headers", None) or {}
        # On Lambda, its segment is the parent (API Gateway's header names API Gateway's)
        span = tracer.begin("request", None if os.environ.get("_X_AMZN_TRACE_ID")
                            else headers.get(_TRACE_HEADER))
        if span is None:
            return dispatch(request, run)
        token = current_span.set(span)
        try:
            response = dispatch(request, run)  # never raises: errors are answered inside
        finally:
            current_span.reset(token)
        if span.function_end is not None:  # what follows the function: the response's checks
            span.child("response", span.function_end).end = time.time()
        status = response.status_code
        span.http = {"request": {"method": getattr(request, "method", ""),
                                 "url": (getattr(request, "context", None) or {}).get("path", "")},
                     "response": {"status": status}}
        span.annotations["call_id"] = response.headers.get(CALL_ID_HEADER, "")
        span.error, span.throttle, span.fault = 400 <= status < 500, status == 429, status >= 500
        tracer.finish(span)
        return response
    return traced


def _instrument(op: Any) -> None:
    call, func = op.call, op.func
    name = safe_name(op.id)  # an operationId may hold any character

    @functools.wraps(call)
    def traced_call(request: Any) -> Any:
        root = current_span.get()
        if root is not None:
            root.name = name
            root.annotations["operation"] = op.id
            root.mark = time.time()
        return call(request)

    op.call = traced_call
    op.steps = [_traced_step(step) for step in op.steps]
    if func is not None:
        op.func = _traced_function(func)


def _traced_step(step: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(step)
    def traced(request: Any, op: Any) -> Any:
        root = current_span.get()
        if root is None:
            return step(request, op)
        with _child(root, "auth") as span:
            step(request, op)
        root.mark = span.end or time.time()
        return None
    return traced


def _traced_function(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def traced(*args: Any, **kwargs: Any) -> Any:
        root = current_span.get()
        if root is None:
            return func(*args, **kwargs)
        root.child("validation", root.mark).end = time.time()  # auth's end to the function
        with _child(root, "function"):
            result = func(*args, **kwargs)
        root.function_end = time.time()  # the response's span starts here
        return result
    return traced


def _child(parent: Span, name: str) -> Current:
    """A child span of `parent` around a block, current while it runs, its failure recorded."""
    return Current(parent.child(name))


# --- client calls (pym_lambda/clients/) ------------------------------------------------------

def _traced_perform(perform: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(perform)
    def traced(transport: Any, send: Any, method: str, url: str, label: str,
               **kwargs: Any) -> Any:
        parent = current_span.get()
        if parent is None:
            return perform(transport, send, method, url, label, **kwargs)
        span = parent.child(safe_name(label))  # <client>.<operation>, retries included
        span.namespace = "remote"
        span.http = {"request": {"method": method, "url": url}}
        # The called service's spans join this trace (a pym-lambda service reads it too).
        kwargs["headers"] = {**(kwargs.get("headers") or {}), _TRACE_HEADER: span.header()}
        with Current(span):
            raw = perform(transport, send, method, url, label, **kwargs)
        status = raw.status
        span.http["response"] = {"status": status}
        span.error, span.throttle, span.fault = 400 <= status < 500, status == 429, status >= 500
        return raw
    traced.pym_traced = True  # type: ignore[attr-defined]
    return traced


# --- task runs ------------------------------------------------------------------------------

def run_records(tracer: Tracer, process: Callable[..., List[Any]], records: List[Any],
                *args: Any) -> List[Any]:
    """`process` (record_processing.process_records) one record at a time, each in a task span
    of the trace its sender's AWSTraceHeader names (or a trace of its own)."""
    results: List[Any] = []
    for record in records:
        attributes = record.get("attributes") if isinstance(record, dict) else None
        span = tracer.begin("task", (attributes or {}).get("AWSTraceHeader"))
        if span is None:
            results.extend(process([record], *args))
            continue
        span.name = tracer.service_name + " task"
        token = current_span.set(span)
        try:
            done = process([record], *args)
        finally:
            current_span.reset(token)
        for result in done:
            span.annotations.update(task=result.task or "", task_id=result.task_id or "",
                                    call_id=_call_id(record) or result.task_id or "",
                                    outcome=str(getattr(result.outcome, "value", result.outcome)))
            span.fault = result.failed or span.annotations["outcome"] == "dead_lettered"
        tracer.finish(span)
        results.extend(done)
    return results


def _call_id(record: Dict[str, Any]) -> Optional[str]:
    from ..tasks.envelope import read_envelope

    try:
        return read_envelope(record.get("body"))[4]
    except Exception:  # noqa: BLE001 - its failure is the task's to report
        return None


# --- AWS calls (botocore's events) -----------------------------------------------------------

def hook_client(client: Any) -> None:
    events = client.meta.events
    events.register("before-parameter-build.sqs.SendMessage", _send_trace_header)
    events.register("before-parameter-build.sqs.SendMessageBatch", _send_trace_header)
    events.register("before-call.*.*", _aws_call_started)
    events.register("after-call.*.*", _aws_call_ended)
    events.register("after-call-error.*.*", _aws_call_failed)


def _send_trace_header(params: Dict[str, Any], **_: Any) -> None:
    # SQS keeps it as the message's AWSTraceHeader: the worker's task span joins this trace.
    span = current_span.get()
    if span is None:
        return
    attribute = {"AWSTraceHeader": {"DataType": "String", "StringValue": span.header()}}
    for message in params.get("Entries") or [params]:
        message.setdefault("MessageSystemAttributes", {}).update(attribute)


def _aws_call_started(model: Any, context: Dict[str, Any], **_: Any) -> None:
    parent = current_span.get()
    if parent is None:
        return
    span = parent.child(model.service_model.service_id.hyphenize())
    span.namespace = "aws"
    span.aws = {"operation": model.name}
    context["pym_span"] = span


def _aws_call_ended(http_response: Any, parsed: Dict[str, Any], context: Dict[str, Any],
                    **_: Any) -> None:
    span = context.pop("pym_span", None)
    if span is None:
        return
    span.end = time.time()
    metadata = parsed.get("ResponseMetadata") or {}
    status: int = metadata.get("HTTPStatusCode") or getattr(http_response, "status_code", 0) or 0
    span.aws["request_id"] = metadata.get("RequestId", "")
    span.http = {"response": {"status": status}}
    span.error, span.throttle, span.fault = 400 <= status < 500, status == 429, status >= 500


def _aws_call_failed(exception: BaseException, context: Dict[str, Any], **_: Any) -> None:
    span = context.pop("pym_span", None)
    if span is not None:
        span.end = time.time()
        span.failed(exception)
