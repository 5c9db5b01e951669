"""Per-service settings, read from ``pym-config.yaml`` at the project root.

One precedence chain, highest first (chalice's ``_chain_lookup`` idea):

1. ``overrides`` given to :func:`load_settings` (nested, or dotted: ``{"jwt.issuer": "x"}``);
2. environment variables ``PYM_<SECTION>_<KEY>`` (``PYM_LOG_LEVEL``, ``PYM_JWT_AUDIENCE``),
   parsed to the declared type: int, bool (true/false/1/0/yes/no/on/off), list
   (comma-separated), ``""`` for None where None is allowed. A mapping takes one variable per
   entry: ``PYM_CLIENTS_USER_API`` sets the client whose name, upper-cased with ``_`` for
   other characters, is ``USER_API`` (else ``user_api``). A ``PYM_JWT_*``, ``PYM_CORS_*``,
   ``PYM_LIMITS_*``, ``PYM_TASKS_*`` or ``PYM_DOCS_*`` variable naming no key is an error;
3. the ``stages: {<stage>: {...}}`` section of the file for the current stage, which is the
   ``stage`` argument, else ``PYM_STAGE``, else ``"dev"`` (every section is checked, the
   current one applied);
4. the file's top level;
5. the defaults: the dataclass defaults below, their only home.

Mappings merge key by key across levels; lists and scalars replace. Secrets never live in the
file: any value may be ``{env: NAME}`` (the variable's text parsed to the key's type; unset is
an error naming key and variable), and ``env_secrets: [NAME, ...]`` lists variables that must
be set, exposed as ``settings.secrets[NAME]``. Relative ``*_file`` paths are resolved against
the project directory. ``extra`` holds the service's own free-form keys (not checked, not read
from ``PYM_*``); any other unknown key is a ConfigError naming its path and the closest key.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union, get_args, get_type_hints

CONFIG_FILENAME = "pym-config.yaml"
DEFAULT_STAGE = "dev"
ENV_PREFIX = "PYM_"
STAGE_VARIABLE = "PYM_STAGE"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DOCS_UIS = ("redoc", "swagger-ui")
JWT_ALGORITHMS = ("HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384",
                  "PS512", "ES256", "ES256K", "ES384", "ES512", "EdDSA")


class ConfigError(Exception):
    """A configuration that cannot be used; raised at start-up, never turned into HTTP."""


@dataclass(frozen=True)
class JwtSettings:
    secret: Optional[str] = field(default=None, repr=False)  # HMAC key, for HS*
    public_key: Optional[str] = field(default=None, repr=False)  # PEM, for RS*/PS*/ES*/EdDSA
    public_key_file: Optional[str] = None
    private_key: Optional[str] = field(default=None, repr=False)  # to sign RS*/PS*/ES* tokens
    private_key_file: Optional[str] = None
    jwks_url: Optional[str] = None
    jwks_file: Optional[str] = None
    key_id: Optional[str] = None  # ``kid`` header put on the tokens this service signs
    algorithms: Tuple[str, ...] = ("HS256",)
    audience: Tuple[str, ...] = ()  # any one of them in the token's ``aud`` is enough
    issuer: Optional[str] = None
    leeway: int = 0
    cookie: bool = False  # also accept a ``token`` cookie, as PyMacaron did
    expires_in: int = 86400
    required_claims: Tuple[str, ...] = ()


@dataclass(frozen=True)
class CorsSettings:
    enabled: bool = False
    allow_origins: Tuple[str, ...] = ("*",)
    allow_headers: Tuple[str, ...] = ()
    expose_headers: Tuple[str, ...] = ()
    max_age: int = 600
    allow_credentials: bool = False


@dataclass(frozen=True)
class LimitSettings:
    max_body_bytes: int = 1024 * 1024
    max_json_depth: int = 64
    max_header_bytes: int = 16384  # all request headers together (API Gateway allows 10 KiB+)
    # PyMacaron ignored query parameters and body fields the spec does not declare; with
    # strict: true they are a 400 naming them.
    strict: bool = False


@dataclass(frozen=True)
class TasksConfig:
    """The `tasks:` section; runtime.app hands it to pym_lambda.tasks.configure_tasks."""

    inline: bool = False  # run .delay() synchronously (development without SQS)
    queues: Dict[str, str] = field(default_factory=dict)  # logical queue -> physical SQS name
    lambda_timeout_seconds: int = 60  # of the worker Lambda; visibility timeout is 6x this
    backoff_base_seconds: int = 0  # exponential backoff after a failure (0: SQS's own timing)
    backoff_max_seconds: int = 900
    partial_batch_responses: bool = True  # the event source mapping reports item failures
    max_message_bytes: int = 262144


@dataclass(frozen=True)
class DocsSettings:
    enabled: bool = True  # GET <path> (HTML), <path>/<api>.yaml|.json, <path>/static/<file>
    path: str = "/doc"  # PyMacaron's; checked and normalised in _checked (no trailing /)
    ui: str = "redoc"  # one of DOCS_UIS


@dataclass(frozen=True)
class Settings:
    name: str = ""
    version: str = "0.0.0"
    stage: str = DEFAULT_STAGE
    log_level: str = "INFO"
    error_reporter: Optional[str] = None  # "module.function" told about every 5xx
    jwt: JwtSettings = field(default_factory=JwtSettings)
    clients: Dict[str, str] = field(default_factory=dict)  # api name -> base URL
    tasks: TasksConfig = field(default_factory=TasksConfig)
    cors: CorsSettings = field(default_factory=CorsSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    docs: DocsSettings = field(default_factory=DocsSettings)
    env_secrets: Tuple[str, ...] = ()
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)
    secrets: Dict[str, str] = field(default_factory=dict, repr=False)
    config_file: Optional[str] = None  # the file read, None when there was none
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)  # the file as parsed


# Settings fields that are computed, never written in the file.
_DERIVED = frozenset({"stage", "secrets", "config_file", "raw"})
_NOT_FROM_ENV = frozenset({"extra", "env_secrets"})
_MINIMUMS = {("jwt", "leeway"): 0, ("jwt", "expires_in"): 1, ("cors", "max_age"): 0,
             ("limits", "max_body_bytes"): 1, ("limits", "max_json_depth"): 1,
             ("limits", "max_header_bytes"): 256}
_PYMACARON_KEYS = {"jwt_secret": "jwt.secret", "jwt_issuer": "jwt.issuer",
                   "jwt_audience": "jwt.audience", "jwt_token_timeout": "jwt.expires_in"}
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")
_KIND_NAMES = {"str": "a string", "int": "an integer", "bool": "true or false",
               "list": "a list of strings", "map": "a mapping of strings", "any": "a mapping"}

KeyPath = Tuple[str, ...]  # ("jwt", "audience")


def load_settings(project_dir: Union[str, Path], *, stage: Optional[str] = None,
                  environ: Optional[Mapping[str, str]] = None,
                  overrides: Optional[Mapping[str, Any]] = None,
                  required: bool = False,
                  document: Optional[Dict[str, Any]] = None) -> Settings:
    """Read ``<project_dir>/pym-config.yaml`` and apply the precedence chain (module doc).

    ``document`` is the file as already parsed: the Lambda package has no pym-config.yaml (Chalice
    ships only chalicelib/), so the runtime passes the copy kept in the compiled specs.
    """
    environ = os.environ if environ is None else environ
    stage = stage or environ.get(STAGE_VARIABLE) or DEFAULT_STAGE
    project_dir = Path(project_dir).resolve()
    path = project_dir / CONFIG_FILENAME
    if document is not None:
        pass
    elif path.is_file():
        document = read_config_file(path)
    elif required:
        raise ConfigError(f"{CONFIG_FILENAME}: not found in {project_dir}")
    else:
        document = {}

    stages = document.get("stages", {})
    if not isinstance(stages, Mapping):
        raise _error(CONFIG_FILENAME, ("stages",), "expected a mapping of stage names to "
                     f"settings, got {_show(stages)}")
    top = {k: v for k, v in document.items() if k != "stages"}
    layers = [_check_layer(top, Settings, CONFIG_FILENAME, ())]
    for name, section in stages.items():  # all checked, the current one applied
        checked = _check_layer(section, Settings, CONFIG_FILENAME, ("stages", str(name)))
        if name == stage:
            layers.append(checked)
    layers.append(_env_layer(environ, layers))
    if overrides:
        layers.append(_check_layer(_undot(overrides), Settings, "overrides", ()))

    merged: Dict[str, Any] = {}
    for layer in layers:
        merged = _merge(merged, layer)
    merged = _resolve(merged, environ)
    secrets = _read_env_secrets(merged, environ)
    _reject_pymacaron_secret_names(merged, secrets, ())
    return _build(Settings, merged, project_dir, stage=stage, secrets=secrets,
                  config_file=str(path) if path.is_file() else None, raw=document)


# --- reading and checking one level ---------------------------------------------------------

def read_config_file(path: Path) -> Dict[str, Any]:
    import yaml  # 18 ms: only paid when there is a file to read

    class UniqueKeyLoader(yaml.SafeLoader):
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: List[Any] = []
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # `<<: *anchor` keys may be repeated on purpose
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    raise ConfigError(f"{path.name}: line {key_node.start_mark.line + 1}: "
                                      f"duplicate key {key!r}")
                seen.append(key)
            return super().construct_mapping(node, deep)

    try:
        with path.open(encoding="utf-8") as stream:
            document = yaml.load(stream, Loader=UniqueKeyLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path.name}: not valid YAML: {exc}") from None
    if document is not None and not isinstance(document, dict):
        raise ConfigError(f"{path.name}: expected a mapping at the top level, "
                          f"got {type(document).__name__}")
    return document or {}


class _EnvRef:
    """A ``{env: NAME}`` value, resolved after merging so an overridden one is never read."""

    __slots__ = ("variable", "kind", "where", "path")

    def __init__(self, variable: str, kind: Tuple[str, bool], where: str, path: KeyPath) -> None:
        self.variable, self.kind, self.where, self.path = variable, kind, where, path


def _check_layer(data: Any, cls: type, where: str, path: KeyPath) -> Dict[str, Any]:
    """Check one level against ``cls``: known keys, declared types. Returns a typed copy."""
    if not isinstance(data, Mapping):
        raise _error(where, path, f"expected a mapping, got {_show(data)}")
    schema = _schema(cls)
    checked: Dict[str, Any] = {}
    for key, value in data.items():
        key_path = path + (str(key),)
        if key not in schema:
            raise _error(where, key_path, f"unknown key{_suggest(key, schema)}")
        if isinstance(schema[key], type):
            checked[key] = _check_layer(value, schema[key], where, key_path)
        else:
            checked[key] = _coerce(value, schema[key], where, key_path)
    return checked


def _coerce(value: Any, kind: Tuple[str, bool], where: str, path: KeyPath) -> Any:
    """A value from YAML or overrides, which must already have the declared type."""
    name, nullable = kind
    if isinstance(value, Mapping) and list(value) == ["env"]:
        if not isinstance(value["env"], str) or not value["env"]:
            raise _error(where, path, "{env: ...} needs a variable name")
        return _EnvRef(value["env"], kind, where, path)
    if value is None and nullable:
        return None
    if name == "str" and isinstance(value, str) or name == "bool" and isinstance(value, bool):
        return _checked(value, where, path)
    if name == "int" and isinstance(value, int) and not isinstance(value, bool):
        return _checked(value, where, path)
    if name == "list" and isinstance(value, str):
        return _parse_text(value, kind, where, path)
    if name == "list" and isinstance(value, (list, tuple)) and all(
            isinstance(item, str) for item in value):
        return _checked(tuple(value), where, path)
    if name == "map" and isinstance(value, Mapping):
        return {str(k): _coerce(v, ("str", False), where, path + (str(k),))
                for k, v in value.items()}
    if name == "any" and isinstance(value, Mapping):
        return _free_form(value, where, path)
    hint = " (quote it to make it a string)" if name == "str" and isinstance(
        value, (int, float)) else ""
    raise _error(where, path, f"expected {_kind_name(kind)}, got {_show(value)}{hint}")


def _free_form(value: Any, where: str, path: KeyPath) -> Any:
    """``extra`` values: any YAML, with ``{env: NAME}`` allowed anywhere (read as text)."""
    if isinstance(value, Mapping) and list(value) == ["env"]:
        return _coerce(value, ("str", False), where, path)
    if isinstance(value, Mapping):
        return {str(k): _free_form(v, where, path + (str(k),)) for k, v in value.items()}
    if isinstance(value, list):
        return [_free_form(v, where, path) for v in value]
    return value


def _parse_text(text: str, kind: Tuple[str, bool], where: str, path: KeyPath) -> Any:
    """Text from an environment variable (or a list written as one string) to ``kind``."""
    name, nullable = kind
    stripped = text.strip()
    if stripped == "" and nullable:
        return None
    if name == "str":
        return _checked(text, where, path)
    if name == "int" and stripped.removeprefix("-").isdigit():
        return _checked(int(stripped), where, path)
    if name == "bool" and stripped.lower() in _TRUE + _FALSE:
        return stripped.lower() in _TRUE
    if name == "list":
        return _checked(tuple(i.strip() for i in text.split(",") if i.strip()), where, path)
    raise _error(where, path, f"expected {_kind_name(kind)}, got {_show(text)}")


def _checked(value: Any, where: str, path: KeyPath) -> Any:
    """Rules beyond the type, for the few keys that have one."""
    schema_path = path[2:] if path[:1] == ("stages",) else path
    problem = ""
    if schema_path == ("log_level",):
        value = value.upper()
        if value not in LOG_LEVELS:
            problem = f"expected one of {', '.join(LOG_LEVELS)}, got {_show(value)}"
    elif schema_path == ("jwt", "algorithms"):
        unknown = [alg for alg in value if alg not in JWT_ALGORITHMS]
        if unknown:
            problem = (f"{unknown[0]!r} is not a JWT algorithm pym-lambda accepts"
                       f"{_suggest(unknown[0], JWT_ALGORITHMS)}")
        elif not value:
            problem = "needs at least one algorithm"
    elif schema_path == ("docs", "ui") and value not in DOCS_UIS:
        problem = f"expected one of {', '.join(DOCS_UIS)}, got {_show(value)}"
    elif schema_path == ("docs", "path"):
        value = "/" + value.strip("/")
        segments = value[1:].split("/")
        if not all(s and all(c.isalnum() or c in "-._~" for c in s) for s in segments):
            problem = f"expected a path of plain segments such as '/doc', got {_show(value)}"
    elif schema_path in _MINIMUMS and value < _MINIMUMS[schema_path]:
        problem = f"must be at least {_MINIMUMS[schema_path]}, got {value}"
    if problem:
        raise _error(where, path, problem)
    return value


# --- environment variables, merging, building -----------------------------------------------

def _env_layer(environ: Mapping[str, str], file_layers: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The ``PYM_*`` variables as one level, parsed to the declared types."""
    scalars, mappings, sections = _env_names()
    layer: Dict[str, Any] = {}
    for variable, text in environ.items():
        where = f"environment variable {variable}"
        prefix = next((p for p in mappings if variable.startswith(p)), "")
        if variable in scalars:
            path, kind = scalars[variable]
            _set(layer, path, _parse_text(text, kind, where, path))
        elif prefix and len(variable) > len(prefix):
            path = mappings[prefix]
            path += (_mapping_key(variable[len(prefix):], path, file_layers),)
            _set(layer, path, _checked(text, where, path))
        elif variable.startswith(sections):
            raise ConfigError(f"{where}: names no setting{_suggest(variable, scalars)}")
    return layer


