"""The example service's functions, PyMacaron style: pydantic models in, models out."""
import library_store as store
from flask import request
from pymacaron import apipool
from pymacaron.exceptions import PyMacaronException


class BookNotFound(PyMacaronException):
    code = "BOOK_NOT_FOUND"
    status = 404


def _book(data):
    return apipool.library.Book(**data)


def _get(book_id):
    try:
        return store.get_book(book_id)
    except store.NotFound as exc:
        raise BookNotFound(str(exc)) from None


def list_books(limit=20, tags=None, available=None):
    found = store.list_books(limit=limit, tags=tags.split(",") if tags else None,
                             available=available)
    return apipool.library.BookList(books=[_book(b) for b in found["books"]],
                                    count=found["count"])


def add_book(new_book):
    return _book(store.add_book(new_book.model_dump(exclude_none=True)))


def get_book(book_id):
    return _book(_get(book_id))


def delete_book(book_id):
    try:
        store.delete_book(book_id)
    except store.NotFound as exc:
        raise BookNotFound(str(exc)) from None
    return apipool.library.Ok()


def lend_book(loan, book_id):
    branch = request.headers.get("X-Library-Branch", "main")
    return apipool.library.Loan(**store.lend_book(loan.model_dump(exclude_none=True), book_id,
                                                  branch))
