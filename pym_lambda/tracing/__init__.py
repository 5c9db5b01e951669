"""Traces as AWS X-Ray segment documents (issue #20 item 1), imported only when the stage sets
``tracing.enabled``: spans.py (the spans and the trace header), export.py (the X-Ray daemon's UDP
and an in-memory exporter for tests), install.py (where a request, its steps, a task run and an
AWS call get their spans). docs/operations.md describes it.

This module itself is the public API, importable whatever the setting: ``span()``, a span of
your own inside an operation or a task. It imports nothing: with tracing off (spans.py never
loaded) or outside a traced call, ``span()`` returns one shared do-nothing object.
"""
from __future__ import annotations

import sys
from typing import Any, Optional

_SPANS = __name__ + ".spans"


class NoSpan:
    """What ``span()`` gives when nothing is traced: a context manager that does nothing."""

    __slots__ = ()

    def __enter__(self) -> NoSpan:
        return self

    def __exit__(self, *_: Any) -> None:
        return None

    def annotate(self, key: str, value: Any) -> None:
        """Nothing to annotate."""


_NO_SPAN = NoSpan()


def span(name: str, **annotations: Any) -> Any:
    """A span of your own around a block, as ``with tracing.span("charge card"): ...``.

    Nested in the current span (the operation's `function`, a task's run, or an outer span of
    yours), it carries the call's `call_id` and `annotations` (X-Ray indexes them: strings,
    numbers, booleans; ``.annotate(key, value)`` on the ``with`` target adds one), records an
    exception that leaves the block, and is sent with the rest of the request's or task's
    trace. Off or outside a traced call: the shared `NoSpan`, at the cost of this call.
    """
    spans: Optional[Any] = sys.modules.get(_SPANS)  # loaded only when a stage traces
    if spans is None:
        return _NO_SPAN
    parent = spans.current_span.get()
    if parent is None:
        return _NO_SPAN
    return spans.user_span(parent, name, annotations)
