"""Hostile bodies against the example service's models (issue #16, item 3): undeclared
fields never become model attributes, are never stored or returned, and never crash."""
from __future__ import annotations

import datetime as dt
import sys

import pytest
from chalice.test import Client

from pym_lambda import create_app, generate_token
from tests.conftest import ROOT, JsonClient
from tests.runtime.test_requests import assert_error

BOOK = {"title": "Dune", "authors": [{"name": "Frank Herbert"}]}


def _auth():
    return {"Authorization": f"Bearer {generate_token('librarian-7')}"}


def _due():
    return (dt.date.today() + dt.timedelta(days=14)).isoformat()


def test_role_admin_is_neither_stored_nor_returned(library):
    created = library.post("/v1/books", dict(BOOK, role="admin",
                                              authors=[{"name": "F", "role": "admin"}]))
    assert created.status == 201, created.json
    assert "role" not in created.json and "role" not in created.json["authors"][0]
    assert "role" not in library.get("/v1/books/1").json
    assert "role" not in library.get("/v1/books").json["books"][0]


@pytest.mark.parametrize("extra", [{"available": False}, {"id": 99}, {"available": "no"}])
def test_fields_the_new_book_does_not_declare_are_ignored_not_a_500(library, extra):
    # Was an unauthenticated 500: Book(id=..., available=True, **vars(new_book)) got the
    # client's "available"/"id" twice.
    created = library.post("/v1/books", dict(BOOK, **extra))
    assert created.status == 201, created.json
    assert created.json["id"] == 1 and created.json["available"] is True


@pytest.mark.parametrize("key", ["to_json", "from_json", "__class__", "__dict__",
                                 "save_to_db", "__init__"])
def test_method_names_in_the_body_are_harmless(library, key):
    created = library.post("/v1/books", dict(BOOK, **{key: {"a": 1}}))
    assert created.status == 201, created.json
    assert key not in created.json


def test_a_to_json_key_in_a_loan_does_not_break_its_task(library):
    receipts = sys.modules["chalicelib.tasks"].RECEIPTS
    receipts.clear()
    library.post("/v1/books", BOOK)
    loan = library.post("/v1/books/1/loans", {"reader": "ann", "due": _due(),
                                              "to_json": 1}, headers=_auth())
    assert loan.status == 201, loan.json  # the task call after the loan was recorded worked
    assert "to_json" not in loan.json and loan.json["lent_by"] == "librarian-7"
    assert [r["reader"] for r in receipts] == ["ann"]  # dev stage: the task ran inline


@pytest.fixture(scope="module")
def strict_app():
    mp = pytest.MonkeyPatch()
    mp.setenv("PYM_LIMITS_STRICT", "true")
    try:
        return create_app(ROOT)
    finally:
        mp.undo()


@pytest.fixture
def strict_library(strict_app):
    from chalicelib import library as impl

    impl.reset()
    with strict_app.pym_service.use(), Client(strict_app) as client:
        yield JsonClient(client)


@pytest.mark.parametrize("body, field", [
    (dict(BOOK, role="admin"), "body.role"),
    (dict(BOOK, available=False), "body.available"),
    (dict(BOOK, to_json=1), "body.to_json"),
    (dict(BOOK, authors=[{"name": "F", "__class__": 1}]), "body.authors[0].__class__"),
])
def test_strict_mode_refuses_naming_the_field(strict_library, body, field):
    assert_error(strict_library.post("/v1/books", body), 400, "INVALID_PARAMETER", field,
                 "unknown field")
    assert strict_library.post("/v1/books", BOOK).status == 201
