"""What each optional operations feature costs, on vs off (issue #20): `metrics.enabled`,
`tracing.enabled` and idempotency (`x-idempotent` operations, `@async_task(idempotent=True)`).

For each feature, on the example service:

- per request (and, for idempotency, per task record): both modes in ONE process, rounds
  alternated, the best round of each kept. On a shared machine two processes differ by more
  than these features cost, so the process switches the feature per round (what the runtime
  reads per call: `service.metrics`, a second app with a tracer, the operation's and task's
  idempotent wrapper or the plain function);
- cold start: app.py's import in processes of each mode, alternated, the median of each; a
  process with the feature off must not have imported its module (asserted: off costs nothing).

Requests are called as Lambda calls them (`app(event, context)`, an API Gateway REST event,
JSON logs on stdout sent to /dev/null). Idempotency's table is either a stub (a dict standing for
DynamoDB: the framework's own work, no network, no boto3) or moto's DynamoDB in process (adds
botocore's serialisation and moto's emulation; a real table adds a network round trip per call
instead: two for a first run, one for a duplicate).

    python benchmarks/feature_cost.py [metrics] [tracing] [idempotency] [--quick | --smoke]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"

# The child: argv = rounds, calls, measure (1/0), the result pipe's descriptor, the module the
# feature imports when on. stdout is /dev/null (log lines are written at their cost, as on
# Lambda); the results go to the pipe. The feature's code (FEATURE) runs when measuring.
CHILD = """
import json, os, sys, time
rounds, calls, measure = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
out = os.fdopen(int(sys.argv[4]), "w")
started = time.perf_counter()
import app
result = {"import_ms": (time.perf_counter() - started) * 1000,
          "imported": sys.argv[5] in sys.modules}

def alternate(modes, n, after=None):
    '''Each mode's run(n), rounds alternated after one to warm up: the best microseconds per
    call of each.'''
    for warm in [True] + [False] * rounds:
        for name, run in modes.items():
            start = time.perf_counter()
            run(n)
            us = (time.perf_counter() - start) / n * 1e6
            if not warm:
                result[name] = min(result.get(name, us), us)
            if after is not None:
                after(name)

if measure:
    from pym_lambda.aws_events import LambdaContext, rest_proxy_event
    context = LambdaContext("bench", timeout_ms=900_000)  # Lambda's longest: never runs out
FEATURE
out.write(json.dumps(result))
out.close()
"""

METRICS = """
    from pym_lambda.context import CallContext
    from pym_lambda.logs import log_request
    event = rest_proxy_event("GET", "/v1/books", query={"limit": ["5"]})
    call, service = app.app, app.app.pym_service
    metrics = service.metrics
    assert call(event, context)["statusCode"] == 200
    line = CallContext("c-1", operation="listBooks", method="GET", path="/v1/books")

    def requests(value):
        def run(n):
            service.metrics = value
            for _ in range(n):
                call(event, context)
        return run

    def lines(value):  # the request line alone, as the dispatcher writes it
        def run(n):
            for _ in range(n):
                log_request(line, 200, value)
        return run

    alternate({"off": requests(None), "on": requests(metrics)}, calls)
    alternate({"line_off": lines(None), "line_on": lines(metrics)}, calls * 5)
"""

# app.py's app (tracing off) and a second app made by create_app with tracing on, its segments
# sent over UDP to a socket of the child standing for the X-Ray daemon (drained after rounds).
TRACING = """
    import socket
    daemon = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    daemon.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)  # a round's datagrams
    daemon.bind(("127.0.0.1", 0))
    daemon.setblocking(False)
    os.environ["AWS_XRAY_DAEMON_ADDRESS"] = "127.0.0.1:%d" % daemon.getsockname()[1]
    from pym_lambda import create_app
    event = rest_proxy_event("GET", "/v1/books", query={"limit": ["5"]})
    os.environ["PYM_TRACING_ENABLED"] = "true"
    traced = create_app(app.__file__)
    apps = {"off": app.app, "on": traced}
    for call in apps.values():
        assert call(event, context)["statusCode"] == 200
    assert traced.pym_service.tracer is not None and app.app.pym_service.tracer is None

    def drain(mode):
        count = size = 0
        try:
            while True:
                size += len(daemon.recv(70000))
                count += 1
        except BlockingIOError:
            pass
        if mode == "on":
            result.update(datagrams=count, datagram_bytes=size / max(count, 1))

    def requests(call):
        def run(n):
            for _ in range(n):
                call(event, context)
        return run

    drain("off")
    alternate({mode: requests(call) for mode, call in apps.items()}, calls, drain)
