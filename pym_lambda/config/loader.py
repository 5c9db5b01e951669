"""Per-service settings, read from ``pym-config.yaml`` at the project root.

One precedence chain, highest first (chalice's ``_chain_lookup`` idea):

1. ``overrides`` given to :func:`load_settings` (nested, or dotted: ``{"jwt.issuer": "x"}``);
2. environment variables ``PYM_<SECTION>_<KEY>`` (``PYM_LOG_LEVEL``, ``PYM_JWT_AUDIENCE``),
   parsed to the declared type: int, bool (true/false/1/0/yes/no/on/off), list
   (comma-separated), ``""`` for None where None is allowed. A mapping takes one variable per
   entry: ``PYM_CLIENTS_USER_API`` sets the client whose name, upper-cased with ``_`` for
   other characters, is ``USER_API`` (else ``user_api``). A ``PYM_JWT_*``, ``PYM_CORS_*``,
   ``PYM_LIMITS_*``, ``PYM_TASKS_*`` or ``PYM_DOCS_*`` variable naming no key is an error.
   An older name kept as an alias (keys.ALIASES: ``PYM_TASK_BACKOFF_SECONDS``,
   ``PYM_MAX_BODY_BYTES``) sets the same key, below the key's own variable;
3. the ``stages: {<stage>: {...}}`` section of the file for the current stage, which is the
   ``stage`` argument, else ``PYM_STAGE``, else ``"dev"`` (every section is checked, the
   current one applied);
4. the file's top level;
5. the defaults, whose only home is the settings classes (keys.py).

Mappings merge key by key across levels; lists and scalars replace. Secrets never live in the
file: any value may be ``{env: NAME}`` (the variable's text parsed to the key's type; unset is
an error naming key and variable), and ``env_secrets: [NAME, ...]`` lists variables that must
be set, exposed as ``settings.secrets[NAME]``. ``jwt.secret``, ``jwt.public_key``,
``jwt.private_key`` and the entries of ``secrets: {NAME: ...}`` (also ``settings.secrets[NAME]``)
may instead name an SSM parameter or a Secrets Manager secret: ``{ssm: /path}``,
``{secretsmanager: name-or-arn, key: field}``, either with ``kms_key: <key ARN>``; they are
read from AWS at their first use, never here (:mod:`pym_lambda.secret_store`). ``production``
(read by deploy, and by ``/version``) and ``allow_plain_secrets`` (deploy only) are read only
from the file. Unsafe combinations of keys are refused at the end (config/safety.py). Relative
``*_file`` paths are resolved against the project directory. ``extra`` holds the service's own
free-form keys (not checked, not read from ``PYM_*``); any other unknown key is a ConfigError
naming its path and the closest key.
"""
from __future__ import annotations

import os
from collections.abc import Mapping  # isinstance() on it is C code; typing's goes through Python
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple, Union

from .environment import FALSE_WORDS, TRUE_WORDS, ConfigValueError, deep_merge
from .keys import (
    ALIASES,
    DEFAULT_STAGE,
    DOCS_UIS,
    JWT_ALGORITHMS,
    LOG_LEVELS,
    MAXIMUMS,
    MINIMUMS,
    TRACE_EXPORTERS,
    ConfigError,
    Settings,
    schema_of,
)

CONFIG_FILENAME = "pym-config.yaml"
ENV_PREFIX = "PYM_"
STAGE_VARIABLE = "PYM_STAGE"

# Not from PYM_* variables: free-form, lists of names, or what only the file may decide (a
# deploying shell's PYM_ALLOW_PLAIN_SECRETS must not lift the production check).
_NOT_FROM_ENV = frozenset({"extra", "env_secrets", "secrets", "production",
                           "allow_plain_secrets", "serve_base_path"})
# Where a reference to SSM or Secrets Manager is accepted (read at first use).
_REFERENCE_KEYS = "jwt.secret, jwt.public_key, jwt.private_key and secrets.<NAME>"
_PYMACARON_KEYS = {"jwt_secret": "jwt.secret", "jwt_issuer": "jwt.issuer",
                   "jwt_audience": "jwt.audience", "jwt_token_timeout": "jwt.expires_in"}
