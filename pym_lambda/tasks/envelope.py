"""The versioned JSON envelope a task call travels in.

Wire format, version 2 (one SQS message body)::

    {"v": 2, "task": "<module>:<qualname>", "task_id": "<uuid4>",
     "args": [...], "kwargs": {...},
     "call_id": "<call id of the request that enqueued it>" | null,
     "caller": {"user_id": ..., "claims": {...}} | null,
     "attempt": 1, "created_at": "2024-05-01T12:00:00.000+00:00",
     "sig": "<hex HMAC-SHA256>"}          # only with a caller

The caller is the verified identity of the request that sent the task, never its token. With a
caller, ``sig`` signs the canonical JSON of every other field with the stage's key
(pym_lambda.auth.task_identity: ``tasks.signing_key``, else derived from ``jwt.secret`` and the
stage); the worker refuses (ForgedCaller) a caller whose signature is missing or wrong. A
sender with no key to sign with sends no caller (and logs it).

Version 1 (earlier releases: the caller held the raw token, unsigned) is still read when its
caller is null; a version 1 message with a caller is refused like a forged one.

Values inside args, kwargs and claims are JSON, except these tagged objects:
``{"__pym_type__": "datetime" | "date" | "decimal", "value": "<iso or decimal string>"}``,
``{"__pym_type__": "model", "name": <__pym_model_name__>, "api": ..., "value": <to_json()>}``
and ``{"__pym_type__": "dict", "value": {...}}`` for a user dict that itself holds the key
``__pym_type__`` (so that no user data is ever mistaken for a tag).

Tuples travel as lists. Anything else fails at encoding with a TaskArgumentError naming the
argument (``args[1]['when']``). A reader refuses any other ``v`` (UnsupportedEnvelopeVersion).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import math
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

from ..context import CallContext, new_call_id
from ..records import EMPTY_MAP
from .errors import (
    ForgedCaller,
    MalformedEnvelope,
    TaskArgumentError,
    TaskPayloadTooLarge,
    UnsupportedEnvelopeVersion,
)

ENVELOPE_VERSION = 2
READABLE_VERSIONS = (1, 2)  # 1: only without a caller (its caller was unsigned)
SIGNATURE_FIELD = "sig"  # pym_lambda.auth.task_identity.SIGNATURE_FIELD, without importing it
log = logging.getLogger("pym_lambda.tasks")
TYPE_TAG = "__pym_type__"
_MAX_DEPTH = 64  # deeper than any sane argument; also stops cycles before RecursionError

ModelResolver = Callable[[str, Optional[str]], Any]  # (model name, api or None) -> class
CallerFactory = Callable[[Dict[str, Any]], Any]


class TaskCaller(NamedTuple):
    """A caller record with the fields of auth's Caller (kept for code that made its own; the
    worker restores an auth Caller without token: see _default_caller_factory)."""

    user_id: Any = None
    claims: Mapping[str, Any] = EMPTY_MAP
    token: Optional[str] = None


class TaskEnvelope(NamedTuple):
    task: str
    task_id: str
    args: List[Any]
    kwargs: Dict[str, Any]
    call_id: Optional[str] = None
    caller: Optional[Dict[str, Any]] = None  # wire form, already JSON
    attempt: int = 1
    created_at: str = ""
    v: int = ENVELOPE_VERSION


def _default_model_resolver(name: str, api: Optional[str]) -> Any:
    from ..runtime.models import find_model  # noqa: PLC0415 - runtime models load lazily
    return find_model(name, api) if api else find_model(name)


def _default_caller_factory(data: Dict[str, Any]) -> Any:
    from ..auth.task_identity import task_caller  # noqa: PLC0415 - only for a signed caller

    return task_caller(data.get("user_id"), data.get("claims") or {})


def _caller_key() -> Optional[bytes]:
    """The current service's key for task callers (None: it has no secret to make one)."""
    from ..auth.task_identity import caller_key  # noqa: PLC0415 - only with a caller
    from .task_settings import service_task_settings  # noqa: PLC0415

    service = _service()
    settings = service.settings
    configured = settings.tasks.signing_key if settings is not None else None
    return caller_key(service.jwt, configured, service_task_settings(service).stage)


# Both are the current service's (runtime/service.py), set by the functions below.
def _model_resolver(name: str, api: Optional[str]) -> Any:
    resolver = _service().model_resolver or _default_model_resolver
    return resolver(name, api)


def _caller_factory(data: Dict[str, Any]) -> Any:
    return (_service().caller_factory or _default_caller_factory)(data)


