"""Step 1 of a deploy: everything that can be checked without calling AWS.

The project must be a Chalice project whose `.chalice/config.json` names the stage (Chalice
itself accepts any stage name and would create a new set of resources for a typo). The specs
are compiled and every binding resolved with the stage's settings; the compiled form is written
to `chalicelib/pym_compiled.json`, which is all the Lambda package gets (apis/ and
pym-config.yaml are not shipped).

The functions' environment: Chalice sets a stage's `environment_variables` on its functions,
and nothing else. A variable that pym-config.yaml reads (`{env: NAME}`, `env_secrets`) and the
stage does not set would be missing at the functions' start: it is taken from the deploying
environment and forwarded (named in the plan, its value never printed), or the build fails
naming it.

Secrets: a value pym-config.yaml reads from SSM or Secrets Manager (`{ssm: ...}`,
`{secretsmanager: ...}`) is neither read nor forwarded here: the functions read it at run time,
and `secret_references()` lists them for the roles. A plain secret (jwt.secret,
jwt.private_key, env_secrets, secrets.<NAME>) in the functions' environment, or written in
pym-config.yaml, is refused for a production stage: every stage, unless pym-config.yaml gives
it `production: false`, or `allow_plain_secrets: true` (at the top level or for the stage).
"""
from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple

from ...config.environment import deep_merge
from ...runtime.compiled_types import CompiledDocument
from ...secret_store import is_reference, parse_reference
from .errors import DeployError
from .permissions import SecretRef
from .project_code import ProjectCode, vendor_project_code
from .vendor import (
    VendorResult,
    describe_missing,
    missing_needs,
    runtime_needs,
    vendor_framework,
)

STEP = "build"
CHALICE_CONFIG = Path(".chalice") / "config.json"
DEFAULT_API_GATEWAY_STAGE = "api"  # Chalice's
RUNTIME_VARIABLES = ("PYM_APP_NAME", "PYM_STAGE")  # set on every function unless the stage does


@dataclass(frozen=True)
class StageConfig:
    app_name: str
    stage: str
    environment_variables: Mapping[str, str]  # top level and stage, as Chalice merges them
    api_gateway_stage: str = DEFAULT_API_GATEWAY_STAGE
    manage_iam_role: bool = True  # Chalice's role <app>-<stage>, unless iam_role_arn is given


@dataclass(frozen=True)
class BuildResult:
    project_dir: Path
    stage: StageConfig
    spec_count: int
    operation_count: int
    compiled_file: Path
    compiled_changed: bool
    forwarded: Tuple[str, ...] = ()  # variable names taken from the deploying environment
    # The functions' environment: the stage's variables, the forwarded ones (secrets), and
    # what the runtime reads to name its queues (PYM_APP_NAME, PYM_STAGE).
    function_environment: Mapping[str, str] = field(default_factory=dict, repr=False)
    framework: VendorResult = VendorResult(vendored=False)
    project_code: ProjectCode = ProjectCode()  # the project's code outside chalicelib/, shipped
    secrets: Tuple[SecretRef, ...] = ()  # what pym-config.yaml reads from SSM/Secrets Manager
    docs_enabled: bool = True  # the stage serves /doc (else the package leaves its files out)
    alarms: Any = None  # the stage's AlarmsSettings when `alarms.enabled` (alarms.py)
    metrics: Optional[Tuple[str, str]] = None  # (namespace, service) when `metrics.enabled`
    tracing: bool = False  # `tracing.enabled`: Lambda active tracing (chalice_project.py)
    warnings: Tuple[str, ...] = ()

    @property
    def forwarded_values(self) -> Dict[str, str]:
        return {name: self.function_environment[name] for name in self.forwarded}

    @property
    def added_values(self) -> Dict[str, str]:
        """What deploy adds to the stage's own variables: the forwarded ones, and the names
        the runtime needs when the stage does not set them (the package has no
        .chalice/config.json: without PYM_APP_NAME the app would be named after /var/task)."""
        added = {name: value for name, value in self.function_environment.items()
                 if name in RUNTIME_VARIABLES}
        return {**added, **self.forwarded_values}


