"""Traces as AWS X-Ray segment documents (issue #20 item 1), imported only when the stage sets
``tracing.enabled``: spans.py (the spans and the trace header), export.py (the X-Ray daemon's UDP
and an in-memory exporter for tests), install.py (where a request, its steps, a task run and an
AWS call get their spans). docs/operations.md describes it."""