def _env_names() -> Tuple[Dict[str, Tuple[KeyPath, Tuple[str, bool]]], Dict[str, KeyPath],
                          Tuple[str, ...]]:
    """PYM_* names of scalars and lists, prefixes of mappings, prefixes of sections."""
    scalars: Dict[str, Tuple[KeyPath, Tuple[str, bool]]] = {}
    mappings: Dict[str, KeyPath] = {}
    sections = []
    for key, entry in _schema(Settings).items():
        if key in _NOT_FROM_ENV:
            continue
        children = _schema(entry).items() if isinstance(entry, type) else [(None, entry)]
        if isinstance(entry, type):
            sections.append(f"{ENV_PREFIX}{key.upper()}_")
        for child, kind in children:
            path = (key, child) if child else (key,)
            name = ENV_PREFIX + "_".join(path).upper()
            if kind[0] == "map":
                mappings[name + "_"] = path
            else:
                scalars[name] = (path, kind)
    return scalars, mappings, tuple(sections)


def _mapping_key(suffix: str, path: KeyPath, file_layers: List[Dict[str, Any]]) -> str:
    """The entry an env suffix names: an existing key that normalises to it, else lower case."""
    for layer in file_layers:
        entries = layer
        for key in path:
            entries = entries.get(key) or {}
        for key in entries:
            if "".join(c if c.isalnum() else "_" for c in key).upper() == suffix:
                return key
    return suffix.lower()


