"""CorsPolicy: which origin a response names, whatever the configuration let through."""
from __future__ import annotations

from pym_lambda.runtime.cors import CorsPolicy


def test_a_wildcard_answers_star_and_never_echoes_the_origin() -> None:
    # Even built directly with credentials (the config refuses that): browsers refuse
    # credentials with "*", which is the point.
    for credentials in (False, True):
        policy = CorsPolicy(("*",), allow_credentials=credentials)
        assert policy.allowed_origin("https://evil.example") == "*"


def test_null_is_allowed_only_when_listed() -> None:
    assert CorsPolicy(("*",)).allowed_origin("null") is None
    assert CorsPolicy(("https://a.example",)).allowed_origin("null") is None
    assert CorsPolicy(("null",)).allowed_origin("null") == "null"


def test_a_listed_origin_is_echoed() -> None:
    policy = CorsPolicy(("https://a.example/",), allow_credentials=True)
    assert policy.allowed_origin("https://a.example") == "https://a.example"
    assert policy.allowed_origin("https://a.example.evil") is None
