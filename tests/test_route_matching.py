"""The one route matcher, as chalice local uses it once patched (API Gateway's rules)."""
from __future__ import annotations

import pytest
from chalice import local

from pym_lambda.runtime.local_compat import patch_greedy_routes

ROUTES = ["/{proxy+}", "/v1/books/{book_id}", "/v1/books/special", "/v1/books"]


def test_chalice_local_matches_as_api_gateway_does() -> None:
    patch_greedy_routes()
    matcher = local.RouteMatcher(ROUTES)
    deep = matcher.match_route("/v1/nope/deep/?a=1&a=2")
    assert (deep.route, deep.captured) == ("/{proxy+}", {"proxy": "v1/nope/deep"})
    assert deep.query_params == {"a": ["1", "2"]}
    assert matcher.match_route("/v1/books/special").route == "/v1/books/special"
    book = matcher.match_route("/v1/books/caf%C3%A9")
    assert (book.route, book.captured) == ("/v1/books/{book_id}", {"book_id": "caf%C3%A9"})
    with pytest.raises(ValueError):
        local.RouteMatcher(["/v1/books"]).match_route("/v2")
