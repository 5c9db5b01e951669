"""Secrets that pym-config.yaml reads from AWS at run time: SSM parameters and Secrets Manager.

A value written ``{ssm: /app/prod/jwt-secret}`` (a SecureString is decrypted) or
``{secretsmanager: app/prod/keys}`` (``key: field`` picks one field of a JSON secret; ``kms_key:
<key ARN>`` names a customer managed key, for deploy to grant kms:Decrypt) becomes a
:class:`SecretValue` in the settings. Nothing is read when the settings are loaded: the value is
fetched the first time it is used (a token verified or signed, ``settings.secrets[NAME]`` read),
then kept for the life of the process, so a cold start that serves only public endpoints never
imports boto3 nor calls AWS.

One :class:`SecretStore` per loaded settings (one app) holds what was fetched; a lock makes
concurrent first uses share one AWS call. A failed fetch is not kept: the next use tries again,
and raises :class:`SecretUnavailableError`, a 500 whose description (the config key, the
parameter or secret, AWS's error code; never a value) the router logs and replaces by an opaque
message for the client. No value ever appears in a message, a log line or a repr.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping  # typing's cost more as a base
from typing import Any, Dict, Optional, Tuple, Union

from .errors import ServerError
from .records import Record

SSM, SECRETS_MANAGER = "ssm", "secretsmanager"
SERVICES = (SSM, SECRETS_MANAGER)
# The keys a reference may have, for each service.
REFERENCE_KEYS = {SSM: ("ssm", "kms_key"), SECRETS_MANAGER: ("secretsmanager", "key", "kms_key")}
_SSM_NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "0123456789_.-/")


class SecretUnavailableError(ServerError):
    """A secret could not be read (missing, access denied, not the expected shape).

    The code is SERVER_ERROR: the client gets the opaque 500 every server failure gets, the
    description goes to the logs only."""

    code = "SERVER_ERROR"


class SecretSource(Record):
    """Where a secret lives: ("ssm", "/app/prod/jwt-secret") or ("secretsmanager", name or
    ARN, optional JSON field), with the customer managed KMS key that encrypts it, if any."""

    service: str
    name: str
    key: Optional[str] = None
    kms_key: Optional[str] = None

    def describe(self) -> str:
        """'SSM parameter /x', 'Secrets Manager secret y (field z)': for messages."""
        if self.service == SSM:
            return f"SSM parameter {self.name}"
        field = f" (field {self.key!r})" if self.key else ""
        return f"Secrets Manager secret {self.name}{field}"


def is_reference(value: Any) -> bool:
    """True for a mapping that names an SSM parameter or a Secrets Manager secret."""
    return isinstance(value, Mapping) and any(service in value for service in SERVICES)


def parse_reference(value: Mapping[str, Any]) -> SecretSource:
    """The source a ``{ssm: ...}`` / ``{secretsmanager: ...}`` mapping names; ValueError
    saying what is wrong otherwise (the caller adds the file and key)."""
    services = [service for service in SERVICES if service in value]
    if len(services) != 1:
        raise ValueError("name one of ssm or secretsmanager, not both")
    service = services[0]
    allowed = REFERENCE_KEYS[service]
    unknown = [str(k) for k in value if k not in allowed]
    if unknown:
        raise ValueError(f"{{{service}: ...}} takes only {', '.join(allowed)}, "
                         f"not {', '.join(unknown)}")
    name = value[service]
    if not isinstance(name, str) or not name.strip():
        what = "a parameter name" if service == SSM else "a secret name or ARN"
        raise ValueError(f"{{{service}: ...}} needs {what}")
    if service == SSM and name.startswith("arn:"):
        raise ValueError("{ssm: ...} takes the parameter's name (/app/stage/name), not its ARN")
    if service == SSM and not set(name) <= _SSM_NAME_CHARACTERS:
        raise ValueError(f"{name[:80]!r} is not an SSM parameter name (letters, digits and "
                         "_.-/ only)")
    key = value.get("key")
    if key is not None and (not isinstance(key, str) or not key):
        raise ValueError("key: expected the name of a field of the JSON secret")
    kms_key = value.get("kms_key")
    if kms_key is not None and not _is_kms_key_arn(kms_key):
        raise ValueError(f"kms_key: expected a KMS key ARN (arn:aws:kms:<region>:<account>:"
                         f"key/<id>), got {str(kms_key)[:80]!r}: IAM grants kms:Decrypt on "
                         "keys, not on aliases")
    return SecretSource(service=service, name=name, key=key, kms_key=kms_key)


def _is_kms_key_arn(value: Any) -> bool:
    parts = value.split(":", 5) if isinstance(value, str) else []
    return (len(parts) == 6 and parts[0] == "arn" and parts[2] == "kms"
            and parts[5].startswith("key/") and len(parts[5]) > 4)


class SecretValue:
    """A secret of the settings, read from AWS at its first :meth:`get` (see module doc).

    Its repr names the source, never the value; two are equal when they name the same source."""

    __slots__ = ("source", "where", "_store")

    def __init__(self, source: SecretSource, where: str, store: SecretStore) -> None:
        self.source, self.where, self._store = source, where, store

    def get(self) -> str:
        """The value: fetched once, then from the store; SecretUnavailableError if it cannot
        be read (tried again at the next call)."""
        return self._store.read(self)

    def __repr__(self) -> str:
        return f"SecretValue({self.source.describe()})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SecretValue):
            return NotImplemented
        return self.source == other.source

    def __hash__(self) -> int:
        return hash(self.source)


SecretText = Union[str, SecretValue]


def reveal(value: Optional[SecretText]) -> Optional[str]:
    """The text of a setting that may be a secret reference (None and str as they are)."""
    if value is None or isinstance(value, str):
        return value
    return value.get()


class Secrets(Mapping[str, str]):
    """``settings.secrets``: ``env_secrets`` (read at start-up) and the ``secrets:`` section's
    entries (references read at first access). Iterating, ``in`` and ``len`` read nothing;
    equality compares what is configured (a reference equals only the same reference)."""

    __slots__ = ("_entries",)

    def __init__(self, entries: Optional[Mapping[str, SecretText]] = None) -> None:
        self._entries: Dict[str, SecretText] = dict(entries or {})

    def __getitem__(self, name: str) -> str:
        value = self._entries[name]
        return value if isinstance(value, str) else value.get()

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secrets):
            return self._entries == other._entries
        if isinstance(other, Mapping):
            return self._entries == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # as a dict

    def __repr__(self) -> str:
        return f"Secrets({sorted(self._entries)})"

    def references(self) -> Dict[str, SecretValue]:
        return {k: v for k, v in self._entries.items() if isinstance(v, SecretValue)}


class SecretStore:
    """What one app fetched: (service, name) -> text, (service, name, key) -> value.

    ``fetches`` counts the AWS calls made (tests and benchmarks read it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: Dict[Tuple[str, str, Optional[str]], str] = {}
        self.fetches = 0

    def read(self, secret: SecretValue) -> str:
        source = secret.source
        wanted = (source.service, source.name, source.key)
        value = self._values.get(wanted)
        if value is not None:
            return value
        with self._lock:  # concurrent first uses: one fetch, the others wait for it
            value = self._values.get(wanted)
            if value is None:
                whole = (source.service, source.name, None)
                text = self._values.get(whole)
                if text is None:
                    text = self._fetch(secret)
                    self._values[whole] = text
                value = _field(text, secret) if source.key else text
                self._values[wanted] = value
        return value

    def clear(self) -> None:
        """Forget what was fetched: the next use reads again (after a rotation)."""
        with self._lock:
            self._values.clear()

    def _fetch(self, secret: SecretValue) -> str:
        from .aws import aws_client

        source = secret.source
        self.fetches += 1
        try:
            with _response_bodies_hidden():
                if source.service == SSM:
                    response = aws_client("ssm").get_parameter(Name=source.name,
                                                               WithDecryption=True)
                    return str(response["Parameter"]["Value"])
                response = aws_client("secretsmanager", _region_of(source.name)
                                      ).get_secret_value(SecretId=source.name)
        except Exception as exc:  # botocore's ClientError, BotoCoreError (no credentials...)
            raise SecretUnavailableError(
                f"{secret.where}: cannot read {source.describe()}: {_cause(exc)}") from None
        text = response.get("SecretString")
        if not isinstance(text, str):
            raise SecretUnavailableError(
                f"{secret.where}: {source.describe()} holds binary data; store the secret as "
                "a string")
        return text


def _field(text: str, secret: SecretValue) -> str:
    import json

    source = secret.source
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise SecretUnavailableError(f"{secret.where}: {source.describe()}: the secret is not "
                                     "a JSON object, so no field can be picked")
    value = document.get(source.key)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        fields = ", ".join(sorted(map(str, document))[:20]) or "none"
        problem = "is not a string" if source.key in document else f"is missing (fields: {fields})"
        raise SecretUnavailableError(f"{secret.where}: {source.describe()}: the field {problem}")
    return value


def _region_of(name: str) -> Optional[str]:
    # A secret's ARN names its region; a client of another region cannot read it.
    parts = name.split(":")
    return parts[3] if name.startswith("arn:") and len(parts) > 3 and parts[3] else None


def _cause(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error") or {}
        return f"{error.get('Code', type(exc).__name__)}: {error.get('Message', '')}".rstrip(": ")
    return f"{type(exc).__name__}: {exc}"


# --- botocore logs response bodies at DEBUG: never the one holding a secret -----------------

_fetching = threading.local()


class _HideWhileFetching(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(_fetching, "active", False)


_filter = _HideWhileFetching()


class _response_bodies_hidden:  # noqa: N801 - used as a context manager
    """While a secret is fetched by this thread, botocore.parsers (which logs every response
    body with log_level DEBUG) logs nothing."""

    def __enter__(self) -> None:
        logger = logging.getLogger("botocore.parsers")
        if _filter not in logger.filters:
            logger.addFilter(_filter)
        _fetching.active = True

    def __exit__(self, *_: Any) -> None:
        _fetching.active = False