_KIND_NAMES = {"str": "a string", "int": "an integer", "bool": "true or false",
               "list": "a list of strings", "map": "a mapping of strings", "any": "a mapping",
               "secret": "a string, {env: NAME}, {ssm: NAME} or {secretsmanager: NAME}",
               "secrets": "a mapping of names to {ssm: NAME}, {secretsmanager: NAME} or "
                          "{env: NAME}"}

KeyPath = Tuple[str, ...]  # ("jwt", "audience")
if TYPE_CHECKING:
    from os import PathLike


def load_settings(project_dir: Union[str, PathLike[str]], *, stage: Optional[str] = None,
                  environ: Optional[Mapping[str, str]] = None,
                  overrides: Optional[Mapping[str, Any]] = None,
                  required: bool = False,
                  document: Optional[Dict[str, Any]] = None) -> Settings:
    """Read ``<project_dir>/pym-config.yaml`` and apply the precedence chain (module doc).

    ``document`` is the file as already parsed: the Lambda package has no pym-config.yaml (Chalice
    ships only chalicelib/), so the runtime passes the copy kept in the compiled specs.
    """
    from .hidden_environ import HiddenValues  # no value in a traceback's arguments

    environ = HiddenValues(os.environ if environ is None else environ)
    stage = stage or environ.get(STAGE_VARIABLE) or DEFAULT_STAGE
    # os.path, not pathlib: importing pathlib costs ~3 ms of a Lambda cold start.
    project_dir = os.path.realpath(project_dir)
    path = os.path.join(project_dir, CONFIG_FILENAME)
    has_file = os.path.isfile(path)
    problems = _Problems()
    if document is not None:
        pass
    elif has_file:
        document = _read_file(path, problems)
    elif required:
        raise ConfigError(f"{CONFIG_FILENAME}: not found in {project_dir}")
    else:
        document = {}

    from .pymacaron import translate  # PyMacaron's flat keys, mapped (a no-op otherwise)

    raw = document  # settings.raw: the file as written
    # The ignored keys are said once where a person reads them (validate, chalice local, a
    # build), not at every Lambda cold start.
    document = translate(document, schema_of(Settings),
                         warn=not os.environ.get("AWS_LAMBDA_FUNCTION_NAME")) if document \
        else document
    stages = document.get("stages", {})
    if not isinstance(stages, Mapping):
        problems.add(_error(CONFIG_FILENAME, ("stages",), "expected a mapping of stage names "
                            f"to settings, got {_show(stages)}"))
        stages = {}
    top = {k: v for k, v in document.items() if k != "stages"}
    layers = [_check_layer(top, Settings, CONFIG_FILENAME, (), problems)]
    for name, section in stages.items():  # all checked, the current one applied
        if isinstance(section, Mapping) and "serve_base_path" in section:
            problems.add(_error(CONFIG_FILENAME, ("stages", str(name), "serve_base_path"),
                                "top level only: the routes are built once, for every stage"))
            section = {k: v for k, v in section.items() if k != "serve_base_path"}
        checked = _check_layer(section, Settings, CONFIG_FILENAME, ("stages", str(name)),
                               problems)
        if name == stage:
            layers.append(checked)
    layers.append(_env_layer(environ, layers, problems))
    if overrides:
        layers.append(_check_layer(_undot(overrides), Settings, "overrides", (), problems))

    merged: Dict[str, Any] = {}
    for layer in layers:
        merged = deep_merge(merged, layer)
    from ..secret_store import Secrets, SecretStore

    # one store: the app's fetched secrets
    merged = _resolve(merged, environ, SecretStore(), problems)
    secrets = _read_env_secrets(merged, environ, problems)
    _reject_pymacaron_secret_names(merged, secrets, (), problems)
    named = merged.pop("secrets", {})
    for both in sorted(set(named) & set(secrets)):
        problems.add(_error(CONFIG_FILENAME, ("secrets", both),
                            "also listed in env_secrets: keep one of the two"))
    settings: Settings = _build(Settings, merged, project_dir, stage=stage,
                                secrets=Secrets({**secrets, **named}),
                                config_file=path if has_file else None, raw=raw)
    from .safety import safety_problems

    problems.found += safety_problems(settings, f"{CONFIG_FILENAME} (stage {stage})")
    if problems.found:  # raised here: a traceback shows this frame's arguments, values hidden
        raise ConfigError(*problems.found)
    return settings


