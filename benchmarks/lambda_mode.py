"""The Lambda-faithful section of run.py: what it measures, its tables and issue #18's targets.

Packaging and running are in lambda_runtime.py; this module decides what is measured against
what, and turns the figures into the report's tables and PASS/FAIL lines.
"""
from __future__ import annotations

import json
import traceback
from functools import partial
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import lambda_runtime as lr
import real_specs

# Targets of issue #18 (side by side in one run, in the Lambda-faithful runtime).
COLD_VS_BARE_MAX = 1.0       # cold import of the shipped package vs the bare Chalice package
COLD_VS_BYTECODE_MAX = 1.5   # ... vs that bare package with bytecode compiled in
SCALE_VS_BARE_MAX = 2.0      # Stripe- and GitHub-sized specs vs bare Chalice, same routes
REQUEST_VS_BARE_MAX = 2.0    # per request (GET one, GET a list of 5, POST a nested body)
TASK_VS_BARE_MAX = 1.3       # task worker per record vs a bare @app.on_sqs_message
RSS_VS_BARE_MAX = 1.3        # peak RSS after import vs the bare package

# Stripe's spec has 468 operations, GitHub's 1,223; gen_spec makes two per path (1,224).
SCALE_SIZES = {468: "Stripe-sized", 1224: "GitHub-sized"}
# ... and the real descriptions, when setup.sh fetched them (benchmarks/real_specs.py)
REAL_SPECS = real_specs.SPECS
PEERS = ("osv", "pt_validate", "pt_fjs", "pt_pydantic")


def measure(bench_python: str, bench_venv: Path, work: Path, *, smoke: bool, quick: bool,
            log: Callable[[str], None], scale: bool = True, tasks: bool = True,
            peers: bool = True) -> Dict[str, Any]:
    """Everything in one dict (JSON-able): runtime, packages' errors, cold, requests, tasks,
    scale. A packaging failure is recorded, the rest goes on."""
    out: Dict[str, Any] = {"packaging_errors": {}}
    runtime_info = lr.ensure_runtime(bench_venv, bench_python, create=True)
    out["runtime"] = runtime_info
    if "error" in runtime_info:
        return out
    runtime = runtime_info["python"]
    work = work / "lambda"
    work.mkdir(parents=True, exist_ok=True)
    cache = bench_venv / "chalice-deployments"
    errors = out["packaging_errors"]

    def attempt(key: str, make: Callable[[], lr.Package]) -> Optional[lr.Package]:
        log(f"  lambda: packaging {key}")
        try:
            return make()
        except Exception as exc:  # noqa: BLE001 - reported; the other packages go on
            errors[key] = f"{type(exc).__name__}: {exc}"[:1500]
            if not isinstance(exc, lr.PackagingError):
                errors[key] += "\n" + traceback.format_exc()[-1500:]
            return None

    pym = attempt("pym", lambda: lr.pym_package(
        bench_python, lr.copy_project(work / "pym_project"), work, "pym",
        "pym-lambda package (framework vendored)", "prod", cache))
    bare = attempt("bare", lambda: lr.chalice_package(
        bench_python, lr.bare_project(work), work, "bare",
        "bare Chalice, same routes, as `chalice package` ships it"))
    bare_pyc = attempt("bare_pyc", lambda: lr.with_bytecode(
        runtime, bare, work, "bare_pyc", "the same bare package with bytecode (the limit)")
        ) if bare else None
    peer_pkgs: List[lr.Package] = []
    if peers:
        for key in PEERS:
            p = attempt(key, lambda key=key: lr.peer_package(bench_python, key, work, bare))
            if p:
                peer_pkgs.append(p)
    main = [p for p in (pym, bare, bare_pyc) if p]
    out["packages"] = {p.key: {"label": p.label, "how": p.how} for p in main + peer_pkgs}

    # On a shared VM one peer's CPU time moves by up to ~2x between runs minutes apart: more
    # samples per peer (round robin, medians; the best of the per-request passes).
    runs = 1 if smoke else 5 if quick else 21
    repeats, target_s = (1, 0.0) if smoke else (3, 0.03) if quick else (7, 0.08)
    log(f"lambda cold start: {len(main) + len(peer_pkgs)} packages x {runs} processes")
    out["cold"] = lr.measure_cold(runtime, main + peer_pkgs, runs, log)

    out["importtime"] = {p.key: lr.importtime(runtime, p) for p in main if p.key != "bare_pyc"}

    events = work / "events.json"
    lr.write_events(bench_python, events)
    log("lambda per request")
    out["requests"] = lr.measure_requests(
        runtime, [p for p in (pym, bare) if p] + peer_pkgs, events, repeats, target_s, smoke,
        1 if smoke or quick else 5, log)

    if tasks and pym:
        log("lambda task worker")
        out["tasks"] = lr.measure_tasks(runtime, pym, repeats, target_s, smoke)

    if scale:
        sizes = [20] if smoke else list(SCALE_SIZES)
        out["scale"] = {}
        for n in sizes:
            projects = lr.gen_projects(n, work)
            pkgs = [p for p in (
                attempt(f"gen{n}", lambda n=n, src=projects["pym"]: lr.pym_package(
                    bench_python, src, work, f"gen{n}", f"pym-lambda package, {n} operations",
                    "dev", cache)),
                attempt(f"bare_gen{n}", lambda n=n, src=projects["bare"]: lr.chalice_package(
                    bench_python, src, work, f"bare_gen{n}",
                    f"bare Chalice, the same {n} routes"))) if p]
            log(f"lambda scale: {n} operations")
            out["scale"][str(n)] = lr.measure_cold(runtime, pkgs, 1 if smoke else
                                                   3 if quick else 5, log)
        if not smoke:
            out["scale_real"] = measure_real(bench_python, bench_venv, runtime, work, cache,
                                             attempt, 3 if quick else 5, log)
    return out