def _service() -> Any:
    from ..runtime.service import current_service  # noqa: PLC0415 - the decorator imports it

    return current_service()


def set_model_resolver(resolver: Optional[ModelResolver]) -> None:
    """Where the current service finds model classes when decoding (None:
    pym_lambda.runtime.models)."""
    _service().model_resolver = resolver


def set_caller_factory(factory: Optional[CallerFactory]) -> None:
    """What a task of the current service sees as current_context().caller (None: a
    TaskCaller)."""
    _service().caller_factory = factory


# --- encoding -------------------------------------------------------------------------------

def _check_plain_json(value: Any, where: str, task: str, depth: int = 0) -> None:
    if depth > _MAX_DEPTH:
        raise TaskArgumentError(task, where, value, "nested too deeply (a cycle?)")
    if value is None or isinstance(value, (bool, int, str)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TaskArgumentError(task, where, value, "NaN and infinite floats are not JSON")
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_plain_json(item, f"{where}[{i}]", task, depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TaskArgumentError(task, where, value, f"dict key {key!r} is not a str")
            _check_plain_json(item, f"{where}[{key!r}]", task, depth + 1)
        return
    raise TaskArgumentError(task, where, value, f"{type(value).__name__} is not JSON")


def encode_value(value: Any, where: str, task: str, depth: int = 0) -> Any:
    """`value` as JSON-ready data with tags; TaskArgumentError names `where` on failure."""
    if depth > _MAX_DEPTH:
        raise TaskArgumentError(task, where, value, "nested too deeply (a cycle?)")
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TaskArgumentError(task, where, value, "NaN and infinite floats are not JSON")
        return value
    if isinstance(value, dt.datetime):  # before date: datetime is a date
        return {TYPE_TAG: "datetime", "value": value.isoformat()}
    if isinstance(value, dt.date):
        return {TYPE_TAG: "date", "value": value.isoformat()}
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise TaskArgumentError(task, where, value, "NaN and infinite decimals are refused")
        return {TYPE_TAG: "decimal", "value": str(value)}
    if isinstance(value, (list, tuple)):
        return [encode_value(item, f"{where}[{i}]", task, depth + 1)
                for i, item in enumerate(value)]
    if isinstance(value, dict):
        out: Dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TaskArgumentError(task, where, value, f"dict key {key!r} is not a str")
            out[key] = encode_value(item, f"{where}[{key!r}]", task, depth + 1)
        return {TYPE_TAG: "dict", "value": out} if TYPE_TAG in out else out
    model_name = getattr(type(value), "__pym_model_name__", None)
    if isinstance(model_name, str) and model_name and callable(getattr(value, "to_json", None)):
        data = value.to_json()
        _check_plain_json(data, f"{where}.to_json()", task)
        tagged = {TYPE_TAG: "model", "name": model_name, "value": data}
        api = getattr(type(value), "__pym_api__", None)
        if isinstance(api, str) and api:
            tagged["api"] = api
        return tagged
    raise TaskArgumentError(task, where, value)


def caller_to_json(caller: Any, task: str) -> Optional[Dict[str, Any]]:
    """The wire form of the auth caller (a mapping or an object with user_id and claims): its
    minimal identity. The token never travels (encode_envelope signs the identity instead)."""
    if caller is None:
        return None
    if isinstance(caller, Mapping):
        get: Callable[[str], Any] = caller.get
    else:
        def get(name: str) -> Any:
            return getattr(caller, name, None)
    return {
        "user_id": encode_value(get("user_id"), "caller.user_id", task),
        "claims": encode_value(dict(get("claims") or {}), "caller.claims", task),
    }


def new_envelope(task: str, args: Sequence[Any], kwargs: Mapping[str, Any],
                 context: Optional[CallContext] = None) -> TaskEnvelope:
    return TaskEnvelope(
        task=task, task_id=new_call_id(), args=list(args), kwargs=dict(kwargs),
        call_id=context.call_id if context else None,
        caller=caller_to_json(context.caller, task) if context else None,
        created_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"))


def encode_envelope(envelope: TaskEnvelope) -> str:
    """The message body. ASCII only: every character is valid in SQS, sizes are len()."""
    data = {
        "v": envelope.v, "task": envelope.task, "task_id": envelope.task_id,
        "args": [encode_value(a, f"args[{i}]", envelope.task)
                 for i, a in enumerate(envelope.args)],
        "kwargs": {k: encode_value(v, f"kwargs[{k!r}]", envelope.task)
                   for k, v in envelope.kwargs.items()},
        "call_id": envelope.call_id, "caller": envelope.caller, "attempt": envelope.attempt,
        "created_at": envelope.created_at,
    }
    if data["caller"] is not None:
        _sign_caller(data)
    return json.dumps(data, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def _sign_caller(data: Dict[str, Any]) -> None:
    from ..auth.task_identity import sign  # noqa: PLC0415 - only with a caller

    key = _caller_key()
    if key is None:
        log.warning("task %s is sent without its caller: this service has no key to sign it "
                    "with (set jwt.secret or tasks.signing_key)", data["task"])
        data["caller"] = None
        return
    data[SIGNATURE_FIELD] = sign(data, key)


def check_message_size(task: str, body: str, limit: int) -> None:
    size = len(body.encode("utf-8"))
    if size > limit:
        raise TaskPayloadTooLarge(task, size, limit)


# --- decoding -------------------------------------------------------------------------------

def decode_value(value: Any, model_resolver: Optional[ModelResolver] = None,
                 depth: int = 0) -> Any:
    if value is None or isinstance(value, (str, int, float)):
        return value  # most arguments: nothing to decode
    if depth > _MAX_DEPTH:  # no sender makes this (encode_value has the same bound)
        raise MalformedEnvelope(f"a value is nested deeper than {_MAX_DEPTH} levels")
    resolver = model_resolver or _model_resolver
    if isinstance(value, list):
        return [decode_value(item, resolver, depth + 1) for item in value]
    if not isinstance(value, dict):
        return value
    if TYPE_TAG not in value:
        return {k: decode_value(v, resolver, depth + 1) for k, v in value.items()}
    tag, inner = value[TYPE_TAG], value.get("value")
    try:
        if tag == "dict" and isinstance(inner, dict):
            return {k: decode_value(v, resolver, depth + 1) for k, v in inner.items()}
        if tag == "datetime" and isinstance(inner, str):
            return dt.datetime.fromisoformat(inner)
        if tag == "date" and isinstance(inner, str):
            return dt.date.fromisoformat(inner)
        if tag == "decimal" and isinstance(inner, str):
            return Decimal(inner)
        if tag == "model" and isinstance(value.get("name"), str):
            return _decode_model(value, resolver)
    except (ValueError, InvalidOperation) as exc:
        raise MalformedEnvelope(f"bad {tag} value {inner!r}: {exc}") from None
    raise MalformedEnvelope(f"unknown or malformed tagged value {TYPE_TAG}={tag!r}")


def _decode_model(value: Dict[str, Any], resolver: ModelResolver) -> Any:
    name, api = value["name"], value.get("api")
    try:
        cls = resolver(name, api)
    except Exception as exc:  # any resolver failure means: this worker can't read it
        raise MalformedEnvelope(f"unknown model {name!r}: {exc}") from None
    try:
        return cls.from_json(value.get("value"))
    except Exception as exc:
        raise MalformedEnvelope(f"model {name!r} refused its data: {exc}") from exc


def _field(data: Dict[str, Any], name: str, types: Any, optional: bool = False) -> Any:
    if name not in data:
        if optional:
            return None
        raise MalformedEnvelope(f"envelope has no {name!r}")
    value = data[name]
    if value is None and optional:
        return None
    if not isinstance(value, types) or isinstance(value, bool) and types is int:
        raise MalformedEnvelope(f"envelope field {name!r} has the wrong type "
                                f"({type(value).__name__})")
    return value


# The fields the worker uses: task, task_id, args, kwargs, call_id, caller (wire form).
EnvelopeFields = Tuple[str, str, List[Any], Dict[str, Any], Optional[str], Optional[Dict[str, Any]]]


def _check_caller(data: Dict[str, Any], caller: Dict[str, Any], version: int) -> None:
    """A caller is trusted only when this stage's key signed the envelope that carries it."""
    from ..auth.task_identity import signature_valid  # noqa: PLC0415 - only with a caller

    if version < 2:
        raise ForgedCaller("a version 1 envelope carries a caller, which it could not sign: "
                           "refused")
    if set(caller) != {"user_id", "claims"} or type(caller["claims"]) is not dict:
        raise ForgedCaller("the caller is not {user_id, claims}: refused")
    key = _caller_key()
    if key is None:
        raise ForgedCaller("this worker has no key to verify the caller with (jwt.secret or "
                           "tasks.signing_key): refused")
    if not signature_valid(data, key):
        raise ForgedCaller("the caller's signature is missing or wrong for this stage: refused")


def read_fields(body: Any, model_resolver: Optional[ModelResolver] = None,
                verify_caller: bool = True) -> Tuple[Any, ...]:
    """The one decoder: json.loads, each field's type checked, the arguments walked. Its tuple
    (task, task_id, args, kwargs, call_id, caller, attempt, created_at) is what the worker
    reads, with no record built."""
    try:
        data = _decode(body)
    except (TypeError, ValueError, RecursionError) as exc:
        raise MalformedEnvelope(f"message body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise MalformedEnvelope("message body is not a JSON object")
    if "v" not in data:
        raise MalformedEnvelope("message body has no envelope version 'v'")
    version = data["v"]
    if type(version) is not int or version not in READABLE_VERSIONS:
        raise UnsupportedEnvelopeVersion(version)
    get = data.get
    task, task_id, args, kwargs = get("task"), get("task_id"), get("args"), get("kwargs")
    call_id, caller, attempt, created_at = (get("call_id"), get("caller"), get("attempt"),
                                            get("created_at"))
    # JSON gives exact builtin types: `type() is` is isinstance, and excludes bools as ints.
    if not (type(task) is str and type(task_id) is str and type(args) is list
            and type(kwargs) is dict and (call_id is None or type(call_id) is str)
            and (caller is None or type(caller) is dict)
            and (attempt is None or type(attempt) is int)
            and (created_at is None or type(created_at) is str)):
        for name, types, optional in _FIELDS:  # raises the precise error
            _field(data, name, types, optional)
    if caller is not None and verify_caller:
        _check_caller(data, caller, version)
    # Scalar arguments (the usual) need no walk; tagged values and containers do.
    if args and not set(map(type, args)) <= _SCALAR_TYPES:  # one pass in C
        args = decode_value(args, model_resolver)
    if kwargs:  # key by key: a keyword argument may be named like the tag
        kwargs = {k: decode_value(v, model_resolver) for k, v in kwargs.items()}
    return task, task_id, args, kwargs, call_id, caller, attempt or 1, created_at or ""


_SCALARS = (str, int, float, bool, type(None))
_SCALAR_TYPES = frozenset(_SCALARS)


def _decode(body: Any) -> Any:
    """json.loads(body), by the C scanner json.loads ends in, called directly for the usual body
    (a str that is one JSON value, nothing around it): loads() reaches it through a dozen
    keyword tests and two Python frames that strip whitespace (~0.5 us a record). Anything else
    (bytes, whitespace, a BOM, trailing data) goes to json.loads, for its value or its error."""
    if type(body) is str:
        try:
            data, end = _scan(body, 0)
        except StopIteration:  # no value at 0: empty, whitespace or a BOM first
            return json.loads(body)
        if end == len(body):
            return data
    return json.loads(body)


# The C scanner (it clears its memo after each call).
_scan: Callable[[str, int], Tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_FIELDS = (("task", str, False), ("task_id", str, False), ("args", list, False),
           ("kwargs", dict, False), ("call_id", str, True), ("caller", dict, True),
           ("attempt", int, True), ("created_at", str, True))


def decode_envelope(body: Any, *, model_resolver: Optional[ModelResolver] = None,
                    verify_caller: bool = True) -> TaskEnvelope:
    """Read a message body; MalformedEnvelope, UnsupportedEnvelopeVersion or ForgedCaller if we
    can't. verify_caller=False: for tools that only show a message (its caller unverified)."""
    task, task_id, args, kwargs, call_id, caller, attempt, created_at = read_fields(
        body, model_resolver, verify_caller)
    return TaskEnvelope(task=task, task_id=task_id, args=args, kwargs=kwargs, call_id=call_id,
                        caller=caller, attempt=attempt, created_at=created_at)


def read_envelope(body: Any) -> EnvelopeFields:
    """decode_envelope for the worker's hot path: the same decoder, the fields it uses as a
    tuple (a frozen dataclass costs several microseconds to build)."""
    task, task_id, args, kwargs, call_id, caller, _, _ = read_fields(body, None)
    return task, task_id, args, kwargs, call_id, caller


def restore_caller(wire: Optional[Dict[str, Any]],
                   model_resolver: Optional[ModelResolver] = None) -> Any:
    """The caller object a task sees, built from the envelope's wire-form caller."""
    if wire is None:
        return None
    return _caller_factory({k: decode_value(v, model_resolver) for k, v in wire.items()})