class _Problems:
    """Every problem of one load, each a line; the file's line number added where known."""

    __slots__ = ("found", "lines")

    def __init__(self) -> None:
        self.found: List[str] = []
        self.lines: Dict[KeyPath, int] = {}  # key path in the file -> its line

    def add(self, exc: ConfigError) -> None:
        if isinstance(exc, _KeyProblem) and exc.where == CONFIG_FILENAME and \
                exc.path in self.lines:
            self.found.append(f"{exc.where}: line {self.lines[exc.path]}: {exc.located}")
        else:
            self.found.extend(exc.problems)

    def raise_if_any(self) -> None:
        if self.found:
            raise ConfigError(*self.found)


class _KeyProblem(ConfigError):
    """A problem of one key: where (the file, a variable, overrides), its path, what."""

    def __init__(self, where: str, path: KeyPath, problem: str) -> None:
        self.where, self.path = where, path
        self.located = f"{'.'.join(path) or 'top level'}: {problem}"
        super().__init__(f"{where}: {self.located}")


# --- reading and checking one level ---------------------------------------------------------

def read_config_file(path: Union[str, PathLike[str]],
                     duplicates: bool = False) -> Dict[str, Any]:
    """The file as parsed; ConfigError naming every duplicate key (with its line), unless
    `duplicates` (the last one wins, as in YAML: load_settings reports them with the rest)."""
    problems = _Problems()
    document = _read_file(path, problems)
    if not duplicates:
        problems.raise_if_any()
    return document


def _read_file(path: Union[str, PathLike[str]], problems: _Problems) -> Dict[str, Any]:
    """The file as parsed; its duplicate keys go to `problems`, and the line of every key to
    `problems.lines`. Invalid YAML or a top level that is no mapping: a ConfigError now."""
    import yaml  # 18 ms: only paid when there is a file to read

    name = os.path.basename(path)

    class UniqueKeyLoader(yaml.SafeLoader):
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: List[Any] = []
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # `<<: *anchor` keys may be repeated on purpose
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    problems.found.append(f"{name}: line {key_node.start_mark.line + 1}: "
                                          f"duplicate key {key!r}")
                seen.append(key)
            return super().construct_mapping(node, deep)

    try:
        with open(path, encoding="utf-8") as stream:
            loader = UniqueKeyLoader(stream)
            try:
                node = loader.get_single_node()
                document = loader.construct_document(node) if node is not None else None
            finally:
                loader.dispose()
    except yaml.YAMLError as exc:
        raise ConfigError(f"{name}: not valid YAML: {exc}") from None
    if document is not None and not isinstance(document, dict):
        raise ConfigError(f"{name}: expected a mapping at the top level, "
                          f"got {type(document).__name__}")
    _key_lines(node, (), problems.lines)
    return document or {}


def _key_lines(node: Any, path: KeyPath, lines: Dict[KeyPath, int]) -> None:
    """The line of every key of the file, by key path (a YAML node tree)."""
    if type(node).__name__ != "MappingNode":
        return
    for key_node, value_node in node.value:
        if type(key_node).__name__ == "ScalarNode" and key_node.tag != "tag:yaml.org,2002:merge":
            key_path = path + (str(key_node.value),)
            lines.setdefault(key_path, key_node.start_mark.line + 1)
            _key_lines(value_node, key_path, lines)


class _EnvRef:
    """A ``{env: NAME}`` value, resolved after merging so an overridden one is never read."""

    __slots__ = ("variable", "kind", "where", "path")

    def __init__(self, variable: str, kind: Tuple[str, bool], where: str, path: KeyPath) -> None:
        self.variable, self.kind, self.where, self.path = variable, kind, where, path


class _AwsRef:
    """A ``{ssm: ...}`` / ``{secretsmanager: ...}`` value: becomes a SecretValue (read at its
    first use) after merging."""

    __slots__ = ("source", "where", "path")

    def __init__(self, source: Any, where: str, path: KeyPath) -> None:
        self.source, self.where, self.path = source, where, path