def read_stage_config(project_dir: Path, stage: str) -> StageConfig:
    """The stage's Chalice settings; a clear error for a missing project or unknown stage."""
    path = project_dir / CHALICE_CONFIG
    if not project_dir.is_dir():
        raise DeployError(STEP, f"no project folder {project_dir}")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except OSError:
        raise DeployError(STEP, f"no {CHALICE_CONFIG} in {project_dir}: not a Chalice project "
                                "(use --project-dir)") from None
    except ValueError as exc:
        raise DeployError(STEP, f"{CHALICE_CONFIG} is not valid JSON: {exc}") from None
    stages = config.get("stages") or {}
    if stage not in stages:
        known = ", ".join(sorted(stages)) or "none"
        raise DeployError(STEP, f"unknown stage {stage!r}: {CHALICE_CONFIG} defines {known}")
    if not config.get("app_name"):
        raise DeployError(STEP, f"{CHALICE_CONFIG} has no app_name")
    section = stages[stage] or {}
    variables = {**(config.get("environment_variables") or {}),
                 **(section.get("environment_variables") or {})}
    return StageConfig(
        app_name=str(config["app_name"]), stage=stage,
        environment_variables={k: str(v) for k, v in variables.items()},
        api_gateway_stage=str(section.get("api_gateway_stage")
                              or config.get("api_gateway_stage") or DEFAULT_API_GATEWAY_STAGE),
        manage_iam_role=bool({**config, **section}.get("manage_iam_role", True)))


def env_references(document: Mapping[str, Any], stage: str) -> List[Tuple[str, str]]:
    """(config key, variable) for each variable pym-config.yaml reads at the given stage."""
    merged = _stage_document(document, stage)
    found: List[Tuple[str, str]] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, Mapping):
            if list(value) == ["env"] and isinstance(value["env"], str):
                found.append((path, value["env"]))
                return
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else str(key))

    walk(merged, "")
    found.extend(("env_secrets", str(name)) for name in merged.get("env_secrets") or [])
    return found


def secret_references(document: Mapping[str, Any], stage: str) -> Tuple[SecretRef, ...]:
    """Each SSM parameter and Secrets Manager secret pym-config.yaml reads at `stage` (with the
    KMS key it names), sorted, once each: what the stage's functions must be allowed to read.
    Nothing is read from AWS; a malformed reference is a DeployError naming the key."""
    found: Dict[SecretRef, None] = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, Mapping) and path != "extra" and is_reference(value):
            try:
                source = parse_reference(value)
            except ValueError as exc:
                raise DeployError(STEP, f"pym-config.yaml: {path}: {exc}") from None
            found[SecretRef(source.service, source.name, source.kms_key)] = None
        elif isinstance(value, Mapping) and path != "extra":
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else str(key))

    walk(_stage_document(document, stage), "")
    return tuple(sorted(found, key=lambda r: (r.service, r.name, r.kms_key or "")))


def _stage_document(document: Mapping[str, Any], stage: str) -> Dict[str, Any]:
    """The file's top level with the stage's section merged in, as load_settings merges them."""
    return deep_merge({k: v for k, v in document.items() if k != "stages"},
                      (document.get("stages") or {}).get(stage) or {}, is_leaf=_is_leaf)


def _is_leaf(value: Any) -> bool:
    # {env: X}, {ssm: ...}, {secretsmanager: ...} replace one another, never merge key by key.
    return isinstance(value, Mapping) and (list(value) == ["env"] or is_reference(value))


def function_environment(stage: StageConfig, document: Mapping[str, Any],
                         environ: Mapping[str, str]) -> Tuple[Dict[str, str], Tuple[str, ...]]:
    """The functions' variables and the names forwarded from `environ` (see module doc)."""
    variables = {"PYM_APP_NAME": stage.app_name, "PYM_STAGE": stage.stage,
                 **stage.environment_variables}
    forwarded: List[str] = []
    missing: List[str] = []
    for key, name in env_references(document, stage.stage):
        if name in variables or name in forwarded:
            continue
        if environ.get(name):
            variables[name] = environ[name]
            forwarded.append(name)
        else:
            missing.append(f"{name} (pym-config.yaml {key})")
    # First: never advise exporting a secret that a production stage would then refuse.
    _refuse_plain_secrets(stage, document, forwarded)
    if missing:
        raise DeployError(STEP, f"stage {stage.stage}: {', '.join(missing)} not set: export it "
                                "before deploying (it is forwarded to the functions), or set it "
                                f"in {CHALICE_CONFIG} stages.{stage.stage}.environment_variables")
    return variables, tuple(forwarded)


# The keys whose value is a secret: in a production stage, never plain in the environment.
SECRET_KEYS = ("jwt.secret", "jwt.private_key")
SECRET_VARIABLES = {"PYM_JWT_SECRET": "jwt.secret", "PYM_JWT_PRIVATE_KEY": "jwt.private_key"}


