"""The Lambda-faithful mode (issue #18): packages measured the way Lambda runs them.

On Lambda, /var/task is read-only and Chalice ships sources only: unless a package carries its
own bytecode, every module it imports is compiled from source at every cold start. So here:
- a "runtime" venv of the target Python (the machine's python3) holding only boto3/botocore,
  what the Lambda runtime provides (`ensure_runtime`; made by setup.sh, or on demand);
- each package as its own tool ships it, unzipped into `<work>/lambda/<name>/var/task`:
  what `pym-lambda package` writes, a bare Chalice app with the same routes as `chalice
  package` writes it, that bare package with bytecode compiled in by the runtime's Python (the
  limit), and the peers' files with their installed distributions copied beside them;
- imported by `<runtime python> -I -B` with the cwd at var/task and var/task first on sys.path
  (`-I` ignores PYTHONDONTWRITEBYTECODE: only `-B` keeps bytecode from being written and
  reused between runs), with Lambda's environment for the function and nothing inherited.

run.py calls `measure()`; `python benchmarks/lambda_runtime.py setup|copy-dists|events ...` are
the pieces that run under the benchmark venv's interpreter.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
COMMON = HERE / "peers" / "common"

RUNTIME_DIR = "lambda-runtime"                   # under the benchmark venv
RUNTIME_PACKAGES = ("boto3", "botocore")         # what the runtime provides (and their deps)
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six",
                    "urllib3"}
LOG_LINE_ON = {"PYM_LOG_LEVEL": "INFO"}  # pym-lambda's request line is an INFO record
ACCOUNT = "123456789012"
REGION = "us-east-1"
# The example service's requirements a generated project needs (the build names them).
GEN_REQUIREMENTS = ('pyyaml>=6\ngoogle-re2==1.1; python_version < "3.12"\n'
                    'google-re2>=1.1; python_version >= "3.12"\n')

COLD_CODE = (
    "import time\n"
    "t0, c0 = time.perf_counter(), time.process_time()\n"
    "import sys\n"
    "sys.path.insert(0, {task_root!r})\n"
    "import {module}\n"
    "t1, c1 = time.perf_counter(), time.process_time()\n"
    "import json\n"
    "with open('/proc/self/status') as f:\n"
    "    rss = next(int(l.split()[1]) for l in f if l.startswith('VmHWM:'))\n"
    "print(json.dumps({{'import_ms': (t1 - t0) * 1000, 'import_cpu_ms': (c1 - c0) * 1000,"
    " 'maxrss_kb': rss, 'path0': sys.path[0],"
    " 'from_task_root': getattr(sys.modules[{module!r}], '__file__', '').startswith("
    "{task_root!r})}}))\n"
)


class PackagingError(RuntimeError):
    pass


def _run(cmd: List[str], *, cwd: Optional[Path] = None, env: Optional[Dict[str, str]] = None,
         timeout: float = 600) -> str:
    proc = subprocess.run(cmd, cwd=str(cwd) if cwd else None, env=env, capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0:
        tail = (proc.stderr.strip() or proc.stdout.strip())[-800:]
        raise PackagingError(f"{' '.join(str(c) for c in cmd[:4])}... exited "
                             f"{proc.returncode}: {tail}")
    return proc.stdout


def _tool_env() -> Dict[str, str]:
    """For the packagers: a region for Chalice's ARNs, no credentials, no AWS call."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.setdefault("AWS_DEFAULT_REGION", REGION)
    return env


# ------------------------------------------------------------------------------ the runtime
def runtime_python(bench_venv: Path) -> Path:
    return bench_venv / RUNTIME_DIR / "bin" / "python"