def _check_layer(data: Any, cls: type, where: str, path: KeyPath,
                 problems: _Problems) -> Dict[str, Any]:
    """Check one level against ``cls``: known keys, declared types. Returns a typed copy
    without the keys that have a problem (each added to ``problems``)."""
    if not isinstance(data, Mapping):
        problems.add(_error(where, path, f"expected a mapping, got {_show(data)}"))
        return {}
    schema = schema_of(cls)
    checked: Dict[str, Any] = {}
    for key, value in data.items():
        key_path = path + (str(key),)
        if key not in schema:
            problems.add(_error(where, key_path, f"unknown key{_suggest(key, schema)}"))
        elif isinstance(schema[key], type):
            checked[key] = _check_layer(value, schema[key], where, key_path, problems)
        else:
            try:
                checked[key] = _coerce(value, schema[key], where, key_path)
            except ConfigError as exc:
                problems.add(exc)
    return checked


def _coerce(value: Any, kind: Tuple[str, bool], where: str, path: KeyPath) -> Any:
    """A value from YAML or overrides, which must already have the declared type."""
    name, nullable = kind
    if isinstance(value, Mapping) and list(value) == ["env"]:
        if not isinstance(value["env"], str) or not value["env"]:
            raise _error(where, path, "{env: ...} needs a variable name")
        return _EnvRef(value["env"], kind, where, path)
    if name in ("str", "secret", "list", "int", "bool") and _is_reference(value):
        return _aws_ref(value, name == "secret", where, path)
    if value is None and nullable:
        return None
    if name in ("str", "secret") and isinstance(value, str) or \
            name == "bool" and isinstance(value, bool):
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
    if name == "secrets" and isinstance(value, Mapping):
        return {str(k): _secret_entry(v, where, path + (str(k),)) for k, v in value.items()}
    hint = " (quote it to make it a string)" if name == "str" and isinstance(
        value, (int, float)) else ""
    raise _error(where, path, f"expected {_kind_name(kind)}, got {_show(value)}{hint}")


def _is_reference(value: Any) -> bool:
    from ..secret_store import is_reference  # small; only imported when the file has a mapping

    return isinstance(value, Mapping) and is_reference(value)


def _aws_ref(value: Mapping[str, Any], accepted: bool, where: str, path: KeyPath) -> _AwsRef:
    from ..secret_store import parse_reference

    if not accepted:
        raise _error(where, path, f"{{ssm: ...}} and {{secretsmanager: ...}} are read at first "
                     f"use, so only {_REFERENCE_KEYS} take them; here use {{env: NAME}}")
    try:
        return _AwsRef(parse_reference(value), where, path)
    except ValueError as exc:
        raise _error(where, path, str(exc)) from None


def _secret_entry(value: Any, where: str, path: KeyPath) -> Any:
    """One entry of ``secrets:``: a reference or ``{env: NAME}``, never the secret itself."""
    if isinstance(value, Mapping) and (list(value) == ["env"] or _is_reference(value)):
        return _coerce(value, ("secret", False), where, path)
    raise _error(where, path, "expected {ssm: NAME}, {secretsmanager: NAME} or {env: NAME}, "
                 f"got {_show(value)}: a secret is never written in {CONFIG_FILENAME}")


def _free_form(value: Any, where: str, path: KeyPath) -> Any:
    """``extra`` values: any YAML, with ``{env: NAME}`` allowed anywhere (read as text)."""
    if isinstance(value, Mapping) and list(value) == ["env"]:
        return _coerce(value, ("str", False), where, path)
    if isinstance(value, Mapping) and _looks_like_reference(value):
        raise _error(where, path, "extra is read at start-up: put the secret in "
                     "secrets: {NAME: ...} and read settings.secrets[NAME] (at first use)")
    if isinstance(value, Mapping):
        return {str(k): _free_form(v, where, path + (str(k),)) for k, v in value.items()}
    if isinstance(value, list):
        return [_free_form(v, where, path) for v in value]
    return value