def _refuse_plain_secrets(stage: StageConfig, document: Mapping[str, Any],
                          forwarded: List[str]) -> None:
    """A DeployError listing each plain secret of a production stage (module doc), with the
    command that moves it to SSM."""
    merged = _stage_document(document, stage.stage)
    if merged.get("production") is False or merged.get("allow_plain_secrets") is True:
        return  # load_settings checks that both are booleans
    where = f"{CHALICE_CONFIG} (environment_variables)"
    plain: List[Tuple[str, str, str]] = []  # (config key, variable or "", where it comes from)
    for key, name in env_references(document, stage.stage):
        if key in SECRET_KEYS or key == "env_secrets" or key.startswith("secrets."):
            origin = ("forwarded from this shell" if name in forwarded
                      else f"set in {where}" if name in stage.environment_variables
                      else "to be forwarded from this shell, where it is not set")
            plain.append((f"{key}.{name}" if key == "env_secrets" else key, name, origin))
    for name, key in SECRET_VARIABLES.items():
        if name in stage.environment_variables:
            plain.append((key, name, f"set in {where}"))
    jwt = merged.get("jwt")
    jwt = jwt if isinstance(jwt, Mapping) else {}
    for key in SECRET_KEYS:
        if isinstance(jwt.get(key.split(".")[1]), str):
            plain.append((key, "", "written in pym-config.yaml, which ships in the package"))
    if not plain:
        return
    lines = [f"stage {stage.stage} is a production stage and {len(plain)} plain secret(s) "
             "would be readable by anyone allowed lambda:GetFunctionConfiguration (or "
             "lambda:GetFunction for the package):"]
    commands, config = [], []
    for key, name, origin in plain:
        lines.append(f"  - {key}" + (f" ({name}, {origin})" if name else f" ({origin})"))
        parameter = f"/{stage.app_name}/{stage.stage}/{_slug(key)}"
        value = f'"${name}"' if name else "file://secret.txt"
        commands.append(f"  aws ssm put-parameter --name {parameter} --type SecureString "
                        f"--value {value}")
        config.append(f"  {_config_line(key, stage.stage, parameter)}")
    lines += ["move each one to an SSM SecureString parameter (read by the functions at first "
              "use; deploy grants them read access to it):", *commands,
              "and in pym-config.yaml:", *config]
    raise DeployError(STEP, "\n".join(lines), hint=(
        f"a stage that is not production says so in pym-config.yaml: stages: "
        f"{{{stage.stage}: {{production: false}}}}; to keep plain secrets in a production "
        f"stage anyway: stages: {{{stage.stage}: {{allow_plain_secrets: true}}}}"))


def _slug(key: str) -> str:
    # jwt.secret -> jwt-secret, env_secrets.DB_PASSWORD -> db-password
    last = key.split(".", 1)[1] if key.startswith(("env_secrets.", "secrets.")) else key
    return "".join(c if c.isalnum() else "-" for c in last.lower()).strip("-")


def _config_line(key: str, stage: str, parameter: str) -> str:
    if key.startswith("jwt."):
        return f"stages: {{{stage}: {{jwt: {{{key[4:]}: {{ssm: {parameter}}}}}}}}}"
    name = key.split(".", 1)[1]
    line = f"stages: {{{stage}: {{secrets: {{{name}: {{ssm: {parameter}}}}}}}}}"
    if key.startswith("env_secrets."):
        line += f" (and {name} out of env_secrets; read as settings.secrets[{name!r}])"
    return line


def check_project_files(project_dir: Path) -> None:
    """The files a build starts from (the stage's config is read_stage_config's)."""
    missing = [name for name in ("app.py", "apis") if not (project_dir / name).exists()]
    if missing:
        raise DeployError(STEP, f"no {' and no '.join(missing)} in {project_dir}")


def check_compile_cache() -> None:
    """The compiled form must be written: the Lambda package has no specs to compile."""
    from ...runtime.project_files import COMPILED_FILE

    if os.environ.get("PYM_NO_COMPILE_CACHE"):
        raise DeployError(STEP, "PYM_NO_COMPILE_CACHE is set: unset it, the Lambda package needs "
                                f"chalicelib/{COMPILED_FILE}")


