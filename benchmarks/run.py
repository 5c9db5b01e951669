#!/usr/bin/env python3
"""pym-lambda's benchmark suite: cold start, per-request time and scale, side by side with peers.

    bash benchmarks/setup.sh              # once: /work/bench-venv with the project and peers
    python benchmarks/run.py              # full run (~5-10 minutes), writes LAST_RUN.md
    python benchmarks/run.py --quick      # CI-sized (~2-3 minutes)
    python benchmarks/run.py --smoke      # every measurement once; exit 1 if pym-lambda errors
    python benchmarks/run.py --json out.json

Everything is measured in child processes of the benchmark venv's interpreter (peers and
pym-lambda alike), one after the other, and the Lambda-faithful mode (lambda_mode.py) in the
Lambda runtime's interpreter on the packages as shipped; no AWS call is made (only
`pym-lambda package` reaches the package index, for the service's requirements). See
benchmarks/README.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import feature_cost  # noqa: E402
import hostile  # noqa: E402
import lambda_mode  # noqa: E402
import lambda_runtime  # noqa: E402
from peerdefs import Peer, child_env, peers, stage_env  # noqa: E402
from workload import REQUESTS  # noqa: E402

DEFAULT_VENV = Path(os.environ.get("BENCH_VENV", "/work/bench-venv"))

# Targets of issue #8.
COLD_RATIO_MAX = 1.5        # cold import of the example service vs the bare Chalice app
REQUEST_RATIO_MAX = 2.0     # per request with full validation vs bare Chalice
SCALE_1000_MAX_MS = 1000.0  # import + create_app of 1,000 operations
LINEAR_RATIO_MAX = 2.0      # slope 300->1,000 over slope 100->300 (see evaluate_targets)
TASK_RATIO_MAX = 1.5        # task worker per record vs a bare @app.on_sqs_message (issue #5)

COLD_CODE = (
    "import time\n"
    "t0, c0 = time.perf_counter(), time.process_time()\n"
    "import sys\n"
    "sys.path[:0] = {paths!r}\n"
    "import {module}\n"
    "t1, c1 = time.perf_counter(), time.process_time()\n"
    "import json\n"
    "def peak_kb():\n"
    "    try:\n"
    "        with open('/proc/self/status') as f:\n"
    "            return next(int(l.split()[1]) for l in f if l.startswith('VmHWM:'))\n"
    "    except (OSError, StopIteration):\n"
    "        import resource\n"
    "        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "print(json.dumps({{'import_ms': (t1 - t0) * 1000, 'import_cpu_ms': (c1 - c0) * 1000,"
    " 'maxrss_kb': peak_kb()}}))\n"
)


# ---------------------------------------------------------------------------------- helpers
class Runner:
    def __init__(self, python: str, verbose: bool = False) -> None:
        self.python = python
        self.verbose = verbose

    def child(self, mode: str, args: Dict[str, Any], *, python: Optional[str] = None,
              cwd: Optional[str] = None, env: Optional[Dict[str, str]] = None,
              timeout: float = 300) -> Dict[str, Any]:
        cmd = [python or self.python, str(HERE / "child.py"), mode, json.dumps(args)]
        return self._run(cmd, cwd, env, timeout)

    def _run(self, cmd: List[str], cwd: Optional[str], env: Optional[Dict[str, str]],
             timeout: float) -> Dict[str, Any]:
        return lambda_runtime.run_child(cmd, cwd, env, timeout)


def median(values: List[float]) -> Optional[float]:
    return statistics.median(values) if values else None


def fmt(value: Optional[float], digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def ratio(value: Optional[float], base: Optional[float]) -> Optional[float]:
    if value is None or not base:
        return None
    return value / base


def fmt_ratio(r: Optional[float]) -> str:
    return "-" if r is None else f"{r:.2f}x"


def table(headers: List[str], rows: List[List[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    out = ["| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |",
           "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    for r in rows:
        cells = [c.rjust(w) if i else c.ljust(w)
                 for i, (c, w) in enumerate(zip(r, widths, strict=True))]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -------------------------------------------------------------------------------- preparation
def read_peer_status(venv: Path) -> Dict[str, str]:
    status: Dict[str, str] = {}
    path = venv / "bench-peers.txt"
    if path.is_file():
        for line in path.read_text().splitlines():
            name, _, rest = line.partition(" ")
            status[name] = rest
    return status


PROJECT_FILES = ("app.py", "chalicelib", "apis", ".chalice", "pym-config.yaml")


def project_copies(python: str, work: Path, out: Dict[str, Path]) -> Dict[str, Path]:
    """Copies of the example service, so that nothing is written into the work tree:
    - tree: app.py, apis/, chalicelib/ and configs, with the compile cache `pym-lambda build`
      writes (chalicelib/pym_compiled.json), as a developer's tree has after one run;
    - nocache: the same without the cache (run with PYM_NO_COMPILE_CACHE=1);
    - built: what Chalice packages for Lambda: no apis/, no pym-config.yaml."""
    ignore = shutil.ignore_patterns("__pycache__", "pym_compiled.json", "*.tmp")
    nocache = work / "pym_nocache"
    for name in PROJECT_FILES:
        s = ROOT / name
        if s.is_dir():
            shutil.copytree(s, nocache / name, ignore=ignore)
        elif s.is_file():
            nocache.mkdir(parents=True, exist_ok=True)
            shutil.copy2(s, nocache / name)
    out["nocache"] = nocache
    tree = work / "pym_tree"
    shutil.copytree(nocache, tree)
    out["tree"] = tree  # filled as we go: a failed build still leaves copies to measure
    build(python, tree)
    built = work / "pym_built"
    shutil.copytree(tree, built, ignore=shutil.ignore_patterns("apis", "__pycache__",
                                                               "pym-config.yaml"))
    out["built"] = built
    return out


def build(python: str, project: Path) -> None:
    proc = subprocess.run([python, "-m", "pym_lambda.build.cli", "build", "--project-dir",
                           str(project)], cwd=str(project), capture_output=True, text=True,
                          timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"pym-lambda build failed in {project}: {proc.stderr[-800:]}")


def prepare_pymacaron(work: Path) -> Path:
    target = work / "pymacaron"
    shutil.copytree(HERE / "peers" / "pymacaron", target,
                    ignore=shutil.ignore_patterns("__pycache__", "*_app.py", "*_models.py"))
    return target


# ------------------------------------------------------------------------------------- cold
COLD_KEYS = ("import_ms", "import_cpu_ms", "wall_ms", "maxrss_kb")


def measure_cold(runner: Runner, plist: List[Peer], runs: int, timer: str) -> Dict[str, Any]:
    plist = [p for p in plist if p.cold]
    results: Dict[str, Any] = {p.key: {k: [] for k in COLD_KEYS} for p in plist}
    results["python"] = {k: [] for k in COLD_KEYS}

    def one(peer: Optional[Peer]) -> Dict[str, Any]:
        if peer is None:  # the interpreter alone: the floor of any wall time
            code = COLD_CODE.format(paths=[], module="json")
            return runner._run([runner.python, "-c", code], None, None, 60)
        code = COLD_CODE.format(paths=peer.sys_path(), module=peer.module)
        return runner._run([peer.python or runner.python, "-c", code], peer.dir,
                           child_env(peer), 120)

    everyone: List[Optional[Peer]] = [None, *plist]
    for peer in everyone:  # warm-up: writes .pyc files (PyMacaron: generates its code)
        res = one(peer)
        if "error" in res and peer is not None:
            results[peer.key]["error"] = res["error"]
    for i in range(runs):  # round robin, so that drift hits every peer alike
        for peer in everyone:
            key = "python" if peer is None else peer.key
            if "error" in results[key]:
                continue
            res = one(peer)
            if "error" in res:
                results[key]["error"] = res["error"]
                continue
            for k in COLD_KEYS:
                results[key][k].append(res[k])
        log(f"  cold start: round {i + 1}/{runs}")
    for r in results.values():
        r["median_import_wall_ms"] = median(r["import_ms"])
        r["median_import_cpu_ms"] = median(r["import_cpu_ms"])
        # the figure the table, the ratios and the targets use
        r["median_import_ms"] = r["median_import_cpu_ms" if timer == "cpu"
                                  else "median_import_wall_ms"]
        r["median_wall_ms"] = median(r["wall_ms"])
        r["median_maxrss_kb"] = median(r["maxrss_kb"])
    return results


# ---------------------------------------------------------------------------------- requests
def measure_requests(runner: Runner, plist: List[Peer], repeats: int, target_s: float,
                     smoke: bool, passes: int = 1, timer: str = "wall") -> Dict[str, Any]:
    """Each peer in its own process; with passes > 1, every peer is measured again after all
    the others and the lower median kept, so that a burst of load elsewhere on the machine
    does not land on one peer only."""
    out: Dict[str, Any] = {}
    for n in range(passes):
        for peer in plist:
            if not peer.requests:
                continue
            log(f"  per request (pass {n + 1}/{passes}): {peer.label}")
            args = {"sys_path": peer.sys_path(), "module": peer.module, "attr": peer.attr,
                    "kind": peer.kind, "repeats": repeats, "target_s": target_s,
                    "smoke": smoke, "lenient_201": peer.key == "pymacaron",
                    "timer": timer}
            res = runner.child("requests", args, python=peer.python, cwd=peer.dir,
                               env=child_env(peer))
            prev = out.get(peer.key)
            if prev is None or "error" in prev:
                out[peer.key] = res
                continue
            for name, entry in (res.get("requests") or {}).items():
                old = prev["requests"].get(name) or {}
                passes_us = old.get("passes_us", [old.get("us")]) + [entry.get("us")]
                if "error" not in entry and (old.get("us") is None
                                             or entry["us"] < old["us"]):
                    prev["requests"][name] = entry
                prev["requests"][name]["passes_us"] = passes_us
    return out


# ------------------------------------------------------------------------------------- scale
def measure_scale(runner: Runner, work: Path, sizes: List[int], runs: int,
                  timer: str = "wall") -> Dict[str, Any]:
    from gen_spec import write_project

    projects: Dict[str, Path] = {}
    for n in sizes:
        src = write_project(n, work / f"gen{n}")
        build(runner.python, src)
        built = work / f"gen{n}_built"
        shutil.copytree(src, built, ignore=shutil.ignore_patterns("apis", "__pycache__"))
        (src / "chalicelib" / "pym_compiled.json").unlink()  # the source form reads apis/
        projects[f"{n}:yaml"] = src
        projects[f"{n}:compiled"] = built
    results: Dict[str, Any] = {k: {"total_ms": [], "create_app_ms": [], "maxrss_kb": []}
                               for k in projects}
    env = dict(os.environ, PYM_NO_COMPILE_CACHE="1")  # the yaml form compiles every time
    env.pop("PYTHONPATH", None)
    for key, path in projects.items():  # warm-up
        res = runner.child("scale", {"project": str(path)}, env=env)
        if "error" in res:
            results[key]["error"] = res["error"]
    for i in range(runs):
        for key, path in projects.items():
            if "error" in results[key]:
                continue
            res = runner.child("scale", {"project": str(path)}, env=env)
            if "error" in res:
                results[key]["error"] = res["error"]
                continue
            suffix = "_cpu" if timer == "cpu" else ""
            results[key]["total_ms"].append(res["total" + suffix + "_ms"])
            results[key]["create_app_ms"].append(res["create_app" + suffix + "_ms"])
            results[key]["maxrss_kb"].append(res["maxrss_kb"])
            results[key]["routes"] = res["routes"]
            results[key]["spec_bytes"] = sum(
                f.stat().st_size for f in [path / "apis" / "gen.yaml",
                                           path / "chalicelib" / "pym_compiled.json"]
                if f.is_file())
        log(f"  scale: round {i + 1}/{runs}")
    for r in results.values():
        for k in ("total_ms", "create_app_ms", "maxrss_kb"):
            r[f"median_{k}"] = median(r[k])
    return results


# ---------------------------------------------------------------------------------- analysis
def importtime(python: str, peer: Peer, top: int = 12) -> Dict[str, Any]:
    """`python -X importtime -c 'import app'`: the modules app.py's import spends most in."""
    code = f"import sys; sys.path[:0] = {peer.sys_path()!r}; import {peer.module}"
    proc = subprocess.run([python, "-X", "importtime", "-c", code], cwd=peer.dir,
                          env=child_env(peer), capture_output=True, text=True, timeout=120)
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "[us]" in line:
            continue
        self_us, cum_us, name = line.split(":", 1)[1].split("|")
        depth = (len(name) - len(name.lstrip()) - 1) // 2
        rows.append({"module": name.strip(), "self_ms": int(self_us) / 1000,
                     "cum_ms": int(cum_us) / 1000, "depth": depth})
    idx = next((i for i, r in enumerate(rows) if r["module"] == peer.module), None)
    app_row = rows[idx] if idx is not None else None
    # importtime prints a module after its imports: app.py's subtree is the run of deeper rows
    # just before it. Show its imports two levels down, largest first.
    subtree = []
    if idx is not None:
        i = idx - 1
        while i >= 0 and rows[i]["depth"] > app_row["depth"]:
            subtree.append(rows[i])
            i -= 1
    top_level = [dict(r, depth=r["depth"] - app_row["depth"] - 1) for r in subtree
                 if r["depth"] <= app_row["depth"] + 2] if app_row else []
    top_level.sort(key=lambda r: -r["cum_ms"])
    third_party = {}
    for r in subtree:
        root = r["module"].split(".")[0]
        third_party.setdefault(root, 0.0)
        third_party[root] += r["self_ms"]
    by_package = sorted(third_party.items(), key=lambda kv: -kv[1])[:top]
    return {"app_cum_ms": app_row["cum_ms"] if app_row else None,
            "app_self_ms": app_row["self_ms"] if app_row else None,
            "top_imports": top_level[:top],
            "self_ms_by_package": [{"package": k, "self_ms": v} for k, v in by_package]}