"""

# In the marked copy (addBook x-idempotent, send_loan_receipt idempotent): "off" runs the
# operation's and the task's plain callables (what an unmarked app runs), "on" the idempotent
# wrappers, each first request and record with a new key (a first run: a put and an update).
IDEMPOTENCY = """
    import datetime, itertools
    import pym_lambda.tasks.idempotency as records
    from pym_lambda import models
    from pym_lambda.aws_events import queue_arn, sqs_record
    from pym_lambda.tasks.envelope import encode_envelope, new_envelope
    from chalicelib import tasks

    service = app.app.pym_service
    op = next(o for o in app.app.pym_operations if o.id == "addBook")
    task = tasks.send_loan_receipt
    wrapped = {"call": op.call, "fn": task.fn}
    plain = {"call": op.call.call, "fn": task._body}
    worker = app.pym_task_worker_default
    body = json.dumps({"title": "Dune", "authors": [{"name": "Frank Herbert"}]})
    arn = queue_arn("pym-library-dev-default")
    with service.use():
        loan = models.Loan(reader="r", due=datetime.date(2030, 1, 1), id="l-1", lent_by="u",
                           book_id=1, branch="main")
    keys = itertools.count()

    def post(key):
        headers = {"Content-Type": ["application/json"]}
        if key is not None:
            headers["Idempotency-Key"] = ["k-%d" % key]
        return rest_proxy_event("POST", "/v1/books", headers=headers, body=body)

    def batch():  # ten records, each a new task id
        return {"Records": [sqs_record(encode_envelope(new_envelope(task.name, [loan], {})),
                                       queue_arn=arn) for _ in range(10)]}

    def setting(on):
        op.call, task.fn = (wrapped if on else plain).values()

    def requests(on, n):
        pool = iter([post(next(keys) if on else None) for _ in range(n * (rounds + 1))])
        def run(n):
            setting(on)
            for _ in range(n):
                reply = app.app(next(pool), context)
                assert reply["statusCode"] == 201, reply
        return run

    def records_of(on, n):
        pool = iter([batch() for _ in range(n * (rounds + 1) // 10)])
        def run(n):
            setting(on)
            tasks.RECEIPTS.clear()
            for _ in range(n // 10):
                reply = worker(next(pool), context)
                assert not reply["batchItemFailures"], reply
        return run

    class StubTable:
        '''Stands for DynamoDB: items in a dict, no network, no condition evaluated (each key
        is new here), no boto3.'''
        class exceptions:
            class ConditionalCheckFailedException(Exception):
                pass
        def __init__(self):
            self.items = {}
        def put_item(self, TableName, Item, **_):
            self.items[Item["id"]["S"]] = Item
        def update_item(self, TableName, Key, **_):
            pass
        def delete_item(self, TableName, Key):
            self.items.pop(Key["id"]["S"], None)

    boto3_client = records.aws_client
    stub = StubTable()
    records.aws_client = lambda service, region=None: stub
    tens = max(10, calls // 10 * 10)
    alternate({"off": requests(False, calls), "on_stub": requests(True, calls)}, calls)
    alternate({"task_off": records_of(False, tens), "task_on_stub": records_of(True, tens)},
              tens)
    result["stub_items"] = len(stub.items)
    try:
        from moto import mock_aws
    except ImportError:
        result["moto"] = "not installed"
    else:
        from pym_lambda.aws import aws_client, reset_aws_clients
        from pym_lambda.build.deploy.idempotency_table import TableDefinition, ensure_table
        os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
        records.aws_client = boto3_client
        few = max(10, calls // 100 * 10)  # moto's own work: milliseconds per call
        with mock_aws():
            reset_aws_clients()
            ensure_table(TableDefinition(records.table_name("pym-library", "dev")),
                         aws_client("dynamodb"))
            alternate({"on_moto": requests(True, few)}, few)
            alternate({"task_on_moto": records_of(True, few)}, few)
        result["moto_calls"] = few
"""


def _marked_copy(on: bool, work: Path) -> Path:
    """The example service, copied; `on`: addBook marked x-idempotent and the receipt task
    idempotent (both copies, so that the two modes import from the same kind of place)."""
    project = work / ("idempotent" if on else "plain")
    if project.exists():
        return project
    project.mkdir(parents=True)
    for name in ("app.py", "pym-config.yaml"):
        shutil.copy(ROOT / name, project / name)
    for name in ("chalicelib", "apis", ".chalice"):
        shutil.copytree(ROOT / name, project / name,
                        ignore=shutil.ignore_patterns("__pycache__", "pym_compiled.json"))
    if on:
        _patch(project / "apis" / "library.yaml", "      operationId: addBook\n",
               "      operationId: addBook\n      x-idempotent: true\n")
        _patch(project / "chalicelib" / "tasks.py", '@async_task(queue="default", max_attempts=3)',
               '@async_task(queue="default", max_attempts=3, idempotent=True)')
    return project


def _patch(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    if text.count(old) != 1:
        raise SystemExit(f"feature_cost: {path} no longer has {old.strip()!r} once: update me")
    path.write_text(text.replace(old, new))


class Feature(NamedTuple):
    name: str
    module: str  # imported when on, never when off
    code: str  # the per-call measurement (CHILD's FEATURE)
    measure_on: bool  # the measuring process's own mode (its code switches the other)
    env: Callable[[bool], Dict[str, str]]  # the mode's settings
    project: Callable[[bool, Path], Path]  # where the mode's app.py is
    rows: List[Tuple[str, str]]  # (result key, what it is), per call


FEATURES = {
    "metrics": Feature(
        "metrics", "pym_lambda.metrics", METRICS, True,
        lambda on: {"PYM_METRICS_ENABLED": "true" if on else "false"},
        lambda on, work: ROOT,
        [("off", "GET /v1/books?limit=5, metrics off"),
         ("on", "GET /v1/books?limit=5, metrics on"),
         ("line_off", "the request line alone, off"),
         ("line_on", "the request line alone, on (EMF members)")]),
    "tracing": Feature(
        "tracing", "pym_lambda.tracing", TRACING, False,
        lambda on: {"PYM_TRACING_ENABLED": "true" if on else "false",
                    "_X_AMZN_TRACE_ID": TRACE_HEADER},
        lambda on, work: ROOT,
        [("off", "GET /v1/books?limit=5, tracing off"),
         ("on", "GET /v1/books?limit=5, tracing on (4 spans, 1 datagram)")]),
    "idempotency": Feature(
        "idempotency", "pym_lambda.tasks.idempotency", IDEMPOTENCY, True,
        lambda on: {}, _marked_copy,
        [("off", "POST /v1/books, not marked"),
         ("on_stub", "POST /v1/books x-idempotent with a new key, stub table"),
         ("on_moto", "the same, moto's DynamoDB in process"),
         ("task_off", "task record, not idempotent"),
         ("task_on_stub", "task record, idempotent, stub table"),
         ("task_on_moto", "task record, idempotent, moto's DynamoDB in process")]),
}


def environment(feature: Feature, on: bool) -> Dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYM_", "AWS_", "_X_"))}
    env.update(config.get("environment_variables", {}))
    env.update(config.get("stages", {}).get("dev", {}).get("environment_variables", {}))
    env.update(PYM_STAGE="dev", PYM_LOG_LEVEL="INFO", AWS_LAMBDA_FUNCTION_NAME="bench",
               AWS_DEFAULT_REGION="us-east-1", PYTHONDONTWRITEBYTECODE="1")
    env.update(feature.env(on))
    return env


def run(feature: Feature, on: bool, work: Path, rounds: int = 1, calls: int = 1,
        measure: bool = False, python: str = sys.executable) -> Dict[str, Any]:
    """One child of `feature` in mode `on`: its import of app.py and, with `measure`, its
    per-call figures. Off must have imported nothing of the feature."""
    read, write = os.pipe()
    code = CHILD.replace("FEATURE", feature.code if measure else "")
    with open(os.devnull, "w") as null:
        child = subprocess.Popen([python, "-c", code, str(rounds), str(calls),
                                  "1" if measure else "0", str(write), feature.module],
                                 cwd=feature.project(on, work), env=environment(feature, on),
                                 stdout=null, stderr=subprocess.PIPE, pass_fds=(write,))
    os.close(write)
    with os.fdopen(read) as results:
        text = results.read()
    error = child.communicate()[1].decode(errors="replace")
    mode = "on" if on else "off"
    if child.returncode != 0 or not text:
        last = " / ".join(line.strip() for line in error.strip().splitlines()[-3:])[-600:]
        raise RuntimeError(f"{feature.name} {mode}: the child failed: {last}")
    result: Dict[str, Any] = json.loads(text)
    if result.pop("imported") is not on:
        raise RuntimeError(f"{feature.name} {mode}: {feature.module} "
                           f"{'was not' if on else 'was'} imported")
    return result


def measure(names: List[str], *, quick: bool = False, smoke: bool = False,
            python: str = sys.executable,
            log: Callable[[str], None] = lambda _: None) -> Dict[str, Any]:
    """Every feature's per-call figures and import medians: {name: {...} or {"error": ..}}."""
    processes, rounds, calls = ((1, 1, 20) if smoke else (2, 3, 300) if quick else (5, 7, 1000))
    out: Dict[str, Any] = {"processes": processes, "rounds": rounds, "calls": calls}
    work = Path(tempfile.mkdtemp(prefix="pym-feature-cost-"))
    try:
        for name in names:
            feature = FEATURES[name]
            log(f"  {name}: on vs off")
            try:
                timed = run(feature, feature.measure_on, work, rounds, calls, True, python)
                imports: Dict[bool, List[float]] = {False: [], True: []}
                for _ in range(processes):
                    for on in (False, True):
                        imports[on].append(run(feature, on, work, python=python)["import_ms"])
                timed.pop("import_ms")
                timed["import_off_ms"] = statistics.median(imports[False])
                timed["import_on_ms"] = statistics.median(imports[True])
                out[name] = timed
            except Exception as exc:  # noqa: BLE001 - reported, and fails run.py --smoke
                out[name] = {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def report_lines(data: Dict[str, Any]) -> List[str]:
    """The features' section of a report (run.py's and this script's)."""
    if not data:
        return []
    lines = ["", "## Operations features: on vs off (issue #20)", "",
             f"Per call: best of {data['rounds']} rounds x {data['calls']} calls per mode, "
             "modes alternated in one process; import of app.py: median of "
             f"{data['processes']} processes per mode (the module of a feature off is never "
             "imported: asserted).", "",
             "| feature | measured | us per call | app.py import off / on, ms |",
             "|---|---|---|---|"]
    for name, feature in FEATURES.items():
        res = data.get(name)
        if res is None:
            continue
        if "error" in res:
            lines.append(f"| {name} | ERROR: {res['error'][-300:]} | | |")
            continue
        imports = f"{res['import_off_ms']:.1f} / {res['import_on_ms']:.1f}"
        for key, about in feature.rows:
            value = res.get(key)
            shown = f"{value:.1f}" if isinstance(value, (int, float)) else "n/a"
            lines.append(f"| {name} | {about} | {shown} | {imports} |")
            imports = ""
        if "datagrams" in res:
            lines.append(f"| {name} | datagrams to the daemon, last round: {res['datagrams']}, "
                         f"{res['datagram_bytes']:.0f} bytes each | | |")
        if res.get("moto"):
            lines.append(f"| {name} | moto rows: moto {res['moto']} | | |")
        if res.get("moto_calls"):
            lines.append(f"| {name} | moto rows: {res['moto_calls']} calls per round (moto "
                         "takes milliseconds per call) | | |")
    return lines


def failures(data: Dict[str, Any]) -> List[str]:
    return [f"feature cost {name}: {res['error']}" for name, res in data.items()
            if isinstance(res, dict) and res.get("error")]


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("features", nargs="*", metavar="FEATURE",
                        help=f"some of {', '.join(FEATURES)} (default: all)")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="fewer rounds and processes")
    size.add_argument("--smoke", action="store_true", help="each measurement once, tiny counts")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.features) - set(FEATURES))
    if unknown:
        parser.error(f"unknown feature {', '.join(unknown)}; known: {', '.join(FEATURES)}")
    data = measure(args.features or list(FEATURES), quick=args.quick, smoke=args.smoke,
                   log=lambda text: print(text, file=sys.stderr))
    print("\n".join(report_lines(data)[2:]))
    return 1 if failures(data) else 0


if __name__ == "__main__":
    sys.exit(main())
