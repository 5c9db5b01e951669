"""What `tracing.enabled` costs (issue #20): the example service's `GET /v1/books?limit=5` as
Lambda calls it (`app(event, context)`, an API Gateway REST event, `_X_AMZN_TRACE_ID` set as
Lambda sets it, JSON logs on stdout sent to /dev/null), and the import of app.py, tracing off
and on.

Per request, both modes run in one process, rounds alternated: app.py's app (tracing off) and a
second app made by create_app with tracing on, its segments sent over UDP to a socket of the
child standing for the X-Ray daemon (drained between rounds). On a shared machine two processes
differ by more than tracing costs. The import is measured in processes of each mode, alternated.

    python benchmarks/tracing_cost.py [--quick]
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
TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"

CHILD = """
import os, socket, sys, time, json
rounds, calls, measure = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
out = os.fdopen(int(sys.argv[4]), "w")
daemon = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
daemon.bind(("127.0.0.1", 0))
daemon.setblocking(False)
os.environ["AWS_XRAY_DAEMON_ADDRESS"] = "127.0.0.1:%d" % daemon.getsockname()[1]
started = time.perf_counter()
import app
result = {"import_ms": (time.perf_counter() - started) * 1000,
          "tracing": "pym_lambda.tracing" in sys.modules}
def drain():
    count = size = 0
    try:
        while True:
            size += len(daemon.recv(70000))
            count += 1
    except BlockingIOError:
        return count, size
if measure:
    from pym_lambda import create_app
    from pym_lambda.aws_events import LambdaContext, rest_proxy_event
    event = rest_proxy_event("GET", "/v1/books", query={"limit": ["5"]})
    context = LambdaContext("bench")
    os.environ["PYM_TRACING_ENABLED"] = "true"
    traced = create_app(app.__file__)
    apps = {"off": app.app, "on": traced}
    for call in apps.values():
        assert call(event, context)["statusCode"] == 200
    assert traced.pym_service.tracer is not None and app.app.pym_service.tracer is None
    drain()
    best = {"off": [], "on": []}
    for _ in range(rounds):
        for mode, call in apps.items():
            start = time.perf_counter()
            for _ in range(calls):
                call(event, context)
            best[mode].append((time.perf_counter() - start) / calls * 1e6)
            count, size = drain()
            if mode == "on":
                result["datagram_bytes"] = size / max(count, 1)
                result["datagrams"] = count
    result.update({key: min(values) for key, values in best.items()})
out.write(json.dumps(result))
out.close()
"""


def environment(tracing: bool) -> Dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYM_", "AWS_", "_X_"))}
    env.update(config.get("environment_variables", {}))
    env.update(config.get("stages", {}).get("dev", {}).get("environment_variables", {}))
    env.update(PYM_STAGE="dev", PYM_TRACING_ENABLED="true" if tracing else "false",
               PYM_LOG_LEVEL="INFO", AWS_LAMBDA_FUNCTION_NAME="bench",
               AWS_DEFAULT_REGION="us-east-1", PYTHONDONTWRITEBYTECODE="1",
               _X_AMZN_TRACE_ID=TRACE_HEADER)
    return env


def run(tracing: bool, rounds: int, calls: int, measure: bool) -> Dict[str, Any]:
    read, write = os.pipe()
    with open(os.devnull, "w") as null:
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(rounds), str(calls),
                                  "1" if measure else "0", str(write)], cwd=ROOT,
                                 env=environment(tracing), stdout=null, pass_fds=(write,))
    os.close(write)
    with os.fdopen(read) as results:
        text = results.read()
    if child.wait() != 0 or not text:
        raise SystemExit(f"the child (tracing {'on' if tracing else 'off'}) failed")
    result: Dict[str, Any] = json.loads(text)
    assert result.pop("tracing") is tracing  # off imports nothing
    return result


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and processes")
    args = parser.parse_args(argv)
    processes, rounds, calls = (2, 3, 300) if args.quick else (5, 7, 1000)
    timed = run(False, rounds, calls, measure=True)
    imports: Dict[bool, List[float]] = {False: [], True: []}
    for _ in range(processes):
        for tracing in (False, True):
            imports[tracing].append(run(tracing, rounds, calls, False)["import_ms"])
    print(f"GET /v1/books?limit=5, best of {rounds} x {calls} calls per mode in one process; "
          f"import of app.py, median of {processes} processes per mode")
    print(f"tracing on: {timed['datagrams']} datagrams in the last round, "
          f"{timed['datagram_bytes']:.0f} bytes each")
    print("| tracing | us per request | app.py import, ms |")
    print("|---|---|---|")
    for mode, tracing in (("off", False), ("on", True)):
        print(f"| {mode} | {timed[mode]:.1f} | {statistics.median(imports[tracing]):.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