def _merge(low: Dict[str, Any], high: Dict[str, Any]) -> Dict[str, Any]:
    merged = dict(low)
    for key, value in high.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            value = _merge(merged[key], value)
        merged[key] = value
    return merged


def _resolve(value: Any, environ: Mapping[str, str]) -> Any:
    if isinstance(value, _EnvRef):
        if value.variable not in environ:
            raise _error(value.where, value.path,
                         f"environment variable {value.variable} is not set")
        where = f"{value.where} (via environment variable {value.variable})"
        return _parse_text(environ[value.variable], value.kind, where, value.path)
    if isinstance(value, dict):
        return {k: _resolve(v, environ) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, environ) for v in value]
    return value


def _read_env_secrets(merged: Dict[str, Any], environ: Mapping[str, str]) -> Dict[str, str]:
    missing = [n for n in merged.get("env_secrets", ()) if n not in environ]
    if missing:
        raise _error(CONFIG_FILENAME, ("env_secrets",),
                     f"environment variable(s) not set: {', '.join(missing)}")
    return {name: environ[name] for name in merged.get("env_secrets", ())}


def _reject_pymacaron_secret_names(value: Any, secrets: Dict[str, str], path: KeyPath) -> None:
    # PyMacaron swapped a value equal to a listed secret's name for the secret: say how now.
    if isinstance(value, dict):
        for key, item in value.items():
            if path + (key,) != ("env_secrets",):
                _reject_pymacaron_secret_names(item, secrets, path + (key,))
    elif isinstance(value, str) and value in secrets:
        raise _error(CONFIG_FILENAME, path, f"the value names the secret {value}; "
                     f"write {{env: {value}}} to read it")


