"""registry.forwards_token: which base URLs get the caller's token."""
from __future__ import annotations

import pytest

from pym_lambda.clients.registry import forwards_token


@pytest.mark.parametrize("url, expected", [
    ("https://api.example.com", True), ("http://api.example.com", False),
    ("http://10.0.0.5:8080", False), ("http://127.0.0.1:8001", True),
    ("http://127.1.2.3", True), ("http://localhost:8001", True), ("http://[::1]:8001", True),
    ("http://localhost.evil.example", False), ("http://127.0.0.1.evil.example", False)])
def test_by_default_only_https_or_loopback(url: str, expected: bool) -> None:
    assert forwards_token(url) is expected


def test_always_and_never_override_the_scheme() -> None:
    assert forwards_token("http://api.internal", "always") is True
    assert forwards_token("https://api.example.com", "never") is False
    assert forwards_token("http://127.0.0.1", "never") is False
