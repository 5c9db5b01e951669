"""Spans and the trace header, as X-Ray's segment documents spell them.

A span is a segment (the root of what this process sends: a request outside Lambda, a task run)
or a subsegment (a step, an AWS call; and, on Lambda, the request itself: Lambda's own segment,
named by ``_X_AMZN_TRACE_ID``, is its parent). The root is sent once it ends, its children
nested in it: one datagram per request or task run.
"""
from __future__ import annotations

import os
import re
import time
from contextvars import ContextVar
from random import getrandbits
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..context import current_call_id

# The span that new spans nest in: the request's or task's root, or an AWS call's parent.
current_span: ContextVar[Optional[Span]] = ContextVar("pym_span", default=None)

Exporter = Callable[[Dict[str, Any]], None]
# What X-Ray takes in a segment's name: letters, digits, whitespace and _.:/%&#=+\-@
_NOT_IN_NAMES = re.compile(r"[^\w\s.:/%&#=+\\@-]")
# What X-Ray's filters take in an annotation's key: letters, digits and _
_NOT_IN_KEYS = re.compile(r"[^A-Za-z0-9_]")


def safe_name(name: str) -> str:
    """`name` as X-Ray accepts it: other characters become _, at most 200 of them."""
    return _NOT_IN_NAMES.sub("_", name)[:200] or "-"


def new_id() -> str:
    """A segment id: 64 random bits as 16 hex digits (ids, not secrets: no system call)."""
    return f"{getrandbits(64):016x}"


def new_trace_id() -> str:
    """``1-<epoch seconds, 8 hex>-<96 random bits>``, X-Ray's trace id."""
    return f"1-{int(time.time()):08x}-{getrandbits(96):024x}"