def _looks_like_reference(value: Mapping[str, Any]) -> bool:
    """A mapping of extra that is exactly a reference (extra may have its own `ssm` keys)."""
    from ..secret_store import REFERENCE_KEYS

    return any(isinstance(value.get(service), str) and set(value) <= set(keys)
               for service, keys in REFERENCE_KEYS.items())


def _parse_text(text: str, kind: Tuple[str, bool], where: str, path: KeyPath) -> Any:
    """Text from an environment variable (or a list written as one string) to ``kind``."""
    name, nullable = kind
    stripped = text.strip()
    if stripped == "" and nullable:
        return None
    if name in ("str", "secret"):
        return _checked(text, where, path)
    if name == "int" and stripped.removeprefix("-").isdigit():
        return _checked(int(stripped), where, path)
    if name == "bool" and stripped.lower() in TRUE_WORDS + FALSE_WORDS:
        return stripped.lower() in TRUE_WORDS
    if name == "list":
        return _checked(tuple(i.strip() for i in text.split(",") if i.strip()), where, path)
    # Text from the environment may be a secret: its value is never shown.
    got = f", got {_show(text)}" if where == CONFIG_FILENAME else "; the value (not shown) is not"
    raise ConfigValueError(str(_error(where, path, f"expected {_kind_name(kind)}{got}")))


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
    elif schema_path == ("tracing", "exporter") and value not in TRACE_EXPORTERS:
        problem = f"expected one of {', '.join(TRACE_EXPORTERS)}, got {_show(value)}"
    elif schema_path == ("docs", "path"):
        value = "/" + value.strip("/")
        segments = value[1:].split("/")
        if not all(s and all(c.isalnum() or c in "-._~" for c in s) for s in segments):
            problem = f"expected a path of plain segments such as '/doc', got {_show(value)}"
    elif schema_path in MINIMUMS and value < MINIMUMS[schema_path]:
        problem = f"must be at least {MINIMUMS[schema_path]}, got {value}"
    elif schema_path in MAXIMUMS and value > MAXIMUMS[schema_path]:
        problem = f"must be at most {MAXIMUMS[schema_path]}, got {value}"
    if problem:
        raise _error(where, path, problem)
    return value


# --- environment variables, merging, building -----------------------------------------------

def _env_layer(environ: Mapping[str, str], file_layers: List[Dict[str, Any]],
               problems: _Problems) -> Dict[str, Any]:
    """The ``PYM_*`` variables as one level, parsed to the declared types (a variable with a
    problem is left out, the problem added to ``problems``)."""
    scalars, mappings, sections = _env_names()
    layer: Dict[str, Any] = {}
    aliased: Dict[str, Any] = {}  # older names: below the key's own variable
    for variable, text in environ.items():
        if not variable.startswith(ENV_PREFIX) and variable not in ALIASES:
            continue  # most of Lambda's environment: not ours
        where = f"environment variable {variable}"
        prefix = next((p for p in mappings if variable.startswith(p)), "")
        try:
            if variable in ALIASES:
                path = ALIASES[variable]
                _set(aliased, path, _parse_text(text, _kind_of(path), where, path))
            elif variable in scalars:
                path, kind = scalars[variable]
                _set(layer, path, _parse_text(text, kind, where, path))
            elif prefix and len(variable) > len(prefix):
                path = mappings[prefix]
                path += (_mapping_key(variable[len(prefix):], path, file_layers),)
                _set(layer, path, _checked(text, where, path))
            elif variable.startswith(sections):
                raise ConfigError(f"{where}: names no setting{_suggest(variable, scalars)}")
        except ConfigError as exc:
            problems.add(exc)
    return deep_merge(aliased, layer)


def env_value(path: KeyPath, environ: Optional[Mapping[str, str]] = None) -> Any:
    """One key as the environment alone sets it (its variable, else an alias), or None: for
    code serving an app that has no settings (a plain Chalice app under pym_lambda.wsgi)."""
    environ = os.environ if environ is None else environ
    variable = ENV_PREFIX + "_".join(path).upper()
    names = [variable] + [alias for alias, target in ALIASES.items() if target == path]
    for name in names:
        if environ.get(name, "").strip():
            return _parse_text(environ[name], _kind_of(path), f"environment variable {name}",
                               path)
    return None


