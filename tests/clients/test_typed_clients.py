"""Typed clients (pym_lambda.clients) against real HTTP servers on 127.0.0.1, in every dialect.

Each test scripts what the upstream answers; the upstream records what it received. Timeouts
are small (0.2-0.5 s) so that the retry and timeout tests stay fast.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Dict, Iterator, List, Optional, Union
from urllib.parse import parse_qs, urlsplit

import pytest

from pym_lambda.build.openapi.client_specs import compile_client_specs
from pym_lambda.clients import (
    ApiClient,
    ClientRequestError,
    RemoteError,
    UpstreamBadResponse,
    UpstreamTimeout,
    UpstreamUnreachable,
    clients,
    install_clients,
    load_clients,
)
from pym_lambda.clients.encoding import BodyEncoder
from pym_lambda.context import CallContext, enter_context, exit_context
from pym_lambda.errors import PymError, SpecErrors, error_body
from pym_lambda.runtime.models import Model
from tests.conftest import ROOT, write_spec

ERROR_404 = {"status": 404, "error": "SHELF_NOT_FOUND", "error_description": "no shelf 7",
             "error_id": "remote-err-1"}
BOOK = {"id": 1, "title": "Dune", "authors": [{"name": "Frank Herbert", "born": "1920-10-08"}],
        "tags": ["sf"], "published_at": "1965-08-01T00:00:00Z"}
BOOK_LIST = {"books": [BOOK], "count": 1}


def sign_request(send: Callable[..., Any]) -> Callable[..., Any]:
    """The x-decorate-request of addBook in the fixture specs: adds a header to each attempt."""
    def signed(method: str, url: str, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", None) or {})
        headers["X-Signature"] = f"signed {method}"
        return send(method, url, headers=headers, **kwargs)
    return signed


# -- the upstream server ------------------------------------------------------------------------
@dataclass
class Received:
    method: str
    peer: Any  # the client's (host, port): the same one for pooled calls
    raw_path: str
    headers: Dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.raw_path).path

    @property
    def query(self) -> Dict[str, List[str]]:
        return parse_qs(urlsplit(self.raw_path).query, keep_blank_values=True)

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: Union[bytes, str, Any] = b""
    headers: Dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # before answering
    trickle: float = 0.0  # seconds between body bytes


class Upstream:
    """A ThreadingHTTPServer whose answers each test scripts with `answer(...)`."""

    def __init__(self) -> None:
        self.received: List[Received] = []
        self.replies: Callable[[Received], Reply] = lambda r: Reply(200, {})
        self.stopping = threading.Event()  # wakes sleeping handlers at teardown
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, so the client's pool is exercised
            timeout = 5

            def handle_one(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                got = Received(self.command, self.client_address, self.path,
                               {k.lower(): v for k, v in self.headers.items()},
                               self.rfile.read(length) if length else b"")
                upstream.received.append(got)
                reply = upstream.replies(got)
                if reply.delay and upstream.stopping.wait(reply.delay):
                    return
                body = reply.body
                if not isinstance(body, (bytes, str)):
                    body = json.dumps(body)
                    reply.headers.setdefault("Content-Type", "application/json")
                data = body.encode() if isinstance(body, str) else body
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    for i in range(len(data)) if reply.trickle else ():
                        self.wfile.write(data[i:i + 1])
                        self.wfile.flush()
                        if upstream.stopping.wait(reply.trickle):
                            return
                    if not reply.trickle:
                        self.wfile.write(data)
                except OSError:  # the client gave up (timeout): nothing to tell it
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = handle_one

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that hung up mid-answer is what the timeout tests do

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def answer(self, *replies: Reply) -> None:
        """Answer with these replies in turn, the last one repeated."""
        queue = list(replies)

        def next_reply(_: Received) -> Reply:
            return copy.deepcopy(queue.pop(0) if len(queue) > 1 else queue[0])
        self.replies = next_reply

    def close(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class CountingSession:
    """A requests Session that records each attempt (handed in through session_factory)."""

    def __init__(self) -> None:
        import requests

        self.inner = requests.Session()
        self.attempts: List[float] = []

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        self.attempts.append(time.monotonic())
        return self.inner.request(method, url, **kwargs)

    def close(self) -> None:
        self.inner.close()


# -- fixtures -----------------------------------------------------------------------------------
def compile_catalog(tmp: Path, dialect: str) -> Dict[str, Any]:
    # The file stem (catalog_api) is the api's name; x-bind-client names the client "catalog".
    path = write_spec(tmp, "catalog_api", "clients", dialect)
    return compile_client_specs([(path, f"apis/catalog_api.yaml ({dialect})")])


@pytest.fixture(scope="module", params=["swagger2", "oas30", "oas31"])
def compiled(request: Any, tmp_path_factory: Any) -> Dict[str, Any]:
    return compile_catalog(tmp_path_factory.mktemp(request.param), request.param)


@pytest.fixture(scope="module")
def compiled_oas30(tmp_path_factory: Any) -> Dict[str, Any]:
    """One dialect for the transport tests: retries and timeouts do not depend on it."""
    return compile_catalog(tmp_path_factory.mktemp("oas30"), "oas30")


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    yield server
    server.close()


@pytest.fixture
def catalog(compiled: Dict[str, Any], upstream: Upstream) -> Iterator[ApiClient]:
    loaded = load_clients(compiled, {"catalog": upstream.url}, timeout=(0.5, 0.5), retries=2,
                          backoff=0.01)
    yield loaded.catalog
    loaded.close()


@pytest.fixture
def make_catalog(compiled_oas30: Dict[str, Any]) -> Iterator[Callable[..., ApiClient]]:
    made: List[Any] = []

    def make(url: str, **options: Any) -> ApiClient:
        loaded = load_clients(compiled_oas30, {"catalog": url}, **options)
        made.append(loaded)
        return loaded.catalog
    yield make
    for loaded in made:
        loaded.close()


# -- what is sent, what comes back --------------------------------------------------------------
def test_get_sends_path_query_and_headers_and_returns_models(catalog: ApiClient,
                                                            upstream: Upstream) -> None:
    upstream.answer(Reply(200, BOOK_LIST))
    since = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    result = catalog.listBooks(shelf_id="a b/c", tags=["sf", "x y"], kinds=["novel", "essay"],
                               available=True, since=since, limit=5, x_branch="north")
    [got] = upstream.received
    assert got.method == "GET"
    assert got.path == "/v1/shelves/a%20b%2Fc/books"  # base path kept, path value quoted
    assert got.query == {"tags": ["sf,x y"], "kinds": ["novel", "essay"],
                         "available": ["true"], "since": ["2024-01-02T03:04:05+00:00"],
                         "limit": ["5"]}
    assert got.headers["x-branch"] == "north"
    assert got.headers["accept"] == "application/json"
    assert got.body == b""
    assert isinstance(result, Model) and type(result).__name__ == "BookList"
    book = result.books[0]
    assert (book.title, book.authors[0].name, result.count) == ("Dune", "Frank Herbert", 1)
    assert book.published_at == dt.datetime(1965, 8, 1, tzinfo=dt.timezone.utc)
    assert book.authors[0].born == dt.date(1920, 10, 8)
    assert type(book.authors[0]).__name__ == "Author"


def test_operation_aliases(catalog: ApiClient) -> None:
    assert catalog.list_books is catalog.listBooks  # snake_case alias
    assert catalog.find_books is catalog.listBooks  # PyMacaron's operation-level x-bind-client
    with pytest.raises(AttributeError, match="has no operation 'nope'.*listBooks"):
        catalog.nope  # noqa: B018


def test_post_sends_a_nested_body_from_a_model_or_a_dict(catalog: ApiClient,
                                                         upstream: Upstream) -> None:
    upstream.answer(Reply(201, dict(BOOK, id=7)))
    m = catalog.models
    herbert = m.Author(name="Frank Herbert", born=dt.date(1920, 10, 8))
    new = m.NewBook(title="Dune", authors=[herbert], published_at=dt.datetime(1965, 8, 1))
    created = catalog.addBook(new, shelf_id="s1")
    assert created.id == 7 and created.authors[0].name == "Frank Herbert"
    as_dict = {"title": "Emma", "authors": [{"name": "Jane Austen"}], "tags": ["classic"]}
    catalog.add_book(body=as_dict, shelf_id="s1")
    first, second = upstream.received
    assert (first.method, first.path) == ("POST", "/v1/shelves/s1/books")
    assert first.headers["content-type"] == "application/json"
    assert first.json == {"title": "Dune", "published_at": "1965-08-01T00:00:00Z",
                          "authors": [{"name": "Frank Herbert", "born": "1920-10-08"}]}
    assert second.json == as_dict
    assert first.headers["x-signature"] == "signed POST"  # x-decorate-request applied


def test_no_content_returns_none(catalog: ApiClient, upstream: Upstream) -> None:
    upstream.answer(Reply(204))
    assert catalog.delete_book(book_id=3) is None
    assert (upstream.received[0].method, upstream.received[0].path) == ("DELETE", "/v1/books/3")


def test_connections_are_pooled(catalog: ApiClient, upstream: Upstream) -> None:
    upstream.answer(Reply(204))
    for book_id in (1, 2, 3):
        catalog.delete_book(book_id=book_id)
    assert len({got.peer for got in upstream.received}) == 1


def test_caller_token_and_call_id_are_forwarded(catalog: ApiClient, upstream: Upstream) -> None:
    upstream.answer(Reply(204))
    token = enter_context(CallContext(call_id="call-123",
                                      caller=SimpleNamespace(token="abc.def.ghi")))
    try:
        catalog.delete_book(book_id=1)
        catalog.delete_book(book_id=1, _headers={"authorization": "Bearer other"})
        catalog.delete_book(book_id=1, _headers={"Authorization": None})
    finally:
        exit_context(token)
    catalog.delete_book(book_id=1)  # outside any request: a fresh call id, no token
    inside, overridden, withheld, outside = upstream.received
    assert inside.headers["authorization"] == "Bearer abc.def.ghi"
    assert inside.headers["pymcallid"] == "call-123"
    assert overridden.headers["authorization"] == "Bearer other"
    assert "authorization" not in withheld.headers
    assert "authorization" not in outside.headers
    assert len(outside.headers["pymcallid"]) == 36 and outside.headers["pymcallid"] != "call-123"


# -- local mistakes: raised before anything is sent ---------------------------------------------
@pytest.mark.parametrize("call, field, message", [
    (lambda c: c.listBooks(shelf_id="s", limit=0), "query parameter 'limit'",
     "less than the minimum of 1"),
    (lambda c: c.listBooks(shelf_id="s", kinds=["comic"]), "query parameter 'kinds'",
     "'comic' is not one of"),
    (lambda c: c.listBooks(shelf_id="s", since="yesterday"), "query parameter 'since'",
     "is not a 'date-time'"),
    (lambda c: c.listBooks(limit=3), "path parameter 'shelf_id'", "is required"),
    (lambda c: c.listBooks(shelf_id="s", colour="red"), "colour", "unexpected argument"),
    (lambda c: c.addBook({"title": "x", "authors": []}, shelf_id="s"), "body",
     "body.authors: [] should be non-empty"),
    (lambda c: c.addBook({"title": "x", "authors": [{}]}, shelf_id="s"), "body",
     "'name' is a required property"),
    (lambda c: c.addBook({"title": object()}, shelf_id="s"), "body", "not JSON serialisable"),
    (lambda c: c.addBook(shelf_id="s"), "body", "body is required"),
    (lambda c: c.delete_book({"x": 1}, book_id=1), "body", "takes no body"),
])
def test_local_mistakes_raise_before_sending(catalog: ApiClient, upstream: Upstream,
                                             call: Callable[[ApiClient], Any], field: str,
                                             message: str) -> None:
    with pytest.raises(ClientRequestError) as caught:
        call(catalog)
    assert isinstance(caught.value, ValueError) and not isinstance(caught.value, PymError)
    assert caught.value.field == field
    assert message in str(caught.value)
    assert str(caught.value).startswith("catalog.")  # names the operation
    assert upstream.received == []


# -- what the upstream answers ------------------------------------------------------------------
def test_remote_error_shape_is_raised_with_its_status_code_and_error_id(
        catalog: ApiClient, upstream: Upstream) -> None:
    upstream.answer(Reply(404, ERROR_404))
    with pytest.raises(RemoteError) as caught:
        catalog.listBooks(shelf_id="7")
    error = caught.value
    assert isinstance(error, PymError)
    assert (error.status, error.code, error.description) == (404, "SHELF_NOT_FOUND", "no shelf 7")
    assert error.remote_error_id == "remote-err-1"
    # Propagated out of an endpoint, the caller of this service sees the same status and code.
    body = error_body(error.status, error.code, error.description, None, error.user_message)
    assert (body["status"], body["error"]) == (404, "SHELF_NOT_FOUND")


def test_error_shape_on_an_undeclared_status_is_still_a_remote_error(
        catalog: ApiClient, upstream: Upstream) -> None:
    upstream.answer(Reply(401, dict(ERROR_404, status=401, error="TOKEN_EXPIRED")))
    with pytest.raises(RemoteError) as caught:
        catalog.listBooks(shelf_id="7")
    assert (caught.value.status, caught.value.code) == (401, "TOKEN_EXPIRED")


def test_declared_error_status_in_another_shape(catalog: ApiClient, upstream: Upstream) -> None:
    upstream.answer(Reply(404, {"error_description": "gone"}))
    with pytest.raises(RemoteError) as caught:
        catalog.listBooks(shelf_id="7")
    assert (caught.value.status, caught.value.code) == (404, "NOT_FOUND")
    assert caught.value.body.error_description == "gone"  # the declared Error model


@pytest.mark.parametrize("reply", [Reply(418, {"message": "teapot"}), Reply(202, BOOK_LIST)])
def test_undeclared_status_with_a_non_error_body_is_a_502(catalog: ApiClient,
                                                          upstream: Upstream,
                                                          reply: Reply) -> None:
    upstream.answer(reply)
    with pytest.raises(UpstreamBadResponse) as caught:
        catalog.listBooks(shelf_id="7")
    assert (caught.value.status, caught.value.code) == (502, "UPSTREAM_BAD_RESPONSE")
    assert f"catalog.listBooks answered status {reply.status}" in caught.value.description


@pytest.mark.parametrize("reply, problem", [
    (Reply(200, "<html>oops</html>", {"Content-Type": "text/html"}), "not JSON (text/html)"),
    (Reply(200, b"{\"books\": [", {"Content-Type": "application/json"}), "not JSON"),
    (Reply(200, ""), "empty body"),
    (Reply(200, {"books": [dict(BOOK, title=5)], "count": 1}),
     "response.books[0].title: 5 is not of type 'string'"),
    (Reply(200, {"books": []}), "'count' is a required property"),
])
def test_garbage_or_schema_breaking_response_is_upstream_bad_response(
        catalog: ApiClient, upstream: Upstream, reply: Reply, problem: str) -> None:
    upstream.answer(reply)
    with pytest.raises(UpstreamBadResponse) as caught:
        catalog.listBooks(shelf_id="7")
    assert (caught.value.status, caught.value.code) == (502, "UPSTREAM_BAD_RESPONSE")
    assert caught.value.description.startswith("catalog.listBooks, status 200: ")
    assert problem in caught.value.description


# -- retries and timeouts -----------------------------------------------------------------------
UNAVAILABLE = Reply(503, "Service Unavailable", {"Content-Type": "text/plain"})


def test_get_is_retried_on_503_and_succeeds_on_the_third_attempt(
        make_catalog: Callable[..., ApiClient], upstream: Upstream) -> None:
    upstream.answer(UNAVAILABLE, Reply(503, dict(ERROR_404, status=503, error="BUSY")),
                    Reply(200, BOOK_LIST))
    catalog = make_catalog(upstream.url, timeout=(0.5, 0.5), retries=2, backoff=0.01)
    assert catalog.listBooks(shelf_id="s").count == 1
    assert len(upstream.received) == 3


def test_get_gives_up_after_the_last_retry(make_catalog: Callable[..., ApiClient],
                                           upstream: Upstream) -> None:
    upstream.answer(UNAVAILABLE)
    catalog = make_catalog(upstream.url, timeout=(0.5, 0.5), retries=2, backoff=0.01)
    with pytest.raises(UpstreamUnreachable) as caught:
        catalog.listBooks(shelf_id="s")
    assert (caught.value.status, caught.value.code) == (502, "UPSTREAM_UNREACHABLE")
    assert len(upstream.received) == 3


@pytest.mark.parametrize("reply, error, status", [
    (UNAVAILABLE, UpstreamUnreachable, 502),
    (Reply(503, dict(ERROR_404, status=503, error="BUSY")), RemoteError, 503),
])
def test_post_is_not_retried_on_503(make_catalog: Callable[..., ApiClient], upstream: Upstream,
                                    reply: Reply, error: type, status: int) -> None:
    upstream.answer(reply, Reply(201, BOOK))
    catalog = make_catalog(upstream.url, timeout=(0.5, 0.5), retries=2, backoff=0.01)
    with pytest.raises(error) as caught:
        catalog.addBook({"title": "x", "authors": [{"name": "y"}]}, shelf_id="s")
    assert caught.value.status == status
    assert len(upstream.received) == 1


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_connection_refused_is_retried_with_backoff_then_502(
        make_catalog: Callable[..., ApiClient], method: str) -> None:
    sessions: List[CountingSession] = []

    def factory() -> CountingSession:
        sessions.append(CountingSession())
        return sessions[-1]
    catalog = make_catalog(f"http://127.0.0.1:{closed_port()}", timeout=(0.2, 0.2), retries=2,
                           backoff=0.05, session_factory=factory)
    started = time.monotonic()
    with pytest.raises(UpstreamUnreachable) as caught:
        if method == "GET":
            catalog.listBooks(shelf_id="s")
        else:  # nothing reached the server: safe to retry a POST too
            catalog.addBook({"title": "x", "authors": [{"name": "y"}]}, shelf_id="s")
    elapsed = time.monotonic() - started
    assert (caught.value.status, caught.value.code) == (502, "UPSTREAM_UNREACHABLE")
    assert "3 attempts" in caught.value.description
    [session] = sessions
    attempts = session.attempts
    assert len(attempts) == 3
    assert attempts[1] - attempts[0] >= 0.05 and attempts[2] - attempts[1] >= 0.1  # doubling
    assert elapsed < 3 * 0.4 + 0.15 + 0.5  # attempts x (connect + read) + backoff + margin


def test_read_timeout_is_a_504_within_attempts_times_timeout(
        make_catalog: Callable[..., ApiClient], upstream: Upstream) -> None:
    upstream.answer(Reply(200, BOOK_LIST, delay=5))
    catalog = make_catalog(upstream.url, timeout=(0.2, 0.2), retries=2, backoff=0.01)
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout) as caught:
        catalog.listBooks(shelf_id="s")
    elapsed = time.monotonic() - started
    assert (caught.value.status, caught.value.code) == (504, "UPSTREAM_TIMEOUT")
    assert len(upstream.received) == 3
    assert 0.6 <= elapsed < 3 * 0.2 + 0.03 + 0.5
    assert catalog.transport.policy.worst_case() == pytest.approx(3 * 0.4 + 0.03)


def test_post_read_timeout_is_not_retried(make_catalog: Callable[..., ApiClient],
                                          upstream: Upstream) -> None:
    upstream.answer(Reply(201, BOOK, delay=5))
    catalog = make_catalog(upstream.url, timeout=(0.2, 0.2), retries=2, backoff=0.01)
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout):
        catalog.addBook({"title": "x", "authors": [{"name": "y"}]}, shelf_id="s")
    assert time.monotonic() - started < 0.2 + 0.4
    assert len(upstream.received) == 1


def test_a_trickling_response_is_cut_at_the_read_timeout(
        make_catalog: Callable[..., ApiClient], upstream: Upstream) -> None:
    # Each byte comes well within the read timeout; the whole body would take ~3 s.
    upstream.answer(Reply(200, BOOK_LIST, trickle=0.02))
    catalog = make_catalog(upstream.url, timeout=(0.2, 0.2), retries=0)
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout):
        catalog.listBooks(shelf_id="s")
    assert time.monotonic() - started < 0.4 + 0.3


def test_total_timeout_caps_the_whole_call(make_catalog: Callable[..., ApiClient],
                                           upstream: Upstream) -> None:
    upstream.answer(Reply(200, BOOK_LIST, delay=5))
    catalog = make_catalog(upstream.url, timeout=(0.2, 0.2), retries=5, backoff=0.01,
                           total_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout):
        catalog.listBooks(shelf_id="s")
    assert time.monotonic() - started < 0.5 + 0.3
    assert len(upstream.received) <= 3


# -- loading ------------------------------------------------------------------------------------
def test_base_url_defaults_to_the_specs_own_server(compiled: Dict[str, Any]) -> None:
    loaded = load_clients(compiled, {})
    assert loaded.catalog.base_url == "https://catalog.example.com"
    assert list(loaded) == ["catalog"]


def test_a_spec_named_in_the_config_is_a_client_without_marker(
        compiled: Dict[str, Any], upstream: Upstream) -> None:
    unmarked = copy.deepcopy(compiled)
    del unmarked["apis"][0]["bind_client"]
    assert list(load_clients(unmarked, {})) == []
    loaded = load_clients(unmarked, {"catalog_api": upstream.url})
    upstream.answer(Reply(204))
    try:
        assert loaded.catalog_api.delete_book(book_id=2) is None
    finally:
        loaded.close()


@pytest.mark.parametrize("change, base_urls, message", [
    (None, {"catalog": "ftp://x"}, "clients.catalog: the base URL 'ftp://x' is not an http(s) URL"),
    (None, {"nope": "http://x"}, "clients.nope: no spec named 'nope' (specs: catalog_api)"),
    ({"decorate_request": "tests.nope.sign"}, {},
     "operation addBook: x-decorate-request 'tests.nope.sign' cannot be imported"),
    ({"decorate_request": "sign"}, {}, "is not a dotted path"),
])
def test_load_problems_are_reported_at_start_up(compiled: Dict[str, Any],
                                                change: Optional[Dict[str, Any]],
                                                base_urls: Dict[str, str], message: str) -> None:
    broken = copy.deepcopy(compiled)
    if change:
        [add_book] = [op for op in broken["apis"][0]["operations"] if op["id"] == "addBook"]
        add_book.update(change)
    with pytest.raises(SpecErrors) as caught:
        load_clients(broken, base_urls)
    assert message in str(caught.value)


def test_install_clients_fills_the_module_registry(compiled: Dict[str, Any],
                                                   upstream: Upstream) -> None:
    from pym_lambda.clients import clients as imported

    assert imported is clients
    try:
        install_clients(compiled, {"catalog": upstream.url}, timeout=0.5, retries=0)
        upstream.answer(Reply(204))
        assert "catalog" in clients and isinstance(clients.catalog, ApiClient)
        assert clients.catalog.delete_book(book_id=5) is None
        with pytest.raises(AttributeError, match="no client 'billing' \\(loaded: catalog\\)"):
            clients.billing  # noqa: B018
    finally:
        clients.clear()
    assert len(clients) == 0


def test_form_bodies_are_url_encoded() -> None:
    encoder = BodyEncoder({"required": True, "form_fields": [],
                           "content": {"application/x-www-form-urlencoded": {}}}, {})
    assert encoder.encode({"a": True, "b": [1, 2], "c": None, "d": "x y"}) == \
        ("application/x-www-form-urlencoded", b"a=true&b=1&b=2&d=x+y")


def test_loading_clients_does_not_import_requests(compiled_oas30: Dict[str, Any],
                                                  tmp_path: Path) -> None:
    plain = copy.deepcopy(compiled_oas30)
    for op in plain["apis"][0]["operations"]:
        op.pop("decorate_request", None)  # it would import this test module (and pytest)
    dump = tmp_path / "compiled.json"
    dump.write_text(json.dumps(plain))
    code = ("import json, sys; from pym_lambda.clients import load_clients; "
            f"c = load_clients(json.loads(open({str(dump)!r}).read()), {{}}); "
            "print('requests' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["False"]
