"""encoded_path: the path leaves as the encoder wrote it, whatever requests would decode."""
from __future__ import annotations

from typing import Any, Dict, List

import requests

from pym_lambda.clients.encoded_path import send_encoded
from pym_lambda.clients.encoding import quote_path_part


class Recording(requests.Session):
    """A Session that records what it would send instead of sending it."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: List[Any] = []
        self.options: List[Dict[str, Any]] = []

    def send(self, request: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self.sent.append(request)
        self.options.append(kwargs)
        return "answer"


def test_quote_path_part_encodes_dots_and_every_reserved_character() -> None:
    assert quote_path_part("../a/b?c#d e.json") == "%2E%2E%2Fa%2Fb%3Fc%23d%20e%2Ejson"


def test_requests_alone_would_decode_the_dots() -> None:
    prepared = requests.Session().prepare_request(
        requests.Request("GET", "http://h.example/v1/%2E%2E/x"))
    assert prepared.url == "http://h.example/v1/../x"  # why encoded_path exists


def test_send_encoded_keeps_the_path_and_passes_the_rest() -> None:
    session = Recording()
    assert send_encoded(session, "POST", "http://h.example/v1/%2E%2E/x",
                        params=[("q", "a b")], data=b"{}", headers={"X-A": "1"},
                        timeout=(1, 2), stream=True, allow_redirects=False) == "answer"
    [request], [options] = session.sent, session.options
    assert request.url == "http://h.example/v1/%2E%2E/x?q=a+b"
    assert (request.method, request.body, request.headers["X-A"]) == ("POST", b"{}", "1")
    assert options["timeout"] == (1, 2) and options["stream"] is True
    assert options["allow_redirects"] is False


def test_a_path_requests_changes_otherwise_is_left_to_requests() -> None:
    session = Recording()
    send_encoded(session, "GET", "http://h.example/a b")  # requests quotes the space
    assert session.sent[0].url == "http://h.example/a%20b"