def parse_header(header: Optional[str]) -> Tuple[Optional[str], Optional[str], Optional[bool]]:
    """(Root, Parent, Sampled) of ``Root=1-..;Parent=..;Sampled=1`` (either may be missing)."""
    root = parent = sampled = None
    for part in (header or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == "Root":
            root = value or None
        elif key == "Parent":
            parent = value or None
        elif key == "Sampled" and value in ("0", "1"):
            sampled = value == "1"
    return root, parent, sampled


class Span:
    """One segment or subsegment; `children` are sent nested in the root's document."""

    __slots__ = ("name", "id", "trace_id", "parent_id", "start", "end", "subsegment",
                 "children", "annotations", "http", "aws", "namespace", "error", "fault",
                 "throttle", "cause", "root", "mark", "function_end")

    def __init__(self, name: str, trace_id: str, parent_id: Optional[str] = None,
                 subsegment: bool = False, root: Optional[Span] = None,
                 start: Optional[float] = None) -> None:
        self.name = name
        self.id = new_id()
        self.trace_id = trace_id
        self.parent_id = parent_id
        self.subsegment = subsegment
        self.start = time.time() if start is None else start
        self.end: Optional[float] = None
        self.children: List[Span] = []
        self.annotations: Dict[str, Any] = {}
        self.http: Optional[Dict[str, Any]] = None
        self.aws: Optional[Dict[str, Any]] = None
        self.namespace: Optional[str] = None
        self.error = self.fault = self.throttle = False
        self.cause: Optional[BaseException] = None
        self.root = root or self  # whose document carries this span
        self.mark = self.start  # the root: where the request's validation began
        self.function_end: Optional[float] = None  # the root: when the function returned

    def child(self, name: str, start: Optional[float] = None) -> Span:
        span = Span(name, self.trace_id, self.id, True, self.root, start)
        self.children.append(span)
        return span

    def header(self) -> str:
        """The trace header naming this span as the parent of what it calls."""
        return f"Root={self.trace_id};Parent={self.id};Sampled=1"

    def failed(self, exc: BaseException) -> None:
        # A PymError below 500 (refused credentials, a bad field) is the client's error
        status = getattr(exc, "status", 500)
        if isinstance(status, int) and status < 500:
            self.error = True
        else:
            self.fault = True
        self.cause = exc

    def document(self) -> Dict[str, Any]:
        """X-Ray's segment document (docs.aws.amazon.com/xray/latest/devguide/
        xray-api-segmentdocuments.html)."""
        doc: Dict[str, Any] = {"name": self.name[:200] or "-", "id": self.id,
                               "start_time": self.start,
                               "end_time": self.end if self.end is not None else time.time()}
        if self.root is self:  # a child's trace and parent are its document's
            doc["trace_id"] = self.trace_id
            if self.parent_id:
                doc["parent_id"] = self.parent_id
            if self.subsegment:
                doc["type"] = "subsegment"
        if self.namespace:
            doc["namespace"] = self.namespace
        if self.annotations:
            doc["annotations"] = self.annotations
        if self.http:
            doc["http"] = self.http
        if self.aws:
            doc["aws"] = self.aws
        for flag in ("error", "fault", "throttle"):
            if getattr(self, flag):
                doc[flag] = True
        if self.cause is not None:
            doc["cause"] = {"exceptions": [{"id": new_id(), "type": type(self.cause).__name__,
                                            "message": str(self.cause)[:500]}]}
        if self.children:
            doc["subsegments"] = [child.document() for child in self.children]
        return doc


class Current:
    """`span` current around a block, ended after it, its failure recorded."""

    __slots__ = ("span", "token")

    def __init__(self, span: Span) -> None:
        self.span = span

    def __enter__(self) -> Span:
        self.token = current_span.set(self.span)
        return self.span

    def __exit__(self, kind: Any, exc: Optional[BaseException], _tb: Any) -> None:
        current_span.reset(self.token)
        self.span.end = time.time()
        if exc is not None:
            self.span.failed(exc)


class UserSpan(Current):
    """A span of the user's code (``pym_lambda.tracing.span``): the ``with`` target is itself,
    so that the block can annotate it."""

    __slots__ = ()

    def __enter__(self) -> UserSpan:  # type: ignore[override]
        super().__enter__()
        return self

    def annotate(self, key: str, value: Any) -> None:
        """An annotation X-Ray indexes: the key made of letters, digits and _ (what X-Ray's
        filters take), a value that is not a string, number or boolean written as a string."""
        if not isinstance(value, (str, int, float, bool)):
            value = str(value)
        if isinstance(value, str):
            value = value[:1000]
        self.span.annotations[_NOT_IN_KEYS.sub("_", str(key))[:500] or "_"] = value


def user_span(parent: Span, name: str, annotations: Dict[str, Any]) -> UserSpan:
    """The span ``pym_lambda.tracing.span(name, **annotations)`` opens in `parent`."""
    made = UserSpan(parent.child(safe_name(str(name))))
    call_id = current_call_id()
    if call_id:
        made.span.annotations["call_id"] = call_id
    for key, value in annotations.items():
        made.annotate(key, value)
    return made


class Tracer:
    """Makes the roots (a request, a task run) and hands each ended root to the exporter."""

    def __init__(self, service_name: str, exporter: Exporter) -> None:
        self.service_name = safe_name(service_name or "service")
        self.exporter = exporter

    def begin(self, name: str, header: Optional[str] = None) -> Optional[Span]:
        """A root span, or None when the trace is not sampled (then nothing is recorded).

        On Lambda (``_X_AMZN_TRACE_ID``, set for each invocation) the root is a subsegment of
        Lambda's own segment; else `header` (an incoming X-Amzn-Trace-Id, a message's
        AWSTraceHeader) makes it a segment of that trace; else it starts a trace of its own.
        """
        lambda_header = os.environ.get("_X_AMZN_TRACE_ID") if header is None else None
        root, parent, sampled = parse_header(lambda_header or header)
        if sampled is False:
            return None
        if root is None:
            return Span(name, new_trace_id())
        return Span(name, root, parent, subsegment=bool(lambda_header and parent))

    def finish(self, span: Span) -> None:
        span.end = time.time()
        try:
            self.exporter(span.document())
        except Exception:  # noqa: BLE001 - a trace never fails what it traces
            pass
