"""The example service's endpoints: a small in-memory library of books.

Each function is bound to an operation of apis/library.yaml by `x-bind-server`. Parameters
arrive as keyword arguments (already coerced and validated), the request body as the first
positional argument (a model object). Return a model, a dict, or (status, body).
"""
from __future__ import annotations

import datetime as dt
import itertools
import threading
from typing import Dict, List, Optional

from pym_lambda import PymError, current_caller, models
from pym_lambda.clients import clients

from .tasks import send_loan_receipt


class BookNotFound(PymError):
    status = 404


class BookAlreadyLent(PymError):
    status = 409


_lock = threading.Lock()
_books: Dict[int, object] = {}
_loans: Dict[int, object] = {}
_ids = itertools.count(1)


def reset() -> None:
    """Empty the library (tests)."""
    global _ids
    with _lock:
        _books.clear()
        _loans.clear()
        _ids = itertools.count(1)


def list_books(limit: int = 20, tags: Optional[List[str]] = None,
               available: Optional[bool] = None):
    books = list(_books.values())
    if tags:
        books = [b for b in books if set(tags) <= set(b.tags or [])]
    if available is not None:
        books = [b for b in books if b.available is available]
    return models.BookList(books=books[:limit], count=len(books))


def add_book(new_book):
    with _lock:
        book_id = next(_ids)
        book = models.Book(id=book_id, available=True, **vars(new_book))
        _books[book_id] = book
    return 201, book


def get_book(book_id: int):
    book = _books.get(book_id)
    if book is None:
        raise BookNotFound(f"there is no book {book_id}")
    return book


def book_reviews(book_id: int):
    get_book(book_id)
    # A typed client generated from apis/reviews.yaml: parameters validated before sending,
    # the caller's JWT and call id forwarded, the answer validated and turned into models.
    reviews = clients.reviews.list_reviews(book=str(book_id), limit=20).reviews
    stars = [r.stars for r in reviews]
    return {"book_id": book_id, "count": len(reviews),
            "average_stars": round(sum(stars) / len(stars), 2) if stars else None,
            "latest": reviews[:3]}


def delete_book(book_id: int):
    with _lock:
        if _books.pop(book_id, None) is None:
            raise BookNotFound(f"there is no book {book_id}")
        _loans.pop(book_id, None)
    return 204, None


def lend_book(loan, book_id: int, x_library_branch: str = "main"):
    import uuid  # here, not at the top: importing uuid costs ~2 ms of every cold start

    book = get_book(book_id)
    if loan.due < dt.date.today():
        raise PymError("the due date is in the past", status=400, code="INVALID_PARAMETER")
    with _lock:
        if not book.available:
            raise BookAlreadyLent(f"book {book_id} is already lent")
        book.available = False
        loan.id = str(uuid.uuid4())
        loan.book_id = book_id
        loan.branch = x_library_branch
        loan.lent_by = current_caller().user_id  # the operation requires a JWT
        _loans[book_id] = loan
    send_loan_receipt.delay(loan)  # to SQS; the worker Lambda runs it (inline in dev)
    return 201, loan
