"""PyMacaron's pym-config.yaml, read unchanged: its flat keys mapped to pym-lambda's.

PyMacaron kept every top-level key of the file as an attribute of `get_config()`; its deploy
scripts (pymdeploy, pymconfig) read more of them. A file is taken for PyMacaron's when it has
one of the keys only PyMacaron used (`is_pymacaron_config`); `translate` then gives the
document the loader checks as usual:

- `jwt_secret`, `jwt_issuer`, `jwt_audience`, `jwt_token_timeout` -> the `jwt:` section;
- a value naming a variable of `env_secrets` (PyMacaron swapped it for the variable's value)
  -> `{env: NAME}`;
- the deploy-only keys (Docker, Beanstalk, GCP, Celery) and the runtime keys with no
  equivalent -> dropped, named in ONE warning;
- any other unknown key (the service's own, such as helloworld's `uuid_file_path`) -> `extra`.

Only the top level is translated (PyMacaron had no stages: it read pym-config.<env>.yaml).
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Mapping, Tuple

# key -> path in pym-lambda's settings.
FLAT_KEYS: Dict[str, Tuple[str, ...]] = {
    "jwt_secret": ("jwt", "secret"),
    "jwt_issuer": ("jwt", "issuer"),
    "jwt_audience": ("jwt", "audience"),
    "jwt_token_timeout": ("jwt", "expires_in"),
}
# Read by PyMacaron's deploy scripts only (bin/pymconfig, bin/pymdeploy, pymacaron/resources.py):
# `pym-lambda deploy` and .chalice/config.json take their place.
DEPLOY_KEYS = frozenset({
    "deploy_target", "docker_repo", "docker_bucket", "docker_base", "include_links",
    "aws_user", "aws_region", "aws_keypair", "aws_instance_type", "aws_cert_arn", "aws_zone_id",
    "aws_hosts_min", "aws_hosts_max", "gcp_region", "gcp_memory", "gcp_request_concurrency",
    "with_async", "memory_limit", "cpu_count", "worker_count", "gunicorn_worker_count",
    "celery_worker_count", "live_host", "live_url",
})
# PyMacaron runtime keys pym-lambda has no use for (tokens are not renewed, no default user,
# slow calls are in the logs' duration field).
UNUSED_KEYS = frozenset({"jwt_token_renew_after", "default_user_id", "report_call_exceeding_ms"})
# Keys only a PyMacaron file has: one of them makes the file PyMacaron's.
MARKERS = frozenset(FLAT_KEYS) | DEPLOY_KEYS | UNUSED_KEYS

log = logging.getLogger("pym_lambda.config")


def is_pymacaron_config(document: Mapping[str, Any]) -> bool:
    return any(key in MARKERS for key in document)


def serves_base_path(document: Mapping[str, Any]) -> bool:
    """`serve_base_path` of the file's top level; unset: false for a PyMacaron file (PyMacaron
    served the spec's path keys and ignored basePath), true otherwise."""
    value = document.get("serve_base_path")
    if value is None:
        return not is_pymacaron_config(document)
    return bool(value)


def translate(document: Mapping[str, Any], known: Mapping[str, Any],
              warn: bool = True) -> Dict[str, Any]:
    """The document with PyMacaron's keys mapped (module doc). `known`: the top-level keys
    pym-lambda's settings take (keys.schema_of(Settings)). A file that is not PyMacaron's is
    returned as it is."""
    if not is_pymacaron_config(document):
        return dict(document)
    secrets = document.get("env_secrets") or ()
    secret_names = set(secrets) if isinstance(secrets, list) else set()
    out: Dict[str, Any] = {}
    extra: Dict[str, Any] = dict(document.get("extra") or {})
    ignored: List[str] = []
    for key, value in document.items():
        if isinstance(value, str) and value in secret_names:
            value = {"env": value}  # PyMacaron's substitution, said the pym-lambda way
        if key in FLAT_KEYS:
            section, name = FLAT_KEYS[key]
            if name == "audience" and isinstance(value, str):
                value = [value]
            out.setdefault(section, {}).setdefault(name, value)  # a grouped key wins
        elif key in DEPLOY_KEYS or key in UNUSED_KEYS:
            ignored.append(key)
        elif key in known:
            if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
                value = {**out[key], **value}  # the grouped keys win over the flat ones
            out[key] = dict(value) if isinstance(value, Mapping) else value
        else:
            extra.setdefault(str(key), value)
    if extra:
        out["extra"] = extra
    if ignored and warn:
        log.warning("pym-config.yaml: PyMacaron keys ignored (deploy-only or without "
                    "equivalent; see docs/MIGRATING_FROM_PYMACARON.md): %s",
                    ", ".join(sorted(ignored)))
    return out


def ignored_keys(document: Mapping[str, Any]) -> List[str]:
    """The keys `translate` drops, for `pym-lambda validate` and tests."""
    if not is_pymacaron_config(document):
        return []
    return sorted(k for k in document if k in DEPLOY_KEYS or k in UNUSED_KEYS)
