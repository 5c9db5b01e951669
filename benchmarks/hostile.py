"""Hostile input vs well-formed input of the same size (issue #16's "done when").

    python benchmarks/run.py --only hostile          # sizes 1 KiB .. the body limit
    python benchmarks/run.py --only hostile --smoke  # tiny sizes, short deadline

For each attack class, a hostile request and a well-formed request OF THE SAME SIZE (the bytes
the client controls: the body, the query string or the headers) are sent as API Gateway REST
proxy events into the Lambda handler of a small dedicated service (benchmarks/hostile_service/:
`type: number` parameters and form fields, `pattern`, `patternProperties`, `uniqueItems`), at
sizes growing geometrically up to `limits.max_body_bytes`. What is compared is the CPU time of
one request, hostile / well-formed, per size: `time.thread_time` (the handler runs on the main
thread; process_time loses its resolution to clock ticks while a CPU timer is armed).

Each (class, size) runs in a fresh child process (this file, `child` mode). Every request there
runs under a CPU-time deadline (`setitimer(ITIMER_PROF)` with SIGPROF's default action, which
kills the process even inside a C regex loop): a request past it is reported as "> N s,
unbounded" and the class's larger sizes are not tried (they would only take longer).
"""
from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

HERE = Path(__file__).resolve().parent
SERVICE = HERE / "hostile_service"

KIB = 1024
BODY_LIMIT = 1024 * KIB  # LimitSettings.max_body_bytes' default (pym_lambda/config/keys.py)
FULL_SIZES = [KIB, 8 * KIB, 64 * KIB, 512 * KIB, BODY_LIMIT]
SMOKE_SIZES = [KIB, 4 * KIB]
DEADLINE_S = 10.0  # CPU seconds one request may take before it counts as unbounded
SMOKE_DEADLINE_S = 2.0

# Targets (issue #16): a hostile request costs at most a constant factor more than a
# well-formed one of the same size. 10x leaves room for what linear defences cost per byte
# (hashing a canonical form of each uniqueItems element, building an error) over a request that
# is only parsed and checked once, while any super-linear cost blows past it at 1 MiB
# (quadratic: ~1,000x). "Not growing": from 64 KiB (where the fixed per-request cost, ~50 us,
# no longer hides the per-byte cost) to the limit the ratio may at most double; a linear pair
# stays near 1x, a quadratic one grows 16x.
RATIO_MAX = 10.0
GROWTH_MAX = 2.0
GROWTH_FROM = 64 * KIB
# Between two consecutive sizes answered alike, the hostile time may grow at most as
# size^1.5 (linear: 1, quadratic: 2): this catches a class that is super-linear below a cap
# (a header parameter: quadratic up to 16 KiB, then refused by limits.max_header_bytes), which
# the ratio at the largest size cannot see. Judged where both times are >= 1 ms (below, noise).
LOCAL_EXPONENT_MAX = 1.5
# Below 1 ms of CPU a request costs what any request costs (routing, the log line): ratios and
# growth between such times are noise (measured: 0.12-0.38 ms for the same 431 at 1 MiB).
FLOOR_S = 1e-3


# ------------------------------------------------------------------------------- the attacks
class Request:
    """One request of a class: what it sends, and how many bytes of it the client chose."""

    def __init__(self, method: str, path: str, *, query: Optional[List[Tuple[str, str]]] = None,
                 headers: Optional[List[Tuple[str, str]]] = None,
                 body: Optional[str] = None, content_type: str = "application/json") -> None:
        self.method, self.path = method, path
        self.query = query or []
        self.chosen_headers = headers or []
        self.headers = [("Host", "bench.example.com"), ("Accept", "application/json"),
                        *self.chosen_headers]
        self.body = body
        if body is not None:
            self.headers.append(("Content-Type", content_type))

    def size(self) -> int:
        """The bytes the client controls: body, query string (k=v&...), headers (k: v CRLF)."""
        return (len((self.body or "").encode())
                + len("&".join(f"{k}={v}" for k, v in self.query))
                + sum(len(k) + len(v) + 4 for k, v in self.chosen_headers))

    def event(self) -> Dict[str, Any]:
        from pym_lambda.aws_events import rest_proxy_event

        query: Dict[str, List[str]] = {}
        for k, v in self.query:
            query.setdefault(k, []).append(v)
        headers: Dict[str, List[str]] = {}
        for k, v in self.headers:
            headers.setdefault(k, []).append(v)
        return rest_proxy_event(self.method, self.path, resource=self.path, headers=headers,
                                query=query, body=self.body, stage="api",
                                request_id="c6af9ac6-7b61-11e6-9a41-93e8deadbeef")


