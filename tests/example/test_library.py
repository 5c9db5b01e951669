"""The example service (app.py + apis/library.yaml + chalicelib/), as the README's curls use it."""
from __future__ import annotations

import datetime as dt

from pym_lambda import generate_token
from tests.runtime.test_requests import assert_error

DUNE = {"title": "Dune", "authors": [{"name": "Frank Herbert", "born": 1920}],
        "tags": ["sf", "classic"], "published_at": "1965-08-01T00:00:00Z"}


def test_add_list_get_delete_a_book(library):
    created = library.post("/v1/books", DUNE)
    assert created.status == 201, created
    assert created.json["id"] == 1 and created.json["available"] is True
    assert created.json["authors"] == [{"name": "Frank Herbert", "born": 1920}]
    listed = library.get("/v1/books?tags=sf&available=true&limit=5")
    assert listed.json["count"] == 1 and listed.json["books"][0]["title"] == "Dune"
    assert library.get("/v1/books?tags=poetry").json == {"books": [], "count": 0}
    assert library.get("/v1/books/1").json == created.json
    assert library.request("DELETE", "/v1/books/1").status == 204
    assert_error(library.get("/v1/books/1"), 404, "BOOK_NOT_FOUND", "there is no book 1")


def test_lend_a_book_uses_header_default_and_custom_conflict_error(library):
    library.post("/v1/books", DUNE)
    due = (dt.date.today() + dt.timedelta(days=14)).isoformat()
    anonymous = library.post("/v1/books/1/loans", {"reader": "ann", "due": due})
    assert_error(anonymous, 401, "AUTHORIZATION_HEADER_MISSING")
    auth = {"Authorization": f"Bearer {generate_token('librarian-7')}"}
    loan = library.post("/v1/books/1/loans", {"reader": "ann", "due": due},
                        headers={"X-Library-Branch": "north", **auth})
    assert loan.status == 201, loan
    assert loan.json["branch"] == "north" and loan.json["book_id"] == 1 and loan.json["due"] == due
    assert loan.json["lent_by"] == "librarian-7"
    again = library.post("/v1/books/1/loans", {"reader": "bob", "due": due}, headers=auth)
    assert_error(again, 409, "BOOK_ALREADY_LENT")
    assert library.get("/v1/books/1").json["available"] is False


def test_bad_input_on_the_example_service(library):
    assert_error(library.post("/v1/books", {"title": "x"}), 400, "INVALID_PARAMETER",
                 "'authors' is a required property")
    assert_error(library.post("/v1/books", dict(DUNE, tags=["Not Valid"])), 400,
                 "INVALID_PARAMETER", "body.tags[0]")
    assert_error(library.get("/v1/books/0"), 400, "INVALID_PARAMETER", "path parameter 'book_id'")
    auth = {"Authorization": f"Bearer {generate_token('librarian-7')}"}
    assert_error(library.post("/v1/books/1/loans", {"reader": "ann", "due": "someday"},
                              headers=auth), 400, "INVALID_PARAMETER", "body.due")
    assert_error(library.request("PUT", "/v1/books"), 405, "METHOD_NOT_ALLOWED")


def test_a_property_named_like_a_model_method_is_just_data(library):
    # Found by schemathesis: an undeclared "to_json" property hid Model.to_json -> 500.
    reply = library.post("/v1/books", {"title": "t", "authors": [{"name": "a"}],
                                       "to_json": {"a": 1}, "from_json": 2})
    # Now undeclared properties are dropped: not stored, not returned (issue #16).
    assert reply.status == 201, reply.json
    assert "to_json" not in reply.json and "from_json" not in reply.json