def profile_cold(python: str, peer: Peer, top: int = 15) -> Dict[str, Any]:
    """cProfile of `import app`: the functions create_app spends most in (cumulative)."""
    code = (
        "import cProfile, pstats, sys, json\n"
        f"sys.path[:0] = {peer.sys_path()!r}\n"
        "prof = cProfile.Profile(); prof.enable()\n"
        f"import {peer.module}\n"
        "prof.disable()\n"
        "st = pstats.Stats(prof)\n"
        "rows = []\n"
        "for (f, l, fn), (cc, nc, tt, ct, _) in st.stats.items():\n"
        "    if 'pym_lambda' in f or 'openapi_schema_validator' in f or 'jsonschema' in f \\\n"
        "       or 'yaml' in f or 'referencing' in f:\n"
        "        short = f.split('site-packages/')[-1].split('/work/main/')[-1]\n"
        "        rows.append({'func': f'{short}:{l}({fn})', 'calls': nc,"
        " 'tottime_ms': tt * 1000, 'cumtime_ms': ct * 1000})\n"
        f"rows.sort(key=lambda r: -r['cumtime_ms']); print(json.dumps(rows[:{top * 2}]))\n"
    )
    proc = subprocess.run([python, "-c", code], cwd=peer.dir, env=child_env(peer),
                          capture_output=True, text=True, timeout=120)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("[")]
    return {"top_cumtime": json.loads(lines[-1]) if lines else [],
            "error": None if lines else proc.stderr[-800:]}


