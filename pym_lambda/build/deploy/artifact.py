"""The Lambda package run as AWS runs it, on this machine (build time only).

On AWS the deployment zip is unzipped into /var/task (read-only) and the Python runtime imports
the handler's module with the standard library and the runtime's own boto3 and botocore (with
s3transfer, jmespath, dateutil, six, urllib3) beside it, writing no bytecode. Here: the zip is
unpacked into `<root>/var/task`, a folder of links stands for the runtime's libraries (found in
the building environment), and `lambda_bootstrap.py` runs in `python -I -S -B` (no site-packages,
no PYTHON* variables, no bytecode) with only the environment Lambda would give the function.
A module the package lacks fails here as it would on AWS: Runtime.ImportModuleError.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ...errors import PymLambdaError

BOOTSTRAP = Path(__file__).with_name("lambda_bootstrap.py")
# What the Lambda Python runtime provides besides the standard library.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
ACCOUNT = "123456789012"  # the account of the emulated ARNs (moto's default)
PSEUDO_ACCOUNT_PARAMETERS = {"AWS::AccountId": ACCOUNT, "AWS::Partition": "aws",
                             "AWS::URLSuffix": "amazonaws.com", "AWS::NoValue": ""}
SAM_DEFAULT_TIMEOUT = 3  # seconds, SAM's default
SAM_DEFAULT_MEMORY = 128  # MB


class ArtifactError(PymLambdaError):
    """The emulation itself could not run (not a fault of the function's code)."""


# --- the package, unpacked ---------------------------------------------------------------------

def unpack(zip_path: Path, root: Path) -> Path:
    """Extract the deployment zip into `<root>/var/task`; members that would land outside it
    (absolute names, `..`, links) are refused, never rewritten."""
    task_root = (Path(root) / "var" / "task").resolve()
    task_root.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path) as archive:
        for member in archive.infolist():
            name = member.filename
            target = (task_root / name).resolve()
            mode = member.external_attr >> 16
            if (name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name)
                    or ".." in re.split(r"[/\\]", name)
                    or not target.is_relative_to(task_root) or (mode & 0o170000) == 0o120000):
                raise ArtifactError(f"{zip_path}: unsafe member {name!r} (outside the task "
                                    "root, or a link)")
            archive.extract(member, task_root)
            if mode & 0o777 and not member.is_dir():
                target.chmod(mode & 0o777)  # Lambda keeps the zip's permissions
    return task_root


# --- the runtime's interpreter and libraries ----------------------------------------------------

@dataclass(frozen=True)
class Interpreter:
    """The Python standing in for a Lambda runtime, or why there is none (`executable` None:
    the check is skipped, `reason` says why)."""
    runtime: str
    executable: Optional[str]
    version: str = ""
    reason: str = ""

    @property
    def available(self) -> bool:
        return self.executable is not None


def find_interpreter(runtime: str) -> Interpreter:
    """"python3.11" -> this Python when it is 3.11, else a `python3.11` that runs: on PATH, or
    one of pyenv's versions (its shims only run for the versions a project selects)."""
    found = re.fullmatch(r"python(\d+)\.(\d+)", runtime)
    if not found:
        return Interpreter(runtime, None, reason=f"{runtime} is not a Python runtime")
    wanted = f"{found[1]}.{found[2]}"
    if f"{sys.version_info[0]}.{sys.version_info[1]}" == wanted:
        return Interpreter(runtime, sys.executable, wanted)
    candidates = [c for c in [shutil.which(runtime), *_pyenv_interpreters(runtime, wanted)] if c]
    if not candidates:
        return Interpreter(runtime, None, reason=f"no {runtime} on PATH (nor in pyenv) to run "
                                                 f"the package as the {runtime} runtime does")
    reasons = []
    for command in dict.fromkeys(candidates):
        executable, reason = _probe(command, wanted)
        if executable:
            # The real binary, not a shim (pyenv's need variables the function will not have).
            return Interpreter(runtime, executable, wanted)
        reasons.append(reason)
    return Interpreter(runtime, None, reason="; ".join(reasons))


def _pyenv_interpreters(runtime: str, wanted: str) -> List[str]:
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    if not root.is_dir():
        return []
    return [str(p) for p in sorted(root.glob(f"{wanted}.*/bin/{runtime}"), reverse=True)]


def _probe(command: str, wanted: str) -> Tuple[Optional[str], str]:
    probe = [command, "-I", "-S", "-c",
             "import sys; print(sys.executable); print('%d.%d' % sys.version_info[:2])"]
    try:
        run = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"{command} does not run: {exc}"
    lines = run.stdout.split()
    if run.returncode != 0 or len(lines) != 2 or lines[1] != wanted:
        detail = (run.stderr.strip().splitlines() or [run.stdout.strip()])[0][:200]
        return None, f"{command} is not a working Python {wanted}: {detail}"
    return lines[0], ""


