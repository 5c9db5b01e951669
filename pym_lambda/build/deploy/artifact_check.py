"""The smoke check of a built Lambda package: does the zip AWS will run start and answer?

`check_package(zip, sam.json)` unpacks the package, runs each function of the template as the
Lambda runtime would (artifact.py: isolated interpreter, only boto3 and friends beside the task
root, no bytecode written), and asks each one what proves it loads: the REST API's function
answers `GET /ping` (a real REST proxy event) with 200; each SQS worker answers an empty batch
without error; any other function only has to load. Afterwards the task root must be unchanged,
as Lambda's /var/task is read-only. Problems come back as one line each, e.g.
"app.py: No module named 'pym_lambda' (Runtime.ImportModuleError): the package lacks it".
No AWS call leaves the machine: unless the caller says otherwise, the functions get fake
credentials and an endpoint on a closed local port.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from .artifact import (
    ArtifactError,
    FunctionSpec,
    Interpreter,
    find_interpreter,
    function_specs,
    load_template,
    queue_urls,
    runtime_libraries,
    unpack,
)
from .errors import DeployError
from .lambda_events import GatewayMiss, RestApi, api_gateway_event
from .lambda_process import LambdaProcess

STEP = "check"
PING = "/ping"
# AWS calls made while checking fail at once, on this machine.
OFFLINE_AWS = {"AWS_ACCESS_KEY_ID": "pym-artifact-check", "AWS_SECRET_ACCESS_KEY": "pym-check",
               "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_EC2_METADATA_DISABLED": "true",
               "AWS_MAX_ATTEMPTS": "1"}


@dataclass(frozen=True)
class FunctionCheck:
    logical_id: str
    handler: str
    role: str  # "api", "sqs worker" or "other"
    import_ms: Optional[float] = None  # the handler module's import, inside the runtime
    start_ms: Optional[float] = None  # process start to handler loaded, from outside
    checked: str = ""  # what it answered, e.g. "GET /ping -> 200"
    problem: str = ""
    modules: int = 0  # the task root's modules loaded at the cold start
    compiled_from_source: Tuple[str, ...] = ()  # of those, the ones no bytecode served


@dataclass(frozen=True)
class PackageCheck:
    package: Path
    package_bytes: int  # the zip's size (0 when a folder was checked)
    unpacked_bytes: int
    functions: Tuple[FunctionCheck, ...] = ()
    problems: Tuple[str, ...] = ()
    skipped: str = ""  # why the functions could not be run here (no such interpreter)
    python: str = ""

    @property
    def passed(self) -> bool:
        return not self.problems and not self.skipped

    @property
    def checks_passed(self) -> Tuple[str, ...]:
        return tuple(f"{f.logical_id}: {f.checked}" for f in self.functions if not f.problem)

    def raise_for_problems(self) -> None:
        if self.problems:
            raise DeployError(STEP, "; ".join(self.problems),
                              hint="the Lambda package would fail the same way on AWS")


def check_package(package: Path, sam_template: Union[Path, Mapping[str, Any]], *,
                  parameters: Optional[Mapping[str, str]] = None,
                  environment: Optional[Mapping[str, str]] = None,
                  region: str = "us-east-1", workdir: Optional[Path] = None,
                  invoke_timeout: float = 30.0) -> PackageCheck:
    """Check `package` (deployment.zip, or an already unpacked task root) against the functions
    of `sam_template` (sam.json, as `pym-lambda package` writes it). `parameters` gives the
    template's parameters (JwtSecret...); `environment` is added to every function's. A Ref to
    one of the template's queues is its URL at the functions' AWS_ENDPOINT_URL."""
    template = (load_template(sam_template) if isinstance(sam_template, (str, Path))
                else sam_template)
    env = {**OFFLINE_AWS, **(environment or {})}
    # The queues' URLs (the functions' PYM_TASK_QUEUE_URL_*), at the endpoint they will call
    queues = queue_urls(template, env.get("AWS_ENDPOINT_URL"), region=region)
    specs = function_specs(template, {**queues, **(parameters or {})}, region=region)
    with tempfile.TemporaryDirectory(prefix="pym-artifact-") as scratch:
        base = Path(workdir) if workdir is not None else Path(scratch)
        package = Path(package)
        task_root = package if package.is_dir() else unpack(package, base)
        before = snapshot(task_root)
        result = PackageCheck(
            package=package, package_bytes=0 if package.is_dir() else package.stat().st_size,
            unpacked_bytes=sum(size for size, _ in before.values() if size >= 0))
        foreign = sorted({s.architecture for s in specs} - {machine_architecture()})
        if foreign:  # its native wheels would not load here: say so, do not fail
            return replace(result, skipped=f"the functions run on {', '.join(foreign)}, this "
                                           f"machine is {machine_architecture()}")
        runtimes = sorted({s.runtime for s in specs})
        interpreters = {r: find_interpreter(r) for r in runtimes}
        missing = [i for i in interpreters.values() if not i.available]
        if missing:
            return replace(result, skipped="; ".join(i.reason for i in missing))
        libraries, absent = runtime_libraries(base / "runtime")
        if absent:
            return replace(result, skipped="the runtime's libraries are not all installed "
                                            f"here: {', '.join(absent)}")
        api = _rest_api(template)
        checks = [_check_function(s, task_root, interpreters[s.runtime], libraries, env,
                                  region, invoke_timeout, api) for s in specs]
        problems = _grouped_problems(checks) + _unused_bytecode(checks, before)
        changed = changes(before, snapshot(task_root))
        if changed:
            shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more"
                                              if len(changed) > 5 else "")
            problems.append(f"the functions wrote into the task root, read-only on Lambda: "
                            f"{shown}")
        return replace(result, functions=tuple(checks), problems=tuple(problems),
                        python=next(iter(interpreters.values())).version)


def machine_architecture() -> str:
    """This machine in Lambda's words: x86_64 or arm64."""
    import platform

    machine = platform.machine().lower()
    return "arm64" if machine in ("aarch64", "arm64") else machine


