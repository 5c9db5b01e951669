"""The Lambda-faithful benchmark's pieces (benchmarks/lambda_runtime.py, lambda_mode.py,
lambda_child.py): what they build and run, never how fast anything is."""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any, Dict

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import gen_spec  # noqa: E402
import lambda_mode  # noqa: E402
import lambda_runtime as lr  # noqa: E402


def fake_package(tmp_path: Path, source: str, module: str = "app") -> lr.Package:
    task_root = tmp_path / "pkg" / "var" / "task"
    task_root.mkdir(parents=True)
    (task_root / f"{module}.py").write_text(source)
    return lr.Package("fake", "fake package", task_root, "written by the test", module=module)


# ------------------------------------------------------------------------- the runtime's rules
def test_cold_import_reads_var_task_first_and_writes_no_bytecode(tmp_path: Path) -> None:
    """`-I -B`, var/task first: the package's module wins over one of the same name in the
    cwd's parent or the environment, and no __pycache__ is written (Lambda's is read-only)."""
    pkg = fake_package(tmp_path, "import helper\nVALUE = helper.VALUE\n")
    (pkg.task_root / "helper.py").write_text("VALUE = 'from var/task'\n")
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "app.py").write_text("raise SystemExit('the wrong app')\n")
    os.environ["PYTHONPATH"] = str(shadow)  # -I must ignore it
    try:
        res = lr.cold_once(sys.executable, pkg)
    finally:
        del os.environ["PYTHONPATH"]
    assert "error" not in res, res
    assert res["from_task_root"] is True
    assert res["path0"] == str(pkg.task_root)
    assert res["maxrss_kb"] > 0 and res["import_cpu_ms"] >= 0
    assert not list(pkg.task_root.rglob("__pycache__"))


def test_cold_import_reports_a_broken_package(tmp_path: Path) -> None:
    pkg = fake_package(tmp_path, "import not_shipped_anywhere\n")
    res = lr.cold_once(sys.executable, pkg)
    assert "ModuleNotFoundError" in res["error"]


def test_lambda_env_is_lambdas_and_the_functions_only(tmp_path: Path) -> None:
    pkg = fake_package(tmp_path, "")
    pkg.env = {"PYM_STAGE": "prod"}
    os.environ["BENCH_TEST_LEAK"] = "1"
    try:
        env = lr.lambda_env(pkg)
    finally:
        del os.environ["BENCH_TEST_LEAK"]
    assert "BENCH_TEST_LEAK" not in env and "PYTHONPATH" not in env
    assert env["PYM_STAGE"] == "prod"
    assert env["LAMBDA_TASK_ROOT"] == str(pkg.task_root)
    assert env["AWS_LAMBDA_FUNCTION_NAME"] and env["AWS_REGION"] == env["AWS_DEFAULT_REGION"]


def test_function_env_replaces_refs_and_picks_the_handler(tmp_path: Path) -> None:
    sam = tmp_path / "sam.json"
    sam.write_text(json.dumps({"Resources": {
        "Worker": {"Type": "AWS::Serverless::Function", "Properties": {
            "Handler": "app.worker", "Environment": {"Variables": {"ONLY_WORKER": "1"}}}},
        "API": {"Type": "AWS::Serverless::Function", "Properties": {
            "Handler": "app.app", "Environment": {"Variables": {
                "PYM_STAGE": "prod", "QUEUE": {"Ref": "TaskQueueDefault"},
                "SECRET": {"Ref": "JwtSecret"}}}}}}}))
    env = lr.function_env(sam, "app.app")
    assert set(env) == {"PYM_STAGE", "QUEUE", "SECRET"}
    assert env["QUEUE"].startswith("https://sqs.") and env["QUEUE"].endswith("/TaskQueueDefault")
    assert env["SECRET"] and isinstance(env["SECRET"], str)


