"""pym_lambda.wsgi: WSGI requests served as API Gateway events, in process and under gunicorn.

In-process calls go through wsgiref.validate, so every response is also checked against PEP 3333.
"""
from __future__ import annotations

import http.client
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

import pytest
from chalice.app import Chalice, Response

from pym_lambda import wsgi
from pym_lambda.wsgi import ChaliceWsgiApp, RouteMatcher, make_wsgi_app, path_segments
from tests.gunicorn_server import running_gunicorn

ROOT = Path(__file__).resolve().parents[2]
GUNICORN_CONF = ROOT / "infra" / "beanstalk" / "gunicorn.conf.py"


# --- helpers ---------------------------------------------------------------------------------

@dataclass
class WsgiReply:
    status: int
    reason: str
    headers: List[Tuple[str, str]]
    body: bytes

    def header_values(self, name: str) -> List[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def header(self, name: str) -> Optional[str]:
        values = self.header_values(name)
        return values[-1] if values else None

    @property
    def json(self) -> Any:
        return json.loads(self.body)


def environ_for(method: str, path: str, *, query: str = "", body: bytes = b"",
                headers: Optional[Dict[str, str]] = None, raw_uri: Optional[str] = None,
                chunked: bool = False) -> Dict[str, Any]:
    environ: Dict[str, Any] = {
        "REQUEST_METHOD": method,
        # PEP 3333: PATH_INFO is decoded, its bytes carried as latin-1 characters.
        "PATH_INFO": path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": query,
        "SCRIPT_NAME": "",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(body),
    }
    if chunked:
        environ["wsgi.input_terminated"] = True
    elif body:
        environ["CONTENT_LENGTH"] = str(len(body))
    if raw_uri is not None:
        environ["RAW_URI"] = raw_uri  # what gunicorn adds: the request target as sent
    for name, value in (headers or {}).items():
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    setup_testing_defaults(environ)
    return environ


def call_environ(app: Callable[..., Any], environ: Dict[str, Any],
                 validate: bool = True) -> WsgiReply:
    captured: Dict[str, Any] = {}

    def start_response(status: str, headers: List[Tuple[str, str]], exc_info: Any = None) -> Any:
        captured.update(status=status, headers=headers)
        return lambda data: None

    result = (validator(app) if validate else app)(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        getattr(result, "close", lambda: None)()
    code, reason = captured["status"].split(" ", 1)
    return WsgiReply(int(code), reason, captured["headers"], body)


def call(app: Callable[..., Any], method: str, path: str, **kw: Any) -> WsgiReply:
    return call_environ(app, environ_for(method, path, **kw))


def post_json(app: Callable[..., Any], path: str, document: Any, **kw: Any) -> WsgiReply:
    headers = {"Content-Type": "application/json", **kw.pop("headers", {})}
    return call(app, "POST", path, body=json.dumps(document).encode(), headers=headers, **kw)


def assert_error(reply: WsgiReply, status: int, code: str, *fragments: str) -> None:
    assert reply.status == status, reply
    assert reply.header("Content-Type") == "application/json"
    body = reply.json
    assert set(body) >= {"status", "error", "error_description", "error_id"}, body
    assert (body["status"], body["error"]) == (status, code), body
    assert len(body["error_id"]) == 36
    for fragment in fragments:
        assert fragment in body["error_description"], body


def make_toy_app(barrier: Optional[threading.Barrier] = None) -> Chalice:
    """A plain Chalice app (no pym-lambda routes, so no catch-all) for what the example
    service's spec has no use for: binary bodies, cookies, greedy paths."""
    app = Chalice(app_name="toy")

    def current() -> Any:  # Chalice types it Optional; inside a view it is always there
        return app.current_request

    @app.route("/echo/{item_id}", methods=["GET", "POST"], content_types=["*/*"])
    def echo(item_id: str) -> Dict[str, Any]:
        request = current()
        query = request.query_params
        return {"item_id": item_id, "uri_params": request.uri_params,
                "query": {name: query.getlist(name) for name in query or ()},
                "headers": dict(request.headers), "route": request.path,
                "context": request.context, "body": request.raw_body.decode() or None}

    @app.route("/items/special")
    def special() -> Dict[str, Any]:
        return {"route": "special"}

    @app.route("/items/{item_id}")
    def item(item_id: str) -> Dict[str, Any]:
        return {"route": "item", "item_id": item_id}

    @app.route("/files/{path+}")
    def files() -> Dict[str, Any]:
        return {"path": current().uri_params["path"]}

    @app.route("/blob", methods=["POST"], content_types=["application/octet-stream"])
    def blob() -> Response:
        return Response(body=current().raw_body[::-1],
                        headers={"Content-Type": "application/octet-stream"})

    @app.route("/cookies")
    def cookies() -> Response:
        return Response(body="", status_code=204, headers={
            "Set-Cookie": ["session=abc; Path=/; HttpOnly", "theme=dark; Path=/"],
            "X-Single": "yes", "Connection": "close"})

    @app.route("/untyped")
    def untyped() -> Response:
        return Response(body="[1,2]")

    @app.route("/barrier")
    def wait_for_each_other() -> Dict[str, Any]:
        # Both threads are inside a view at once: a shared current_request is overwritten.
        assert barrier is not None
        seen_first = current().query_params["tag"]
        barrier.wait()
        return {"first": seen_first, "after": current().query_params["tag"]}

    return app


@pytest.fixture
def toy() -> ChaliceWsgiApp:
    return make_wsgi_app(make_toy_app())


@pytest.fixture
def library() -> Iterator[ChaliceWsgiApp]:
    """The example service (app.py) behind the adapter; its class restored after. Its store
    is shared with other tests (and chalicelib may have been re-imported since app.py was), so
    each test makes its own books and tags rather than expect an empty library."""
    import app as example

    original = example.app.__class__
    with example.app.pym_service.use():  # generate_token() outside requests: the example's
        yield make_wsgi_app(example.app)
    example.app.__class__ = original


# --- the example service -----------------------------------------------------------------------

DUNE = {"title": "Dune", "authors": [{"name": "Frank Herbert"}]}


def unique_tag() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


def add_book(app: ChaliceWsgiApp, **fields: Any) -> Dict[str, Any]:
    reply = post_json(app, "/v1/books", {**DUNE, **fields})
    assert reply.status == 201, reply
    return dict(reply.json)


def test_get_with_path_and_query_parameters(library: ChaliceWsgiApp) -> None:
    tag = unique_tag()
    add_book(library, tags=[tag, "classic"])
    emma = add_book(library, title="Emma", tags=[tag])
    reply = call(library, "GET", "/v1/books", query=f"tags={tag},classic&available=true&limit=5")
    assert reply.status == 200, reply
    assert [b["title"] for b in reply.json["books"]] == ["Dune"]
    reply = call(library, "GET", f"/v1/books/{emma['id']}")
    assert (reply.status, reply.json["title"]) == (200, "Emma")
    assert_error(call(library, "GET", "/v1/books", query="limit=500"), 400,
                 "INVALID_PARAMETER", "query parameter 'limit'")


def test_post_json_body(library: ChaliceWsgiApp) -> None:
    reply = post_json(library, "/v1/books", {**DUNE, "tags": ["sf"]})
    assert (reply.status, reply.reason) == (201, "Created")
    assert reply.json == {**DUNE, "tags": ["sf"], "id": reply.json["id"], "available": True}
    assert_error(call(library, "POST", "/v1/books", body=b"{oops",
                      headers={"Content-Type": "application/json"}),
                 400, "INVALID_PARAMETER", "not valid JSON")


def test_body_that_is_not_utf8_reaches_the_app_unchanged(library: ChaliceWsgiApp) -> None:
    reply = call(library, "POST", "/v1/books", body=b'{"title": "\xff"}',
                 headers={"Content-Type": "application/json"})
    assert_error(reply, 400, "INVALID_PARAMETER", "UTF-8")


def test_unknown_path_is_the_frameworks_404(library: ChaliceWsgiApp) -> None:
    for path in ("/no/such/path", "/v1", "/v1/books/1/loans/x/y"):
        assert_error(call(library, "GET", path), 404, "UNKNOWN_PATH",
                     f"no operation serves GET {path}")


def test_undeclared_method_is_405_with_allow(library: ChaliceWsgiApp) -> None:
    reply = call(library, "PUT", "/v1/books")
    assert_error(reply, 405, "METHOD_NOT_ALLOWED", "allowed: GET, HEAD, POST")
    assert reply.header("Allow") == "GET, HEAD, POST"


def test_request_headers_reach_the_framework(library: ChaliceWsgiApp) -> None:
    # (X-Library-Branch is echoed by the loan operation only, which needs a JWT and sends a
    # task: both process-wide settings other tests change; the toy app echoes every header.)
    reply = call(library, "GET", "/ping", headers={"PymCallID": "call-42"})
    assert (reply.status, reply.header("PymCallID")) == (200, "call-42")
    reply = call(library, "POST", "/v1/books", body=b"hi", headers={"Content-Type": "text/plain"})
    assert_error(reply, 415, "UNSUPPORTED_MEDIA_TYPE", "'text/plain'")


def test_encoded_path_parameter_and_trailing_slash(library: ChaliceWsgiApp) -> None:
    tag = unique_tag()
    book = add_book(library, tags=[tag])
    encoded = "".join(f"%{ord(digit):02X}" for digit in str(book["id"]))  # 12 -> %31%32
    reply = call(library, "GET", f"/v1/books/{book['id']}", raw_uri=f"/v1/books/{encoded}")
    assert reply.json["id"] == book["id"], reply
    assert call(library, "GET", "/v1/books/", query=f"tags={tag}").json["count"] == 1


def test_head_is_get_without_body(library: ChaliceWsgiApp) -> None:
    book = add_book(library)
    reply = call(library, "HEAD", f"/v1/books/{book['id']}")
    assert (reply.status, reply.body) == (200, b"")


# --- a plain Chalice app -------------------------------------------------------------------------

def test_event_seen_by_the_view(toy: ChaliceWsgiApp) -> None:
    reply = call(toy, "POST", "/echo/42", query="tag=a&tag=b&empty=", body=b'{"x": 1}',
                 headers={"Content-Type": "application/json", "X-Trace": "t1",
                          "User-Agent": "tester"})
    assert reply.status == 200, reply
    seen = reply.json
    assert seen["item_id"] == "42"
    assert seen["query"] == {"tag": ["a", "b"], "empty": [""]}
    assert seen["headers"]["x-trace"] == "t1"
    assert seen["headers"]["content-type"] == "application/json"
    assert seen["route"] == "/echo/{item_id}"
    assert seen["body"] == '{"x": 1}'
    context = seen["context"]
    assert context["resourcePath"] == "/echo/{item_id}"
    assert (context["httpMethod"], context["path"], context["stage"]) == (
        "POST", "/echo/42", "api")
    assert context["identity"] == {"sourceIp": "127.0.0.1", "userAgent": "tester"}
    assert uuid.UUID(context["requestId"])


def test_event_shape(toy: ChaliceWsgiApp) -> None:
    environ = environ_for("GET", "/echo/caf\u00e9", query="a=1&a=2&b=%20x",
                          raw_uri="/echo/caf%C3%A9?a=1&a=2&b=%20x",
                          headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.7"})
    environ["REMOTE_ADDR"] = "10.0.0.2"
    raw_path, segments = wsgi.request_path(environ)
    match = toy.matcher.match(segments)
    assert match is not None
    event = toy.build_event(environ, "GET", raw_path, match, b"", "rid-1")
    assert event["resource"] == event["requestContext"]["resourcePath"] == "/echo/{item_id}"
    assert event["path"] == event["requestContext"]["path"] == "/echo/caf%C3%A9"
    assert event["pathParameters"] == {"item_id": "caf\u00e9"}
    assert event["queryStringParameters"] == {"a": "2", "b": " x"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": [" x"]}
    assert event["headers"]["x-forwarded-for"] == "6.6.6.6, 203.0.113.7"
    assert event["multiValueHeaders"]["x-forwarded-for"] == ["6.6.6.6, 203.0.113.7"]
    assert (event["body"], event["isBase64Encoded"], event["stageVariables"]) == (
        None, False, None)
    assert event["requestContext"]["requestId"] == "rid-1"
    assert event["requestContext"]["identity"]["sourceIp"] == "10.0.0.2"
    behind_one_proxy = make_wsgi_app(make_toy_app(), trusted_proxy_hops=1)
    event = behind_one_proxy.build_event(environ, "GET", raw_path, match, b"", "rid-2")
    assert event["requestContext"]["identity"]["sourceIp"] == "203.0.113.7"
    assert call(toy, "GET", "/items/special").json == {"route": "special"}
    no_query = toy.build_event(environ_for("GET", "/items/1"), "GET", "/items/1",
                               wsgi.RouteMatch("/items/{item_id}", {"item_id": "1"}), b"", "r")
    assert no_query["queryStringParameters"] is None
    assert no_query["multiValueQueryStringParameters"] is None


def test_binary_body_round_trip(toy: ChaliceWsgiApp) -> None:
    payload = bytes(range(256)) * 4
    reply = call(toy, "POST", "/blob", body=payload,
                 headers={"Content-Type": "application/octet-stream",
                          "Accept": "application/octet-stream"})
    assert reply.status == 200, reply
    assert reply.header("Content-Type") == "application/octet-stream"
    assert reply.body == payload[::-1]
    assert reply.header("Content-Length") == str(len(payload))


def test_multi_value_response_headers(toy: ChaliceWsgiApp) -> None:
    reply = call(toy, "GET", "/cookies")
    assert (reply.status, reply.reason, reply.body) == (204, "No Content", b"")
    assert reply.header_values("Set-Cookie") == ["session=abc; Path=/; HttpOnly",
                                                 "theme=dark; Path=/"]
    assert reply.header("X-Single") == "yes"
    assert reply.header("Connection") is None  # hop-by-hop: the server's business (PEP 3333)


def test_missing_content_type_defaults_to_json_as_on_api_gateway(toy: ChaliceWsgiApp) -> None:
    reply = call(toy, "GET", "/untyped")
    assert (reply.header("Content-Type"), reply.body) == ("application/json", b"[1,2]")


def test_url_encoded_path_parameters_are_decoded(toy: ChaliceWsgiApp) -> None:
    decoded = {"route": "item", "item_id": "caf\u00e9 au lait"}
    assert call(toy, "GET", "/items/caf\u00e9 au lait").json == decoded  # PATH_INFO only
    assert call(toy, "GET", "/items/x", raw_uri="/items/caf%C3%A9%20au%20lait").json == decoded
    # With the raw request target, %2F stays inside one segment, as on API Gateway.
    reply = call(toy, "GET", "/items/a/b", raw_uri="/items/a%2Fb?q=1")
    assert reply.json == {"route": "item", "item_id": "a/b"}


def test_greedy_proxy_takes_every_remaining_segment(toy: ChaliceWsgiApp) -> None:
    assert call(toy, "GET", "/files/a/b/c.txt").json == {"path": "a/b/c.txt"}
    assert call(toy, "GET", "/files/one").json == {"path": "one"}
    assert_error(call(toy, "GET", "/files"), 404, "UNKNOWN_PATH")  # one segment at least


def test_without_catch_all_route_unknown_paths_and_methods_get_json(toy: ChaliceWsgiApp) -> None:
    assert_error(call(toy, "GET", "/nowhere"), 404, "UNKNOWN_PATH",
                 "no operation serves GET /nowhere")
    reply = call(toy, "DELETE", "/items/special")
    assert_error(reply, 405, "METHOD_NOT_ALLOWED", "method DELETE is not allowed")
    assert reply.header("Allow") == "GET"


def test_body_over_the_limit_is_413_before_it_is_read() -> None:
    app = make_wsgi_app(make_toy_app(), max_body_bytes=16)
    environ = environ_for("POST", "/echo/1", body=b"x" * 17)
    stream = environ["wsgi.input"]
    assert_error(call_environ(app, environ), 413, "PAYLOAD_TOO_LARGE", "16 bytes")
    assert stream.tell() == 0
    chunked = environ_for("POST", "/echo/1", body=b"x" * 1000, chunked=True)
    stream = chunked["wsgi.input"]
    assert_error(call_environ(app, chunked), 413, "PAYLOAD_TOO_LARGE")
    assert stream.tell() == 17  # one byte past the limit, not the whole body
    assert call(app, "POST", "/echo/1", body=b"x" * 16).json["body"] == "x" * 16
    bad_length = environ_for("POST", "/echo/1", headers={"Content-Length": "lots"})
    # (wsgiref.validate refuses such an environ itself: a server may pass it on)
    assert_error(call_environ(app, bad_length, validate=False), 400, "INVALID_PARAMETER",
                 "Content-Length")


def test_body_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert make_wsgi_app(make_toy_app()).max_body_bytes == 6 * 1024 * 1024
    monkeypatch.setenv("PYM_MAX_BODY_BYTES", "1024")
    assert make_wsgi_app(make_toy_app()).max_body_bytes == 1024
    monkeypatch.setenv("PYM_MAX_BODY_BYTES", "6MB")
    with pytest.raises(ValueError, match="PYM_MAX_BODY_BYTES"):
        make_wsgi_app(make_toy_app())


def test_route_matcher_follows_api_gateway_precedence() -> None:
    matcher = RouteMatcher(["/", "/a/b", "/a/{x}", "/a/{x}/c", "/a/b/d", "/{proxy+}",
                            "/f/{rest+}"])

    def match(path: str) -> Optional[Tuple[str, Dict[str, str]]]:
        found = matcher.match(path_segments(path))
        return (found.template, found.path_params) if found else None

    assert match("/") == ("/", {})
    assert match("/a/b") == ("/a/b", {})  # static before {param}
    assert match("/a/z") == ("/a/{x}", {"x": "z"})
    assert match("/a/b/c") == ("/a/{x}/c", {"x": "b"})  # static branch failed: back off
    assert match("/a/b/d/") == ("/a/b/d", {})
    assert match("/a/b/e") == ("/{proxy+}", {"proxy": "a/b/e"})
    assert match("/f/1/2") == ("/f/{rest+}", {"rest": "1/2"})
    assert match("/a//c") == ("/{proxy+}", {"proxy": "a//c"})  # no empty {param}
    assert RouteMatcher(["/a"]).match(path_segments("/b")) is None
    with pytest.raises(ValueError, match="last part"):
        RouteMatcher(["/{p+}/x"])


def test_lazy_application_imports_the_configured_app(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(wsgi.__dict__, "application", raising=False)
    monkeypatch.setenv("PYM_APP_MODULE", f"{__name__}:LOADED_APP")
    from pym_lambda.wsgi import application

    assert isinstance(application, ChaliceWsgiApp)
    assert application.chalice_app is LOADED_APP
    assert wsgi.application is application  # built once
    assert call(application, "GET", "/hello").json == {"hello": "world"}
    monkeypatch.delitem(wsgi.__dict__, "application")
    monkeypatch.setenv("PYM_APP_MODULE", f"{__name__}:DUNE")
    with pytest.raises(TypeError, match="PYM_APP_MODULE"):
        wsgi.application  # noqa: B018


LOADED_APP = Chalice(app_name="loaded")
LOADED_APP.route("/hello")(lambda: {"hello": "world"})


def test_importing_the_adapter_does_not_import_the_app() -> None:
    code = "import sys, pym_lambda.wsgi; print('app' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, check=True)
    assert out.stdout.strip() == "False"


# --- thread safety -----------------------------------------------------------------------------

def _two_requests_inside_one_view(handle: Callable[[str], Dict[str, Any]]) -> List[Any]:
    results: Dict[str, Any] = {}

    def run(tag: str) -> None:
        results[tag] = handle(tag)

    threads = [threading.Thread(target=run, args=(tag,)) for tag in ("one", "two")]
    for thread in threads:
        thread.start()
        time.sleep(0.05)  # the second request starts while the first waits in the view
    for thread in threads:
        thread.join(10)
    return [results["one"], results["two"]]


def test_current_request_is_per_thread_behind_the_adapter() -> None:
    app = make_wsgi_app(make_toy_app(threading.Barrier(2, timeout=10)))
    replies = _two_requests_inside_one_view(
        lambda tag: call(app, "GET", "/barrier", query=f"tag={tag}").json)
    assert replies == [{"first": "one", "after": "one"}, {"first": "two", "after": "two"}]


def test_control_a_bare_chalice_app_shares_current_request() -> None:
    # The hazard the adapter removes, shown on the same view called as Lambda would call it.
    app = make_toy_app(threading.Barrier(2, timeout=10))
    adapter_for_events = make_wsgi_app(make_toy_app())  # only to build the events

    def handle(tag: str) -> Any:
        environ = environ_for("GET", "/barrier", query=f"tag={tag}")
        match = wsgi.RouteMatch("/barrier", {})
        event = adapter_for_events.build_event(environ, "GET", "/barrier", match, b"", tag)
        return json.loads(app(event, None)["body"])

    first, _second = _two_requests_inside_one_view(handle)
    assert first == {"first": "one", "after": "two"}  # the first request read the second's


# --- a real gunicorn ----------------------------------------------------------------------------

LOAD_REQUESTS = 600
LOAD_THREADS = 16
LOAD_TIME_LIMIT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_request(port: int, method: str, path: str, body: Optional[bytes] = None,
                 headers: Optional[Dict[str, str]] = None) -> Tuple[int, Dict[str, str], bytes]:
    """One request on a new connection (closed after), as a fresh client would send it."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body,
                           headers={"Connection": "close", **(headers or {})})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


@dataclass
class LoadResult:
    errors: List[str] = field(default_factory=list)
    cross_talk: List[str] = field(default_factory=list)


def one_load_request(port: int, index: int, result: LoadResult, lock: threading.Lock) -> None:
    """A request carrying data of its own, in the path, the query, a header or the body; the
    reply must echo that data and nobody else's."""
    token = uuid.uuid4().hex[:12]
    call_id = f"load-{index}-{token}"
    headers = {"PymCallID": call_id}
    kind = index % 4
    if kind == 0:
        book = {"title": f"title-{token}", "authors": [{"name": f"author-{token}"}],
                "tags": [f"t-{token}"]}
        expected_status, expected = 201, f"title-{token}"
        status, got_headers, body = http_request(
            port, "POST", "/v1/books", json.dumps(book).encode(),
            {**headers, "Content-Type": "application/json"})
    elif kind == 1:
        book_id = 10_000_000 + index
        expected_status, expected = 404, f"there is no book {book_id}"
        status, got_headers, body = http_request(port, "GET", f"/v1/books/{book_id}",
                                                 headers=headers)
    elif kind == 2:
        expected_status, expected = 400, f"'x{token}' is not an integer"
        status, got_headers, body = http_request(port, "GET", f"/v1/books?limit=x{token}",
                                                 headers=headers)
    else:
        expected_status, expected = 404, f"no operation serves GET /v1/nowhere/{token}"
        status, got_headers, body = http_request(port, "GET", f"/v1/nowhere/{token}",
                                                 headers=headers)
    text = body.decode("utf-8", "replace")
    with lock:
        if status != expected_status:
            result.errors.append(f"#{index}: {status} {text[:200]}")
        if expected not in text or got_headers.get("pymcallid") != call_id:
            result.cross_talk.append(f"#{index}: sent {call_id}/{expected!r}, got "
                                     f"{got_headers.get('pymcallid')} {text[:200]}")


# The example service, with a 2 ms pause (as an I/O-bound middleware would make) between Chalice
# storing the request on the app and the view reading it back: without a thread-local
# current_request, most concurrent requests then read another one's (the control below).
LOAD_APP_MODULE = '''
import os
import time

import app as example
from pym_lambda import wsgi

if os.environ.get("PYM_TEST_SHARED_REQUEST") == "1":
    wsgi.make_thread_safe = lambda chalice_app: chalice_app


@example.app.middleware("http")
def pause(event, get_response):
    time.sleep(0.002)
    return get_response(event)


app = example.app
'''


@pytest.fixture
def gunicorn_server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Tuple[int, Path]]:
    """gunicorn (gthread, 2 workers x 8 threads) serving `pym_lambda.wsgi:application` on
    127.0.0.1; the parameter says whether to disable the thread-local request (the control)."""
    pytest.importorskip("gunicorn", reason="gunicorn is not installed (pip install gunicorn)")
    (tmp_path / "pym_load_app.py").write_text(LOAD_APP_MODULE)
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    env = {**os.environ, "PYM_APP_MODULE": "pym_load_app",
           "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
           "PYM_TEST_SHARED_REQUEST": "1" if request.param == "shared" else "0"}
    options = ["--config", str(GUNICORN_CONF), "--worker-class", "gthread", "--threads", "8",
               "--workers", "2"]
    with running_gunicorn(options, port, env, log_path,
                          lambda p: http_request(p, "GET", "/ping")[0]):
        yield port, log_path


def run_load(port: int) -> Tuple[LoadResult, str]:
    """LOAD_REQUESTS requests from LOAD_THREADS client threads, within LOAD_TIME_LIMIT."""
    result = LoadResult()
    lock = threading.Lock()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=LOAD_THREADS) as pool:
        futures = [pool.submit(one_load_request, port, i, result, lock)
                   for i in range(LOAD_REQUESTS)]
        done, not_done = wait_futures(futures, timeout=LOAD_TIME_LIMIT)
        for future in not_done:
            future.cancel()
    elapsed = time.perf_counter() - started
    result.errors += [repr(f.exception()) for f in done if f.exception() is not None]
    result.errors += [f"unfinished after {LOAD_TIME_LIMIT:g} s"] * len(not_done)
    summary = (f"{LOAD_REQUESTS} requests, {len(result.errors)} errors, "
               f"{len(result.cross_talk)} cross-talk, {elapsed:.2f} s, "
               f"{LOAD_REQUESTS / elapsed:.0f} req/s")
    return result, summary


def json_log_lines(log_path: Path, at_least: int, wait_s: float = 5.0) -> List[dict]:
    """The JSON lines of a server's log, waiting (bounded) for `at_least` of them: the log
    line of a request is written after its response was sent, so the last ones may lag."""
    deadline = time.monotonic() + wait_s
    while True:
        lines = [json.loads(line) for line in log_path.read_text().splitlines()
                 if line.startswith("{")]
        if len(lines) >= at_least or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


@pytest.mark.parametrize("gunicorn_server", ["thread_local"], indirect=True)
def test_concurrent_requests_under_gunicorn_gthread(gunicorn_server: Tuple[int, Path]) -> None:
    port, log_path = gunicorn_server
    result, summary = run_load(port)
    print(f"\ngunicorn gthread, thread-local request: {summary}")
    assert not result.errors, f"{summary}\n{result.errors[:5]}"
    assert not result.cross_talk, f"{summary}\n{result.cross_talk[:5]}"
    access = json_log_lines(log_path, at_least=LOAD_REQUESTS)
    assert len(access) >= LOAD_REQUESTS, "one JSON access log line per request"
    assert {"method", "path", "status", "duration_ms", "call_id"} <= set(access[-1])


@pytest.mark.parametrize("gunicorn_server", ["shared"], indirect=True)
def test_control_the_load_test_sees_cross_talk_without_it(
        gunicorn_server: Tuple[int, Path]) -> None:
    port, _ = gunicorn_server
    result, summary = run_load(port)
    print(f"\ngunicorn gthread, shared request (control): {summary}")
    assert len(result.cross_talk) > LOAD_REQUESTS // 10, summary
