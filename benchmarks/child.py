"""What runs inside the benchmark's child processes (one fresh interpreter per measurement).

The cold start is not here: run.py times `python -c "import app"` with a minimal script, so that
nothing this module imports is preloaded.

    python benchmarks/child.py MODE JSON-ARGS

Every mode prints one JSON object on its last line of stdout. Modes:
    requests  per-request time of one peer through its in-process entry point
    profile   cProfile of pym-lambda's per-request loop (top functions)
    scale     `create_app(project)` on a generated project: import time and peak RSS
    tasks     pym_lambda.tasks worker vs a bare @app.on_sqs_message handler (skips if absent)
    wsgi      pym_lambda.wsgi in-process throughput (skips if absent)
"""
from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import time
import traceback

T_START = time.perf_counter()
HERE = os.path.dirname(os.path.abspath(__file__))


_OUT_FD = 1


def silence_output():
    """Send everything the apps write (log lines, warnings) to /dev/null, as cheaply as a fast
    log sink would take it; keep the real stdout for the result. The formatting cost of each
    log record is still paid, as on Lambda."""
    global _OUT_FD
    sys.stdout.flush()
    sys.stderr.flush()
    _OUT_FD = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)


def emit(obj):
    sys.stdout.flush()
    os.write(_OUT_FD, ("\n" + json.dumps(obj) + "\n").encode())


def maxrss_kb():
    """Peak RSS of this process, KiB. VmHWM, not getrusage's ru_maxrss: on Linux ru_maxrss
    survives exec, so a child reports its parent's peak if that was larger (it was: the
    benchmark's parent holds the generated 1,000-operation spec)."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# ---------------------------------------------------------------------------------- senders
def lambda_sender(app, req):
    from workload import LambdaContext

    event, ctx = req.event(), LambdaContext()

    def send():
        out = app(event, ctx)
        return out["statusCode"], out.get("body")
    return send, event


class AsgiDriver:
    """Calls an ASGI app on one event loop, as a server would, without an HTTP client."""

    def __init__(self, app):
        import asyncio

        self.app = app
        self.loop = asyncio.new_event_loop()
        self.lifespan_done = None
        self._start_lifespan()

    def _start_lifespan(self):
        import asyncio

        started = self.loop.create_future()
        self._stop = self.loop.create_future()
        queue = [{"type": "lifespan.startup"}]

        async def receive():
            if queue:
                return queue.pop()
            await self._stop
            return {"type": "lifespan.shutdown"}

        async def send(message):
            if message["type"].startswith("lifespan.startup") and not started.done():
                started.set_result(message["type"])

        async def run():
            try:
                await self.app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}},
                               receive, send)
            except Exception as exc:  # noqa: BLE001 - an app without lifespan support
                if not started.done():
                    started.set_result(f"no lifespan: {exc}")

        self.lifespan_task = self.loop.create_task(run())
        self.lifespan_state = self.loop.run_until_complete(asyncio.wait_for(started, 30))

    def sender(self, req):
        scope, body = req.asgi()
        loop = self.loop
        app = self.app

        async def call():
            done = loop.create_future()
            sent = [False]
            status = [0]
            chunks = []

            async def receive():
                if not sent[0]:
                    sent[0] = True
                    return {"type": "http.request", "body": body, "more_body": False}
                await done
                return {"type": "http.disconnect"}

            async def send(message):
                if message["type"] == "http.response.start":
                    status[0] = message["status"]
                elif message["type"] == "http.response.body":
                    chunks.append(message.get("body", b""))
                    if not message.get("more_body") and not done.done():
                        done.set_result(True)

            await app(dict(scope, state={}), receive, send)
            if not done.done():
                done.set_result(True)
            return status[0], b"".join(chunks).decode()

        def send():
            return loop.run_until_complete(call())
        return send, None


def flask_sender(flask_app, req):
    client = flask_app.test_client()
    path = req.path + (f"?{req.query_string}" if req.query else "")
    headers = dict(req.headers)
    data = req.body

    def send():
        resp = client.open(path, method=req.method, headers=headers, data=data)
        return resp.status_code, resp.get_data(as_text=True)
    return send, None


def load_peer(args):
    sys.path[:0] = args["sys_path"]
    sys.path.insert(0, HERE)
    import importlib

    module = importlib.import_module(args["module"])
    app = getattr(module, args.get("attr") or "app")
    kind = args.get("kind", "lambda")
    if kind == "lambda":
        return lambda req: lambda_sender(app, req)
    if kind == "asgi":
        driver = AsgiDriver(app)
        return driver.sender
    if kind == "flask":
        flask_app = getattr(module, "flask_app", app)
        return lambda req: flask_sender(flask_app, req)
    raise ValueError(f"unknown peer kind {kind}")


def _check(send, req, lenient_201=False):
    status, body = send()
    if status != req.expect and not (lenient_201 and req.expect == 201 and status == 200):
        raise AssertionError(f"{req.method} {req.path}: status {status}, expected "
                             f"{req.expect}: {str(body)[:300]}")
    return json.loads(body) if body else None


def _summary(req, data):
    if isinstance(data, dict) and "books" in data:
        return {"count": data.get("count"), "returned": len(data["books"])}
    if isinstance(data, dict):
        return {"keys": sorted(data)}
    return None


def timed(send, target_s, repeats, smoke, timer="wall"):
    """timeit-style: calibrate a loop count, then the median of `repeats` timed loops.
    timer "cpu" counts this process's CPU time (all its threads) instead of wall time."""
    perf = time.process_time if timer == "cpu" else time.perf_counter
    if smoke:
        t0 = perf()
        send()
        one = perf() - t0
        return {"us": one * 1e6, "min_us": one * 1e6, "loops": 1, "repeats": 1}
    # warm-up: at least 20 calls and ~10% of the target
    t_end = perf() + target_s / 10
    calls = 0
    while calls < 20 or perf() < t_end:
        send()
        calls += 1
    n = 1
    while True:
        t0 = perf()
        for _ in range(n):
            send()
        elapsed = perf() - t0
        if elapsed >= target_s * 0.5 or n >= 1_000_000:
            break
        n = max(n * 2, int(n * target_s / max(elapsed, 1e-6) * 0.6))
    per = []
    for _ in range(repeats):
        t0 = perf()
        for _ in range(n):
            send()
        per.append((perf() - t0) / n)
    return {"us": statistics.median(per) * 1e6, "min_us": min(per) * 1e6,
            "max_us": max(per) * 1e6, "loops": n, "repeats": repeats}