def build_project(project_dir: Path, stage: str,
                  environ: Optional[Mapping[str, str]] = None) -> BuildResult:
    """Check and compile the project for `stage`; call inside `project_imports(project_dir)`."""
    from ...config import ConfigError, load_settings
    from ...errors import SpecErrors
    from ...runtime.app import bind_operations
    from ...runtime.project_files import COMPILED_FILE
    from ..compiled_form import compile_project, specs_fingerprint
    from ..shipping import source_warnings
    from ..validation import binding_targets

    environ = os.environ if environ is None else environ
    stage_config = read_stage_config(project_dir, stage)
    check_project_files(project_dir)
    try:
        compiled = compile_project(project_dir)
        variables, forwarded = function_environment(stage_config, compiled.get("config") or {},
                                                    environ)
        settings = load_settings(project_dir, stage=stage, environ={**environ, **variables})
        operations = bind_operations(compiled, settings)
    except SpecErrors as exc:
        problems = [str(e) for e in exc.errors]
        raise DeployError(STEP, f"{len(problems)} spec problem(s): " + "; ".join(problems),
                          hint="`pym-lambda validate` lists them") from None
    except ConfigError as exc:
        raise DeployError(STEP, f"{len(exc.problems)} config problem(s): "
                          + "; ".join(exc.problems),
                          hint="`pym-lambda validate` lists them") from None
    compiled["fingerprint"] = specs_fingerprint(project_dir / "apis")
    compiled["app_name"] = stage_config.app_name  # the package has no .chalice/config.json
    target = project_dir / "chalicelib" / COMPILED_FILE
    changed = _write_compiled_if_changed(target, compiled)
    framework = _package_framework(project_dir, settings, compiled)
    code = vendor_project_code(project_dir, binding_targets(compiled))  # e.g. PyMacaron's
    return BuildResult(
        project_dir=project_dir, stage=stage_config, spec_count=len(compiled["apis"]),
        operation_count=len(operations), compiled_file=target, compiled_changed=changed,
        forwarded=forwarded, function_environment=variables, framework=framework,
        secrets=secret_references(compiled.get("config") or {}, stage),
        docs_enabled=bool(settings.docs.enabled),
        project_code=code, warnings=tuple(source_warnings(project_dir, code.paths)),
        alarms=settings.alarms if settings.alarms.enabled else None,
        metrics=_metrics_identity(settings, stage_config.app_name),
        tracing=bool(settings.tracing.enabled))


def _metrics_identity(settings: Any, app_name: str) -> Optional[Tuple[str, str]]:
    """The namespace and service dimension the runtime's metrics will carry (metrics.py)."""
    if not settings.metrics.enabled:
        return None
    from ...metrics import namespace_for

    service = settings.name or app_name
    return namespace_for(settings.metrics.namespace, service), service


def _write_compiled_if_changed(target: Path, compiled: CompiledDocument) -> bool:
    """Write the compiled form, and what write_compiled derives from it (the prebuilt checks,
    the published specs); True if a byte changed. Same bytes, same package: Chalice hashes the
    files' contents, so an unchanged project redeploys the same code."""
    from ..compiled_form import write_compiled

    target.parent.mkdir(exist_ok=True)
    before = _generated_files(target.parent)
    check_compile_cache()
    if not write_compiled(target, compiled):
        raise DeployError(STEP, f"cannot write {target}")
    return _generated_files(target.parent) != before


def _generated_files(chalicelib: Path) -> Dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(chalicelib.glob("pym_*")) if p.is_file()}


def _package_framework(project_dir: Path, settings: Any, compiled: CompiledDocument
                       ) -> VendorResult:
    """The framework's runtime into vendor/, and requirements.txt checked for what it
    imports for this service (see vendor.py)."""
    result = vendor_framework(project_dir, with_docs_assets=settings.docs.enabled)
    if result.vendored:
        needs = runtime_needs(settings, compiled)
        missing = missing_needs(project_dir, needs)
        if missing:
            message, hint = describe_missing(missing)
            raise DeployError(STEP, message, hint=hint)
    return result


# --- the process around a build: the project's modules and the stage's environment -----------

def _is_project_module(name: str) -> bool:
    return name == "app" or name == "chalicelib" or name.startswith("chalicelib.")


@contextlib.contextmanager
def project_imports(project_dir: Path) -> Iterator[None]:
    """Import `app` and `chalicelib` from `project_dir` (as Chalice does); modules of those names
    loaded before are set aside and put back afterwards, with sys.path."""
    saved_path = list(sys.path)
    saved = {n: m for n, m in sys.modules.items() if _is_project_module(n)}
    for name in saved:
        del sys.modules[name]
    sys.path.insert(0, str(project_dir))
    importlib.invalidate_caches()
    try:
        yield
    finally:
        for name in [n for n in sys.modules if _is_project_module(n)]:
            del sys.modules[name]
        sys.modules.update(saved)
        sys.path[:] = saved_path


@contextlib.contextmanager
def scoped_environ(updates: Mapping[str, str]) -> Iterator[None]:
    """os.environ with `updates` for the duration: app.py is imported with the stage's
    variables (Chalice's loader also writes them into os.environ), then everything is undone."""
    saved = dict(os.environ)
    os.environ.update(updates)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