def measure_real(bench_python: str, bench_venv: Path, runtime: str, work: Path, cache: Path,
                 attempt: Callable[[str, Callable[[], lr.Package]], Optional[lr.Package]],
                 runs: int, log: Callable[[str], None]) -> Dict[str, Any]:
    """The real Stripe and GitHub descriptions setup.sh fetched: `pym-lambda package` of a
    project serving each as published, against a bare Chalice app with the routes that package
    registers for it (read from its compiled form). A spec not fetched is reported missing."""
    found = real_specs.available(bench_venv)
    out: Dict[str, Any] = {}
    for name, label in REAL_SPECS.items():
        if name not in found:
            out[name] = {"label": label, "missing": f"not in {bench_venv / real_specs.FOLDER} "
                         "(run benchmarks/setup.sh)"}
            continue
        pym = attempt(f"real_{name}", partial(_real_package, bench_python, found[name], name,
                                              label, work, cache))
        out[name] = {"label": label}
        if pym is not None:
            compiled = json.loads((pym.task_root / "chalicelib" / "pym_compiled.json")
                                  .read_text(encoding="utf-8"))
            routes = real_specs.spec_routes(compiled)
            out[name].update(
                operations=sum(len(api["operations"]) for api in compiled["apis"]),
                routes=len(routes), routed_operations=sum(len(m) for m in routes.values()))
            bare = attempt(f"bare_real_{name}", partial(_real_bare, bench_python, name, label,
                                                        routes, work))
            log(f"lambda scale: {label}")
            out[name].update(lr.measure_cold(runtime, [p for p in (pym, bare) if p], runs, log))
    return out


def _real_package(bench_python: str, spec: Path, name: str, label: str, work: Path,
                  cache: Path) -> lr.Package:
    project = real_specs.write_project(name, spec, work / f"real_{name}_project",
                                       real_specs.REQUIREMENTS)
    return lr.pym_package(bench_python, project, work, f"real_{name}",
                          f"pym-lambda package, {label}", "dev", cache)


def _real_bare(bench_python: str, name: str, label: str, routes: Dict[str, List[str]],
               work: Path) -> lr.Package:
    project = lr.chalice_project(work / f"bare_real_{name}_project",
                                 real_specs.bare_source(name, routes), f"bare-{name}")
    return lr.chalice_package(bench_python, project, work, f"bare_real_{name}",
                              f"bare Chalice, the routes of {label}")


# ---------------------------------------------------------------------------------- report
def _f(v: Optional[float], digits: int = 1) -> str:
    return "-" if v is None else f"{v:,.{digits}f}"


def _r(v: Optional[float], base: Optional[float]) -> str:
    return "-" if v is None or not base else f"{v / base:.2f}x"