def json_body(obj: Dict[str, Any], size: int) -> Request:
    """POST /v1/items with obj, padded to `size` bytes with the declared string `note`."""
    base = json.dumps(dict(obj, note=""), separators=(",", ":"))
    return Request("POST", "/v1/items", body=base.replace('"note":""', '"note":"'
                                                          + "n" * max(0, size - len(base)) + '"'))


def _count(size: int, cost: Callable[[int], int]) -> int:
    """How many numbered pieces (piece i costing cost(i) bytes) fill `size` bytes."""
    n = total = 0
    while total + cost(n) <= size or n == 0:
        total += cost(n)
        n += 1
    return n


def number_query(size: int, hostile: bool) -> Request:
    n = size - 2  # "n=" + value
    value = "1" * (n - 1) + "x" if hostile else "0." + "1" * (n - 2)
    return Request("GET", "/v1/numbers", query=[("n", value)])


def number_form(size: int, hostile: bool) -> Request:
    n = size - len("amount=")
    value = "1" * (n - 1) + "x" if hostile else "0." + "1" * (n - 2)
    return Request("POST", "/v1/payments", body="amount=" + value,
                   content_type="application/x-www-form-urlencoded")


def number_header(size: int, hostile: bool) -> Request:
    n = size - len("X-Amount") - 4  # "X-Amount: " + value + CRLF
    value = "1" * (n - 1) + "x" if hostile else "0." + "1" * (n - 2)
    return Request("GET", "/v1/numbers", headers=[("X-Amount", value)])


def pattern(size: int, hostile: bool) -> Request:
    n = size - len('{"code":"","note":""}')
    return json_body({"code": "a" * (n - 1) + ("!" if hostile else "a")}, size)


def pattern_properties(size: int, hostile: bool) -> Request:
    n = size - len('{"labels":{"":1},"note":""}')
    return json_body({"labels": {"a" * (n - 1) + ("!" if hostile else "a"): 1}}, size)


def unique_items(size: int, hostile: bool) -> Request:
    # distinct small objects, under `uniqueItems: true` (hostile) or a plain array
    items = [{"k": i} for i in range(_count(size - 30, lambda i: len(str(i)) + 8))]
    return json_body({"unique" if hostile else "plain": items}, size)