def ensure_runtime(bench_venv: Path, bench_python: str, create: bool = True,
                   base_python: Optional[str] = None) -> Dict[str, Any]:
    """The runtime venv: python3 with only boto3/botocore (at the benchmark venv's versions, so
    that pip's cache usually has them). Made once; `create=False` only looks."""
    py = runtime_python(bench_venv)
    marker = bench_venv / RUNTIME_DIR / "bench-runtime.json"
    if py.exists() and marker.is_file():
        return dict(json.loads(marker.read_text()), python=str(py))
    if not create:
        return {"error": f"no runtime venv at {py.parent.parent} (run benchmarks/setup.sh)"}
    base = base_python or shutil.which("python3") or sys.executable
    try:
        versions = json.loads(_run([bench_python, "-c", (
            "import importlib.metadata as m, json;"
            f"print(json.dumps({{n: m.version(n) for n in {RUNTIME_PACKAGES!r}}}))")]))
        shutil.rmtree(py.parent.parent, ignore_errors=True)
        # the base interpreter, not a venv's: `python3 -m venv` from a venv still uses its base
        _run([base, "-m", "venv", str(py.parent.parent)])
        _run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
              *[f"{n}=={v}" for n, v in versions.items()]], timeout=900)
        version = _run([str(py), "-I", "-c", "import sys, boto3; "
                        "print('%d.%d.%d' % sys.version_info[:3])"]).strip()
    except (PackagingError, OSError, ValueError, subprocess.TimeoutExpired) as exc:
        return {"error": f"could not make the runtime venv: {exc}"}
    info = {"version": version, "packages": versions, "base": base}
    marker.write_text(json.dumps(info))
    return dict(info, python=str(py))


# ------------------------------------------------------------------------------ packages
@dataclass
class Package:
    key: str
    label: str
    task_root: Path
    how: str                                    # how it was made, for the report
    zip_bytes: Optional[int] = None
    module: str = "app"
    attr: str = "app"
    env: Dict[str, str] = field(default_factory=dict)  # the function's own variables

    def sizes(self) -> Dict[str, Any]:
        files = [p for p in self.task_root.rglob("*") if p.is_file()]
        return {"zip_bytes": self.zip_bytes,
                "unpacked_bytes": sum(p.stat().st_size for p in files),
                "files": len(files), "pyc_files": sum(p.suffix == ".pyc" for p in files)}


def unpack(zip_path: Path, root: Path) -> Path:
    task_root = root / "var" / "task"
    shutil.rmtree(root, ignore_errors=True)
    task_root.mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(task_root)
        # as unzip does (extractall leaves "now"): a timestamp-checked .pyc shipped in the zip
        # stays valid only if its source keeps the zip's mtime
        for info in z.infolist():
            if not info.is_dir():
                stamp = time.mktime(info.date_time + (0, 0, -1))
                os.utime(task_root / info.filename, (stamp, stamp))
    return task_root


def function_env(sam: Path, handler: str) -> Dict[str, str]:
    """The function's Environment.Variables from the SAM template; a Ref (queue URL,
    parameter) becomes a stand-in value of the same shape."""
    template = json.loads(sam.read_text())
    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties") or {}
        if resource.get("Type") == "AWS::Serverless::Function" and props.get("Handler") == handler:
            out = {}
            for name, value in ((props.get("Environment") or {}).get("Variables") or {}).items():
                if isinstance(value, dict):
                    ref = str(value.get("Ref", "value"))
                    value = (f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{ref}"
                             if ref.startswith("TaskQueue") else f"bench-{ref}")
                out[name] = str(value)
            return out
    return {}


def lambda_env(pkg: Package, memory_mb: int = 1024) -> Dict[str, str]:
    """What Lambda gives a function (names, region, task root), its variables, nothing else."""
    task = str(pkg.task_root)
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "en_US.UTF-8", "TZ": ":UTC",
           "LAMBDA_TASK_ROOT": task, "LAMBDA_RUNTIME_DIR": task,
           "_HANDLER": f"{pkg.module}.{pkg.attr}",
           "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11", "AWS_REGION": REGION,
           "AWS_DEFAULT_REGION": REGION, "AWS_LAMBDA_FUNCTION_NAME": "pym-bench",
           "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
           "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
           "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/pym-bench",
           "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]0123456789abcdef"}
    env.update(pkg.env)
    return env