def _table(headers: List[str], rows: List[List[str]]) -> List[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    out = ["| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |",
           "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    for r in rows:
        out.append("| " + " | ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w)
                                     in enumerate(zip(r, widths, strict=True))) + " |")
    return out


def _cold(d: Dict[str, Any], key: str) -> Optional[float]:
    return ((d.get("cold") or {}).get(key) or {}).get("median_import_cpu_ms")


def report_lines(d: Dict[str, Any]) -> List[str]:
    if not d:
        return []
    rt = d.get("runtime") or {}
    out = ["## Lambda-faithful mode (issue #18)", ""]
    if "error" in rt:
        return out + [f"Not measured: {rt['error']}", ""]
    out += [f"Each package as its tool ships it, unzipped into `<tmp>/<name>/var/task`, run by "
            f"Python {rt.get('version')} with only "
            + ", ".join(f"{k} {v}" for k, v in (rt.get("packages") or {}).items())
            + " (`python -I -B`, cwd var/task, var/task first on sys.path, Lambda's "
              "environment for the function). CPU time of the import (`import app`), the ratios' "
              "figure; its wall time; the whole process's wall time, interpreter start "
              "included.", ""]
    cold = d.get("cold") or {}
    bare, limit = _cold(d, "bare"), _cold(d, "bare_pyc")
    rows = []
    for key, r in cold.items():
        if r.get("error"):
            rows.append([r.get("label", key), "error"] + [""] * 8)
            continue
        imp = r.get("median_import_cpu_ms")
        rows.append([r.get("label", key), _f(imp), _r(imp, bare), _r(imp, limit),
                     _f(r.get("median_import_ms")), _f(r.get("median_wall_ms")),
                     _f((r.get("median_maxrss_kb") or 0) / 1024),
                     _f((r.get("zip_bytes") or 0) / 1024, 0) if r.get("zip_bytes") else "-",
                     _f(r["unpacked_bytes"] / 1024, 0), f"{r['files']}/{r['pyc_files']}"])
    runs = len((cold.get("bare") or cold.get("pym") or {}).get("import_cpu_ms") or [])
    out += [f"### Cold import (fresh process, median of {runs})", ""]
    out += _table(["package", "import CPU ms", "vs bare pkg", "vs bare+bytecode",
                   "import wall ms", "process wall ms", "peak RSS MB", "zip KB", "unpacked KB",
                   "files/.pyc"], rows)
    out.append("")
    hows = [f"- {r.get('label', k)}: {r.get('how')}" for k, r in cold.items() if r.get("how")]
    out += ["How each package was made:", *hows, ""]

    reqs = d.get("requests") or {}
    if reqs:
        names: List[str] = []
        for r in reqs.values():
            for n in (r.get("requests") or {}):
                if n not in names:
                    names.append(n)
        base = {n: (((reqs.get("bare") or {}).get("requests") or {}).get(n) or {}).get("us")
                for n in names}
        rows = []
        notes = []
        for key, r in reqs.items():
            label = (cold.get(key) or {}).get("label", key)
            if r.get("error"):
                rows.append([label] + ["error", ""] * len(names))
                notes.append(f"- {label}: {r['error']}")
                continue
            row = [label]
            for n in names:
                e = (r.get("requests") or {}).get(n) or {}
                if e.get("error"):
                    row += ["error", ""]
                    notes.append(f"- {label}, {n}: {e['error']}")
                else:
                    row += [_f(e.get("us")), _r(e.get("us"), base[n])]
            rows.append(row)
        headers = ["package"]
        for n in names:
            headers += [f"{n} us", "vs bare"]
        line = {r.get("request_line_on") for r in reqs.values()} - {None}
        said = "JSON log line on" if line == {True} else "pym-lambda's request line OFF"
        out += [f"### Per request in the same runtime (CPU us, {said}; median of "
                "timed loops, best of the passes)", ""]
        out += _table(headers, rows) + [""]
        out += ["connexion (an ASGI app) and PyMacaron (a Flask app in its own venv) have no "
                "`app(event, context)` to package: they are measured in process only, in the "
                "per-request table above.", ""]
        if notes:
            out += ["Errors:", *notes, ""]

    t = d.get("tasks") or {}
    if t:
        if t.get("error") or t.get("skipped"):
            out += [f"Task worker in the runtime: {t.get('error') or t.get('skipped')}", ""]
        else:
            out += [f"Task worker in the runtime (batch of {t['batch']}, the package's "
                    f"pym_lambda and Chalice): {_f(t['pym_worker']['us_per_record'])} us/record"
                    f", a bare @app.on_sqs_message {_f(t['bare_sqs_handler']['us_per_record'])}"
                    f" us/record ({_r(t['pym_worker']['us_per_record'], t['bare_sqs_handler']['us_per_record'])}),"  # noqa: E501
                    f" the work alone {_f(t['work_only']['us_per_record'])} us/record", ""]

    scale = d.get("scale") or {}
    if scale:
        rows = []
        for n, res in scale.items():
            p, b = res.get(f"gen{n}") or {}, res.get(f"bare_gen{n}") or {}
            pi, bi = p.get("median_import_cpu_ms"), b.get("median_import_cpu_ms")
            rows.append([f"{int(n):,} ({SCALE_SIZES.get(int(n), 'generated')})",
                         "error" if p.get("error") else _f(pi),
                         "error" if b.get("error") else _f(bi), _r(pi, bi),
                         _f((p.get("median_maxrss_kb") or 0) / 1024),
                         _f((b.get("median_maxrss_kb") or 0) / 1024),
                         _f((p.get("zip_bytes") or 0) / 1024, 0)])
        out += ["### Scale: generated specs, pym-lambda package vs bare Chalice with the same "
                "routes (import CPU ms)", ""]
        out += _table(["operations", "pym-lambda", "bare Chalice", "ratio", "pym RSS MB",
                       "bare RSS MB", "pym zip KB"], rows) + [""]
        errs = [f"- {k}: {v['error']}" for res in scale.values() for k, v in res.items()
                if v.get("error")]
        if errs:
            out += ["Errors:", *errs, ""]
    real = d.get("scale_real") or {}
    if real:
        rows = []
        for name, res in real.items():
            p, b = res.get(f"real_{name}") or {}, res.get(f"bare_real_{name}") or {}
            pi, bi = p.get("median_import_cpu_ms"), b.get("median_import_cpu_ms")
            shape = (f"{res['operations']:,} ops, {res['routed_operations']:,} routed on "
                     f"{res['routes']:,} routes" if "operations" in res else "-")
            rows.append([res.get("label", name), shape,
                         "missing" if res.get("missing") else
                         "error" if p.get("error") or not p else _f(pi),
                         "error" if b.get("error") else _f(bi), _r(pi, bi),
                         _f((p.get("median_maxrss_kb") or 0) / 1024),
                         _f((b.get("median_maxrss_kb") or 0) / 1024),
                         _f((p.get("zip_bytes") or 0) / 1024, 0)])
        out += ["### Scale: the real specs, as published (pym-lambda package vs bare Chalice "
                "with the routes it registers; import CPU ms)", ""]
        out += _table(["spec", "operations", "pym-lambda", "bare Chalice", "ratio",
                       "pym RSS MB", "bare RSS MB", "pym zip KB"], rows) + [""]
        notes = [f"- {res.get('label', n)}: {res['missing']}" for n, res in real.items()
                 if res.get("missing")]
        notes += [f"- {k}: {v['error']}" for res in real.values() for k, v in res.items()
                  if isinstance(v, dict) and v.get("error")]
        if notes:
            out += ["Not measured:", *notes, ""]
    for key, it in (d.get("importtime") or {}).items():
        label = (cold.get(key) or {}).get("label", key)
        if it.get("error"):
            out += [f"`-X importtime` of {label}: {it['error']}", ""]
            continue
        out += [f"`-X importtime` of {label} (one process, in the runtime, `-I -B`): "
                f"{it['modules']} modules, {_f(it['total_self_ms'])} ms of self time. By "
                "top-level package (ms): " + ", ".join(f"{k} {v:.1f}" for k, v in
                                                       it["by_package"]) + ". Slowest modules: "
                + ", ".join(f"{m['module']} {m['self_ms']:.1f}" for m in it["top_modules"])
                + ".", ""]
    perrs = d.get("packaging_errors") or {}
    if perrs:
        out += ["Packaging errors:", *[f"- {k}: {v.splitlines()[0]}" for k, v in perrs.items()],
                ""]
    return out


# --------------------------------------------------------------------------------- targets
def _target(name: str, value: Optional[float], base: Optional[float], limit: float,
            unit: str, strict: bool = False) -> Dict[str, Any]:
    if value is None or not base:
        return {"name": name, "pass": None, "detail": "not measured"}
    r = value / base
    ok = r < limit if strict else r <= limit
    return {"name": name, "pass": ok,
            "detail": f"{value:,.1f} {unit} vs {base:,.1f} {unit} = {r:.2f}x"}


def targets(d: Dict[str, Any]) -> List[Dict[str, Any]]:
    if not d or "error" in (d.get("runtime") or {}):
        return []
    cold = d.get("cold") or {}
    pym, bare, limit = _cold(d, "pym"), _cold(d, "bare"), _cold(d, "bare_pyc")
    out = [
        _target(f"#18 cold import of the shipped package <= {COLD_VS_BARE_MAX}x the bare "
                "Chalice package", pym, bare, COLD_VS_BARE_MAX, "ms"),
        _target(f"#18 cold import of the shipped package <= {COLD_VS_BYTECODE_MAX}x the bare "
                "package with bytecode", pym, limit, COLD_VS_BYTECODE_MAX, "ms"),
    ]
    for n, res in (d.get("scale") or {}).items():
        size = SCALE_SIZES.get(int(n), "generated")
        out.append(_target(
            f"#18 {size} spec ({int(n):,} operations): cold import <= {SCALE_VS_BARE_MAX}x bare "
            "Chalice with the same routes",
            (res.get(f"gen{n}") or {}).get("median_import_cpu_ms"),
            (res.get(f"bare_gen{n}") or {}).get("median_import_cpu_ms"),
            SCALE_VS_BARE_MAX, "ms"))
    for name, res in (d.get("scale_real") or {}).items():
        out.append(_target(
            f"#18 {res.get('label', name)}: cold import <= {SCALE_VS_BARE_MAX}x bare Chalice "
            "with the same routes",
            (res.get(f"real_{name}") or {}).get("median_import_cpu_ms"),
            (res.get(f"bare_real_{name}") or {}).get("median_import_cpu_ms"),
            SCALE_VS_BARE_MAX, "ms"))
    reqs = d.get("requests") or {}

    def us(key: str, name: str) -> Optional[float]:
        return ((((reqs.get(key) or {}).get("requests") or {}).get(name)) or {}).get("us")
    names = list((reqs.get("pym") or {}).get("requests") or {})
    for name in names:
        out.append(_target(f"#18 {name}: per request <= {REQUEST_VS_BARE_MAX}x the bare "
                           "package", us("pym", name), us("bare", name), REQUEST_VS_BARE_MAX,
                           "us"))
        for key in PEERS:
            if key in reqs:
                label = (cold.get(key) or {}).get("label", key)
                out.append(_target(f"#18 {name}: below {label}", us("pym", name),
                                   us(key, name), 1.0, "us", strict=True))
    t = d.get("tasks") or {}
    if t.get("pym_worker") and t.get("bare_sqs_handler"):
        out.append(_target(f"#18 task worker per record <= {TASK_VS_BARE_MAX}x a bare "
                           "@app.on_sqs_message", t["pym_worker"]["us_per_record"],
                           t["bare_sqs_handler"]["us_per_record"], TASK_VS_BARE_MAX, "us"))
    out.append(_target(f"#18 peak RSS after import <= {RSS_VS_BARE_MAX}x the bare package",
                       (cold.get("pym") or {}).get("median_maxrss_kb"),
                       (cold.get("bare") or {}).get("median_maxrss_kb"), RSS_VS_BARE_MAX, "KB"))
    return out


def failures(d: Dict[str, Any]) -> List[str]:
    """pym-lambda's own errors (the --smoke contract): its packaging, cold start, requests,
    task worker and scale packages. A peer's or the runtime's failure is reported, not here."""
    if not d:
        return []
    errors = [f"lambda packaging {k}: {v.splitlines()[0]}"
              for k, v in (d.get("packaging_errors") or {}).items()
              if k == "pym" or (k.startswith("gen") and k[3:].isdigit())
              or k.startswith("real_")]
    c = (d.get("cold") or {}).get("pym") or {}
    if c.get("error"):
        errors.append(f"lambda cold start pym: {c['error']}")
    r = (d.get("requests") or {}).get("pym") or {}
    if r.get("error"):
        errors.append(f"lambda requests pym: {r['error']}")
    for name, e in (r.get("requests") or {}).items():
        if e.get("error"):
            errors.append(f"lambda requests pym {name}: {e['error']}")
    if (d.get("tasks") or {}).get("error"):
        errors.append(f"lambda tasks: {d['tasks']['error']}")
    for n, res in (d.get("scale") or {}).items():
        if (res.get(f"gen{n}") or {}).get("error"):
            errors.append(f"lambda scale {n}: {res[f'gen{n}']['error']}")
    for name, res in (d.get("scale_real") or {}).items():
        if (res.get(f"real_{name}") or {}).get("error"):
            errors.append(f"lambda scale {name}: {res[f'real_{name}']['error']}")
    return errors
