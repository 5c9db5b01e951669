"""The requests every peer serves, and the ways of sending them in process.

One request is described once (method, path, resource, path and query parameters, headers,
body) and turned into what each kind of peer takes:
- an API Gateway REST proxy event, for `app(event, context)` (Chalice, Powertools);
- an ASGI scope + body, for connexion (driven on one asyncio loop, no HTTP client);
- a WSGI test-client call, for Flask apps (PyMacaron).
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import urlencode

STAGE = "api"


class Req:
    def __init__(self, name: str, method: str, path: str, resource: str,
                 path_params: Optional[Dict[str, str]] = None,
                 query: Optional[List[Tuple[str, str]]] = None,
                 headers: Optional[Dict[str, str]] = None, body: Any = None,
                 expect: int = 200) -> None:
        self.name, self.method, self.path, self.resource = name, method, path, resource
        self.path_params = path_params
        self.query = query or []
        self.headers = {"Accept": "application/json", "Host": "bench.example.com",
                        "User-Agent": "pym-bench", **(headers or {})}
        self.body = None if body is None else json.dumps(body, separators=(",", ":"))
        if self.body is not None:
            self.headers.setdefault("Content-Type", "application/json")
        self.expect = expect

    @property
    def query_string(self) -> str:
        return urlencode(self.query)

    def event(self) -> Dict[str, Any]:
        """API Gateway REST API (v1) Lambda proxy event."""
        from pym_lambda.aws_events import rest_proxy_event  # only the Lambda peers' venv has it

        query: Dict[str, List[str]] = {}
        for key, value in self.query:
            query.setdefault(key, []).append(value)
        return rest_proxy_event(
            self.method, self.path, resource=self.resource,
            headers={k: [v] for k, v in self.headers.items()}, query=query,
            path_parameters=self.path_params, body=self.body, stage=STAGE,
            request_id="c6af9ac6-7b61-11e6-9a41-93e8deadbeef")

    def asgi(self) -> Tuple[Dict[str, Any], bytes]:
        body = (self.body or "").encode()
        headers = [(k.lower().encode(), v.encode()) for k, v in self.headers.items()]
        if body:
            headers.append((b"content-length", str(len(body)).encode()))
        scope = {
            "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1", "method": self.method, "scheme": "http",
            "path": self.path, "raw_path": self.path.encode(), "root_path": "",
            "query_string": self.query_string.encode(), "headers": headers,
            "client": ("127.0.0.1", 50000), "server": ("bench.example.com", 80),
            "state": {},
        }
        return scope, body


def seed_books() -> List[Dict[str, Any]]:
    """Ten books, alternately tagged 'sf' (so that ?tags=sf finds five) and 'history'."""
    out = []
    for i in range(10):
        out.append({
            "title": f"Book {i}",
            "authors": [{"name": f"Author {i}", "born": 1900 + i},
                        {"name": f"Co-author {i}"}],
            "tags": ["sf", "classic"] if i % 2 == 0 else ["history"],
            "published_at": "1965-08-01T00:00:00Z",
            "isbn": "978-0441172719",
        })
    return out


NEW_BOOK = {
    "title": "Dune",
    "authors": [{"name": "Frank Herbert", "born": 1920}, {"name": "Brian Herbert", "born": 1947}],
    "tags": ["sf", "classic", "desert"],
    "published_at": "1965-08-01T00:00:00Z",
    "isbn": "978-0441172719",
}

SEED = [Req("seed", "POST", "/v1/books", "/v1/books", body=b, expect=201) for b in seed_books()]

REQUESTS = [
    Req("GET /v1/books/{book_id}", "GET", "/v1/books/3", "/v1/books/{book_id}",
        path_params={"book_id": "3"}),
    Req("GET /v1/books?limit=5&tags=sf", "GET", "/v1/books", "/v1/books",
        query=[("limit", "5"), ("tags", "sf"), ("available", "true")]),
    Req("POST /v1/books", "POST", "/v1/books", "/v1/books", body=NEW_BOOK, expect=201),
]


def LambdaContext() -> Any:  # noqa: N802
    """The context every Lambda peer gets (Lambda's longest timeout: it never runs out)."""
    from pym_lambda.aws_events import LambdaContext as Context

    return Context("pym-bench", request_id="6f7d3ba2-0000-4000-8000-000000000000",
                   timeout_ms=900_000, memory_limit_in_mb=1024)