def runtime_libraries(folder: Path) -> Tuple[Path, Tuple[str, ...]]:
    """A folder of links to the building environment's boto3, botocore and their dependencies,
    what the Lambda runtime has beside the standard library. Returns (folder, names missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    missing: List[str] = []
    for name in RUNTIME_PROVIDED:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            missing.append(name)
            continue
        origin = Path(spec.origin)
        source = origin.parent if spec.submodule_search_locations else origin
        link = folder / source.name
        if not link.is_symlink() and not link.exists():
            link.symlink_to(source, target_is_directory=source.is_dir())
    return folder, tuple(missing)


# --- the functions of the SAM template ----------------------------------------------------------

@dataclass(frozen=True)
class FunctionSpec:
    """One AWS::Serverless::Function of sam.json. `unresolved` holds the variables whose value
    CloudFormation would compute (a queue URL, a parameter not given): the caller supplies them."""
    logical_id: str
    handler: str
    runtime: str
    timeout: int
    memory: int
    environment: Mapping[str, str]
    unresolved: Mapping[str, Any] = field(default_factory=dict)
    function_name: str = ""
    event_types: Tuple[str, ...] = ()
    architecture: str = "x86_64"  # Lambda's default
    tracing: bool = False  # X-Ray active tracing: Lambda gives each invocation a trace id

    @property
    def is_sqs_worker(self) -> bool:
        return "SQS" in self.event_types


def function_specs(template: Mapping[str, Any], parameters: Optional[Mapping[str, str]] = None,
                   *, region: str = "us-east-1", stack_name: str = "pym-artifact"
                   ) -> List[FunctionSpec]:
    """The template's functions; `{"Ref": name}` resolved from `parameters` (a parameter's
    value, or a resource's: what CloudFormation would give, see queue_urls), the parameter's
    Default or the pseudo parameters; other intrinsics left in `unresolved`."""
    given = dict(parameters or {})
    defaults = {name: str(p["Default"]) for name, p in (template.get("Parameters") or {}).items()
                if isinstance(p, Mapping) and "Default" in p}
    known = {**PSEUDO_ACCOUNT_PARAMETERS, "AWS::Region": region, "AWS::StackName": stack_name,
             **defaults, **given}
    shared = ((template.get("Globals") or {}).get("Function") or {})
    specs: List[FunctionSpec] = []
    for logical_id, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = {**shared, **(resource.get("Properties") or {})}
        variables = {**((shared.get("Environment") or {}).get("Variables") or {}),
                     **((props.get("Environment") or {}).get("Variables") or {})}
        environment: Dict[str, str] = {}
        unresolved: Dict[str, Any] = {}
        for name, value in variables.items():
            resolved = _resolve(value, known)
            if resolved is None:
                unresolved[name] = value
            else:
                environment[name] = resolved
        name = props.get("FunctionName")
        specs.append(FunctionSpec(
            logical_id=logical_id, handler=str(props.get("Handler", "")),
            runtime=str(props.get("Runtime", "")),
            timeout=int(props.get("Timeout") or SAM_DEFAULT_TIMEOUT),
            memory=int(props.get("MemorySize") or SAM_DEFAULT_MEMORY),
            environment=environment, unresolved=unresolved,
            function_name=name if isinstance(name, str) else f"{stack_name}-{logical_id}",
            event_types=tuple(str(e.get("Type")) for e in (props.get("Events") or {}).values()),
            architecture=str((props.get("Architectures") or ["x86_64"])[0]),
            tracing=props.get("Tracing") == "Active"))
    return specs


def queue_urls(template: Mapping[str, Any], endpoint: Optional[str] = None, *,
               region: str = "us-east-1") -> Dict[str, str]:
    """What `{"Ref": <queue>}` gives for each named AWS::SQS::Queue of the template (its URL),
    at `endpoint` (a moto server's, say) or at SQS's own for `region`."""
    base = (endpoint or f"https://sqs.{region}.amazonaws.com").rstrip("/")
    return {logical_id: f"{base}/{ACCOUNT}/{resource['Properties']['QueueName']}"
            for logical_id, resource in (template.get("Resources") or {}).items()
            if resource.get("Type") == "AWS::SQS::Queue"
            and isinstance((resource.get("Properties") or {}).get("QueueName"), str)}


def _resolve(value: Any, known: Mapping[str, str]) -> Optional[str]:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, Mapping) and list(value) == ["Ref"] and value["Ref"] in known:
        return known[value["Ref"]]
    return None


def load_template(path: Path) -> Dict[str, Any]:
    return dict(json.loads(Path(path).read_text(encoding="utf-8")))
