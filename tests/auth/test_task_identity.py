"""The key and signature of the caller a task message carries."""
from __future__ import annotations

from pym_lambda.auth import Caller
from pym_lambda.auth.task_identity import (
    caller_key,
    sign,
    signature_valid,
    task_caller,
)
from pym_lambda.config import JwtSettings

JWT = JwtSettings(secret="s" * 40)


def test_the_key_is_per_stage_and_per_secret() -> None:
    dev, prod = caller_key(JWT, None, "dev"), caller_key(JWT, None, "prod")
    assert dev and prod and dev != prod and len(dev) == 32
    assert caller_key(JwtSettings(secret="t" * 40), None, "dev") != dev
    assert dev != b"s" * 40  # derived: never the JWT secret itself


def test_a_configured_key_wins_and_none_without_any_secret() -> None:
    assert caller_key(JWT, "own-key-" * 5, "dev") == b"own-key-" * 5
    assert caller_key(JwtSettings(public_key="PEM"), None, "dev") is None
    assert caller_key(None, None, "dev") is None


def test_the_signature_covers_every_field_but_itself() -> None:
    key = caller_key(JWT, None, "dev")
    assert key is not None
    envelope = {"v": 2, "task": "m:f", "args": [1], "caller": {"user_id": "u", "claims": {}}}
    signed = dict(envelope, sig=sign(envelope, key))
    assert signature_valid(signed, key)
    assert not signature_valid(dict(signed, args=[2]), key)
    assert not signature_valid(dict(signed, sig=signed["sig"].upper()), key)
    assert not signature_valid(dict(signed, sig=7), key)
    assert not signature_valid(envelope, key)


def test_the_task_caller_has_no_token() -> None:
    assert task_caller("u-1", {"a": 1}) == Caller("u-1", {"a": 1}, "")
    assert task_caller(42, {}).user_id is None  # auth's Caller: a str subject or None
