"""The example service's routes on Powertools' APIGatewayRestResolver, with a pluggable check.

`build(check_in, check_out)` registers the routes; check_in(name, value) validates a request
body against the schema `name`, check_out(name, value) a response body.
"""
import json

import library_store as store
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types


class Invalid(Exception):
    def __init__(self, description, status=400, code="INVALID_PARAMETER"):
        super().__init__(description)
        self.status, self.code = status, code


def _int(raw, name, minimum=None, maximum=None):
    try:
        value = int(raw)
    except ValueError:
        raise Invalid(f"{name}: {raw!r} is not an integer") from None
    if minimum is not None and value < minimum or maximum is not None and value > maximum:
        raise Invalid(f"{name}: {value} is out of range")
    return value


def build(check_in, check_out):
    app = APIGatewayRestResolver()

    def out(name, value, status=200):
        check_out(name, value)
        return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                        body=json.dumps(value))

    def body(name):
        try:
            value = json.loads(app.current_event.body or "null")
        except ValueError as exc:
            raise Invalid(f"body is not valid JSON: {exc}") from None
        check_in(name, value)
        return value

    @app.exception_handler(Invalid)
    def invalid(exc):
        return Response(status_code=exc.status, content_type=content_types.APPLICATION_JSON,
                        body=json.dumps({"status": exc.status, "error": exc.code,
                                         "error_description": str(exc)}))

    @app.exception_handler(store.NotFound)
    def not_found(exc):
        return invalid(Invalid(str(exc), 404, "BOOK_NOT_FOUND"))

    @app.get("/v1/books")
    def list_books():
        event = app.current_event
        limit = _int(event.get_query_string_value("limit", "20"), "limit", 1, 100)
        tags = event.get_query_string_value("tags")
        available = event.get_query_string_value("available")
        if available is not None and available not in ("true", "false"):
            raise Invalid("available is not a boolean")
        return out("BookList", store.list_books(
            limit=limit, tags=tags.split(",") if tags else None,
            available=None if available is None else available == "true"))

    @app.post("/v1/books")
    def add_book():
        return out("Book", store.add_book(body("NewBook")), 201)

    @app.get("/v1/books/<book_id>")
    def get_book(book_id):
        return out("Book", store.get_book(_int(book_id, "book_id", 1)))

    @app.delete("/v1/books/<book_id>")
    def delete_book(book_id):
        store.delete_book(_int(book_id, "book_id", 1))
        return Response(status_code=204, content_type=content_types.APPLICATION_JSON, body="")

    @app.post("/v1/books/<book_id>/loans")
    def lend_book(book_id):
        loan = body("Loan")
        branch = app.current_event.get_header_value("x-library-branch", "main")
        return out("Loan", store.lend_book(loan, _int(book_id, "book_id", 1), branch), 201)

    return app