def _rest_api(template: Mapping[str, Any]) -> Optional[RestApi]:
    try:
        return RestApi.from_template(template)
    except ValueError:
        return None


def _role(spec: FunctionSpec, api: Optional[RestApi]) -> str:
    if api is not None and spec.logical_id in api.function_ids:
        return "api"
    return "sqs worker" if spec.is_sqs_worker else "other"


def _check_function(spec: FunctionSpec, task_root: Path, interpreter: Interpreter,
                    libraries: Path, environment: Mapping[str, str], region: str,
                    invoke_timeout: float, api: Optional[RestApi]) -> FunctionCheck:
    role = _role(spec, api)
    check = FunctionCheck(spec.logical_id, spec.handler, role)
    assert interpreter.executable is not None
    try:
        process = LambdaProcess(spec, task_root, interpreter=interpreter.executable,
                                libraries=libraries, environment=environment, region=region,
                                invoke_timeout=invoke_timeout)
        with process:
            if process.init_error is not None:
                return replace(check, start_ms=process.start_ms,
                                problem=init_problem(spec, process.init_error))
            init = process.init or {}
            check = replace(check, import_ms=init.get("importMs"), start_ms=process.start_ms,
                            modules=int(init.get("modules") or 0),
                            compiled_from_source=tuple(init.get("compiledFromSource") or ()))
            return _answer(check, spec, process, api)
    except ArtifactError as exc:
        text = str(exc)
        return replace(check, problem=text if text.startswith(spec.logical_id)
                       else f"{spec.logical_id} ({spec.handler}): {text}")


def _answer(check: FunctionCheck, spec: FunctionSpec, process: LambdaProcess,
            api: Optional[RestApi]) -> FunctionCheck:
    where = f"{spec.logical_id} ({spec.handler})"
    if check.role == "api":
        assert api is not None
        try:
            event = api_gateway_event(api, "GET", PING)
        except GatewayMiss:
            return replace(check, problem=f"{where}: the REST API has no GET {PING}")
        invocation = process.call(event)
        if invocation.error is not None:
            return replace(check, problem=f"{where}: GET {PING}: "
                                           + error_line(invocation.error))
        status = (invocation.result or {}).get("statusCode")
        if status != 200:
            body = str((invocation.result or {}).get("body"))[:200]
            return replace(check, problem=f"{where}: GET {PING} answered {status}: {body}")
        return replace(check, checked=f"GET {PING} -> 200")
    if check.role == "sqs worker":
        invocation = process.call({"Records": []})
        if invocation.error is not None:
            return replace(check, problem=f"{where}: an empty SQS batch: "
                                           + error_line(invocation.error))
        return replace(check, checked="empty SQS batch -> no error")
    return replace(check, checked="loaded")