def mode_requests(args):
    import copy

    from workload import REQUESTS, SEED

    out = {"requests": {}}
    make = load_peer(args)
    lenient = args.get("lenient_201", False)  # PyMacaron answers 200 where the spec says 201
    for req in SEED:
        send, _ = make(req)
        _check(send, req, lenient)
    for req in REQUESTS:
        entry = out["requests"][req.name] = {}
        try:
            send, event = make(req)
            before = copy.deepcopy(event) if event is not None else None
            entry["sample"] = _summary(req, _check(send, req, lenient))
            if event is not None and event != before:
                entry["note"] = "the app mutated the event"
            entry.update(timed(send, args.get("target_s", 0.1), args.get("repeats", 7),
                               args.get("smoke", False), args.get("timer", "wall")))
        except Exception as exc:  # noqa: BLE001 - reported, the run goes on
            entry["error"] = f"{type(exc).__name__}: {exc}"
            entry["traceback"] = traceback.format_exc()[-2000:]
    out["maxrss_kb"] = maxrss_kb()
    emit(out)


def mode_profile(args):
    import cProfile
    import pstats

    from workload import REQUESTS, SEED

    make = load_peer(args)
    for req in SEED:
        _check(make(req)[0], req)
    out = {}
    for req in REQUESTS:
        send, _ = make(req)
        for _ in range(200):
            send()
        prof = cProfile.Profile()
        n = args.get("loops", 2000)
        prof.enable()
        for _ in range(n):
            send()
        prof.disable()
        stats = pstats.Stats(prof)
        total = stats.total_tt
        rows = []
        for (file, line, func), (_cc, nc, tt, ct, _callers) in stats.stats.items():
            rows.append({"func": f"{_short(file)}:{line}({func})", "calls_per_req": nc / n,
                         "tottime_us": tt / n * 1e6, "cumtime_us": ct / n * 1e6})
        groups = {}
        for (file, _line, _func), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():
            g = _component(file)
            groups[g] = groups.get(g, 0.0) + tt / n * 1e6
        by_tot = sorted(rows, key=lambda r: -r["tottime_us"])[:args.get("top", 15)]
        # the framework's own functions by cumulative time (what each stage costs)
        own = [r for r in rows if r["func"].startswith("pym_lambda/")]
        by_cum = sorted(own, key=lambda r: -r["cumtime_us"])[:args.get("top", 15) * 2]
        out[req.name] = {"profiled_us_per_req": total / n * 1e6, "top_tottime": by_tot,
                         "top_cumtime": by_cum,
                         "self_us_by_component": dict(sorted(groups.items(),
                                                             key=lambda kv: -kv[1]))}
    emit(out)


