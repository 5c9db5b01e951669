"""Black-box tests of the example service, written with the plugin's client.

In-process under plain pytest; `pym-lambda test --url URL` runs them unchanged against a live
service (`chalice local`, a deployed stage). So: no imports of the service's code, and no
assumption about what is already stored there (ids come from the answers).
"""
from __future__ import annotations

import datetime as dt

import pytest

from pym_lambda.testing import assert_error, assert_json

pytestmark = pytest.mark.acceptance

DUNE = {"title": "Dune", "authors": [{"name": "Frank Herbert"}], "tags": ["sf"]}


def _loan() -> dict:
    return {"reader": "ann", "due": (dt.date.today() + dt.timedelta(days=14)).isoformat()}


def _new_book(client) -> int:
    return int(assert_json(client.post("/v1/books", json=DUNE), 201)["id"])


def test_ping(pym_client):
    assert assert_json(pym_client.get("/ping")) == {}


def test_version(pym_client):
    version = assert_json(pym_client.get("/version"))
    assert version["name"] == "pym-library" and version["apis"] == ["library"]
    assert version["version"]


def test_a_book_added_can_be_read_back(pym_client):
    book = assert_json(pym_client.post("/v1/books", json=DUNE), 201)
    assert book["title"] == "Dune" and book["available"] is True
    assert assert_json(pym_client.get(f"/v1/books/{book['id']}")) == book
    listed = assert_json(pym_client.get("/v1/books", params={"tags": "sf", "limit": 100}))
    assert listed["count"] >= 1


def test_a_bad_parameter_is_a_400_in_the_error_shape(pym_client):
    error = assert_error(pym_client.get("/v1/books/abc"), 400, "INVALID_PARAMETER")
    assert "book_id" in error["error_description"]
    error = assert_error(pym_client.post("/v1/books", json={"title": "x"}), 400,
                         "INVALID_PARAMETER")
    assert "authors" in error["error_description"]


def test_lending_without_a_token_is_a_401(pym_client):
    book_id = _new_book(pym_client)
    assert_error(pym_client.post(f"/v1/books/{book_id}/loans", json=_loan()), 401,
                 "AUTHORIZATION_HEADER_MISSING")
    assert_error(pym_client.post(f"/v1/books/{book_id}/loans", json=_loan(),
                                 token="not-a-jwt"), 401, "TOKEN_INVALID")


def test_lending_with_a_token_records_who_lent_it(pym_client, pym_token):
    book_id = _new_book(pym_client)
    token = pym_token("librarian-7")
    loan = assert_json(pym_client.post(f"/v1/books/{book_id}/loans", json=_loan(), token=token,
                                       headers={"X-Library-Branch": "north"}), 201)
    assert (loan["book_id"], loan["lent_by"], loan["branch"]) == (book_id, "librarian-7", "north")
    assert assert_json(pym_client.get(f"/v1/books/{book_id}"))["available"] is False
    assert_error(pym_client.post(f"/v1/books/{book_id}/loans", json=_loan(), token=token), 409,
                 "BOOK_ALREADY_LENT")