# ------------------------------------------------------------------------------------ report
def report(data: Dict[str, Any], plist: List[Peer]) -> str:
    out: List[str] = []
    labels = {p.key: p.label for p in plist}
    cold = data.get("cold") or {}
    bare = cold.get("bare", {})
    bare_imp, bare_wall = bare.get("median_import_ms"), bare.get("median_wall_ms")
    py_wall = (cold.get("python") or {}).get("median_wall_ms")
    if cold:
        rows = []
        for p in plist:
            if not p.cold:
                continue
            r = cold.get(p.key, {})
            if "error" in r and not r.get("import_ms"):
                rows.append([p.label, "error", "", "", "", ""])
                continue
            imp, wall = r.get("median_import_ms"), r.get("median_wall_ms")
            rows.append([p.label, fmt(imp), fmt_ratio(ratio(imp, bare_imp)), fmt(wall),
                         fmt_ratio(ratio(wall, bare_wall)),
                         fmt((r.get("median_maxrss_kb") or 0) / 1024)])
        rows.append(["python -c 'import json' (interpreter floor)", "-", "-", fmt(py_wall),
                     "-", fmt(((cold.get("python") or {}).get("median_maxrss_kb") or 0) / 1024)])
        runs = len(bare.get("import_ms") or [])
        out += [f"## Cold start (fresh process, median of {runs})", "",
                table(["peer", "import CPU ms" if data.get("timer") == "cpu" else "import ms",
                       "vs bare", "wall ms", "vs bare", "peak RSS MB"], rows), ""]
        errs = [f"- {labels.get(k, k)}: {v['error']}" for k, v in cold.items()
                if isinstance(v, dict) and v.get("error")]
        if errs:
            out += ["Errors:", *errs, ""]

    reqs = data.get("requests") or {}
    if reqs:
        names = [r.name for r in REQUESTS]
        base = {n: ((reqs.get("bare") or {}).get("requests") or {}).get(n, {}).get("us")
                for n in names}
        rows = []
        notes = []
        for p in plist:
            if p.key not in reqs:
                continue
            r = reqs[p.key]
            if "error" in r:
                rows.append([p.label] + ["error"] * (2 * len(names)))
                notes.append(f"- {p.label}: {r['error']}")
                continue
            row = [p.label]
            for n in names:
                e = (r.get("requests") or {}).get(n, {})
                if "error" in e:
                    row += ["error", ""]
                    notes.append(f"- {p.label}, {n}: {e['error']}")
                    continue
                row += [fmt(e.get("us")), fmt_ratio(ratio(e.get("us"), base[n]))]
                if e.get("note"):
                    notes.append(f"- {p.label}, {n}: {e['note']}")
            rows.append(row)
        headers = ["peer"]
        for n in names:
            headers += [f"{n} us", "vs bare"]
        n_loops = next((e.get("repeats") for r in reqs.values()
                        for e in (r.get("requests") or {}).values() if e.get("repeats")), 0)
        n_pass = max((len(e.get("passes_us") or [1]) for r in reqs.values()
                      for e in (r.get("requests") or {}).values()), default=1)
        how = ("CPU time, " if data.get("timer") == "cpu" else "") + \
            f"median of {n_loops} timed loops" + (
            f", best of {n_pass} passes over all peers" if n_pass > 1 else "")
        out += [f"## Per request (in process, microseconds, {how})", "",
                table(headers, rows), ""]
        samples = []
        for p in plist:
            r = (reqs.get(p.key) or {}).get("requests") or {}
            s = (r.get(names[1]) or {}).get("sample")
            if s:
                samples.append(f"{p.key}={s.get('returned')}/{s.get('count')}")
        if samples:
            out += [f"List responses (returned/count): {', '.join(samples)}", ""]
        if notes:
            out += ["Errors and notes:", *notes, ""]

    scale = data.get("scale") or {}
    if scale:
        rows = []
        sizes = sorted({int(k.split(":")[0]) for k in scale})
        for form in ("yaml", "compiled"):
            prev = None
            for n in sizes:
                r = scale.get(f"{n}:{form}", {})
                if r.get("error"):
                    rows.append([f"{n}", form, "error", "", "", "", ""])
                    continue
                tot, ca, rss = (r.get("median_total_ms"), r.get("median_create_app_ms"),
                                r.get("median_maxrss_kb"))
                growth_ms = growth_kb = None
                if prev is not None and tot is not None:
                    growth_ms = (ca - prev[1]) / (n - prev[0])
                    growth_kb = (rss - prev[2]) / (n - prev[0])
                rows.append([f"{n}", form, fmt(tot), fmt(ca), fmt(rss / 1024 if rss else None),
                             fmt(growth_ms, 2), fmt(growth_kb, 1)])
                if tot is not None:
                    prev = (n, ca, rss)
        runs = len(next(iter(scale.values())).get("total_ms") or [])
        out += [f"## Scale: generated specs (fresh process, median of {runs}"
                f"{', CPU time' if data.get('timer') == 'cpu' else ''})", "",
                table(["operations", "form", "import + create_app ms", "create_app ms",
                       "peak RSS MB", "ms / added op", "KB / added op"], rows), "",
                "Growth columns: the slope from the previous size (create_app time, peak RSS).",
                ""]

    extra = []
    tasks = data.get("tasks")
    if tasks:
        if tasks.get("skipped") or tasks.get("error"):
            extra.append(f"- task worker: {tasks.get('skipped') or 'error: ' + tasks['error']}")
        else:
            extra.append(
                f"- task worker (batch of {tasks['batch']}): pym_lambda.tasks "
                f"{fmt(tasks['pym_worker']['us_per_record'])} us/record, bare "
                f"@app.on_sqs_message {fmt(tasks['bare_sqs_handler']['us_per_record'])} "
                f"us/record ({task_ratio(tasks):.2f}x), the work alone "
                f"{fmt(tasks['work_only']['us_per_record'])} us/record: overhead "
                f"{fmt(tasks['overhead_us_per_record'])} us/record")
    wsgi = data.get("wsgi")
    if wsgi:
        if wsgi.get("skipped") or wsgi.get("error"):
            extra.append(f"- WSGI: {wsgi.get('skipped') or 'error: ' + wsgi['error']}")
        else:
            parts = [f"{n}: {fmt(v['us'])} us ({fmt(v['req_per_s_one_core'], 0)} req/s on one "
                     f"core)" for n, v in wsgi["requests"].items()]
            extra.append(f"- WSGI ({wsgi['entry_point']}, in process): " + "; ".join(parts))
    if extra:
        out += ["## Task worker and WSGI fallback", "", *extra, ""]

    if data.get("hostile"):
        out += hostile.report_lines(data["hostile"])

    out += lambda_mode.report_lines(data.get("lambda") or {})
    out += feature_cost.report_lines(data.get("features") or {})

    targets = data.get("targets") or []
    if targets:
        load = (data.get("machine") or {}).get("loadavg_1min")
        out += ["## Targets", ""]
        if load:
            out += [f"Machine load while measuring (1-minute load average): {load[0]:.2f} at "
                    f"the start, {load[1]:.2f} at the end, on {data['machine']['cpus']} CPUs.",
                    ""]
        out += [f"- {'PASS' if t['pass'] else 'FAIL' if t['pass'] is False else 'N/A '}  "
                f"{t['name']}: {t['detail']}" for t in targets]
        out.append("")

    ana = data.get("analysis") or {}
    if ana:
        out += ["## Where pym-lambda's time goes", ""]
        it = ana.get("importtime") or {}
        if it:
            out.append(f"`python -X importtime -c 'import app'` ({ana.get('importtime_of')}): "
                       f"app.py total {fmt(it.get('app_cum_ms'))} ms, of which its own code "
                       f"(create_app) {fmt(it.get('app_self_ms'))} ms. Largest imports "
                       f"(cumulative ms):")
            out += [f"    {r['cum_ms']:8.1f}  {'  ' * r['depth']}{r['module']}"
                    for r in it.get("top_imports", [])]
            out.append("Self time by top-level package (ms): " + ", ".join(
                f"{r['package']} {r['self_ms']:.1f}" for r in it.get("self_ms_by_package", [])))
            out.append("")
        pc = ana.get("profile_cold") or {}
        if pc.get("top_cumtime"):
            out.append("cProfile of `import app` (cumulative ms, framework functions):")
            out += [f"    {r['cumtime_ms']:8.1f}  {r['func']}  (x{r['calls']})"
                    for r in pc["top_cumtime"][:18]]
            out.append("")
        pr = ana.get("profile_requests") or {}
        for name, r in pr.items():
            if not isinstance(r, dict) or "top_tottime" not in r:
                continue
            out.append(f"cProfile of {name} (under the profiler {fmt(r['profiled_us_per_req'])} "
                       f"us/request). Self time by component, us per request: " + ", ".join(
                           f"{k} {v:.0f}" for k, v in (r.get("self_us_by_component") or {}
                                                      ).items() if v >= 1))
            out.append("  top self time, us per request:")
            out += [f"    {x['tottime_us']:7.1f}  {x['func']}  (x{x['calls_per_req']:.0f})"
                    for x in r["top_tottime"][:10]]
            out.append("  pym-lambda's functions by cumulative time, us per request:")
            out += [f"    {x['cumtime_us']:7.1f}  {x['func']}  (x{x['calls_per_req']:.0f})"
                    for x in r["top_cumtime"][:14]]
            out.append("")
    return "\n".join(out)