# ----------------------------------------------------------------------------- packaging
def test_copy_distributions_takes_requirements_but_not_the_runtimes(tmp_path: Path) -> None:
    """requests needs idna, certifi, charset_normalizer (copied) and urllib3 (the runtime's)."""
    copied = lr.copy_distributions(tmp_path, ["requests"])
    names = {c.split("==")[0].lower().replace("_", "-") for c in copied}
    assert {"requests", "idna", "certifi"} <= names
    assert "urllib3" not in names
    assert (tmp_path / "idna" / "__init__.py").is_file()
    assert not (tmp_path / "urllib3").exists()
    assert not list(tmp_path.rglob("*.pyc"))
    out = subprocess.run([sys.executable, "-I", "-B", "-c",
                          f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import idna; "
                          "print(idna.__file__)"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith(str(tmp_path))


def test_bare_gen_app_has_the_generated_specs_routes(tmp_path: Path) -> None:
    """The bare Chalice app of the scale comparison serves the same paths and methods as the
    generated spec (behind its /v1 server)."""
    n = 14
    source = lr.bare_gen_source(n)
    ast.parse(source)
    (tmp_path / "bare_gen.py").write_text(source)
    sys.path.insert(0, str(tmp_path))
    try:
        import bare_gen
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("bare_gen", None)
    routes = {(path, method) for path, methods in bare_gen.app.routes.items()
              for method in methods}
    spec = gen_spec.spec(n)
    server = spec["servers"][0]["url"]
    expected = {(server + path, method.upper()) for path, item in spec["paths"].items()
                for method in item if method in ("get", "post")}
    assert routes == expected and len(routes) == n


def test_chalice_package_of_the_bare_peer(tmp_path: Path) -> None:
    """`chalice package` of peers/bare_chalice: app.py, Chalice's own files and the store
    module (from vendor/) at the package's root, sources only."""
    pkg = lr.chalice_package(sys.executable, lr.bare_project(tmp_path), tmp_path, "bare",
                             "bare")
    names = set(zipfile.ZipFile(tmp_path / "bare_out" / "deployment.zip").namelist())
    assert {"app.py", "chalice/app.py", "library_store.py"} <= names
    sizes = pkg.sizes()
    assert sizes["pyc_files"] == 0 and sizes["zip_bytes"] > 0
    assert (pkg.task_root / "app.py").is_file()
    res = lr.cold_once(sys.executable, pkg)
    assert "error" not in res, res

    limit = lr.with_bytecode(sys.executable, pkg, tmp_path, "bare_pyc", "limit")
    assert limit.sizes()["pyc_files"] >= 3
    assert pkg.sizes()["pyc_files"] == 0  # the original stays sources only


# ------------------------------------------------------------------- the per-request child
def test_lambda_child_calls_the_handler_with_each_event(tmp_path: Path) -> None:
    pkg = fake_package(tmp_path, (
        "import json, logging, os\n"
        "SEEN = []\n"
        "def app(event, context):\n"
        "    SEEN.append(event['path'])\n"
        "    assert context.get_remaining_time_in_millis() > 0\n"
        "    assert logging.getLogger().handlers, 'the runtime installs a root handler'\n"
        "    status = 201 if event['httpMethod'] == 'POST' else 200\n"
        "    return {'statusCode': status, 'body': json.dumps({'books': SEEN, 'count': 9})}\n"))
    events = tmp_path / "events.json"
    events.write_text(json.dumps({
        "seed": [{"name": "seed", "event": {"path": "/seed", "httpMethod": "POST"},
                  "expect": 201}],
        "requests": [{"name": "GET one", "event": {"path": "/one", "httpMethod": "GET"},
                      "expect": 200},
                     {"name": "wrong", "event": {"path": "/two", "httpMethod": "GET"},
                      "expect": 404}]}))
    res = lr.measure_requests(sys.executable, [pkg], events, 1, 0.0, True, 1,
                              lambda _: None)["fake"]
    assert res["sys_path0"] == str(pkg.task_root)
    ok, wrong = res["requests"]["GET one"], res["requests"]["wrong"]
    assert ok["sample"] == {"count": 9, "returned": 2} and ok["us"] > 0
    assert "status 200, expected 404" in wrong["error"]
    assert not list(pkg.task_root.rglob("__pycache__"))


# ---------------------------------------------------------------------- targets and report
def figures(pym_ms: float, bare_ms: float, limit_ms: float, pym_us: float,
            bare_us: float, peer_us: float) -> Dict[str, Any]:
    def cold(ms: float, label: str) -> Dict[str, Any]:
        return {"median_import_cpu_ms": ms, "median_maxrss_kb": 10_000 * ms / bare_ms,
                "median_wall_ms": ms * 2, "import_cpu_ms": [ms], "label": label,
                "zip_bytes": 1000, "unpacked_bytes": 4000, "files": 3, "pyc_files": 0}

    def reqs(us: float) -> Dict[str, Any]:
        return {"requests": {"GET one": {"us": us}}}
    return {"runtime": {"python": "py", "version": "3.11.7", "packages": {"boto3": "1"}},
            "cold": {"pym": cold(pym_ms, "pym"), "bare": cold(bare_ms, "bare"),
                     "bare_pyc": cold(limit_ms, "limit"), "pt_fjs": cold(90, "Powertools")},
            "requests": {"pym": reqs(pym_us), "bare": reqs(bare_us), "pt_fjs": reqs(peer_us)},
            "tasks": {"batch": 10, "pym_worker": {"us_per_record": 12.0},
                      "bare_sqs_handler": {"us_per_record": 10.0},
                      "work_only": {"us_per_record": 3.0}},
            "scale": {"468": {"gen468": cold(300, "gen"), "bare_gen468": cold(100, "bare")}}}


def verdicts(data: Dict[str, Any]) -> Dict[str, Any]:
    return {t["name"]: t["pass"] for t in lambda_mode.targets(data)}


def test_targets_pass_and_fail_on_the_ratios() -> None:
    over = verdicts(figures(pym_ms=84, bare_ms=37, limit_ms=24, pym_us=75, bare_us=28,
                            peer_us=44))
    within = verdicts(figures(pym_ms=30, bare_ms=37, limit_ms=24, pym_us=40, bare_us=28,
                              peer_us=44))
    cold_bare = next(k for k in over if "cold import" in k and "bare Chalice package" in k)
    request = next(k for k in over if "per request" in k)
    below = next(k for k in over if "below Powertools" in k)
    scale = next(k for k in over if "Stripe-sized" in k)
    assert over[cold_bare] is False and within[cold_bare] is True
    assert over[request] is False and within[request] is True
    assert over[below] is False and within[below] is True
    assert over[scale] is False  # 300 vs 100 ms: 3x, over 2x
    task = next(k for k in over if "task worker" in k)
    assert over[task] is True  # 12 vs 10 us: 1.2x


def test_a_target_without_figures_is_not_measured_and_a_failure_is_printed() -> None:
    data = figures(84, 37, 24, 75, 28, 44)
    del data["cold"]["bare_pyc"]
    targets = lambda_mode.targets(data)
    bytecode = next(t for t in targets if "bytecode" in t["name"])
    assert bytecode["pass"] is None and bytecode["detail"] == "not measured"
    text = "\n".join(lambda_mode.report_lines(data))
    assert "84.0" in text and "2.27x" in text  # the figures and the ratio are shown


@pytest.mark.parametrize("key, counts", [("pym", True), ("gen468", True), ("bare", False),
                                          ("pt_fjs", False), ("bare_gen468", False)])
def test_only_pym_lambdas_errors_fail_the_smoke_run(key: str, counts: bool) -> None:
    data = {"packaging_errors": {key: "PackagingError: exited 1"}}
    assert bool(lambda_mode.failures(data)) is counts


def test_a_full_run_replaces_last_run_and_keeps_the_separate_runs(tmp_path: Path) -> None:
    import run

    path = tmp_path / "LAST_RUN.md"
    path.write_text("# old full run\n\n## Targets\n- FAIL  old\n\n"
                    "# Hostile input (separate run: --only hostile)\n- PASS  kept\n")
    run.write_last_run(path, "# new full run\n\n## Targets\n- PASS  new\n")
    text = path.read_text()
    assert "old full run" not in text and "FAIL  old" not in text
    assert text.startswith("# new full run") and "- PASS  kept" in text
    run.write_last_run(path, "# newer full run\n")
    assert path.read_text().count("separate run") == 1


def test_unpack_keeps_the_zips_mtimes(tmp_path: Path) -> None:
    """A timestamp-checked .pyc shipped in a package is only valid if its source keeps the
    mtime the zip records (zipfile's extractall would leave the extraction time)."""
    zip_path = tmp_path / "deployment.zip"
    with zipfile.ZipFile(zip_path, "w") as z:
        z.writestr(zipfile.ZipInfo("pkg/mod.py", date_time=(2020, 5, 17, 12, 30, 0)), "X = 1\n")
    task_root = lr.unpack(zip_path, tmp_path / "out")
    import time

    mtime = time.localtime((task_root / "pkg" / "mod.py").stat().st_mtime)
    assert mtime[:6] == (2020, 5, 17, 12, 30, 0)
    assert task_root == tmp_path / "out" / "var" / "task"


def test_a_real_spec_project_builds_and_its_bare_app_has_the_routes_it_registers(
        tmp_path: Path) -> None:
    """The real-spec scale rows: the project real_specs writes (the spec as published, no
    bindings, security checked) builds, and the bare Chalice app made from its compiled form
    has exactly the routes and methods the spec's operations are served on."""
    import real_specs
    import yaml

    from tests.conftest import FIXTURES

    spec = tmp_path / "secured.json"  # a spec with security schemes, as JSON like both real ones
    spec.write_text(json.dumps(yaml.safe_load((FIXTURES / "secured" / "openapi.yaml").read_text())))
    project = real_specs.write_project("secured", spec, tmp_path / "project",
                                       real_specs.REQUIREMENTS)
    built = subprocess.run([sys.executable, "-m", "pym_lambda.build.cli", "build",
                            "--project-dir", str(project)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-2000:]
    compiled = json.loads((project / "chalicelib" / "pym_compiled.json").read_text())
    routes = real_specs.spec_routes(compiled)
    ops = compiled["apis"][0]["operations"]
    assert routes and sum(map(len, routes.values())) == len([o for o in ops if o.get("route")])

    source = real_specs.bare_source("secured", routes)
    (tmp_path / "bare_real.py").write_text(source)
    sys.path.insert(0, str(tmp_path))
    try:
        import bare_real
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("bare_real", None)
    served = {(path, method) for path, methods in bare_real.app.routes.items()
              for method in methods}
    assert served == {(o["route"], o["method"]) for o in ops if o.get("route")}


def test_real_spec_rows_report_ratios_and_missing_specs() -> None:
    data = figures(84, 37, 24, 75, 28, 44)
    data["scale_real"] = {
        "stripe": {"label": "Stripe (x)", "operations": 452, "routes": 305,
                   "routed_operations": 452, "real_stripe": {"median_import_cpu_ms": 90.0},
                   "bare_real_stripe": {"median_import_cpu_ms": 60.0}},
        "github": {"label": "GitHub (y)", "missing": "not in /v/real-specs (run setup.sh)"}}
    results = {t["name"]: t for t in lambda_mode.targets(data)}
    stripe = next(v for k, v in results.items() if k.startswith("#18 Stripe (x)"))
    github = next(v for k, v in results.items() if k.startswith("#18 GitHub (y)"))
    assert stripe["pass"] is True and "1.50x" in stripe["detail"]
    assert github["pass"] is None  # not measured: no figures, no verdict
    text = "\n".join(lambda_mode.report_lines(data))
    assert "452 ops, 452 routed on 305 routes" in text and "1.50x" in text
    assert "GitHub (y): not in /v/real-specs (run setup.sh)" in text
    data["scale_real"]["stripe"]["real_stripe"]["median_import_cpu_ms"] = 130.0
    assert next(t for t in lambda_mode.targets(data)
                if t["name"].startswith("#18 Stripe (x)"))["pass"] is False  # 2.17x


def test_a_real_spec_packaging_error_fails_the_smoke_run() -> None:
    assert lambda_mode.failures({"packaging_errors": {"real_github": "exited 1"}})
    assert not lambda_mode.failures({"packaging_errors": {"bare_real_github": "exited 1"}})