def pym_package(bench_python: str, project: Path, work: Path, key: str, label: str,
                stage: str, cache: Optional[Path] = None) -> Package:
    """`pym-lambda package --stage S`: its deployment.zip, unzipped. `cache` keeps Chalice's
    dependency zips (.chalice/deployments) between runs, as a developer's tree does."""
    if cache is not None:
        deployments = project / ".chalice" / "deployments"
        shutil.rmtree(deployments, ignore_errors=True)
        cache.mkdir(parents=True, exist_ok=True)
        deployments.parent.mkdir(parents=True, exist_ok=True)
        deployments.symlink_to(cache, target_is_directory=True)
    out = work / f"{key}_out"
    _run([bench_python, "-m", "pym_lambda.build.cli", "package", "--stage", stage,
          "--project-dir", str(project), "--out", str(out)], cwd=project, env=_tool_env())
    zip_path = out / "deployment.zip"
    # The function's variables as deploy sets them, and the JSON request line on (#18 measures
    # with it): the example's prod stage logs at WARNING, which writes no request line.
    env = {**function_env(out / "sam.json", "app.app"), **LOG_LINE_ON}
    return Package(key, label, unpack(zip_path, work / key), f"pym-lambda package --stage "
                   f"{stage}", zip_path.stat().st_size, env=env)


def chalice_package(bench_python: str, project: Path, work: Path, key: str,
                    label: str) -> Package:
    """`chalice package` of a project: its deployment.zip, unzipped."""
    out = work / f"{key}_out"
    # chalice's console script, through the interpreter (whichever venv it is, script or not)
    _run([bench_python, "-c", "import sys; from chalice.cli import main; sys.exit(main())",
          "--project-dir", str(project), "package", "--stage", "dev", str(out)],
         cwd=project, env=_tool_env())
    zip_path = out / "deployment.zip"
    return Package(key, label, unpack(zip_path, work / key), "chalice package",
                   zip_path.stat().st_size, env=function_env(out / "sam.json", "app.app"))


def with_bytecode(runtime: str, pkg: Package, work: Path, key: str, label: str) -> Package:
    """The package with every module compiled by the runtime's Python (compileall's default,
    timestamp-checked .pyc: nothing to hash at import): the limit of shipping bytecode."""
    root = work / key
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(pkg.task_root.parent.parent, root, symlinks=True)
    task_root = root / "var" / "task"
    _run([runtime, "-I", "-m", "compileall", "-q", str(task_root)])
    return Package(key, label, task_root, pkg.how + ", then python -m compileall",
                   None, pkg.module, pkg.attr, dict(pkg.env))


def chalice_project(target: Path, app_source: str, name: str,
                    vendor: Iterable[Path] = ()) -> Path:
    """A Chalice project: app.py, vendor/ (copied to the package's root), no requirements."""
    shutil.rmtree(target, ignore_errors=True)
    (target / ".chalice").mkdir(parents=True)
    (target / "app.py").write_text(app_source)
    (target / "requirements.txt").write_text("")
    (target / ".chalice" / "config.json").write_text(json.dumps(
        {"version": "2.0", "app_name": name, "stages": {"dev": {"api_gateway_stage": "api"}}}))
    files = list(vendor)
    if files:
        (target / "vendor").mkdir()
        for f in files:
            shutil.copy2(f, target / "vendor" / f.name)
    return target


def bare_project(work: Path) -> Path:
    """peers/bare_chalice as a Chalice project: its store module goes in vendor/."""
    return chalice_project(work / "bare_project",
                           (HERE / "peers" / "bare_chalice" / "app.py").read_text(),
                           "bench-bare", [COMMON / "library_store.py"])


