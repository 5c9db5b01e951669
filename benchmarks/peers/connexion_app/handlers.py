"""The example service's functions for connexion (bound by operationId through a Resolver)."""
import library_store as store


def not_implemented(**_kwargs):
    """An operation the spec gained after these peers were written (not benchmarked)."""
    return {"status": 501, "error": "NOT_IMPLEMENTED",
            "error_description": "not served by this peer"}, 501


def _not_found(exc):
    return {"status": 404, "error": "BOOK_NOT_FOUND", "error_description": str(exc)}, 404


def listBooks(limit=20, tags=None, available=None):
    return store.list_books(limit=limit, tags=tags, available=available)


def addBook(body):
    return store.add_book(body), 201


def getBook(book_id):
    try:
        return store.get_book(book_id)
    except store.NotFound as exc:
        return _not_found(exc)


def deleteBook(book_id):
    try:
        store.delete_book(book_id)
    except store.NotFound as exc:
        return _not_found(exc)
    return None, 204


def lendBook(book_id, body):
    try:
        return store.lend_book(body, book_id), 201
    except store.NotFound as exc:
        return _not_found(exc)
