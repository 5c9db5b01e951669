"""The one reader of ``PYM_*`` variables that are not settings keys, and the shared helpers.

Settings keys (``PYM_<SECTION>_<KEY>``) are read by loader.py along the precedence chain
(``loader.env_value(path)`` gives one key as the environment alone sets it). The
rest is plumbing: set by the deploy or the container for the runtime (app name, stage, queue
URLs, the WSGI app module...), or by `pym-lambda test` for the pytest plugin. Each is declared
once in key_docs.py (VARIABLES) and read here, typed, by :func:`runtime_environment`, so that no
other module calls ``os.environ.get("PYM_...")``. :func:`parse_flag` and :func:`deep_merge`
are the only env-flag parser and deep merge of the package.
"""
from __future__ import annotations

import os
from collections.abc import Mapping  # isinstance() on it is C code; typing's goes through Python
from typing import Any, Callable, Dict, Optional

from ..records import EMPTY_MAP, Record
from .keys import ConfigError

TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off")


class ConfigValueError(ConfigError, ValueError):
    """A value that is not of its key's type (a ValueError too, as task settings raised)."""


def parse_flag(text: Optional[str], default: bool, name: str) -> bool:
    """``1/0, true/false, yes/no, on/off`` (any case); unset or blank is ``default``."""
    if text is None or text.strip() == "":
        return default
    lowered = text.strip().lower()
    if lowered in TRUE_WORDS or lowered in FALSE_WORDS:
        return lowered in TRUE_WORDS
    raise ConfigValueError(f"{name}={text!r}: expected one of 1/0, true/false, yes/no, on/off")


def parse_count(text: Optional[str], default: int, name: str) -> int:
    """A whole number >= 0; unset or blank is ``default``."""
    if text is None or text.strip() == "":
        return default
    stripped = text.strip()
    if not stripped.isdigit():
        raise ConfigValueError(f"{name}={text!r}: expected a whole number >= 0")
    return int(stripped)


def deep_merge(low: Mapping[str, Any], high: Mapping[str, Any],
               is_leaf: Callable[[Any], bool] = lambda value: False) -> Dict[str, Any]:
    """``high`` over ``low``: mappings merge key by key, anything else (and a mapping for which
    ``is_leaf`` is true, such as ``{env: NAME}``) replaces."""
    merged = dict(low)
    for key, value in high.items():
        below = merged.get(key)
        if isinstance(value, Mapping) and isinstance(below, Mapping) and not (
                is_leaf(value) or is_leaf(below)):
            value = deep_merge(below, value, is_leaf)
        merged[key] = value
    return merged


class RuntimeEnvironment(Record):
    """The plumbing variables, typed (key_docs.VARIABLES documents each)."""

    app_name: Optional[str] = None  # PYM_APP_NAME
    stage: Optional[str] = None  # PYM_STAGE (None: unset)
    env_name: Optional[str] = None  # PYM_ENV, shown by /version (else the stage)
    runtime: Optional[str] = None  # PYM_RUNTIME
    log_format: Optional[str] = None  # PYM_LOG_FORMAT
    app_module: str = "app"  # PYM_APP_MODULE
    trusted_proxy_hops: int = 0  # PYM_TRUSTED_PROXY_HOPS
    test_url: Optional[str] = None  # PYM_TEST_URL
    test_token: Optional[str] = None  # PYM_TEST_TOKEN
    # PyMacaron's acceptance tests (pym_lambda.testing.pymacaron): the server and a token.
    server_host: Optional[str] = None  # PYM_SERVER_HOST
    server_port: Optional[str] = None  # PYM_SERVER_PORT
    jwt_token: Optional[str] = None  # PYM_JWT_TOKEN
    idempotency_table: Optional[str] = None  # PYM_IDEMPOTENCY_TABLE


def runtime_environment(environ: Optional[Mapping[str, str]] = None) -> RuntimeEnvironment:
    """Read the plumbing variables now: a few look-ups (~2 us), no scan of the environment."""
    env = os.environ if environ is None else environ
    return RuntimeEnvironment(
        app_name=env.get("PYM_APP_NAME") or None,
        stage=env.get("PYM_STAGE") or None,
        env_name=env.get("PYM_ENV") or None,
        runtime=env.get("PYM_RUNTIME") or None,
        log_format=env.get("PYM_LOG_FORMAT") or None,
        app_module=env.get("PYM_APP_MODULE") or "app",
        trusted_proxy_hops=parse_count(env.get("PYM_TRUSTED_PROXY_HOPS"), 0,
                                       "PYM_TRUSTED_PROXY_HOPS"),
        test_url=env.get("PYM_TEST_URL") or None,
        test_token=env.get("PYM_TEST_TOKEN") or None,
        server_host=env.get("PYM_SERVER_HOST") or None,
        server_port=env.get("PYM_SERVER_PORT") or None,
        jwt_token=env.get("PYM_JWT_TOKEN") or None,
        idempotency_table=env.get("PYM_IDEMPOTENCY_TABLE") or None,
    )


class QueueOverrides(Record):
    """The per-queue variables set by the deploy, keyed by <QUEUE> (the logical queue name
    upper-cased, other characters as "_")."""

    queue_urls: Mapping[str, str] = EMPTY_MAP  # PYM_TASK_QUEUE_URL_<QUEUE>
    queue_names: Mapping[str, str] = EMPTY_MAP  # PYM_TASK_QUEUE_NAME_<QUEUE>
    dlq_urls: Mapping[str, str] = EMPTY_MAP  # PYM_TASK_DLQ_URL_<QUEUE>


_PER_QUEUE = {"QUEUE_URL_": "queue_urls", "QUEUE_NAME_": "queue_names", "DLQ_URL_": "dlq_urls"}


def queue_overrides(environ: Optional[Mapping[str, str]] = None) -> QueueOverrides:
    """Scans the whole environment once (os.environ decodes every name and value it yields):
    read once, by the task settings."""
    env = os.environ if environ is None else environ
    found: Dict[str, Dict[str, str]] = {field: {} for field in _PER_QUEUE.values()}
    for key, value in env.items():
        if key.startswith("PYM_TASK_") and value:
            for kind, field in _PER_QUEUE.items():
                if key.startswith(kind, 9):
                    found[field][key[9 + len(kind):]] = value
    return QueueOverrides(**found)