def bare_gen_source(n_ops: int) -> str:
    """A bare Chalice app with the routes of gen_spec's project of n_ops operations."""
    lines = ['"""Bare Chalice, the routes of benchmarks/gen_spec.py (no validation)."""',
             "import json", "", "from chalice import Chalice, Response", "",
             f'app = Chalice(app_name="bare-gen{n_ops}")', ""]
    for i in range(max(1, n_ops // 2)):
        lines += [
            "",
            f'@app.route("/v1/r{i}/items/{{item_id}}", methods=["GET"])',
            f"def get_r{i}(item_id):",
            "    q = app.current_request.query_params or {}",
            f"    return {{'id': int(item_id), 'name': 'r{i}', 'limit': int(q.get('limit', 10))}}",
            "",
            "",
            f'@app.route("/v1/r{i}/items/{{item_id}}", methods=["POST"])',
            f"def post_r{i}(item_id):",
            "    return Response(json.loads(app.current_request.raw_body), status_code=201)",
            "",
        ]
    return "\n".join(lines)


def gen_projects(n_ops: int, work: Path) -> Dict[str, Path]:
    from gen_spec import write_project

    pym = write_project(n_ops, work / f"gen{n_ops}_project")
    (pym / "requirements.txt").write_text(GEN_REQUIREMENTS)
    bare = chalice_project(work / f"bare_gen{n_ops}_project", bare_gen_source(n_ops),
                           f"bare-gen{n_ops}")
    return {"pym": pym, "bare": bare}


def copy_project(dest: Path) -> Path:
    """The example service's files as a developer's tree has them, without caches."""
    ignore = shutil.ignore_patterns("__pycache__", "pym_compiled.json", "*.tmp", "deployments",
                                    "deployed")
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for name in ("app.py", "chalicelib", "apis", ".chalice", "pym-config.yaml",
                 "requirements.txt"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=ignore)
        elif src.is_file():
            shutil.copy2(src, dest / name)
    return dest


# Peers packaged the same way: their files, the distributions they import (and what those
# require, less what the runtime provides), and Chalice's own files as `chalice package`
# ships them (taken from the bare package) where the peer is a Chalice app.
PEER_PACKAGES = {
    "osv": ("Chalice + openapi-schema-validator", [HERE / "peers" / "chalice_osv" / "app.py"],
            "app", ["openapi-schema-validator"], True),
    "pt_validate": ("Powertools + validate()", sorted((HERE / "peers" / "powertools").glob(
        "*.py")), "app_validate", ["aws-lambda-powertools", "fastjsonschema"], False),
    "pt_fjs": ("Powertools + compiled fastjsonschema", sorted(
        (HERE / "peers" / "powertools").glob("*.py")), "app_fjs",
        ["aws-lambda-powertools", "fastjsonschema"], False),
    "pt_pydantic": ("Powertools + pydantic (enable_validation)", sorted(
        (HERE / "peers" / "powertools").glob("*.py")), "app_pydantic",
        ["aws-lambda-powertools", "pydantic"], False),
}


def peer_package(bench_python: str, key: str, work: Path, bare: Optional[Package]) -> Package:
    label, files, module, dists, needs_chalice = PEER_PACKAGES[key]
    root = work / key
    shutil.rmtree(root, ignore_errors=True)
    task_root = root / "var" / "task"
    task_root.mkdir(parents=True)
    for f in [*files, *sorted(COMMON.glob("*.py"))]:
        shutil.copy2(f, task_root / f.name)
    if needs_chalice:
        if bare is None:
            raise PackagingError("needs Chalice's files from the bare package, which failed")
        shutil.copytree(bare.task_root / "chalice", task_root / "chalice")
    _run([bench_python, str(Path(__file__)), "copy-dists", str(task_root), *dists])
    return Package(key, label, task_root, "its files + its installed distributions copied",
                   module=module)


def copy_distributions(target: Path, names: List[str]) -> List[str]:
    """Copy the installed files of `names` and of what they require (not extras, not what the
    runtime provides) into target: a packager's job, from this venv, without a download."""
    import importlib.metadata as md
    import re

    seen: Dict[str, md.Distribution] = {}
    todo = list(names)
    while todo:
        name = re.split(r"[ ;<>=!~\[(]", todo.pop(), maxsplit=1)[0]
        key = name.lower().replace("_", "-")
        if key in seen or key in RUNTIME_PROVIDED:
            continue
        dist = md.distribution(name)
        seen[key] = dist
        todo += [r for r in dist.requires or [] if "extra ==" not in r]
    for dist in seen.values():
        for f in dist.files or []:
            parts = f.parts
            if ".." in parts or "__pycache__" in parts or f.suffix == ".pyc":
                continue  # scripts in bin/, caches
            src = Path(str(dist.locate_file(f)))
            if src.is_file():
                dest = target / f
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest)
    return sorted(f"{d.metadata['Name']}=={d.version}" for d in seen.values())


# ------------------------------------------------------------------------------ measuring
def run_child(cmd: List[str], cwd: Any, env: Optional[Dict[str, str]],
              timeout: float = 300) -> Dict[str, Any]:
    """Run a measuring child; its last JSON line of stdout, with wall_ms, or {"error": ...}
    (also run.py's Runner)."""
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=None if cwd is None else str(cwd), env=env,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    wall = (time.perf_counter() - t0) * 1000
    lines = [ln for ln in proc.stdout.strip().splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-15:]
        return {"error": f"{(tail[-1] if tail else 'no output')[:300]} (exit {proc.returncode})",
                "stderr_tail": "\n".join(tail)}
    out: Dict[str, Any] = json.loads(lines[-1])
    out["wall_ms"] = wall
    return out


def cold_once(runtime: str, pkg: Package) -> Dict[str, Any]:
    code = COLD_CODE.format(task_root=str(pkg.task_root), module=pkg.module)
    res = run_child([runtime, "-I", "-B", "-c", code], pkg.task_root, lambda_env(pkg), 120)
    if "error" not in res and not res.get("from_task_root"):
        res = {"error": f"{pkg.module} was not imported from {pkg.task_root}"}
    return res


def measure_cold(runtime: str, packages: List[Package], runs: int,
                 log: Callable[[str], None]) -> Dict[str, Any]:
    """Round robin over the packages (drift hits all alike); medians of `runs` processes."""
    keys = ("import_ms", "import_cpu_ms", "wall_ms", "maxrss_kb")
    out: Dict[str, Any] = {p.key: {k: [] for k in keys} for p in packages}
    for i in range(runs + 1):  # the first round warms the page cache, not counted
        for pkg in packages:
            r = out[pkg.key]
            if "error" in r:
                continue
            res = cold_once(runtime, pkg)
            if "error" in res:
                r["error"] = res["error"]
                continue
            if i:
                for k in keys:
                    r[k].append(res[k])
        if i:
            log(f"  lambda cold start: round {i}/{runs}")
    for pkg in packages:
        r = out[pkg.key]
        for k in keys:
            r[f"median_{k}"] = statistics.median(r[k]) if r[k] else None
        r.update(pkg.sizes())
        r["label"], r["how"] = pkg.label, pkg.how
    return out


def measure_requests(runtime: str, packages: List[Package], events: Path, repeats: int,
                     target_s: float, smoke: bool, passes: int,
                     log: Callable[[str], None]) -> Dict[str, Any]:
    """Each package in its own runtime process; with passes > 1 the lower median is kept."""
    out: Dict[str, Any] = {}
    for n in range(passes):
        for pkg in packages:
            log(f"  lambda per request (pass {n + 1}/{passes}): {pkg.label}")
            args = {"task_root": str(pkg.task_root), "module": pkg.module, "attr": pkg.attr,
                    "events": str(events), "repeats": repeats, "target_s": target_s,
                    "smoke": smoke, "timer": "cpu"}
            res = run_child([runtime, "-I", "-B", str(HERE / "lambda_child.py"), json.dumps(args)],
                         pkg.task_root, lambda_env(pkg))
            prev = out.get(pkg.key)
            if prev is None or "error" in prev:
                out[pkg.key] = res
                continue
            for name, entry in (res.get("requests") or {}).items():
                old = prev["requests"].get(name) or {}
                if "error" not in entry and (old.get("us") is None or entry["us"] < old["us"]):
                    prev["requests"][name] = entry
    return out


def measure_tasks(runtime: str, pkg: Package, repeats: int, target_s: float,
                  smoke: bool) -> Dict[str, Any]:
    """child.py's task mode (pym_lambda.tasks worker vs a bare @app.on_sqs_message, one
    process) in the runtime, with the framework and Chalice the package ships."""
    args = {"sys_path": [str(pkg.task_root)], "repeats": repeats, "target_s": target_s,
            "smoke": smoke, "timer": "cpu"}
    return run_child([runtime, "-I", "-B", str(HERE / "child.py"), "tasks", json.dumps(args)],
                  pkg.task_root, lambda_env(pkg))


def importtime(runtime: str, pkg: Package, top: int = 10) -> Dict[str, Any]:
    """`-X importtime` of the package's import in the runtime (sources compiled as on Lambda):
    self time by top-level package and the modules costing most. One process: a breakdown,
    not a figure to compare."""
    code = f"import sys; sys.path.insert(0, {str(pkg.task_root)!r}); import {pkg.module}"
    proc = subprocess.run([runtime, "-I", "-B", "-X", "importtime", "-c", code],
                          cwd=str(pkg.task_root), env=lambda_env(pkg), capture_output=True,
                          text=True, timeout=120)
    rows = []
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "[us]" not in line:
            self_us, cum_us, name = line.split(":", 1)[1].split("|")
            rows.append((name.strip(), int(self_us) / 1000, int(cum_us) / 1000))
    if proc.returncode != 0 or not rows:
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1][:300]}
    by_package: Dict[str, float] = {}
    for name, self_ms, _ in rows:
        root = name.split(".")[0]
        by_package[root] = by_package.get(root, 0.0) + self_ms
    return {"total_self_ms": sum(r[1] for r in rows),
            "app_cum_ms": next((r[2] for r in rows if r[0] == pkg.module), None),
            "modules": len(rows),
            "by_package": sorted(by_package.items(), key=lambda kv: -kv[1])[:top],
            "top_modules": [{"module": r[0], "self_ms": r[1]}
                            for r in sorted(rows, key=lambda r: -r[1])[:top]]}


def write_events(bench_python: str, path: Path) -> None:
    _run([bench_python, str(Path(__file__)), "events", str(path)])


def events_json() -> Dict[str, Any]:
    """The workload's requests as API Gateway REST proxy events (benchmarks/workload.py)."""
    sys.path.insert(0, str(HERE))
    from workload import REQUESTS, SEED

    return {"seed": [{"name": r.name, "event": r.event(), "expect": r.expect} for r in SEED],
            "requests": [{"name": r.name, "event": r.event(), "expect": r.expect}
                         for r in REQUESTS]}


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "copy-dists":
        print("\n".join(copy_distributions(Path(sys.argv[2]), sys.argv[3:])))
    elif cmd == "events":
        Path(sys.argv[2]).write_text(json.dumps(events_json()))
    elif cmd == "setup":  # setup.sh: BENCH_VENV, the benchmark venv's python, the base python
        info = ensure_runtime(Path(sys.argv[2]), sys.argv[3],
                              base_python=shutil.which(sys.argv[4]) if len(sys.argv) > 4 else None)
        print(json.dumps(info))
        sys.exit(1 if "error" in info else 0)
    else:
        sys.exit(f"unknown command {cmd}")