def _build(cls: type, values: Dict[str, Any], project_dir: Path, **derived: Any) -> Any:
    schema = _schema(cls)
    for key, value in values.items():
        if isinstance(schema[key], type):
            value = _build(schema[key], value, project_dir)
        elif key.endswith("_file") and value is not None:
            value = str(project_dir / value)  # an absolute path stays as it is
        derived[key] = value
    return cls(**derived)


# --- small helpers ---------------------------------------------------------------------------

_schemas: Dict[type, Dict[str, Any]] = {}


def _schema(cls: type) -> Dict[str, Any]:
    """Key -> section class, or (kind, nullable) with kind str/int/bool/list/map/any."""
    if cls not in _schemas:
        hints = get_type_hints(cls)
        _schemas[cls] = {f.name: _kind(hints[f.name]) for f in fields(cls)
                         if not (cls is Settings and f.name in _DERIVED)}
    return _schemas[cls]


def _kind(tp: Any) -> Any:
    if isinstance(tp, type) and is_dataclass(tp):
        return tp
    args = get_args(tp)
    nullable = type(None) in args
    base = next(a for a in args if a is not type(None)) if nullable else tp
    names = {str: "str", int: "int", bool: "bool", Tuple[str, ...]: "list",
             Dict[str, str]: "map", Dict[str, Any]: "any"}
    return names[base], nullable


