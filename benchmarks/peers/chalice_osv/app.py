"""Peer (c): the hand-written Chalice routes + openapi-schema-validator on bodies in and out.

Validators are compiled once at import (OAS30 write context for requests, read context for
responses, with format checking), as a careful hand-written service would. Parameters are
checked by hand against the spec's constraints (integer, minimum, maximum).
"""
import json

import library_store as store
import openapi_schema_validator as osv
from chalice import Chalice, Response
from library_schemas import with_definitions

app = Chalice(app_name="bench-osv")


def _validator(name, cls):
    return cls(with_definitions(name), format_checker=cls.FORMAT_CHECKER)


NEW_BOOK_IN = _validator("NewBook", osv.OAS30WriteValidator)
LOAN_IN = _validator("Loan", osv.OAS30WriteValidator)
BOOK_OUT = _validator("Book", osv.OAS30ReadValidator)
BOOK_LIST_OUT = _validator("BookList", osv.OAS30ReadValidator)
LOAN_OUT = _validator("Loan", osv.OAS30ReadValidator)


class _Invalid(Exception):
    def __init__(self, description, status=400, code="INVALID_PARAMETER"):
        super().__init__(description)
        self.status, self.code = status, code


def _error(exc):
    return Response(body={"status": exc.status, "error": exc.code,
                          "error_description": str(exc)}, status_code=exc.status)


def _check(validator, value, what):
    error = next(validator.iter_errors(value), None)
    if error is not None:
        raise _Invalid(f"{what}: {error.message}")


def _out(validator, value, status=200):
    error = next(validator.iter_errors(value), None)
    if error is not None:
        raise _Invalid(f"response: {error.message}", 500, "BAD_RESPONSE")
    return Response(body=json.dumps(value), status_code=status,
                    headers={"Content-Type": "application/json"})


def _int(raw, name, minimum=None, maximum=None):
    try:
        value = int(raw)
    except ValueError:
        raise _Invalid(f"{name}: {raw!r} is not an integer") from None
    if minimum is not None and value < minimum or maximum is not None and value > maximum:
        raise _Invalid(f"{name}: {value} is out of range")
    return value


def _body(validator):
    try:
        value = json.loads(app.current_request.raw_body or b"null")
    except ValueError as exc:
        raise _Invalid(f"body is not valid JSON: {exc}") from None
    _check(validator, value, "body")
    return value


@app.route("/v1/books", methods=["GET"])
def list_books():
    try:
        query = app.current_request.query_params or {}
        limit = _int(query.get("limit", "20"), "limit", 1, 100)
        tags = query["tags"].split(",") if "tags" in query else None
        available = None
        if "available" in query:
            if query["available"] not in ("true", "false"):
                raise _Invalid("available is not a boolean")
            available = query["available"] == "true"
        return _out(BOOK_LIST_OUT, store.list_books(limit=limit, tags=tags, available=available))
    except _Invalid as exc:
        return _error(exc)


@app.route("/v1/books", methods=["POST"], content_types=["application/json"])
def add_book():
    try:
        return _out(BOOK_OUT, store.add_book(_body(NEW_BOOK_IN)), 201)
    except _Invalid as exc:
        return _error(exc)


@app.route("/v1/books/{book_id}", methods=["GET"])
def get_book(book_id):
    try:
        return _out(BOOK_OUT, store.get_book(_int(book_id, "book_id", 1)))
    except _Invalid as exc:
        return _error(exc)
    except store.NotFound as exc:
        return _error(_Invalid(str(exc), 404, "BOOK_NOT_FOUND"))


@app.route("/v1/books/{book_id}", methods=["DELETE"])
def delete_book(book_id):
    try:
        store.delete_book(_int(book_id, "book_id", 1))
    except _Invalid as exc:
        return _error(exc)
    except store.NotFound as exc:
        return _error(_Invalid(str(exc), 404, "BOOK_NOT_FOUND"))
    return Response(body="", status_code=204)


@app.route("/v1/books/{book_id}/loans", methods=["POST"], content_types=["application/json"])
def lend_book(book_id):
    try:
        loan = _body(LOAN_IN)
        branch = app.current_request.headers.get("x-library-branch", "main")
        return _out(LOAN_OUT, store.lend_book(loan, _int(book_id, "book_id", 1), branch), 201)
    except _Invalid as exc:
        return _error(exc)
    except store.NotFound as exc:
        return _error(_Invalid(str(exc), 404, "BOOK_NOT_FOUND"))