def env_variables() -> Dict[str, Tuple[KeyPath, Tuple[str, bool]]]:
    """Every settings key a PYM_* variable sets: name -> (key path, (kind, nullable)); a
    mapping's entry is ``PYM_<SECTION>_<KEY>_<ENTRY>`` (kind "map")."""
    scalars, mappings, _ = _env_names()
    found = dict(scalars)
    for prefix, path in mappings.items():
        found[prefix + "<NAME>"] = (path, ("map", False))
    return found


def _kind_of(path: KeyPath) -> Tuple[str, bool]:
    entry: Any = Settings
    for key in path:
        entry = schema_of(entry)[key]
    return entry  # type: ignore[no-any-return]


def _env_names() -> Tuple[Dict[str, Tuple[KeyPath, Tuple[str, bool]]], Dict[str, KeyPath],
                          Tuple[str, ...]]:
    """PYM_* names of scalars and lists, prefixes of mappings, prefixes of sections."""
    scalars: Dict[str, Tuple[KeyPath, Tuple[str, bool]]] = {}
    mappings: Dict[str, KeyPath] = {}
    sections = []
    for key, entry in schema_of(Settings).items():
        if key in _NOT_FROM_ENV:
            continue
        children = schema_of(entry).items() if isinstance(entry, type) else [(None, entry)]
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


def _resolve(value: Any, environ: Mapping[str, str], store: Any, problems: _Problems) -> Any:
    """{env: NAME} read now; {ssm: ...}/{secretsmanager: ...} made SecretValues of `store`. A
    value that cannot be read is None, its problem added to ``problems``."""
    if isinstance(value, _EnvRef):
        if value.variable not in environ:
            problems.add(_error(value.where, value.path,
                                f"environment variable {value.variable} is not set"))
            return None
        where = f"{value.where} (via environment variable {value.variable})"
        try:
            return _parse_text(environ[value.variable], value.kind, where, value.path)
        except ConfigError as exc:
            problems.add(exc)
            return None
    if isinstance(value, _AwsRef):
        from ..secret_store import SecretValue

        return SecretValue(value.source, f"{value.where}: {'.'.join(value.path)}", store)
    if isinstance(value, dict):
        return {k: _resolve(v, environ, store, problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, environ, store, problems) for v in value]
    return value


def _read_env_secrets(merged: Dict[str, Any], environ: Mapping[str, str],
                      problems: _Problems) -> Dict[str, str]:
    missing = [n for n in merged.get("env_secrets", ()) if n not in environ]
    if missing:
        problems.add(_error(CONFIG_FILENAME, ("env_secrets",),
                            f"environment variable(s) not set: {', '.join(missing)}"))
    return {name: environ[name] for name in merged.get("env_secrets", ()) if name in environ}


def _reject_pymacaron_secret_names(value: Dict[str, Any], secrets: Dict[str, str], path: KeyPath,
                                   problems: _Problems) -> None:
    # PyMacaron swapped a value equal to a listed secret's name for the secret: say how now.
    for key, item in value.items():
        if path + (key,) in (("env_secrets",), ("secrets",)):
            continue
        if isinstance(item, dict):
            _reject_pymacaron_secret_names(item, secrets, path + (key,), problems)
        elif isinstance(item, str) and item in secrets:
            problems.add(_error(CONFIG_FILENAME, path + (key,), f"the value names the secret "
                                f"{item}; write {{env: {item}}} to read it"))
            value[key] = None  # not also checked as a (too short) key


def _build(cls: type, values: Dict[str, Any], project_dir: str, **derived: Any) -> Any:
    schema = schema_of(cls)
    for key, value in values.items():
        if isinstance(schema[key], type):
            value = _build(schema[key], value, project_dir)
        elif key.endswith("_file") and value is not None:
            from pathlib import Path  # only for the rare *_file settings

            value = str(Path(project_dir) / value)  # an absolute path stays as it is
        derived[key] = value
    return cls(**derived)


# --- small helpers ---------------------------------------------------------------------------

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
    return _KeyProblem(where, path, problem)


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
        value = deep_merge(tree[path[-1]], value)
    tree[path[-1]] = value
