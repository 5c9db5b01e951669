"""The example service calls the reviews service (apis/reviews.yaml, x-bind-client) through its
typed client: served here by a stub on 127.0.0.1."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pym_lambda.clients import install_clients
from pym_lambda.runtime.app import load_compiled
from tests.conftest import ROOT
from tests.runtime.test_requests import assert_error

SEEN = []


class ReviewsStub(BaseHTTPRequestHandler):
    answer = (200, {"reviews": [
        {"stars": 5, "author": "ann", "posted_at": "2024-01-02T03:04:05Z"},
        {"stars": 2, "author": "bob"}]})

    def do_GET(self):  # noqa: N802
        SEEN.append((self.path, self.headers.get("PymCallID")))
        status, body = self.answer
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def reviews_stub():
    server = ThreadingHTTPServer(("127.0.0.1", 0), ReviewsStub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    compiled = load_compiled(ROOT)
    install_clients(compiled, {"reviews": f"http://127.0.0.1:{server.server_port}"},
                    timeout=2, retries=0)
    SEEN.clear()
    try:
        yield ReviewsStub
    finally:
        server.shutdown()
        server.server_close()
        ReviewsStub.answer = (200, {"reviews": []})


def test_book_reviews_through_the_typed_client(library, reviews_stub):
    reviews_stub.answer = (200, {"reviews": [
        {"stars": 5, "author": "ann", "posted_at": "2024-01-02T03:04:05Z"},
        {"stars": 2, "author": "bob"}]})
    library.post("/v1/books", {"title": "Dune", "authors": [{"name": "F"}]})
    reply = library.get("/v1/books/1/reviews", headers={"PymCallID": "call-7"})
    assert reply.status == 200, reply
    assert reply.json["count"] == 2 and reply.json["average_stars"] == 3.5
    assert reply.json["latest"][0]["posted_at"] in ("2024-01-02T03:04:05+00:00",
                                                    "2024-01-02T03:04:05Z")
    assert SEEN == [("/v1/reviews?book=1&limit=20", "call-7")]  # call id followed the call


def test_a_remote_error_keeps_its_status_and_code(library, reviews_stub):
    reviews_stub.answer = (404, {"status": 404, "error": "NO_SUCH_BOOK",
                                 "error_description": "unknown book", "error_id": "r-1"})
    library.post("/v1/books", {"title": "Dune", "authors": [{"name": "F"}]})
    assert_error(library.get("/v1/books/1/reviews"), 404, "NO_SUCH_BOOK")


def test_a_remote_answering_garbage_is_a_502(library, reviews_stub):
    reviews_stub.answer = (200, {"reviews": [{"stars": 9, "author": "x"}]})
    library.post("/v1/books", {"title": "Dune", "authors": [{"name": "F"}]})
    assert_error(library.get("/v1/books/1/reviews"), 502, "UPSTREAM_BAD_RESPONSE")


def test_a_remote_down_is_a_502(library):
    install_clients(load_compiled(ROOT), {"reviews": "http://127.0.0.1:9"}, timeout=1,
                    retries=1, backoff=0.01)
    library.post("/v1/books", {"title": "Dune", "authors": [{"name": "F"}]})
    assert_error(library.get("/v1/books/1/reviews"), 502, "UPSTREAM_UNREACHABLE")