def task_ratio(tasks: Dict[str, Any]) -> float:
    return float(tasks["pym_worker"]["us_per_record"]) / float(
        tasks["bare_sqs_handler"]["us_per_record"])


def evaluate_targets(data: Dict[str, Any]) -> List[Dict[str, Any]]:
    targets: List[Dict[str, Any]] = []
    cold = data.get("cold") or {}
    bare_imp = (cold.get("bare") or {}).get("median_import_ms")
    for key, label in (("pym_built", "Lambda package"), ("pym", "project tree"),
                       ("pym_nocache", "YAML compiled at import")):
        imp = (cold.get(key) or {}).get("median_import_ms")
        if imp is None or not bare_imp:
            continue
        r = imp / bare_imp
        targets.append({"name": f"cold import ({label}) <= {COLD_RATIO_MAX}x bare Chalice",
                        "pass": r <= COLD_RATIO_MAX,
                        "detail": f"{imp:.1f} ms vs {bare_imp:.1f} ms = {r:.2f}x "
                                  f"({'within' if r <= COLD_RATIO_MAX else 'over'} by "
                                  f"{abs(r - COLD_RATIO_MAX) / COLD_RATIO_MAX * 100:.0f}%)"})
    reqs = data.get("requests") or {}

    def us(peer: str, name: str) -> Optional[float]:
        return (((reqs.get(peer) or {}).get("requests") or {}).get(name) or {}).get("us")
    for req in REQUESTS:
        pym, bare = us("pym", req.name), us("bare", req.name)
        if pym is None or bare is None:
            continue
        r = pym / bare
        targets.append({"name": f"{req.name}: per request <= {REQUEST_RATIO_MAX}x bare Chalice",
                        "pass": r <= REQUEST_RATIO_MAX,
                        "detail": f"{pym:.1f} us vs {bare:.1f} us = {r:.2f}x"})
        for pt in ("pt_validate", "pt_fjs", "pt_pydantic"):
            other = us(pt, req.name)
            if other is None:
                continue
            targets.append({"name": f"{req.name}: below {pt}",
                            "pass": pym < other,
                            "detail": f"{pym:.1f} us vs {other:.1f} us = {pym / other:.2f}x"})
    tasks = data.get("tasks") or {}
    if tasks.get("pym_worker") and tasks.get("bare_sqs_handler"):
        r = task_ratio(tasks)
        targets.append({"name": f"task worker per record <= {TASK_RATIO_MAX}x a bare "
                                "@app.on_sqs_message (issue #5)",
                        "pass": r <= TASK_RATIO_MAX,
                        "detail": f"{tasks['pym_worker']['us_per_record']:.1f} us vs "
                                  f"{tasks['bare_sqs_handler']['us_per_record']:.1f} us = "
                                  f"{r:.2f}x"})
    scale = data.get("scale") or {}
    for form in ("yaml", "compiled"):
        r1000 = (scale.get(f"1000:{form}") or {}).get("median_total_ms")
        if r1000 is not None:
            targets.append({"name": f"1,000 operations ({form}): import + create_app < "
                                    f"{SCALE_1000_MAX_MS:.0f} ms",
                            "pass": r1000 < SCALE_1000_MAX_MS,
                            "detail": f"{r1000:.0f} ms"})
        sizes = sorted(int(k.split(":")[0]) for k in scale if k.endswith(f":{form}"))
        pts = [(n, (scale.get(f"{n}:{form}") or {}).get("median_create_app_ms"))
               for n in sizes[-3:]]
        if len(pts) == 3 and all(v is not None for _, v in pts):
            (a, ta), (b, tb), (c, tc) = pts
            s1, s2 = (tb - ta) / (b - a), (tc - tb) / (c - b)
            # linear: both slopes alike; quadratic growth would make the second (b + c) / (a + b)
            # times the first (~3.2 for 100/300/1,000). The smallest size is left out: its
            # difference with the next one is too small to outweigh noise.
            quadratic = (b + c) / (a + b)
            linear: Optional[bool] = s1 > 0 and s2 / s1 <= LINEAR_RATIO_MAX
            if (tb - ta) < 10:  # within noise: no slope to compare
                linear = None
            targets.append({"name": f"growth roughly linear ({form})", "pass": linear,
                            "detail": f"{s1:.2f} ms/op from {a} to {b}, {s2:.2f} ms/op from {b} "
                                      f"to {c:,} (ratio {s2 / s1 if s1 else float('nan'):.2f};"
                                      f" roughly linear: <= {LINEAR_RATIO_MAX:.0f}, quadratic "
                                      f"would be ~{quadratic:.1f})"})
    targets += hostile.targets(data.get("hostile") or {})
    return targets


