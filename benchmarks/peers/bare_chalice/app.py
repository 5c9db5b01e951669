"""Peer (b): the example service's routes written by hand on Chalice, without validation.

Same paths and methods as apis/library.yaml; parameters are converted by hand (int(), split),
bodies parsed with json.loads, nothing is validated. The floor a framework is measured against.
"""
import json

import library_store as store
from chalice import Chalice, Response

app = Chalice(app_name="bench-bare")


def _error(status, code, description):
    return Response(body={"status": status, "error": code, "error_description": description},
                    status_code=status)


def _body():
    try:
        return json.loads(app.current_request.raw_body or b"null")
    except ValueError as exc:
        raise _BadRequest(f"body is not valid JSON: {exc}") from None


class _BadRequest(Exception):
    pass


@app.route("/v1/books", methods=["GET"])
def list_books():
    query = app.current_request.query_params or {}
    try:
        limit = int(query.get("limit", 20))
    except ValueError:
        return _error(400, "INVALID_PARAMETER", "limit is not an integer")
    tags = query["tags"].split(",") if "tags" in query else None
    available = query["available"] == "true" if "available" in query else None
    return store.list_books(limit=limit, tags=tags, available=available)


@app.route("/v1/books", methods=["POST"], content_types=["application/json"])
def add_book():
    try:
        new_book = _body()
    except _BadRequest as exc:
        return _error(400, "INVALID_PARAMETER", str(exc))
    return Response(body=store.add_book(new_book), status_code=201)


@app.route("/v1/books/{book_id}", methods=["GET"])
def get_book(book_id):
    try:
        return store.get_book(int(book_id))
    except ValueError:
        return _error(400, "INVALID_PARAMETER", "book_id is not an integer")
    except store.NotFound as exc:
        return _error(404, "BOOK_NOT_FOUND", str(exc))


@app.route("/v1/books/{book_id}", methods=["DELETE"])
def delete_book(book_id):
    try:
        store.delete_book(int(book_id))
    except ValueError:
        return _error(400, "INVALID_PARAMETER", "book_id is not an integer")
    except store.NotFound as exc:
        return _error(404, "BOOK_NOT_FOUND", str(exc))
    return Response(body="", status_code=204)


@app.route("/v1/books/{book_id}/loans", methods=["POST"], content_types=["application/json"])
def lend_book(book_id):
    try:
        loan = _body()
        branch = app.current_request.headers.get("x-library-branch", "main")
        return Response(body=store.lend_book(loan, int(book_id), branch), status_code=201)
    except (ValueError, _BadRequest) as exc:
        return _error(400, "INVALID_PARAMETER", str(exc))
    except store.NotFound as exc:
        return _error(404, "BOOK_NOT_FOUND", str(exc))