COMPONENTS = (("pym_lambda/", "pym-lambda"), ("jsonschema", "jsonschema+referencing"),
              ("referencing/", "jsonschema+referencing"), ("rpds", "jsonschema+referencing"),
              ("openapi_schema_validator", "jsonschema+referencing"),
              ("attr/", "jsonschema+referencing"), ("chalice/", "chalice"),
              ("/json/", "json"), ("/logging/", "logging"), ("benchmarks/", "harness"))


def _component(file):
    for marker, name in COMPONENTS:
        if marker in file:
            return name
    if file.startswith("~") or file == "~":
        return "builtins (C calls)"
    if "site-packages/" in file:
        return file.split("site-packages/", 1)[1].split("/", 1)[0]
    return "stdlib/other"


def _short(file):
    for marker in ("site-packages/", "/work/main/", "lib/python3"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


# ------------------------------------------------------------------------------------ scale
def mode_scale(args):
    t0, c0 = time.perf_counter(), time.process_time()
    import pym_lambda  # noqa: F401
    from pym_lambda import create_app
    t1, c1 = time.perf_counter(), time.process_time()
    rss_framework = maxrss_kb()
    app = create_app(args["project"])
    t2, c2 = time.perf_counter(), time.process_time()
    emit({"import_framework_ms": (t1 - t0) * 1000, "create_app_ms": (t2 - t1) * 1000,
          "total_ms": (t2 - t0) * 1000, "create_app_cpu_ms": (c2 - c1) * 1000,
          "total_cpu_ms": (c2 - c0) * 1000, "maxrss_kb": maxrss_kb(),
          "framework_rss_kb": rss_framework,
          "routes": sum(len(m) for m in app.routes.values())})


# ------------------------------------------------------------------------------------ tasks
TASK_MODULE = '''
from pym_lambda.tasks import async_task

def work(n, label):
    """The same small job for both handlers."""
    return sum(i * i for i in range(n)) + len(label)

@async_task(queue="bench")
def bench_task(n, label):
    return work(n, label)
'''


def mode_tasks(args):
    import importlib.util
    import tempfile

    # the Lambda-faithful mode: the framework and Chalice a package ships (its var/task)
    sys.path[:0] = args.get("sys_path") or []
    try:
        spec = importlib.util.find_spec("pym_lambda.tasks.worker")
    except ImportError:
        spec = None
    if spec is None:
        emit({"skipped": "pym_lambda.tasks.worker is not importable"})
        return
    tmp = None
    try:

        from chalice import Chalice
        from workload import LambdaContext

        from pym_lambda.aws_events import sqs_record
        from pym_lambda.tasks import register_task_handlers
        from pym_lambda.tasks.envelope import encode_envelope, new_envelope

        tmp = tempfile.mkdtemp(prefix="pym-bench-tasks-")
        with open(os.path.join(tmp, "bench_tasks_mod.py"), "w") as f:
            f.write(TASK_MODULE)
        sys.path.insert(0, tmp)
        import bench_tasks_mod as mod

        os.environ.setdefault("PYM_APP_NAME", "pym-bench")
        app = Chalice(app_name="pym-bench")
        handlers = register_task_handlers(app, queues=["bench"])
        pym_handler = next(iter(handlers.values()))

        @app.on_sqs_message(queue="pym-bench-bare")
        def bare_handler(event):
            for record in event:
                body = json.loads(record.body)
                mod.work(*body["args"], **body["kwargs"])

        def record(body):
            return sqs_record(body, queue_arn="arn:aws:sqs:us-east-1:123456789012:"
                                              "pym-bench-dev-bench")

        batch = args.get("batch", 10)
        work_n = args.get("work_n", 50)
        bodies = [encode_envelope(new_envelope(mod.bench_task.name, [work_n, f"job-{i}"], {}))
                  for i in range(batch)]
        event = {"Records": [record(b) for b in bodies]}
        ctx = LambdaContext()

        def run_pym():
            out = pym_handler(event, ctx)
            if out and out.get("batchItemFailures"):
                raise AssertionError(f"task failures: {out}")

        def run_bare():
            bare_handler(event, ctx)

        def run_work_only():
            for i in range(batch):
                mod.work(work_n, f"job-{i}")

        res = {"batch": batch}
        # Passes alternate the three, and each keeps its best median (as the per-request table
        # does): a burst of load from elsewhere then cannot land on one side only.
        passes = 1 if args.get("smoke") else 3
        for _ in range(passes):
            for name, fn in (("pym_worker", run_pym), ("bare_sqs_handler", run_bare),
                             ("work_only", run_work_only)):
                t = timed(fn, args.get("target_s", 0.1), args.get("repeats", 7),
                          args.get("smoke", False), args.get("timer", "wall"))
                if name not in res or t["us"] < res[name]["us_per_batch"]:
                    res[name] = {"us_per_record": t["us"] / batch, "us_per_batch": t["us"]}
        res["overhead_us_per_record"] = (res["pym_worker"]["us_per_record"]
                                         - res["bare_sqs_handler"]["us_per_record"])
        emit(res)
    except Exception as exc:  # noqa: BLE001
        emit({"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()[-2000:]})
    finally:
        if tmp:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)


# ------------------------------------------------------------------------------------- wsgi
WSGI_ENTRY_POINTS = ("make_wsgi_app", "wsgi_app", "create_wsgi_app")


def mode_wsgi(args):
    import importlib.util

    try:
        spec = importlib.util.find_spec("pym_lambda.wsgi")
    except ImportError:
        spec = None
    if spec is None:
        emit({"skipped": "pym_lambda.wsgi does not exist yet"})
        return
    try:
        import importlib
        import io

        wsgi = importlib.import_module("pym_lambda.wsgi")
        entry = next((getattr(wsgi, n) for n in WSGI_ENTRY_POINTS if hasattr(wsgi, n)), None)
        if entry is None:
            emit({"skipped": f"pym_lambda.wsgi has none of {', '.join(WSGI_ENTRY_POINTS)}; "
                             f"it exports {sorted(n for n in dir(wsgi) if not n.startswith('_'))}"})
            return
        sys.path[:0] = args["sys_path"]
        import app as app_module

        wsgi_app = entry(app_module.app)
        from workload import REQUESTS, SEED

        def environ(req):
            body = (req.body or "").encode()
            env = {"REQUEST_METHOD": req.method, "PATH_INFO": req.path,
                   "QUERY_STRING": req.query_string, "SERVER_NAME": "localhost",
                   "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
                   "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
                   "wsgi.errors": sys.stderr, "wsgi.version": (1, 0),
                   "wsgi.multithread": False, "wsgi.multiprocess": False,
                   "wsgi.run_once": False, "CONTENT_LENGTH": str(len(body))}
            for k, v in req.headers.items():
                key = k.upper().replace("-", "_")
                if key == "CONTENT_TYPE":
                    env["CONTENT_TYPE"] = v
                else:
                    env["HTTP_" + key] = v
            return env, body

        def sender(req):
            base, body = environ(req)

            def send():
                env = dict(base)
                env["wsgi.input"] = io.BytesIO(body)
                status = []

                def start_response(s, headers, exc_info=None):
                    status.append(s)
                b"".join(wsgi_app(env, start_response))
                return int(status[0].split()[0]), None
            return send

        for req in SEED:
            sender(req)()
        res = {"entry_point": entry.__name__, "requests": {}}
        for req in REQUESTS:
            t = timed(sender(req), args.get("target_s", 0.1), args.get("repeats", 5),
                      args.get("smoke", False), args.get("timer", "wall"))
            res["requests"][req.name] = {"us": t["us"], "req_per_s_one_core": 1e6 / t["us"]}
        emit(res)
    except Exception as exc:  # noqa: BLE001
        emit({"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()[-2000:]})


MODES = {"requests": mode_requests, "profile": mode_profile,
         "scale": mode_scale, "tasks": mode_tasks, "wsgi": mode_wsgi}

if __name__ == "__main__":
    sys.path.insert(0, HERE)
    if sys.argv[1] != "scale":
        silence_output()
    try:
        MODES[sys.argv[1]](json.loads(sys.argv[2]))
    except Exception as exc:  # noqa: BLE001 - stderr is /dev/null: report it in the result
        emit({"error": f"{type(exc).__name__}: {exc}"[:500],
              "traceback": traceback.format_exc()[-2000:]})