# --------------------------------------------------------------------------------------- main
def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="CI-sized run (~1 minute)")
    ap.add_argument("--smoke", action="store_true",
                    help="each measurement once, tiny counts; exit 1 if pym-lambda errors")
    ap.add_argument("--json", metavar="FILE", help="write every number to FILE")
    ap.add_argument("--venv", default=str(DEFAULT_VENV),
                    help="the benchmark venv made by setup.sh (default %(default)s)")
    ap.add_argument("--only",
                    default="lambda,cold,requests,scale,tasks,wsgi,hostile,features,analysis",
                    help="comma-separated subset of: lambda (the Lambda-faithful mode, issue "
                         "#18),cold,requests,scale,tasks,wsgi,hostile,features (metrics, "
                         "tracing, idempotency on vs off: feature_cost.py),analysis")
    ap.add_argument("--peers", default="", help="comma-separated peer keys (default: all)")
    ap.add_argument("--hostile-classes", default="",
                    help="comma-separated attack classes of the hostile measurement (default: "
                         "all; see benchmarks/hostile.py)")
    ap.add_argument("--timer", choices=("wall", "cpu"), default="wall",
                    help="wall: perf_counter (default); cpu: process_time (leaves out time "
                         "spent waiting for a CPU, not a CPU slowed down by others; the cold "
                         "start's wall ms stays wall)")
    ap.add_argument("--realtime", action="store_true",
                    help="run the benchmark and its children under SCHED_FIFO (needs root or "
                         "CAP_SYS_NICE): on a machine other processes keep busy, the measured "
                         "process is not preempted by them; one core at a time is used")
    args = ap.parse_args(argv)

    venv = Path(args.venv)
    python = str(venv / "bin" / "python")
    notes: List[str] = []
    if not Path(python).exists():
        python = sys.executable
        notes.append(f"{venv} not found (run benchmarks/setup.sh): using {python}; peers that "
                     f"are not installed there are reported as errors")
    status = read_peer_status(venv)
    if args.realtime:
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(5))
            notes.append("run under SCHED_FIFO priority 5 (--realtime): other processes do "
                         "not preempt the measurements, they still share caches and memory")
        except (AttributeError, PermissionError, OSError) as exc:
            notes.append(f"--realtime: could not switch to SCHED_FIFO ({exc}); normal "
                         f"scheduling")
    only = set(args.only.split(","))
    passes = 1
    if args.smoke:
        cold_runs, repeats, target_s, scale_runs, sizes = 1, 1, 0.0, 1, [10, 100]
    elif args.quick:
        cold_runs, repeats, target_s, scale_runs, sizes = 5, 3, 0.03, 3, [10, 100, 300, 1000]
        only.discard("analysis")
    else:
        cold_runs, repeats, target_s, scale_runs, sizes = 11, 7, 0.08, 5, [10, 100, 300, 1000]
        passes = 2

    started = time.perf_counter()
    load_start = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    runner = Runner(python)
    work = Path(tempfile.mkdtemp(prefix="pym-bench-"))
    data: Dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform(), "bench_python": python},
        "mode": "smoke" if args.smoke else "quick" if args.quick else "full",
        "timer": args.timer, "realtime": args.realtime,
        "peer_install_status": status, "notes": notes}
    failed_project = False
    try:
        copies: Dict[str, Path] = {}
        try:
            project_copies(python, work, copies)
        except Exception as exc:  # noqa: BLE001
            notes.append(f"pym-lambda build of the example service failed: {exc}")
            failed_project = True
        pm_dir = pm_python = None
        pm_status = status.get("pymacaron", "")
        if pm_status.startswith("ok"):
            pm_python = pm_status.split(" ", 1)[1].strip() if " " in pm_status else None
            if pm_python and Path(pm_python).exists():
                pm_dir = str(prepare_pymacaron(work))
            else:
                notes.append("PyMacaron: its venv is gone; run setup.sh again")
        elif pm_status:
            notes.append(f"PyMacaron did not install: {pm_status}")
        else:
            notes.append("PyMacaron: not attempted (setup.sh not run, or PYMACARON_TIMEOUT=0)")
        plist = peers(project_dir=str(copies["tree"]) if "tree" in copies else None,
                      nocache_dir=str(copies["nocache"]) if "nocache" in copies else None,
                      built_dir=str(copies["built"]) if "built" in copies else None,
                      pymacaron_dir=pm_dir, pymacaron_python=pm_python)
        if args.peers:
            keep = set(args.peers.split(",")) | {"bare", "pym"}
            plist = [p for p in plist if p.key in keep]
        data["peers"] = {p.key: {"label": p.label, "note": p.note} for p in plist}

        if "cold" in only:
            log(f"cold start: {len(plist)} peers x {cold_runs} processes")
            data["cold"] = measure_cold(runner, plist, cold_runs, args.timer)
        if "requests" in only:
            log("per request")
            data["requests"] = measure_requests(runner, plist, repeats, target_s, args.smoke,
                                                passes, args.timer)
        if "scale" in only:
            log(f"scale: {sizes} operations")
            data["scale"] = measure_scale(runner, work, sizes, scale_runs, args.timer)
        if "tasks" in only:
            log("task worker")
            pym = next(p for p in plist if p.key == "pym")
            data["tasks"] = runner.child("tasks", {"repeats": repeats, "target_s": target_s,
                                                   "smoke": args.smoke, "timer": args.timer},
                                         cwd=pym.dir,
                                         env=child_env(pym))
        if "lambda" in only:
            log("lambda-faithful mode: packages unzipped, run by the runtime's python -I -B")
            try:
                data["lambda"] = lambda_mode.measure(python, venv, work, smoke=args.smoke,
                                                     quick=args.quick, log=log)
            except Exception as exc:  # noqa: BLE001 - reported, and fails --smoke
                data["lambda"] = {"error": f"{type(exc).__name__}: {exc}"}
        if "wsgi" in only:
            log("wsgi")
            pym = next(p for p in plist if p.key == "pym")
            data["wsgi"] = runner.child("wsgi", {"repeats": repeats, "target_s": target_s,
                                                 "smoke": args.smoke, "timer": args.timer,
                                                 "sys_path": pym.sys_path()}, cwd=pym.dir,
                                        env=child_env(pym))
        if "hostile" in only:
            log(f"hostile input: {len(hostile.CLASSES)} classes, well-formed vs hostile")
            peer = Peer("hostile", "hostile-input service", str(hostile.SERVICE), "app",
                        env=stage_env(hostile.SERVICE))
            try:
                data["hostile"] = hostile.measure(
                    python, work, child_env(peer), smoke=args.smoke, quick=args.quick, log=log,
                    classes=[c for c in args.hostile_classes.split(",") if c] or None)
            except Exception as exc:  # noqa: BLE001 - reported, and fails --smoke
                data["hostile"] = {"error": str(exc)}
        if "features" in only:
            log("operations features on vs off: metrics, tracing, idempotency")
            data["features"] = feature_cost.measure(list(feature_cost.FEATURES),
                                                    quick=args.quick, smoke=args.smoke,
                                                    python=python, log=log)
        if "analysis" in only:
            log("analysis: importtime and cProfile of pym-lambda")
            pym = next(p for p in plist if p.key == "pym")
            lam = next((p for p in plist if p.key == "pym_built"), pym)
            data["analysis"] = {
                "importtime_of": lam.label,
                "importtime": importtime(python, lam),
                "profile_cold": profile_cold(python, lam),
                "profile_requests": runner.child(
                    "profile", {"sys_path": pym.sys_path(), "module": pym.module,
                                "attr": pym.attr, "kind": pym.kind,
                                "loops": 50 if args.smoke else 2000},
                    cwd=pym.dir, env=child_env(pym)),
            }
        data["targets"] = evaluate_targets(data) + lambda_mode.targets(data.get("lambda") or {})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    data["elapsed_s"] = time.perf_counter() - started
    if load_start is not None:
        load_end = os.getloadavg()[0]
        data["machine"]["loadavg_1min"] = [load_start, load_end]
        if max(load_start, load_end) > 0.8:
            notes.append(f"other processes were busy (1-minute load average {load_start:.1f} "
                         f"at the start, {load_end:.1f} at the end, on {os.cpu_count()} "
                         f"CPUs): expect noise")

    # pym-lambda's own measurements must not error (the --smoke contract)
    project_errors = project_failures(data)
    data["project_errors"] = project_errors

    text = report(data, plist)
    head = [f"# pym-lambda benchmarks ({data['mode']} run, {data['elapsed_s']:.0f} s, Python "
            f"{data['machine']['python']}, {data['machine']['cpus']} CPUs, "
            f"{'CPU time' if args.timer == 'cpu' else 'wall-clock time'})", ""]
    head += [f"Note: {n}" for n in notes] + ([""] if notes else [])
    output = "\n".join(head) + "\n" + text
    print(output)
    if data["mode"] == "full" and not args.peers and args.only == ap.get_default("only"):
        write_last_run(HERE / "LAST_RUN.md", output)
        print(f"wrote {HERE / 'LAST_RUN.md'}")
    if args.json:
        Path(args.json).write_text(json.dumps(data, indent=2, default=str))
        print(f"wrote {args.json}")
    if project_errors or failed_project:
        print("pym-lambda measurement errors:", *project_errors, sep="\n  ", file=sys.stderr)
        return 1
    return 0