def _kind_name(kind: Tuple[str, bool]) -> str:
    return _KIND_NAMES[kind[0]] + (" or null" if kind[1] else "")


def _suggest(key: Any, known: Any) -> str:
    if key in _PYMACARON_KEYS:
        return f" (PyMacaron's {key!r} is {_PYMACARON_KEYS[key]!r} here)"
    if key == "stage":
        return f" (the stage comes from the stage argument or {STAGE_VARIABLE})"
    import difflib  # only on the error path

    close = difflib.get_close_matches(str(key), [str(k) for k in known], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _error(where: str, path: KeyPath, problem: str) -> ConfigError:
    return ConfigError(f"{where}: {'.'.join(path) or 'top level'}: {problem}")


def _show(value: Any) -> str:
    text = repr(value)
    return f"{text if len(text) <= 60 else text[:57] + '...'} ({type(value).__name__})"


def _undot(overrides: Mapping[str, Any]) -> Dict[str, Any]:
    nested: Dict[str, Any] = {}
    for key, value in overrides.items():
        _set(nested, tuple(str(key).split(".")), value)
    return nested


def _set(tree: Dict[str, Any], path: KeyPath, value: Any) -> None:
    for key in path[:-1]:
        tree = tree.setdefault(key, {})
    if isinstance(value, dict) and isinstance(tree.get(path[-1]), dict):
        value = _merge(tree[path[-1]], value)
    tree[path[-1]] = value
