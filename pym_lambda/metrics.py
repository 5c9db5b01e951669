"""Metrics as CloudWatch Embedded Metric Format (EMF): JSON log lines CloudWatch Logs turns into
metrics, with no agent, no API call and no dependency.

Imported only when `metrics.enabled` is set (runtime/app.py puts a `Metrics` on the service).
One line per request and one per task record, never one per metric:

- a request: `requests` (1), `duration_ms`, `status_4xx` and `status_5xx` (0 or 1), and
  `cold_start` (1 on the first line a process writes). On Lambda, where the request log line is
  written straight to the JSON handler (logs.log_request), the EMF members are added to that
  line: one line per request in all, the log fields reused as metric values. Elsewhere (another
  log format or handler, a level above INFO) the metrics get a line of their own on stdout.
- a task record: `task_runs`, `task_failures`, `task_retries`, `task_dead_letters` (0 or 1),
  `task_age_ms` (from SentTimestamp to its batch's start) and `cold_start`.

Dimension sets: (service, stage, operation), where a task's operation is its name, and
(service, stage) for the totals that alarms watch. See docs/operations.md for the cost.
"""
from __future__ import annotations

import json
import re
import sys
import threading
import time
from typing import Any, List, Optional, Sequence, Tuple

_encode = json.encoder.encode_basestring_ascii
_DIMENSIONS = [["service", "stage", "operation"], ["service", "stage"]]
REQUEST_METRICS: Tuple[Tuple[str, str], ...] = (
    ("requests", "Count"), ("duration_ms", "Milliseconds"), ("status_4xx", "Count"),
    ("status_5xx", "Count"), ("cold_start", "Count"))
TASK_METRICS: Tuple[Tuple[str, str], ...] = (
    ("task_runs", "Count"), ("task_failures", "Count"), ("task_retries", "Count"),
    ("task_dead_letters", "Count"), ("task_age_ms", "Milliseconds"), ("cold_start", "Count"))
# An operation whose name is unknown: a request no route matched, a record no task could read.
NO_OPERATION = "-"
MAX_DIMENSION_CHARS = 1024  # EMF's limit on a dimension value

# 1 until this process has written its first metrics line (a Lambda's first invocation).
_cold: List[int] = [1]


def _directive(namespace: str, metrics: Sequence[Tuple[str, str]]) -> str:
    """The constant end of the `_aws` member: `"CloudWatchMetrics": [...]}`."""
    directive = [{"Namespace": namespace, "Dimensions": _DIMENSIONS,
                  "Metrics": [{"Name": name, "Unit": unit} for name, unit in metrics]}]
    return f'"CloudWatchMetrics": {json.dumps(directive, separators=(",", ":"))}}}'


def namespace_for(namespace: str, service: str) -> str:
    """`metrics.namespace` (else the service's name) as CloudWatch takes a namespace: its
    characters, at most 255, not AWS's own."""
    name = re.sub(r"[^A-Za-z0-9.\-_/#: ]", "_", (namespace or service).strip())[:255]
    return "pym-lambda" if not name or name.startswith("AWS/") else name


def _dimension(value: str) -> str:
    return _encode(value[:MAX_DIMENSION_CHARS] or NO_OPERATION)


class Metrics:
    """The EMF writer of one service: its namespace and fixed dimensions, encoded once."""

    def __init__(self, namespace: str, service: str, stage: str) -> None:
        self.namespace = namespace_for(namespace, service)
        self._lock = threading.Lock()  # a line is one write, whatever the WSGI threads do
        self._fixed = (f'"service": {_dimension(service)}, "stage": {_dimension(stage)}')
        self._request_directive = _directive(self.namespace, REQUEST_METRICS)
        self._task_directive = _directive(self.namespace, TASK_METRICS)
        self._task_directive_no_age = _directive(
            self.namespace, [m for m in TASK_METRICS if m[0] != "task_age_ms"])

    @classmethod
    def from_settings(cls, settings: Any, service_name: str) -> Metrics:
        return cls(settings.metrics.namespace, service_name, settings.stage)

    def _aws(self, directive: str) -> str:
        return f'"_aws": {{"Timestamp": {int(time.time() * 1000)}, {directive}'

    def _request_tail(self, status: int) -> str:
        cold = _cold[0]
        _cold[0] = 0
        return (f', {self._fixed}, "requests": 1, "status_4xx": {int(400 <= status < 500)}, '
                f'"status_5xx": {int(status >= 500)}, "cold_start": {cold}, '
                f'{self._aws(self._request_directive)}')

    def request_members(self, operation: str, status: int) -> str:
        """What the request log line gains after its `duration_ms` member (the line carries
        "operation" already, unless `operation` is empty)."""
        if operation:
            return self._request_tail(status)
        return f', "operation": "{NO_OPERATION}"' + self._request_tail(status)

    def request_line(self, operation: str, status: int, duration_ms: float) -> str:
        """The request's metrics on a line of their own (see the module docstring)."""
        return (f'{{"operation": {_dimension(operation)}, "duration_ms": '
                f'{round(duration_ms, 2)!r}{self._request_tail(status)}}}\n')

    def task_line(self, task: Optional[str], outcome: str, retried: bool,
                  age_ms: Optional[float], task_id: Optional[str] = None) -> str:
        """A task record's line. outcome: succeeded, failed, dead_lettered or not_started;
        retried: SQS delivers the record again; age_ms: None without a SentTimestamp (a
        hand-made event), then the line has no age rather than a false one."""
        cold = _cold[0]
        _cold[0] = 0
        ran = int(outcome not in ("not_started", "skipped_duplicate"))  # the function ran
        failed = int(outcome in ("failed", "dead_lettered"))
        line = (f'{{"operation": {_dimension(task or "")}, {self._fixed}, "task_outcome": '
                f'{_encode(outcome)}')
        if task_id:
            line += f', "task_id": {_encode(task_id)}'
        line += (f', "task_runs": {ran}, "task_failures": {failed}, "task_retries": '
                 f'{int(retried)}, "task_dead_letters": {int(outcome == "dead_lettered")}')
        if age_ms is None:
            directive = self._task_directive_no_age
        else:
            line += f', "task_age_ms": {max(0, int(age_ms))}'
            directive = self._task_directive
        return f'{line}, "cold_start": {cold}, {self._aws(directive)}}}\n'

    def write_task_lines(self, records: Sequence[Any], results: Sequence[Any],
                         started_ms: float) -> None:
        """One line per record of a batch (record_processing.RecordResult each), one write;
        a task's age is measured to the start of its batch."""
        self.write("".join(
            self.task_line(result.task, str(result.outcome.value), result.failed,
                           sent_age_ms(record, started_ms), result.task_id)
            for record, result in zip(records, results, strict=True)))

    def write(self, line: str) -> None:
        """A line on stdout (CloudWatch Logs on Lambda); a failing stream never fails a call."""
        with self._lock:
            try:
                stream = sys.stdout
                stream.write(line)
                stream.flush()
            except (OSError, ValueError, AttributeError):
                pass


def sent_age_ms(record: Any, now_ms: float) -> Optional[float]:
    """Milliseconds from a record's SentTimestamp attribute to now_ms; None without one."""
    try:
        sent = record["attributes"]["SentTimestamp"]
        return now_ms - int(sent)
    except (KeyError, TypeError, ValueError):
        return None