def deep_nesting(size: int, hostile: bool) -> Request:
    n = (size - 30) // 2
    data = "[" * n + "]" * n if hostile else "[" + ",".join(["0"] * (n // 2 + 1)) + "]"
    body = '{"data":' + data + '}'
    return Request("POST", "/v1/items", body=body + " " * max(0, size - len(body)))


def many_query_params(size: int, hostile: bool) -> Request:
    if hostile:  # undeclared, each distinct
        count = _count(size, lambda i: len(str(i)) + 4)
        return Request("GET", "/v1/numbers", query=[(f"p{i}", "1") for i in range(count)])
    return Request("GET", "/v1/numbers", query=[("q", "a" * (size - 3))])


def many_headers(size: int, hostile: bool) -> Request:
    if hostile:
        return Request("GET", "/v1/numbers",
                       headers=[(f"X-H{i}", "1")
                                for i in range(_count(size, lambda i: len(str(i)) + 8))])
    return Request("GET", "/v1/numbers", headers=[("X-Pad", "a" * (size - 9))])


def many_cookies(size: int, hostile: bool) -> Request:
    if hostile:
        value = "; ".join(f"c{i}=1" for i in range(_count(size - 8,
                                                          lambda i: len(str(i)) + 5)))
    else:
        value = "session=" + "a" * (size - 18)
    return Request("GET", "/v1/numbers", headers=[("Cookie", value)])


def error_echo(size: int, hostile: bool) -> Request:
    # an enum value of `size` bytes: its error description may quote it
    n = size - len('{"color":"","note":""}')
    return json_body({"color": "z" * n} if hostile else {"color": "red"}, size)


def undeclared_fields(size: int, hostile: bool) -> Request:
    # the well-formed request carries as many small values, declared: {"plain": [{"k": i}...]}
    if hostile:
        return json_body({f"f{i}": 1 for i in range(_count(size - 20,
                                                           lambda i: len(str(i)) + 6))}, size)
    return json_body({"plain": [{"k": i} for i in range(_count(size - 30,
                                                               lambda i: len(str(i)) + 8))]},
                     size)


# name -> (builder, what the hostile request is)
CLASSES: Dict[str, Tuple[Callable[[int, bool], Request], str]] = {
    "number_query": (number_query, "`type: number` query parameter: digits + 'x' "
                                   "(well-formed: '0.111...')"),
    "number_form": (number_form, "`type: number` form field: digits + 'x'"),
    "number_header": (number_header, "`type: number` header parameter: digits + 'x'"),
    "pattern": (pattern, "string with `pattern: '^(a+)+$'`: 'aaa...!' (well-formed: 'aaa...a')"),
    "pattern_properties": (pattern_properties, "patternProperties '^(a+)+$': key 'aaa...!'"),
    "unique_items": (unique_items, "`uniqueItems` over n distinct {\"k\": i} "
                                   "(well-formed: the same array without uniqueItems)"),
    "deep_nesting": (deep_nesting, "[[[[...]]]] (well-formed: [0,0,0,...])"),
    "many_query_params": (many_query_params, "n undeclared query parameters "
                                             "(well-formed: one declared string)"),
    "many_headers": (many_headers, "n headers (well-formed: one header)"),
    "many_cookies": (many_cookies, "n cookies (well-formed: one declared cookie)"),
    "error_echo": (error_echo, "an invalid enum value of the whole size "
                               "(well-formed: valid value + a declared string)"),
    "undeclared_fields": (undeclared_fields, "n undeclared body fields "
                                             "(well-formed: a declared array of n objects)"),
}


# ------------------------------------------------------------------------------- child side
def _child(args: Dict[str, Any]) -> None:
    """Import the service, send well-formed then hostile requests of one class and size.
    Prints one JSON line per side as soon as it is measured (a killed child keeps them)."""
    sys.path.insert(0, args["project"])
    out_fd = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # the service's log lines, as on Lambda: formatted, then discarded
    os.dup2(devnull, 2)
    import app as service  # noqa: PLC0415
    from pym_lambda.aws_events import LambdaContext

    handler = service.app
    ctx = LambdaContext("pym-bench", timeout_ms=900_000)
    build = CLASSES[args["cls"]][0]
    deadline = float(args["deadline_s"])

    def send(event: Dict[str, Any]) -> Tuple[float, Dict[str, Any]]:
        # thread_time, not process_time: with ITIMER_PROF armed Linux counts the process's
        # CPU time in clock ticks (4 ms), the thread's stays exact
        signal.setitimer(signal.ITIMER_PROF, deadline)  # default action of SIGPROF: exit
        t0 = time.thread_time()
        out = handler(event, ctx)
        cpu = time.thread_time() - t0
        signal.setitimer(signal.ITIMER_PROF, 0)
        return cpu, out

    for _ in range(3):  # warm-up on a small well-formed request of the class
        send(build(256, False).event())
    for side in ("well", "hostile"):
        if side == "hostile" and args.get("skip_hostile"):
            break
        req = build(int(args["size"]), side == "hostile")
        event = req.event()
        os.write(out_fd, (json.dumps({"side": side, "started": True}) + "\n").encode())
        times: List[float] = []
        spent = 0.0
        while True:  # the median of up to `repeats` sends, within ~0.3 s
            try:
                cpu, out = send(event)
            except BaseException as exc:  # noqa: BLE001 - out of the handler: Lambda's 502
                os.write(out_fd, (json.dumps({"side": side, "crash": f"the handler raised "
                                              f"{type(exc).__name__}"}) + "\n").encode())
                return
            times.append(cpu)
            spent += cpu
            if len(times) >= args["repeats"] or spent > 0.3:
                break
        body = out.get("body") or ""
        said = ""
        if out.get("statusCode", 0) >= 400:
            try:
                said = str(json.loads(body).get("error_description", ""))[:120]
            except (ValueError, AttributeError):
                said = body[:120]
        os.write(out_fd, (json.dumps({
            "side": side, "size": req.size(), "cpu_s": sorted(times)[len(times) // 2],
            "samples": len(times), "status": out.get("statusCode"),
            "response_bytes": len(body.encode()), "said": said}) + "\n").encode())


# ------------------------------------------------------------------------------ parent side
def prepare(python: str, work: Path) -> Path:
    """A copy of the service with its compile cache, as the example's project-tree peer."""
    project = work / "hostile_service"
    shutil.copytree(SERVICE, project, ignore=shutil.ignore_patterns("__pycache__",
                                                                    "pym_compiled.json"))
    proc = subprocess.run([python, "-m", "pym_lambda.build.cli", "build", "--project-dir",
                           str(project)], cwd=str(project), capture_output=True, text=True,
                          timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"pym-lambda build of {project} failed: {proc.stderr[-800:]}")
    return project


def _run_child(python: str, project: Path, env: Dict[str, str], cls: str, size: int,
               deadline: float, repeats: int, skip_hostile: bool) -> Dict[str, Any]:
    args = {"project": str(project), "cls": cls, "size": size, "deadline_s": deadline,
            "repeats": repeats, "skip_hostile": skip_hostile}
    cmd = [python, str(Path(__file__).resolve()), "child", json.dumps(args)]
    # the CPU deadline is the child's own; this wall-clock one only guards against a stuck
    # child on a machine so busy that 10 CPU seconds take minutes
    try:
        proc = subprocess.run(cmd, cwd=str(project), env=env, capture_output=True, text=True,
                              timeout=deadline * 3 + 120)
        stdout, rc = proc.stdout, proc.returncode
    except subprocess.TimeoutExpired as exc:
        stdout = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        rc = None
    res: Dict[str, Any] = {}
    started = None
    for line in stdout.splitlines():
        if line.startswith("{"):
            d = json.loads(line)
            if d.get("started"):
                started = d["side"]
            else:
                res[d["side"]] = d
                started = None
    if started is not None:  # killed during that side's request
        if rc == -signal.SIGPROF or rc is None:
            res[started] = {"timeout": True}
        else:
            res[started] = {"crash": f"worker died (exit {rc})"}
    elif rc not in (0, None) and not res:
        res["error"] = f"child exited {rc} before measuring"
    return res


def measure(python: str, work: Path, env: Dict[str, str], *, smoke: bool = False,
            quick: bool = False, classes: Optional[List[str]] = None,
            log: Callable[[str], None] = print) -> Dict[str, Any]:
    unknown = sorted(set(classes or ()) - set(CLASSES))
    if unknown:
        raise ValueError(f"unknown attack classes {unknown}; known: {', '.join(CLASSES)}")
    project = prepare(python, work)
    sizes = SMOKE_SIZES if smoke else FULL_SIZES
    deadline = SMOKE_DEADLINE_S if smoke else DEADLINE_S
    repeats = 1 if smoke else 3 if quick else 7
    out: Dict[str, Any] = {"sizes": sizes, "deadline_s": deadline, "classes": {}}
    for cls in classes or list(CLASSES):
        rows: List[Dict[str, Any]] = []
        unbounded = False
        for size in sizes:
            t0 = time.perf_counter()
            res = _run_child(python, project, env, cls, size, deadline, repeats, unbounded)
            if unbounded:
                res["hostile"] = {"timeout": True, "skipped": True}
            if (res.get("hostile") or {}).get("timeout"):
                unbounded = True
            h, w = res.get("hostile") or {}, res.get("well") or {}
            if "cpu_s" in h and w.get("cpu_s"):
                res["ratio"] = h["cpu_s"] / w["cpu_s"]
            res["target_size"] = size
            rows.append(res)
            log(f"  hostile: {cls} {size // KIB} KiB ({time.perf_counter() - t0:.1f} s)")
        out["classes"][cls] = {"about": CLASSES[cls][1], "rows": rows,
                               "verdict": verdict(rows, deadline)}
    return out


def verdict(rows: List[Dict[str, Any]], deadline: float) -> Dict[str, Any]:
    """Bounded when no request ran past the deadline or killed its worker, the hostile time grew
    at most as size^LOCAL_EXPONENT_MAX between consecutive sizes (or, where the well-formed
    time grew as fast, the ratio at most as size^(LOCAL_EXPONENT_MAX - 1); a hostile request
    cheaper than its twin is not judged on growth), the ratio at the largest size is at most
    RATIO_MAX and it grew at most GROWTH_MAX times from GROWTH_FROM to the largest size; also
    the growth exponent of the hostile request's time (log-log slope over sizes >= 64 KiB: ~1
    linear, ~2 quadratic)."""
    last = rows[-1] if rows else {}
    if any((r.get("hostile") or {}).get("timeout") for r in rows):
        first = next(r["target_size"] for r in rows if (r.get("hostile") or {}).get("timeout"))
        return {"bounded": False, "why": f"> {deadline:g} s from {first // KIB} KiB on: "
                                         f"unbounded"}
    crashed = [r for r in rows if (r.get("hostile") or {}).get("crash")]
    if crashed:
        return {"bounded": False, "why": f"{crashed[0]['hostile']['crash']} at "
                                         f"{crashed[0]['target_size'] // KIB} KiB"}
    if any("ratio" not in r for r in rows):
        return {"bounded": None, "why": "a measurement failed"}
    for a, b in zip(rows, rows[1:], strict=False):
        ha, hb = a["hostile"], b["hostile"]
        if ha["status"] == hb["status"] and min(ha["cpu_s"], hb["cpu_s"]) >= FLOOR_S:
            scale = math.log(hb["size"] / ha["size"])
            local = math.log(hb["cpu_s"] / ha["cpu_s"]) / scale
            # judged against the well-formed twin: a big well-formed body may itself grow
            # faster than linear (the allocator, the GC); the hostile one may not outgrow it
            relative = math.log(b["ratio"] / a["ratio"]) / scale
            # (and a hostile request cheaper than its twin is no attack, however it grows)
            if local > LOCAL_EXPONENT_MAX and relative > LOCAL_EXPONENT_MAX - 1 \
                    and b["ratio"] > 1:
                return {"bounded": False,
                        "why": f"time ~ size^{local:.2f} from {a['target_size'] // KIB} to "
                               f"{b['target_size'] // KIB} KiB ({_fmt_side(ha, 0)} -> "
                               f"{_fmt_side(hb, 0)}, {b['ratio']:.0f}x)"}
    big = [r for r in rows if r["target_size"] >= GROWTH_FROM]
    growth = big[-1]["ratio"] / big[0]["ratio"] if len(big) >= 2 else None
    exponent = None
    if len(big) >= 2:
        xs = [math.log(r["hostile"]["size"]) for r in big]
        ys = [math.log(max(r["hostile"]["cpu_s"], 1e-9)) for r in big]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        exponent = (sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
                    / sum((x - mx) ** 2 for x in xs))
    ok = last["hostile"]["cpu_s"] < FLOOR_S or last["ratio"] <= 1 or (
        last["ratio"] <= RATIO_MAX and (growth is None or growth <= GROWTH_MAX))
    return {"bounded": ok, "ratio_at_largest": last["ratio"], "growth": growth,
            "exponent": exponent,
            "why": f"{last['ratio']:.1f}x at {last['target_size'] // KIB} KiB"
                   + (" (under 1 ms: not judged)" if last["hostile"]["cpu_s"] < FLOOR_S else "")
                   + (f", grew {growth:.2f}x from {GROWTH_FROM // KIB} KiB" if growth else "")
                   + (f", time ~ size^{exponent:.2f}" if exponent is not None else "")}


def _fmt_side(d: Dict[str, Any], deadline: float) -> str:
    if d.get("timeout"):
        return f"> {deadline:g} s" + (" (skipped)" if d.get("skipped") else "")
    if "cpu_s" not in d:
        return d.get("crash", "-")
    ms = d["cpu_s"] * 1000
    return f"{ms:,.2f} ms" if ms < 100 else f"{ms:,.0f} ms"


def report_lines(data: Dict[str, Any]) -> List[str]:
    if data.get("error"):
        return ["## Hostile input", "", f"error: {data['error']}", ""]
    deadline = data.get("deadline_s", DEADLINE_S)
    out = [f"## Hostile input vs well-formed input of the same size (CPU ms per request; "
           f"deadline {deadline:g} CPU s)", "",
           "| class | size | well-formed | status | hostile | status | hostile/well | "
           "hostile response |",
           "|---|---|---|---|---|---|---|---|"]
    for cls, c in data.get("classes", {}).items():
        for r in c["rows"]:
            h, w = r.get("hostile") or {}, r.get("well") or {}
            size = r["target_size"]
            ratio = r.get("ratio")
            out.append(
                f"| {cls} | {size // KIB} KiB | {_fmt_side(w, deadline)} | {w.get('status', '')} "
                f"| {_fmt_side(h, deadline)} | {h.get('status', '')} | "
                f"{'unbounded' if h.get('timeout') else '-' if ratio is None else f'{ratio:.2f}x'}"
                f" | {h.get('response_bytes', '')} B |".replace("|  B |", "| |"))
    out += ["", "Per class: " + "; ".join(f"{cls} = {c['about']}"
                                          for cls, c in data.get("classes", {}).items()), ""]
    return out


def targets(data: Dict[str, Any]) -> List[Dict[str, Any]]:
    out = []
    for cls, c in (data.get("classes") or {}).items():
        v = c["verdict"]
        out.append({"name": f"hostile {cls}: bounded (<= {RATIO_MAX:g}x well-formed at the "
                            f"largest size, ratio <= {GROWTH_MAX:g}x from {GROWTH_FROM // KIB} "
                            f"KiB, time <= ~size^{LOCAL_EXPONENT_MAX:g} between sizes)",
                    "pass": v["bounded"], "detail": v["why"]})
        bad = [f"{r['target_size'] // KIB} KiB: "
               f"{r['hostile'].get('status') or r['hostile']['crash']}" for r in c["rows"]
               if (r.get("hostile") or {}).get("status", 0) >= 500
               or (r.get("hostile") or {}).get("crash")]
        out.append({"name": f"hostile {cls}: answered 4xx or 2xx, never 5xx",
                    "pass": not bad if any("status" in (r.get("hostile") or {})
                                           or "crash" in (r.get("hostile") or {})
                                           for r in c["rows"]) else None,
                    "detail": ", ".join(bad) or "no 5xx"})
    return out


def failures(data: Dict[str, Any]) -> List[str]:
    """Errors of the measurement itself, or a well-formed request that failed; a hostile
    request that is slow, refused or kills its worker is a finding (the targets), not this."""
    errors = [f"hostile: {data['error']}"] if data.get("error") else []
    for cls, c in (data.get("classes") or {}).items():
        for r in c["rows"]:
            well = r.get("well") or {}
            where = f"hostile {cls} {r['target_size']} B"
            if "error" in r:
                errors.append(f"{where}: {r['error']}")
            elif "cpu_s" not in well:
                errors.append(f"{where} well-formed: {well.get('crash') or 'past the deadline'}")
            elif well.get("status", 500) >= 500:
                errors.append(f"{where} well-formed: status {well['status']}: {well['said']}")
    return errors


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "child":
    _child(json.loads(sys.argv[2]))
