"""What `metrics.enabled` costs (issue #20): the example service's `GET /v1/books?limit=5` as
Lambda calls it (`app(event, context)`, an API Gateway REST event, JSON logs on stdout sent to
/dev/null), and the import of app.py, with metrics off and on.

Per request, both modes run in one process, rounds alternated (the service's `metrics`
attribute set or cleared, which is all the runtime reads per request): on a shared machine,
two processes differ by more than metrics cost. The import is measured in processes of each
mode, alternated.

    python benchmarks/metrics_cost.py [--quick]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

ROOT = Path(__file__).resolve().parent.parent

# In the child: stdout is /dev/null (the log lines are written at their cost, as on Lambda);
# results go to the pipe whose descriptor is its last argument.
CHILD = """
import os, sys, time, json
rounds, calls, measure = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
out = os.fdopen(int(sys.argv[4]), "w")
started = time.perf_counter()
import app
result = {"import_ms": (time.perf_counter() - started) * 1000,
          "metrics": "pym_lambda.metrics" in sys.modules}
if measure:
    from pym_lambda.aws_events import LambdaContext, rest_proxy_event
    from pym_lambda.context import CallContext
    from pym_lambda.logs import log_request
    event = rest_proxy_event("GET", "/v1/books", query={"limit": ["5"]})
    context = LambdaContext("bench")
    call, service = app.app, app.app.pym_service
    metrics = service.metrics
    assert call(event, context)["statusCode"] == 200
    line = CallContext("c-1", operation="listBooks", method="GET", path="/v1/books")
    for _ in range(calls):
        call(event, context)
    best = {"off": [], "on": [], "line_off": [], "line_on": []}
    for _ in range(rounds):
        for mode, value in (("off", None), ("on", metrics)):
            service.metrics = value
            start = time.perf_counter()
            for _ in range(calls):
                call(event, context)
            best[mode].append((time.perf_counter() - start) / calls * 1e6)
            start = time.perf_counter()
            for _ in range(calls * 5):  # the request line alone, as the dispatcher writes it
                log_request(line, 200, value)
            best["line_" + mode].append((time.perf_counter() - start) / calls / 5 * 1e6)
    result.update({key: min(values) for key, values in best.items()})
out.write(json.dumps(result))
out.close()
"""


def environment(metrics: bool) -> Dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYM_", "AWS_"))}
    env.update(config.get("environment_variables", {}))
    env.update(config.get("stages", {}).get("dev", {}).get("environment_variables", {}))
    env.update(PYM_STAGE="dev", PYM_METRICS_ENABLED="true" if metrics else "false",
               PYM_LOG_LEVEL="INFO", AWS_LAMBDA_FUNCTION_NAME="bench",
               AWS_DEFAULT_REGION="us-east-1", PYTHONDONTWRITEBYTECODE="1")
    return env


def run(metrics: bool, rounds: int, calls: int, measure: bool) -> Dict[str, Any]:
    read, write = os.pipe()
    with open(os.devnull, "w") as null:
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(rounds), str(calls),
                                  "1" if measure else "0", str(write)], cwd=ROOT,
                                 env=environment(metrics), stdout=null, pass_fds=(write,))
    os.close(write)
    with os.fdopen(read) as results:
        text = results.read()
    if child.wait() != 0 or not text:
        raise SystemExit(f"the child (metrics {'on' if metrics else 'off'}) failed")
    result: Dict[str, Any] = json.loads(text)
    assert result.pop("metrics") is metrics  # off imports nothing
    return result


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and processes")
    args = parser.parse_args(argv)
    processes, rounds, calls = (2, 3, 500) if args.quick else (5, 7, 2000)
    timed = run(True, rounds, calls, measure=True)
    imports: Dict[bool, List[float]] = {False: [], True: []}
    for _ in range(processes):
        for metrics in (False, True):
            imports[metrics].append(run(metrics, rounds, calls, False)["import_ms"])
    print(f"GET /v1/books?limit=5, best of {rounds} x {calls} calls per mode in one process; "
          f"import of app.py, median of {processes} processes per mode")
    print("| metrics | us per request | request line alone, us | app.py import, ms |")
    print("|---|---|---|---|")
    for mode, metrics in (("off", False), ("on", True)):
        print(f"| {mode} | {timed[mode]:.1f} | {timed['line_' + mode]:.2f} | "
              f"{statistics.median(imports[metrics]):.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