# --- problems, as one line each --------------------------------------------------------------

_NO_MODULE = re.compile(r"No module named '([^']+)'")
_FRAME = re.compile(r'File "([^"]+)", line (\d+)')


def error_line(error: Mapping[str, Any]) -> str:
    """errorMessage (errorType), at the innermost frame of the package's own code."""
    text = f"{error.get('errorMessage', '')} ({error.get('errorType', '')})"
    frames = [m for line in error.get("stackTrace") or [] for m in _FRAME.finditer(str(line))]
    inside = [m for m in frames if "/var/task/" in m[1]]
    if inside:
        text += f" at {inside[-1][1].split('/var/task/', 1)[1]}:{inside[-1][2]}"
    return text


def init_problem(spec: FunctionSpec, error: Mapping[str, Any]) -> str:
    """A function that does not load: the module, the cause, what it means."""
    module_file = spec.handler.rsplit(".", 1)[0].replace(".", "/") + ".py"
    message = str(error.get("errorMessage", ""))
    kind = str(error.get("errorType", ""))
    if kind == "Runtime.ImportModuleError":
        message = message.split("': ", 1)[1] if "': " in message else message
        lacks = ": the package lacks it" if _NO_MODULE.search(message) else ""
        return f"{module_file}: {message} ({kind}){lacks}"
    if kind == "Runtime.HandlerNotFound":
        return f"{module_file}: {message} ({kind}): the template names a handler it lacks"
    return f"{module_file}: {error_line(error)}"


def _grouped_problems(checks: List[FunctionCheck]) -> List[str]:
    """One line per distinct problem, naming the functions that have it."""
    grouped: Dict[str, List[str]] = {}
    for check in checks:
        if check.problem:
            grouped.setdefault(check.problem, []).append(check.logical_id)
    return [problem if problem.startswith(tuple(ids)) else f"{problem} [{', '.join(ids)}]"
            for problem, ids in grouped.items()]


def _unused_bytecode(checks: List[FunctionCheck], files: Mapping[str, Tuple[int, str]]
                     ) -> List[str]:
    """A package that ships bytecode must not compile at the cold start: a module that was
    compiled lacks its pyc, or has one of another Python's (ignored by the importer)."""
    if not any("__pycache__/" in path for path in files):
        return []
    compiled = sorted({path for check in checks for path in check.compiled_from_source})
    if not compiled:
        return []
    shown = ", ".join(compiled[:5]) + (f" and {len(compiled) - 5} more"
                                       if len(compiled) > 5 else "")
    return [f"{len(compiled)} module(s) compiled from source at the cold start although the "
            f"package ships bytecode (none for this Python, or missing): {shown}"]


# --- the task root, before and after ---------------------------------------------------------

def snapshot(root: Path) -> Dict[str, Tuple[int, str]]:
    """Every entry under `root`: (size, sha256) for files, (-1, "") for folders and links."""
    entries: Dict[str, Tuple[int, str]] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            if path.is_symlink() or path.is_dir():
                entries[relative] = (-1, os.readlink(path) if path.is_symlink() else "")
            else:
                data = path.read_bytes()
                entries[relative] = (len(data), hashlib.sha256(data).hexdigest())
    return entries


def changes(before: Mapping[str, Tuple[int, str]],
            after: Mapping[str, Tuple[int, str]]) -> List[str]:
    """What was added, removed or changed, by path."""
    return sorted([f"+{p}" for p in after if p not in before]
                  + [f"-{p}" for p in before if p not in after]
                  + [f"~{p}" for p in before if p in after and before[p] != after[p]])