def write_last_run(path: Path, output: str) -> None:
    """The full run's output replaces the previous one; the separate runs kept below it (their
    heading says "separate run", e.g. hostile input before and after a fix) stay."""
    kept = ""
    if path.is_file():
        old = path.read_text()
        at = old.find("\n# ", 0)
        while at != -1 and "separate run" not in old[at:old.find("\n", at + 1)]:
            at = old.find("\n# ", at + 1)
        kept = old[at:] if at != -1 else ""
    path.write_text(output.rstrip() + "\n" + kept)


def project_failures(data: Dict[str, Any]) -> List[str]:
    errors: List[str] = []
    for key in ("pym", "pym_built", "pym_nocache"):
        c = (data.get("cold") or {}).get(key) or {}
        if c.get("error"):
            errors.append(f"cold start {key}: {c['error']}")
    for key in ("pym", "pym_quiet"):
        r = (data.get("requests") or {}).get(key) or {}
        if r.get("error"):
            errors.append(f"requests {key}: {r['error']}")
        for name, e in (r.get("requests") or {}).items():
            if e.get("error"):
                errors.append(f"requests {key} {name}: {e['error']}")
    for key, s in (data.get("scale") or {}).items():
        if s.get("error"):
            errors.append(f"scale {key}: {s['error']}")
    for key in ("tasks", "wsgi"):
        v = data.get(key) or {}
        if v.get("error"):
            errors.append(f"{key}: {v['error']}")
    errors += hostile.failures(data.get("hostile") or {})
    errors += feature_cost.failures(data.get("features") or {})
    lam = data.get("lambda") or {}
    if lam.get("error"):
        errors.append(f"lambda-faithful mode: {lam['error']}")
    errors += lambda_mode.failures(lam)
    prof = ((data.get("analysis") or {}).get("profile_requests") or {})
    if prof.get("error"):
        errors.append(f"profile: {prof['error']}")
    return errors


if __name__ == "__main__":
    sys.exit(main())
