"""Metrics in CloudWatch Embedded Metric Format (issue #20 item 2): a service run as Lambda runs
it (a fresh process, JSON logs on stdout, API Gateway and SQS events of the shapes in
pym_lambda/build/deploy/events/, the task queue on moto), its stdout read as CloudWatch Logs
reads it (tests/emf.py)."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from tests.emf import Datum, all_data, documents
from tests.runtime import lambda_service
from tests.runtime.lambda_service import report as _report

# Requests through the API function (see lambda_service.SCRIPT), then the queue's messages.
CALLS = [("POST", "/pets", {"name": n}) for n in ("rex", "flaky", "never")] + [
    ("POST", "/pets", {"name": ""}), ("GET", "/pets/boom", None), ("GET", "/pets/rex", None)]


def run_service(tmp_path: Path, config: str, **environ: str) -> Tuple[str, str]:
    """stdout (what CloudWatch Logs gets) and stderr of the script, in the project."""
    return lambda_service.run_service(tmp_path, config, CALLS, "metrics", **environ)


def _sums(data: List[Datum], operation: str) -> Dict[str, float]:
    """Each metric's sum over the (service, stage, operation) data of `operation`."""
    sums: Counter[str] = Counter()
    for datum in data:
        if dict(datum.dimensions).get("operation") == operation:
            sums[datum.name] += datum.value
    return dict(sums)


CONFIG = "metrics:\n  enabled: true\n  namespace: Pets\n"


def test_one_line_per_request_and_per_task_record_that_cloudwatch_parses(tmp_path: Path) -> None:
    stdout, stderr = run_service(tmp_path, CONFIG)
    assert _report(stderr, "STATUS") == ["201", "201", "201", "400", "500", "200"]
    assert _report(stderr, "MESSAGES") == ["3"]
    lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    request_lines = [line for line in lines if "http_method" in line]
    # One line per request: the request log line carries its metrics.
    assert len(request_lines) == 6 and all("_aws" in line for line in request_lines)
    assert sum("_aws" in line for line in lines) == 6 + 3  # and one per task record
    data = all_data(stdout)
    assert {d.namespace for d in data} == {"Pets"}
    assert {d.dimensions[:2] for d in data} == {(("service", "pets"), ("stage", "prod"))}
    assert {len(d.dimensions) for d in data} == {2, 3}  # per operation, and the totals
    assert _sums(data, "createPet") == pytest.approx({
        "requests": 4, "status_4xx": 1, "status_5xx": 0, "cold_start": 1,
        "duration_ms": _sums(data, "createPet")["duration_ms"]})
    assert _sums(data, "getPet")["status_5xx"] == 1 and _sums(data, "getPet")["requests"] == 2
    durations = [d for d in data if d.name == "duration_ms"]
    assert all(d.unit == "Milliseconds" and d.value > 0 for d in durations)
    # Tasks: one ran fine, one failed (retried by SQS), one was dead-lettered.
    tasks = _sums(data, "chalicelib.pets:remember")
    assert tasks == pytest.approx({"task_runs": 3, "task_failures": 2, "task_retries": 1,
                                   "task_dead_letters": 1, "cold_start": 0,
                                   "task_age_ms": tasks["task_age_ms"]})
    outcomes = sorted(doc["task_outcome"] for doc in documents(stdout) if "task_outcome" in doc)
    assert outcomes == ["dead_lettered", "failed", "succeeded"]
    assert json.loads(_report(stderr, "RESULT")[0])["batchItemFailures"] != []
    # The totals (service, stage) count every request of the stage: what the alarms watch.
    totals = Counter(d.name for d in data if len(d.dimensions) == 2 and d.value == 1)
    assert totals["requests"] == 6 and totals["status_5xx"] == 1


def test_a_level_above_info_still_writes_the_metrics_on_their_own_line(tmp_path: Path) -> None:
    stdout, stderr = run_service(tmp_path, CONFIG + "log_level: WARNING\n")
    assert "http_method" not in stdout  # no request log line at WARNING
    requests = [doc for doc in documents(stdout) if "requests" in doc]
    assert len(requests) == 6
    data = all_data(stdout)
    assert _sums(data, "getPet")["status_5xx"] == 1
    assert sum(d.value for d in data if d.name == "cold_start" and len(d.dimensions) == 2) == 1


def test_text_logs_keep_their_format_and_the_metrics_get_json_lines(tmp_path: Path) -> None:
    stdout, _ = run_service(tmp_path, CONFIG, PYM_LOG_FORMAT="text")
    assert len([doc for doc in documents(stdout) if "requests" in doc]) == 6
    assert " INFO pym_lambda" in stdout  # the request lines, as text


def test_off_by_default_no_metrics_and_nothing_imported(tmp_path: Path) -> None:
    stdout, stderr = run_service(tmp_path, "name: pets\n")
    assert documents(stdout) == []
    assert '"_aws"' not in stdout
    assert _report(stderr, "MODULES") == ["[]"]
    assert len([line for line in stdout.splitlines() if '"http_method"' in line]) == 6


@pytest.mark.parametrize("name", ['we"ird\\name\n', "é\u2028\ud800", "x" * 5000, ""])
def test_any_service_or_operation_name_gives_a_valid_document(name: str) -> None:
    from pym_lambda.metrics import Metrics

    metrics = Metrics("", name, name)
    lines = (metrics.request_line(name, 503, 1.5)
             + metrics.task_line(name or None, "not_started", True, None, name)
             + metrics.task_line("t", "succeeded", False, 12.0))
    data = all_data(lines)
    assert {d.name for d in data} >= {"requests", "status_5xx", "task_runs", "task_age_ms"}
    dims = {value for d in data for _, value in d.dimensions}
    assert all(0 < len(value) <= 1024 for value in dims)
    not_started = documents(lines)[1]
    assert (not_started["task_runs"], not_started["task_retries"]) == (0, 1)
    assert "task_age_ms" not in not_started  # no SentTimestamp: no age rather than a false one
