"""The example service's logic for the hand-written peers, on plain dicts.

The same work as chalicelib/library.py (filter by tags and availability, slice, count; store a
new book with an id), without pym-lambda's models, so that every peer does the same work
around its framework.
"""
import itertools
import threading

_lock = threading.Lock()
_books = {}
_ids = itertools.count(1)


class NotFound(Exception):
    pass


def reset():
    global _ids
    with _lock:
        _books.clear()
        _ids = itertools.count(1)


def list_books(limit=20, tags=None, available=None):
    books = list(_books.values())
    if tags:
        books = [b for b in books if set(tags) <= set(b.get("tags") or [])]
    if available is not None:
        books = [b for b in books if b["available"] is available]
    return {"books": books[:limit], "count": len(books)}


def add_book(new_book):
    with _lock:
        book_id = next(_ids)
        book = dict(new_book, id=book_id, available=True)
        _books[book_id] = book
    return book


def get_book(book_id):
    book = _books.get(book_id)
    if book is None:
        raise NotFound(f"there is no book {book_id}")
    return book


def delete_book(book_id):
    with _lock:
        if _books.pop(book_id, None) is None:
            raise NotFound(f"there is no book {book_id}")


def lend_book(loan, book_id, branch="main"):
    import uuid

    book = get_book(book_id)
    with _lock:
        book["available"] = False
        return dict(loan, id=str(uuid.uuid4()), book_id=book_id, branch=branch)
