"""The caller a task message carries: minimal identity (user id and claims, never the token),
signed by the sender with the stage's key and verified by the worker before a task sees it.

The key is ``tasks.signing_key`` when set (a string or ``{ssm: ...}``/``{secretsmanager: ...}``,
read once through pym_lambda.secret_store), else derived from ``jwt.secret`` and the stage:
HMAC-SHA256(jwt.secret, "pym-lambda task caller key" NUL stage). So anyone who can send to the
queue but holds neither secret cannot make a task run as someone else, a message signed for one
stage is refused by another, and the token itself never sits in a queue, a DLQ or a log.

The signature is HMAC-SHA256 over the canonical JSON of the whole envelope but its ``sig``
(sorted keys, no spaces, ASCII): the caller cannot be moved onto other arguments or another task.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, Dict, Mapping, Optional

from pym_lambda.auth.tokens import Caller
from pym_lambda.config.keys import JwtSettings, SecretText
from pym_lambda.secret_store import reveal

SIGNATURE_FIELD = "sig"
_DERIVATION_LABEL = b"pym-lambda task caller key\x00"


def caller_key(jwt: Optional[JwtSettings], configured: Optional[SecretText],
               stage: str) -> Optional[bytes]:
    """The stage's key for task callers, or None when the service has no secret to make it."""
    own = reveal(configured) if configured else None
    if own:
        return own.encode("utf-8")
    secret = reveal(jwt.secret) if jwt is not None and jwt.secret else None
    if not secret:
        return None
    return hmac.new(secret.encode("utf-8"), _DERIVATION_LABEL + stage.encode("utf-8"),
                    hashlib.sha256).digest()


def canonical(envelope: Mapping[str, Any]) -> bytes:
    """The bytes signed: every field but the signature, as canonical JSON."""
    unsigned = {k: v for k, v in envelope.items() if k != SIGNATURE_FIELD}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False).encode("ascii")


def sign(envelope: Mapping[str, Any], key: bytes) -> str:
    return hmac.new(key, canonical(envelope), hashlib.sha256).hexdigest()


def signature_valid(envelope: Mapping[str, Any], key: bytes) -> bool:
    signature = envelope.get(SIGNATURE_FIELD)
    if type(signature) is not str or len(signature) != 64:
        return False
    return hmac.compare_digest(sign(envelope, key), signature)


def minimal_identity(user_id: Any, claims: Mapping[str, Any]) -> Dict[str, Any]:
    """The wire form of a caller: its user id and claims, no token."""
    return {"user_id": user_id, "claims": dict(claims)}


def task_caller(user_id: Any, claims: Mapping[str, Any]) -> Caller:
    """What `current_caller()` returns inside a task: the verified identity, with no token
    (so typed clients forward none from a task)."""
    return Caller(user_id=user_id if isinstance(user_id, str) else None, claims=dict(claims),
                  token="")
