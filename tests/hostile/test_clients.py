"""Hostile input through the typed clients: path parameters that would move the call, and the
caller's token sent where it should not go. Against HTTP servers on 127.0.0.1 only.
"""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, Iterator

import pytest
import requests

from pym_lambda.clients import load_clients
from pym_lambda.config import ConfigError, load_settings
from pym_lambda.context import CallContext, enter_context, exit_context
from pym_lambda.errors import SpecErrors
from tests.clients.test_typed_clients import BOOK_LIST, Reply, Upstream, compile_catalog

TOKEN = "caller.jwt.token"


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Any]:
    return compile_catalog(tmp_path_factory.mktemp("catalog"), "oas30")


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    server.answer(Reply(200, BOOK_LIST))
    yield server
    server.close()


@pytest.fixture
def as_caller() -> Iterator[None]:
    token = enter_context(CallContext(call_id="c-1", caller=SimpleNamespace(token=TOKEN)))
    yield
    exit_context(token)


@pytest.mark.parametrize("value, sent", [
    ("..", "%2E%2E"), (".", "%2E"), ("../../admin", "%2E%2E%2F%2E%2E%2Fadmin"),
    ("a?b#c", "a%3Fb%23c"), ("%2E%2E", "%252E%252E"), ("..%2F", "%2E%2E%252F")])
def test_a_path_parameter_cannot_move_the_call(compiled: Dict[str, Any], upstream: Upstream,
                                               value: str, sent: str) -> None:
    loaded = load_clients(compiled, {"catalog": upstream.url}, retries=0)
    try:
        loaded.catalog.listBooks(shelf_id=value)
    finally:
        loaded.close()
    [got] = upstream.received
    # Before: ".." went out as "/v1/shelves/../books", which requests made "/v1/books".
    assert got.raw_path == f"/v1/shelves/{sent}/books"


def through_proxy(upstream: Upstream) -> Any:
    """A session that sends every http:// call to the upstream, as a proxy: the base URL may
    then name a host that is not loopback, and nothing leaves 127.0.0.1."""
    def make() -> requests.Session:
        session = requests.Session()
        session.trust_env = False
        session.proxies = {"http": upstream.url}
        return session
    return make


@pytest.mark.parametrize("mode, forwarded", [(None, False), ("https", False), ("always", True),
                                             ("never", False)])
def test_the_token_goes_over_plain_http_only_to_a_trusted_client(
        compiled: Dict[str, Any], upstream: Upstream, as_caller: None, mode: Any,
        forwarded: bool) -> None:
    loaded = load_clients(compiled, {"catalog": "http://catalog.internal"}, retries=0,
                          session_factory=through_proxy(upstream),
                          client_tokens={"catalog": mode} if mode else None)
    try:
        loaded.catalog.listBooks(shelf_id="s1")
    finally:
        loaded.close()
    [got] = upstream.received
    assert got.raw_path == "http://catalog.internal/v1/shelves/s1/books"  # via the "proxy"
    assert got.headers.get("pymcallid") == "c-1"
    assert (got.headers.get("authorization") == f"Bearer {TOKEN}") is forwarded
    if not forwarded:
        assert "authorization" not in got.headers


@pytest.mark.parametrize("mode, forwarded", [(None, True), ("never", False)])
def test_loopback_is_trusted_by_default_for_local_development(
        compiled: Dict[str, Any], upstream: Upstream, as_caller: None, mode: Any,
        forwarded: bool) -> None:
    loaded = load_clients(compiled, {"catalog": upstream.url}, retries=0,
                          client_tokens={"catalog": mode} if mode else None)
    try:
        loaded.catalog.listBooks(shelf_id="s1")
    finally:
        loaded.close()
    [got] = upstream.received
    assert ("authorization" in got.headers) is forwarded


def test_a_bad_token_mode_or_an_unknown_client_fails_at_start_up(
        compiled: Dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(SpecErrors, match=r"client_tokens.catalog: expected one of"):
        load_clients(compiled, {"catalog": "https://x.example"},
                     client_tokens={"catalog": "yes"})
    with pytest.raises(SpecErrors, match=r"client_tokens.other: no client named 'other'"):
        load_clients(compiled, {"catalog": "https://x.example"},
                     client_tokens={"other": "always"})
    (tmp_path / "pym-config.yaml").write_text("client_tokens:\n  catalog: sometimes\n")
    with pytest.raises(ConfigError, match=r"client_tokens.catalog: expected one of"):
        load_settings(tmp_path)
    assert load_settings(tmp_path, environ={"PYM_CLIENT_TOKENS_CATALOG": "never"}
                         ).client_tokens == {"catalog": "never"}
